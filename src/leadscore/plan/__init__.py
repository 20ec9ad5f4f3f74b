"""A model compiled once: the dispatch table and the strategy of every operation.

:func:`leadscore.plan._compile.compile_model` turns a scoring model into a
``Compiled`` plan: rules indexed by kind (and by ``eq`` value), the aging kernels,
and a :class:`~leadscore.plan._strategy.Strategy` saying which path runs
``score``, ledger reads, ``crossings`` and ``changes``. Paths ask the plan.
"""
