"""Conjectures from users: safe parsing, scores at converged networks, the search, the CLI.

Tags: N2 for the NFA conjecture "NFM - AGOP**(1/2)" (refuted), F1/F4/F5 for true conjectures
("NFM - FACT", "W*W.T - bFACT", "FACT - FACT.T", never refuted), D6 for the deep linear one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory._errors import InputError
from theory._verdict import Verdict
from verify.cli.main import main
from verify.counterexamples import Witness, check_conjecture, conjecture_claim
from verify.counterexamples.expressions import QUANTITIES, SCALARS, parse_conjecture
from verify.strategies import NETWORK_FAMILIES, Network, converged_networks

# -- parsing --------------------------------------------------------------------------------------
BAD = [
    ("foo - NFM", "use only the named quantities"),
    ("W + NFM", "add quantities of the same shape"),
    ("NFM * W", "multiply matrices of matching inner size"),
    ("W**2", "take powers of square matrices only"),
    ("W", "be square"),
    ("NFM - 1", "add quantities of the same shape"),
    ("NFM / AGOP", "divide only by scalars"),
    ("NFM**(-1)", "raise to a positive"),
    ("NFM**AGOP", "raise to a positive"),
    ("NFM**lam", "raise to a positive"),
    ("__import__('os').system('true')", "call only"),
    ("NFM.__class__", "use only names, numbers"),
    ("[NFM]", "use only names, numbers"),
    ("lambda: NFM", "use only names, numbers"),
    ("NFM if 1 else FACT", "use only names, numbers"),
    ("NFM < FACT", "state one equation"),
    ("NFM - (", "be a valid expression"),
    ("n - lam", "involve at least one layer quantity"),
    ("", "be a non-empty expression"),
    ("NFM" + " + NFM" * 200, "be at most 500 characters"),
    ("'NFM'", "contain only numbers, names"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_expressions_are_clear_errors(text: str, message: str) -> None:
    """N2: unknown names, shapes that do not match, non-square results, code: clear errors."""
    with pytest.raises(InputError, match="expression must " + message.split(" ")[0]) as err:
        parse_conjecture(text)
    assert message in str(err.value)


def test_parsing_never_evaluates_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """N2: the parser never calls eval or exec (it builds SymPy from the checked ast)."""
    import builtins

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert str(parse_conjecture("NFM*AGOP - AGOP*NFM").expr) == "-AGOP*NFM + NFM*AGOP"


SQUARE_DXD = ["NFM", "AGOP", "AGOP_centered", "FACT", "W.T*W", "H*H.T", "grad_W.T*W"]


@st.composite
def square_expressions(draw: st.DrawFn, depth: int = 3) -> str:
    """Well-formed d x d expressions: sums, products, transposes, powers, scalar factors."""
    if depth == 0:
        return draw(st.sampled_from(SQUARE_DXD))
    a = draw(square_expressions(depth - 1))
    kind = draw(st.sampled_from(["leaf", "+", "-", "*", "T", "pow", "scale"]))
    if kind == "leaf":
        return draw(st.sampled_from(SQUARE_DXD))
    if kind in "+-*":
        return f"({a}) {kind} ({draw(square_expressions(depth - 1))})"
    if kind == "T":
        return f"({a}).T"
    if kind == "pow":
        return f"({a})**({draw(st.sampled_from(['2', '1/2', '1/L', '3/2']))})"
    return f"{draw(st.sampled_from(['2', '0.5', 'lam', '1/n']))}*({a})"


@given(square_expressions())
def test_well_formed_expressions_parse_to_square_matrices(text: str) -> None:
    """N2: every well-formed d x d expression parses, stays d x d and uses known names only."""
    c = parse_conjecture(text)
    assert c.is_matrix and c.used <= set(QUANTITIES) | set(SCALARS)
    assert parse_conjecture(f"{text} = NFM").is_matrix  # the equation form too


# -- scores at converged networks ------------------------------------------------------------------
TRUE_CONJECTURES = ["NFM - FACT", "W*W.T - bFACT", "FACT - FACT.T", "NFM = (FACT*FACT.T)**(1/2)"]


@given(converged_networks(NETWORK_FAMILIES["mlp"]), st.sampled_from(TRUE_CONJECTURES))
def test_true_conjectures_hold_at_converged_networks(net: Network, text: str) -> None:
    """F1, F4, F5: conjectures that are theorems hold within their tolerance in every layer."""
    ev = conjecture_claim(text).score(Witness(net.problem, net.theta))
    assert not ev.fails, ev.summary


@given(converged_networks(NETWORK_FAMILIES["deep-linear"]))
def test_deep_linear_nfa_conjecture_holds(net: Network) -> None:
    """D6: "NFM - AGOP**(1/(L - j + 1))" holds in every layer of converged deep linear nets."""
    ev = conjecture_claim("NFM - AGOP**(1/(L - j + 1))").score(Witness(net.problem, net.theta))
    assert not ev.fails, ev.summary


def test_nfa_conjecture_refuted_with_a_certified_witness() -> None:
    """N2: NFM = AGOP^(1/2) is refuted on tanh MLPs, shrunk and certified (re-checked at 70)."""
    res = check_conjecture("NFM - AGOP**(1/2)", family="tanh-mlp", budget=20)
    assert res.verdict is Verdict.REFUTED
    cert = res.certificate
    assert cert is not None and cert.point.converged and cert.recheck["agrees"]
    assert cert.recheck["dps"] == 70 and "tried" in res.to_text()


def test_layer_one_nfa_conjecture_on_tanh_networks() -> None:
    """N2: restricted to layer 1 the NFA conjecture is still refuted (not only at the read-out)."""
    res = check_conjecture("NFM - AGOP**(1/2)", family="tanh-mlp", budget=30, layers=[1])
    assert res.verdict is Verdict.REFUTED


def test_true_conjecture_not_refuted_and_says_how_many_examples() -> None:
    """F1: "NFM - FACT" is never refuted; the verdict names the certified examples tried."""
    res = check_conjecture("NFM - FACT", family="tanh-mlp", budget=12)
    assert res.verdict is Verdict.NUMERICALLY_CONSISTENT
    assert f"no counterexample in {res.search.converged} certified examples" in res.reason
    assert res.search.tried == 12


def test_unknown_family() -> None:
    """N2: an unknown family is a clear error."""
    with pytest.raises(InputError, match="family must be one of"):
        check_conjecture("NFM - FACT", family="resnet")


@pytest.mark.parametrize("layers", [[0], [], [True], ["1"]])
def test_bad_layers(layers: list[object]) -> None:
    """N2: layers that are not layer numbers >= 1 are a clear error, before any training."""
    with pytest.raises(InputError, match="layers must be a non-empty list of layer numbers"):
        check_conjecture("NFM - FACT", layers=layers)  # type: ignore[arg-type]


def test_cli_family_names_match_the_strategies() -> None:
    """N2: the CLI's family list (kept light for --help) is the strategies' list."""
    from verify.cli.conjecture import FAMILY_NAMES

    assert sorted(FAMILY_NAMES) == sorted(NETWORK_FAMILIES)


# -- command line ---------------------------------------------------------------------------------
def test_cli_refutes_and_saves_a_witness_that_check_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """N2: `factcheck conjecture "NFM - AGOP**(1/2)"` exits 1 and writes a certified witness
    (the default file name) that `factcheck check` accepts (exit 0)."""
    monkeypatch.chdir(tmp_path)
    assert main(["conjecture", "NFM - AGOP**(1/2)", "--json", "--quiet"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "REFUTED" and out["certificate"]["recheck"]["agrees"]
    assert out["saved"] == ["conjecture-witness.npz", "conjecture-witness.json"]
    code = main(["check", "conjecture-witness.npz", "--json"])
    checked = json.loads(capsys.readouterr().out)
    # accepted: FACT consistent at the certified witness; the exit status is the weakest verdict
    # (FACT's or the NFA's: INCONCLUSIVE, 3, where the NFA is undefined), never 2 or 1
    assert checked["verdict"] == "NUMERICALLY_CONSISTENT"
    assert code == (0 if checked["overall_verdict"] == "NUMERICALLY_CONSISTENT" else 3)


def test_cli_true_conjecture_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """F1: `factcheck conjecture "NFM - FACT"` finds no counterexample: exit 0, nothing saved."""
    monkeypatch.chdir(tmp_path)
    assert main(["conjecture", "NFM - FACT", "--budget", "15", "--quiet"]) == 0
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_cli_true_conjecture_default_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: ... and with the default budget (100 examples) on the default family."""
    monkeypatch.chdir(tmp_path)
    assert main(["conjecture", "NFM - FACT", "--quiet"]) == 0


CLI_BAD = [
    (["conjecture", "W + NFM"], "expression must add quantities of the same shape"),
    (["conjecture", "Z"], "expression must use only the named quantities"),
    (["conjecture", "NFM", "--family", "resnet"], "--family must be one of"),
    (["conjecture", "NFM", "--budget", "0"], "--budget must be >= 1"),
    (["conjecture", "NFM", "--save", "x.txt"], "--save must end in .npz"),
    (["conjecture", "NFM", "--layer", "0"], "--layer must be >= 1"),
    (["conjecture", "NFM", "--seed=-1"], "--seed must be an integer from 0 to 2**63 - 1"),
    (["conjecture", "NFM", "--save", "/sys/x.npz"], "--save must be in a folder where files"),
    (["conjecture", "NFM", "--save", "/"], "--save must end in .npz"),
]


@pytest.mark.parametrize("argv, message", CLI_BAD)
def test_cli_bad_input(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """N2: bad input exits 2 with one line naming the argument, the rule, the value and the fix."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "got" in err[0]
