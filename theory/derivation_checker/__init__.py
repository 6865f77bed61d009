"""Check a person's own derivation, step by step: the first wrong step, with an exact instance.

- :mod:`theory.derivation_checker.check`: :func:`check_derivation` (a list of steps) and the
  verdict rules per step (PROVED for all sizes, EXACT_AT_SIZES, REFUTED with the smallest
  rational instance, INCONCLUSIVE);
- :mod:`theory.derivation_checker.file`: the hand-written TOML derivation file
  (:func:`read_derivation_file`, :func:`check_derivation_file`);
- :mod:`theory.derivation_checker.spec` and :mod:`~theory.derivation_checker.safe_expr`: the
  declared symbols and the restricted parser (no Python is evaluated);
- :mod:`theory.derivation_checker.rewriting`: proofs modulo cited hypotheses in the free algebra;
- :mod:`theory.derivation_checker.instances` and :mod:`~theory.derivation_checker.search`: exact
  rational instances that satisfy the cited hypotheses, and the smallest counterexample.
"""

from theory.derivation_checker.check import DerivationCheck, check_derivation
from theory.derivation_checker.file import check_derivation_file, read_derivation_file

__all__ = ["DerivationCheck", "check_derivation", "check_derivation_file", "read_derivation_file"]
