"""D5/D6: the NFA with exponent 1/L for balanced deep linear networks, every rewrite checked.

The composed derivation from stationarity is tests/theory/test_deep_linear_optimality.py, the
induction for a symbolic depth tests/theory/test_deep_linear_induction.py."""

from __future__ import annotations

import argparse
import json

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory._errors import InputError
from theory._records import Verdict
from theory.deep_linear.nfa import (
    MAX_DEPTH,
    VARIANTS,
    balanced_instance,
    check_deep_linear_variant,
)
from theory.deep_linear.nfa import derive_nfa_balanced as derive_nfa_deep_linear
from theory.free_algebra import free_algebra_zero
from theory.matrix_calculus import matrices_equal
from verify.cli import deep_linear as _cli_deep_linear


@pytest.mark.parametrize("depth", range(2, MAX_DEPTH + 1))
def test_chain_proved_every_depth(depth: int) -> None:
    """D5: A^T A -> (W_1^T W_1)^L and W_1^T W_1 = AGOP^{1/L} PROVED for L = 2..8."""
    r = derive_nfa_deep_linear(depth)
    assert r.verdict is Verdict.PROVED and r.all_checked
    assert r.claim.rhs == sp.MatPow(
        sp.MatrixSymbol("AGOP", *r.claim.lhs.shape), sp.Rational(1, depth)
    )
    # one balance step and one lemma step per layer above the first, plus the regrouping,
    # the AGOP step and the PSD-root step
    assert len(r.steps) == 2 * (depth - 1) + 3


@given(st.integers(2, 5).flatmap(lambda L: st.tuples(st.just(L), st.integers(1, L))))
def test_per_layer_exponent(case: tuple[int, int]) -> None:
    """D6: layer j obeys the NFA with alpha_j = 1/(L-j+1), PROVED."""
    L, j = case
    r = derive_nfa_deep_linear(L, j)
    assert r.verdict is Verdict.PROVED and r.all_checked
    assert r.claim.tag == ("D5" if j == 1 else "D6")
    assert r.claim.rhs.exp == sp.Rational(1, L - j + 1)


@pytest.mark.parametrize("depth", [2, 5, 8])
def test_balanced_instances_exact(depth: int) -> None:
    """D5: the rational test networks are exactly balanced and telescope exactly."""
    for k in range(2):
        inst = balanced_instance(depth, k)
        W = inst.W
        for i in range(depth - 1):
            assert matrices_equal(W[i + 1].T * W[i + 1], W[i] * W[i].T)
        A = W[-1]
        for Wk in reversed(W[:-1]):
            A = A * Wk
        assert matrices_equal(A.T * A, (W[0].T * W[0]) ** depth)
        assert not matrices_equal(A.T * A, (W[0].T * W[0]) ** (depth - 1))


def test_balance_step_check_is_not_vacuous() -> None:
    """D5: a balance rewrite is not a free-algebra identity; it needs D_i = 0."""
    r = derive_nfa_deep_linear(3)
    balance_steps = [s for s in r.steps if s.justification.startswith("balancedness")]
    assert len(balance_steps) == 2
    for s in balance_steps:
        assert not free_algebra_zero(s.lhs - s.rhs)


@pytest.mark.parametrize("name", VARIANTS)
def test_planted_variants_refuted(name: str) -> None:
    """D5: alpha = 1/2 at L = 3 and the rate -lam D are REFUTED with exact witnesses."""
    r = check_deep_linear_variant(name)
    assert r.verdict is Verdict.REFUTED
    assert r.witness


BAD = [
    ({"depth": 1}, "depth must be an integer from 2 to 8"),
    ({"depth": 9}, "depth must be an integer from 2 to 8"),
    ({"depth": True}, "depth must be an integer"),
    ({"depth": "3"}, "depth must be an integer"),
    ({"depth": 3, "layer": 0}, r"layer must be an integer from 1 to depth = 3"),
    ({"depth": 3, "layer": 4}, r"layer must be an integer from 1 to depth = 3"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD)
def test_bad_input(kwargs: dict, match: str) -> None:
    """D5: bad depth or layer raises InputError naming argument, rule, value and fix."""
    with pytest.raises(InputError, match=match) as exc:
        derive_nfa_deep_linear(**kwargs)
    assert "got" in str(exc.value) and "Pass" in str(exc.value)


def test_bad_variant_name() -> None:
    """D5: an unknown variant name is an InputError listing the names."""
    with pytest.raises(InputError, match="name must be one of"):
        check_deep_linear_variant("alpha=1")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what")
    _cli_deep_linear.register_derive(sub)
    return p


def test_cli_derive_json(capsys: pytest.CaptureFixture[str]) -> None:
    """D5: `derive nfa-deep-linear --depth 4 --from balanced --format json` gives PROVED with
    every step checked."""
    from verify.cli.main import main

    argv = ["derive", "nfa-deep-linear", "--depth", "4", "--from", "balanced", "--format", "json"]
    assert main(argv) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "PROVED" and d["tag"] == "D5"
    assert d["steps"] and all(s["checked"] and s["kind"] == "derived" for s in d["steps"])


@pytest.mark.parametrize("fmt", ["text", "latex"])
def test_cli_derive_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    """D6: the derive hook renders text and LaTeX for a middle layer."""
    args = _parser().parse_args(
        ["nfa-deep-linear", "--depth", "3", "--layer", "2", "--from", "balanced", "--format", fmt]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert ("PROVED" in out) if fmt == "text" else (r"\begin{align*}" in out)


def test_cli_derive_bad_format() -> None:
    """D5: a bad --format is an InputError (exit status 2 through the main CLI)."""
    from verify.cli.main import main

    assert main(["derive", "nfa-deep-linear", "--depth", "3", "--format", "yaml"]) == 2
    assert main(["derive", "nfa-deep-linear", "--depth", "3", "--from", "nowhere"]) == 2
