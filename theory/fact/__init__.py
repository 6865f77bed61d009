"""FACT, the Features at Convergence Theorem (F1-F5), derived from first-order optimality.

- :mod:`theory.fact.derivation`: the derivations of F1 with F2, F4 and F5 (:func:`derive_fact`,
  :func:`f2_statement`), the public face re-exported here;
- :mod:`theory.fact.variants`: planted false variants of F1, refuted at exact stationary points
  (:func:`check_fact_variant`);
- :mod:`theory.fact.models`: the layer families (linear, deep linear, MLP) and their exact
  explicit instances; :mod:`theory.fact.witness`: exact stationary points;
  :mod:`theory.fact.context`: what the derivations of one layer share.
"""

from theory.fact.derivation import (
    ACTIVATIONS,
    VARIANTS,
    FactDerivations,
    check_fact_variant,
    derive_fact,
    f2_statement,
)

__all__ = [
    "ACTIVATIONS",
    "FactDerivations",
    "VARIANTS",
    "check_fact_variant",
    "derive_fact",
    "f2_statement",
]
