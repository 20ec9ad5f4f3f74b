"""Executions of a plan: the general fold (the definition), fast loops and sweeps.

Each one is chosen by the plan (:mod:`leadscore.plan`), never by a check of its
own; a feature a fast path does not list sends the model to the general fold.
"""
