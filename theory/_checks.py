"""Building blocks of checked derivations (shared by the theory modules).

- :func:`_step`: a derived :class:`~theory._records.Step` whose outcome is the conjunction of
  several checks, each a ``(passed, what was shown)`` pair;
- :func:`assumption` and :func:`definition`: the two kinds of step that are not checks;
- :func:`conclude`: the one rule that turns the steps of a derivation into its verdict;
- :func:`rand_rational`: a random rational matrix for exact explicit instances (small numerators
  and denominators, so exact arithmetic stays fast; the seeded ``random.Random`` makes every
  instance reproducible).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from theory._records import Claim, Derivation, Step, Verdict

__all__ = ["assumption", "conclude", "definition", "rand_rational"]


def _step(lhs: Any, rhs: Any, why: str, checks: list[tuple[bool, str]]) -> Step:
    """A derived step: confirmed only if there is at least one check and every check passed."""
    ok = bool(checks) and all(bool(c) for c, _ in checks)
    return Step(lhs, rhs, why, ok, "; ".join(t for _, t in checks))


def assumption(lhs: Any, rhs: Any, label: str, why: str = "") -> Step:
    """A step that quotes the claim's assumption ``label`` (checked by :func:`conclude` to be
    one the claim states; the equation itself is assumed, not checked)."""
    why = why or f"assumption ({label}) of the claim"
    return Step(lhs, rhs, why, False, label, kind="assumption")


def definition(name: Any, expr: Any, why: str) -> Step:
    """A step that gives ``expr`` the new name ``name`` (a symbol not used in ``expr``)."""
    return Step(name, expr, why, False, "", kind="definition")


def _fresh_name(step: Step) -> bool:
    """A definition must introduce a name: its left side is a single symbol absent from the
    right side (a definition that restates a relation between old names is a claim)."""
    lhs = step.lhs
    if not isinstance(lhs, (sp.Symbol, sp.MatrixSymbol)):
        return False
    rhs = step.rhs
    return not (isinstance(rhs, sp.Basic) and rhs.has(lhs))


def conclude(
    claim: Claim,
    steps: Sequence[Step],
    proved_reason: str,
    *,
    sizes: str | None = None,
    witness: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
) -> Derivation:
    """The verdict of a derivation, from its steps (every derivation of theory/ ends here).

    PROVED needs: at least one derived step, every derived step confirmed, every assumption
    step quoting an assumption that ``claim`` states, every definition introducing a fresh name.
    ``sizes`` (e.g. "n=3, d=2, c=1"): the checks hold exactly only at those sizes, so the
    verdict is EXACT_AT_SIZES instead of PROVED. Anything else is INCONCLUSIVE, naming the
    steps at fault (1-based). A derivation is never REFUTED here: a refutation needs a witness
    and is decided by the module that found it.
    """
    labels = {a.label for a in claim.assumptions}
    bad: list[str] = []
    derived = 0
    for k, s in enumerate(steps, 1):
        if s.kind == "derived":
            derived += 1
            if not s.checked:
                bad.append(f"{k} (check failed)")
        elif s.kind == "assumption" and s.check not in labels:
            bad.append(f"{k} (assumption {s.check!r} is not one of the claim's)")
        elif s.kind == "definition" and not _fresh_name(s):
            bad.append(f"{k} (a definition must name a new symbol)")
    if not derived:
        bad.append("none (no step was checked)")
    if bad:
        return Derivation(
            claim, tuple(steps), Verdict.INCONCLUSIVE,
            f"steps {', '.join(bad)} did not check; inspect them (a SymPy version change can "
            "cause this)", witness, notes,
        )  # fmt: skip
    if sizes is not None:
        return Derivation(
            claim, tuple(steps), Verdict.EXACT_AT_SIZES,
            f"{proved_reason}; exact at {sizes} only, not a proof for all sizes", witness, notes,
        )  # fmt: skip
    return Derivation(claim, tuple(steps), Verdict.PROVED, proved_reason, witness, notes)


def rand_rational(rows: int, cols: int, rng: random.Random) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(
        rows, cols, lambda i, j: sp.Rational(rng.randint(-6, 6), rng.randint(1, 4))
    )
