"""Building blocks of checked derivation steps (shared by the theory modules).

- :func:`_step`: a :class:`~theory._records.Step` whose outcome is the conjunction of several
  checks, each a ``(passed, what was shown)`` pair;
- :func:`rand_rational`: a random rational matrix for exact explicit instances (small numerators
  and denominators, so exact arithmetic stays fast; the seeded ``random.Random`` makes every
  instance reproducible).
"""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from theory._records import Step

__all__ = ["rand_rational"]


def _step(lhs: Any, rhs: Any, why: str, checks: list[tuple[bool, str]]) -> Step:
    return Step(lhs, rhs, why, all(c for c, _ in checks), "; ".join(t for _, t in checks))


def rand_rational(rows: int, cols: int, rng: random.Random) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(
        rows, cols, lambda i, j: sp.Rational(rng.randint(-6, 6), rng.randint(1, 4))
    )
