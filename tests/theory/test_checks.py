"""The verdict rule of every derivation (theory/_checks.py conclude): F1, D1-D6, K1, K2."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from theory._checks import _step, assumption, conclude, definition
from theory._records import Assumption, Claim, Step, Verdict

x, y = sp.symbols("x y")
CLAIM = Claim("x = x", "F1", x, x, (Assumption("stat", "stationary"),))


def _good() -> list[Step]:
    return [_step(x, x, "reflexivity", [(True, "checked")])]


def test_all_checked_is_proved() -> None:
    """F1: every derived step checked gives PROVED; with sizes, EXACT_AT_SIZES."""
    assert conclude(CLAIM, _good(), "ok").verdict is Verdict.PROVED
    r = conclude(CLAIM, _good(), "ok", sizes="n=3")
    assert r.verdict is Verdict.EXACT_AT_SIZES and "n=3" in r.reason


@pytest.mark.parametrize("k", [0, 1, 2])
def test_one_failed_step_is_not_proved(k: int) -> None:
    """F1: one failed step anywhere makes the derivation INCONCLUSIVE, naming the step."""
    steps = [_step(x, x, f"step {i}", [(i != k, "check")]) for i in range(3)]
    r = conclude(CLAIM, steps, "ok")
    assert r.verdict is Verdict.INCONCLUSIVE and f"{k + 1} (check failed)" in r.reason
    assert conclude(CLAIM, steps, "ok", sizes="n=3").verdict is Verdict.INCONCLUSIVE


def test_step_needs_a_check() -> None:
    """F1: a derived step with no check at all is not confirmed."""
    assert not _step(x, x, "no check", []).checked
    assert not _step(x, x, "one failing", [(True, "a"), (False, "b")]).checked


def test_assumption_must_be_stated() -> None:
    """F1: an assumption step must quote one of the claim's assumptions."""
    ok = [assumption(x, 0, "stat"), *_good()]
    assert conclude(CLAIM, ok, "ok").verdict is Verdict.PROVED
    bad = [assumption(x, 0, "balanced"), *_good()]
    r = conclude(CLAIM, bad, "ok")
    assert r.verdict is Verdict.INCONCLUSIVE and "balanced" in r.reason


def test_definition_must_name_a_new_symbol() -> None:
    """F1: a "definition" of a name already in its right side, or of an expression, is refused."""
    assert conclude(CLAIM, [definition(y, x + 1, "d"), *_good()], "ok").verdict is Verdict.PROVED
    for bad in (definition(x, x + 1, "d"), definition(x + y, 1, "d")):
        assert conclude(CLAIM, [bad, *_good()], "ok").verdict is Verdict.INCONCLUSIVE


def test_only_assumptions_is_not_proved() -> None:
    """F1: a derivation with no checked step at all is not PROVED."""
    r = conclude(CLAIM, [assumption(x, 0, "stat")], "ok")
    assert r.verdict is Verdict.INCONCLUSIVE and "no step was checked" in r.reason


def test_step_kinds_render() -> None:
    """F1: assumption and definition steps are marked as such in text and JSON, never "ok"."""
    r = conclude(CLAIM, [assumption(x, 0, "stat"), definition(y, x, "d"), *_good()], "ok")
    text = r.to_text()
    assert "[assumption (stat)]" in text and "[definition]" in text and "[ok]" in text
    kinds = [s["kind"] for s in json.loads(r.to_json())["steps"]]
    assert kinds == ["assumption", "definition", "derived"]
    with pytest.raises(ValueError):
        Step(x, x, "an assumption cannot be checked", True, "stat", kind="assumption")


def test_exact_at_sizes_is_weaker_than_proved() -> None:
    """K1: EXACT_AT_SIZES supports the claim (exit 0) but is visibly weaker than PROVED."""
    from theory._verdict import STRENGTH

    v = Verdict.EXACT_AT_SIZES
    assert v.value == "EXACT_AT_SIZES" and v.supports
    assert STRENGTH[v] < STRENGTH[Verdict.PROVED]
    assert "not a proof for all sizes" in v.evidence
    assert "all sizes" in Verdict.PROVED.evidence
    assert min(Verdict, key=STRENGTH.__getitem__) is Verdict.REFUTED
    assert set(STRENGTH) == set(Verdict)


def test_conclude_keeps_the_record() -> None:
    """F1: every verdict carries the claim, the steps, the witness and the notes unchanged."""
    steps = [assumption(x, 0, "stat"), *_good()]
    for sizes, verdict in ((None, Verdict.PROVED), ("n=2", Verdict.EXACT_AT_SIZES)):
        r = conclude(CLAIM, steps, "because", sizes=sizes, witness={"w": 1}, notes=("a note",))
        assert r.verdict is verdict and r.claim is CLAIM and r.steps == tuple(steps)
        assert r.witness == {"w": 1} and r.notes == ("a note",)
        assert r.reason.startswith("because")
    assert conclude(CLAIM, steps, "because").reason == "because"
    bad = [_step(x, x, "s", [(False, "c")])]
    r = conclude(CLAIM, bad, "because", witness={"w": 2}, notes=("n",))
    assert r.verdict is Verdict.INCONCLUSIVE and r.claim is CLAIM and r.steps == tuple(bad)
    assert r.witness == {"w": 2} and r.notes == ("n",)
    assert r.reason.startswith("steps 1 (check failed) did not check")


def test_step_builders_keep_their_parts() -> None:
    """F1: a derived step keeps its sides, reason and every check's text; an assumption step
    quotes its label; a definition is unchecked with no check text."""
    s = _step(x, y, "why", [(True, "first"), (True, "second")])
    assert (s.lhs, s.rhs, s.justification, s.checked, s.check) == (
        x,
        y,
        "why",
        True,
        "first; second",
    )
    assert s.kind == "derived"
    a = assumption(x, y, "stat")
    assert (a.lhs, a.rhs, a.check, a.kind, a.checked) == (x, y, "stat", "assumption", False)
    assert a.justification == "assumption (stat) of the claim"
    assert assumption(x, y, "stat", "my reason").justification == "my reason"
    d = definition(y, x, "name it")
    assert (d.lhs, d.rhs, d.justification, d.check, d.kind, d.checked) == (
        y, x, "name it", "", "definition", False)  # fmt: skip
    assert conclude(CLAIM, [definition(y, "text", "d"), *_good()], "ok").verdict is Verdict.PROVED


def test_inconclusive_reasons_name_the_fault() -> None:
    """F1: the INCONCLUSIVE reason names each fault (failed check, foreign assumption, bad
    definition, nothing checked)."""
    r = conclude(CLAIM, [assumption(x, 0, "other"), definition(x, x, "d")], "ok")
    assert r.reason == (
        "steps 1 (assumption 'other' is not one of the claim's), 2 (a definition must name a new "
        "symbol), none (no step was checked) did not check; inspect them (a SymPy version change "
        "can cause this)"
    )


def test_rand_rational_is_small_and_seeded() -> None:
    """F1: explicit-instance data: rationals p/q with |p| <= 6 and 1 <= q <= 4, reproducible."""
    import random

    from theory._checks import rand_rational

    a, b = rand_rational(3, 4, random.Random(5)), rand_rational(3, 4, random.Random(5))
    assert a.shape == (3, 4) and a == b
    assert all(isinstance(v, sp.Rational) and abs(v) <= 6 for v in a)
    big = rand_rational(20, 20, random.Random(0))
    assert {sp.fraction(v)[1] for v in big if v != 0} <= {1, 2, 3, 4}
    assert max(abs(v) for v in big) == 6 and min(big) < 0
    assert any(sp.fraction(v)[1] == 4 for v in big) and a != rand_rational(3, 4, random.Random(6))


def test_to_jsonable() -> None:
    """F1: JSON conversion keeps numbers, names non-finite floats, and spells SymPy objects."""
    import enum

    import numpy as np

    from theory._verdict import to_jsonable

    class E(enum.Enum):
        A = "a"

    assert to_jsonable(None) is None and to_jsonable(True) is True and to_jsonable(3) == 3
    assert to_jsonable(1.5) == 1.5 and to_jsonable("s") == "s"
    assert to_jsonable(float("nan")) == "nan" and to_jsonable(float("inf")) == "inf"
    assert to_jsonable(float("-inf")) == "-inf"
    assert to_jsonable(E.A) == "a" and to_jsonable(Verdict.REFUTED) == "REFUTED"
    assert to_jsonable({1: (2, 3)}) == {"1": [2, 3]}
    assert to_jsonable(sp.Integer(4)) == 4 and isinstance(to_jsonable(sp.Integer(4)), int)
    assert to_jsonable(sp.Rational(1, 3)) == "1/3"
    assert to_jsonable(sp.Matrix([[1, sp.Rational(1, 2)]])) == [[1, "1/2"]]
    assert to_jsonable(sp.ImmutableMatrix([[2, sp.Rational(1, 3)]])) == [[2, "1/3"]]
    assert to_jsonable(np.array([[1.0, 2.0]])) == [[1.0, 2.0]]
    assert to_jsonable(object.__new__(type("Z", (), {"__str__": lambda self: "zz"}))) == "zz"
