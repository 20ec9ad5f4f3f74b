"""The model language: events, conditions, aging, rules, scoring models, ratings, fit.

Everything a user writes to say *what* earns points lives here. Nothing in this
package knows how a model is executed; the plan (:mod:`leadscore.plan`) reads it.
Import the public names from :mod:`leadscore`; these modules are its layout.
"""
