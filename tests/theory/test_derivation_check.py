"""A person's own derivation, checked step by step (theory.derivation_checker).

Sorted by purpose: the acceptance items of the feature, the worked examples, the verdict levels,
hypotheses, counterexamples, then planted mutations that must be refuted (never proved).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp

import theory
from theory import InputError, Verdict, check_derivation, check_derivation_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "derivations"
FACT_FILE = EXAMPLES / "fact_proof.toml"
DROPPED = '"-(1/(n*lam))*W.T*Delta*H.T"'

FACT_DECL = {
    "matrices": {"W": "d x d", "H": "d x n", "Delta": "d x n", "G_h": "d x n"},
    "scalars": {"lam": "positive"},
    "definitions": {"L": "Trace(Delta.T*W*H)/n + lam/2*Trace(W.T*W)"},
    "hypotheses": {"stat": "grad(L, W) = 0", "chain": "G_h = W.T*Delta"},
}
FACT_STEPS = [
    "W.T*W",
    {"expr": "W.T*W - (1/lam)*W.T*grad(L, W)", "uses": ["stat"]},
    "W.T*W - (1/lam)*W.T*(Delta*H.T/n + lam*W)",
    "-(1/(n*lam))*W.T*Delta*H.T",
    {"expr": "-(1/(n*lam))*G_h*H.T", "uses": ["chain"]},
]


@functools.cache
def _example(name: str) -> theory.DerivationCheck:
    """Each example file is checked once per test session (the checks are deterministic)."""
    return check_derivation_file(EXAMPLES / name)


def _variant(tmp_path: Path, old: str, new: str, source: Path = FACT_FILE) -> Path:
    text = source.read_text()
    assert text.count(old) == 1, old
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new))
    return path


# -- acceptance ------------------------------------------------------------------------------------
def test_fact_proof_file_is_proved_on_every_step() -> None:
    """F1: the four-line FACT proof file gives PROVED on every step (symbolic, all sizes)."""
    r = _example("fact_proof.toml")
    assert r.verdict is Verdict.PROVED and r.first_wrong is None
    assert r.step_verdicts == (Verdict.PROVED,) * 4
    for step in r.derivation.steps:
        assert "reduces to 0 for all sizes" in step.check and "exact at sizes" in step.check


def test_fact_proof_with_one_transpose_dropped_is_refuted_at_that_step(tmp_path: Path) -> None:
    """F1: the same file with W^T -> W at step 3 is REFUTED at step 3 with an exact instance."""
    r = check_derivation_file(_variant(tmp_path, DROPPED, DROPPED.replace("W.T", "W")))
    assert r.verdict is Verdict.REFUTED and r.first_wrong == 3
    assert r.step_verdicts[:3] == (Verdict.PROVED, Verdict.PROVED, Verdict.REFUTED)
    w = r.witness
    assert w is not None and w["step"] == 3
    W, H, D, lam = (w["values"][k] for k in ("W", "H", "Delta", "lam"))
    n = w["sizes"]["n"]
    assert isinstance(W, sp.MatrixBase) and W.shape == (w["sizes"]["d"],) * 2
    # recompute both sides of step 3 by hand from the reported matrices: they differ
    lhs = W.T * W - (W.T * (D * H.T / n + lam * W)) / lam
    rhs = -(W * D * H.T) / (n * lam)
    assert lhs == w["lhs"] and rhs == w["rhs"] and lhs != rhs


# -- the worked examples ---------------------------------------------------------------------------
P, R = Verdict.PROVED, Verdict.REFUTED
EXPECTED = {
    "fact_proof.toml": (P, None, (P, P, P, P)),
    "d5_telescoping_L3.toml": (P, None, (P, P, P, P, P)),
    "wrong_dropped_transpose.toml": (R, 3, (P, P, R, R)),
    "wrong_gram_order.toml": (R, 3, (P, P, R, P)),
    "wrong_lost_1_over_n.toml": (R, 2, (P, R, P, P)),
}


def test_every_example_file_is_listed() -> None:
    """F1, D5: each file in examples/derivations has an expected outcome below."""
    assert sorted(p.name for p in EXAMPLES.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_worked_example(name: str) -> None:
    """F1, D5: each worked derivation gets its expected verdict, caught at the right step."""
    verdict, first, steps = EXPECTED[name]
    r = _example(name)
    assert (r.verdict, r.first_wrong, r.step_verdicts) == (verdict, first, steps)
    if verdict is Verdict.REFUTED:
        assert r.witness is not None and r.witness["step"] == first
        assert f"step {first} is the first wrong step" in r.derivation.reason


def test_lost_one_over_n_smallest_witness_needs_two_samples() -> None:
    """F1: a lost 1/n is invisible at n = 1; the smallest counterexample has n = 2."""
    w = _example("wrong_lost_1_over_n.toml").witness
    assert w is not None and w["sizes"] == {"d": 1, "m": 1, "n": 2}


def test_gram_order_smallest_witness_is_two_by_two() -> None:
    """F1: W W^T = W^T W for every 1 x 1 W, so the smallest counterexample has d = 2."""
    w = _example("wrong_gram_order.toml").witness
    assert w is not None and w["sizes"]["d"] == 2 and w["lhs"] != w["rhs"]


def test_d5_wrong_gram_is_refuted_at_a_balanced_point() -> None:
    """D5: W_3 W_3^T written for W_3^T W_3 in a balancedness step is refuted at an exactly
    balanced point (the cited D_2 = 0 holds at the reported matrices)."""
    r = check_derivation(
        ["A.T*A", "W_1.T*W_2.T*(W_3.T*W_3)*W_2*W_1",
         {"expr": "W_1.T*W_2.T*(W_3*W_3.T)*W_2*W_1", "uses": ["bal2"]}],
        matrices={"W_1": "a x b", "W_2": "c x a", "W_3": "c x c"},
        definitions={"A": "W_3*W_2*W_1", "D_2": "W_3.T*W_3 - W_2*W_2.T"},
        hypotheses={"bal2": "D_2 = 0"},
    )  # fmt: skip
    assert r.verdict is Verdict.REFUTED and r.first_wrong == 2
    w = r.witness
    assert w is not None
    W2, W3 = w["values"]["W_2"], w["values"]["W_3"]
    assert W3.T * W3 == W2 * W2.T  # the instance satisfies the cited hypothesis exactly


# -- verdict levels --------------------------------------------------------------------------------
def test_exact_at_sizes_when_no_symbolic_argument() -> None:
    """F1: the push-through identity holds but inverses are opaque to the free algebra, so the
    verdict is EXACT_AT_SIZES (weaker than PROVED), rendered consistently in text and JSON."""
    r = check_derivation(
        ["inv(W.T*W + lam*Identity(d))*W.T", "W.T*inv(W*W.T + lam*Identity(m))"],
        matrices={"W": "m x d"}, scalars={"lam": "positive"},
    )  # fmt: skip
    assert r.verdict is Verdict.EXACT_AT_SIZES and r.verdict.supports
    assert "[EXACT_AT_SIZES]" in r.to_text() and "not for all sizes" in r.to_text()
    data = json.loads(r.to_json())
    assert data["verdict"] == "EXACT_AT_SIZES" and data["steps"][0]["verdict"] == "EXACT_AT_SIZES"


def test_exact_at_sizes_through_entrywise_gradients() -> None:
    """F1: when the matrix-calculus guard cannot decide (sigma inside), the explicit entry-by-
    entry gradients still support the step at the listed sizes."""
    r = check_derivation(
        ["grad(Trace(D.T*sigma(W*X)), W)", "grad(Trace(sigma(W*X).T*D), W)"],
        matrices={"W": "m x d", "X": "d x n", "D": "m x n"}, functions=["sigma"],
    )  # fmt: skip
    assert r.verdict is Verdict.EXACT_AT_SIZES
    assert "no trusted symbolic gradient" in r.derivation.steps[0].check


def test_inconclusive_when_no_instance_satisfies_the_hypothesis() -> None:
    """F1: W^T W = I is neither a Gram relation between two matrices nor linear in a symbol:
    a step the rewriting proves is PROVED, one it cannot is INCONCLUSIVE, never a verdict."""
    r = check_derivation(
        ["W*W.T*W", {"expr": "W", "uses": ["orth"]}, {"expr": "W*inv(W.T*W)", "uses": ["orth"]}],
        matrices={"W": "m x d"}, hypotheses={"orth": "W.T*W = Identity(d)"},
    )  # fmt: skip
    assert r.step_verdicts == (Verdict.PROVED, Verdict.INCONCLUSIVE)
    assert r.verdict is Verdict.INCONCLUSIVE and "no exact instance" in r.derivation.steps[1].check


def test_trace_identities_proved_for_all_sizes() -> None:
    """F1: traces are canonical under rotation and transposition (Tr(AB) = Tr(BA))."""
    r = check_derivation(
        ["Trace((W*X - Y).T*(W*X - Y))",
         "Trace(X.T*W.T*W*X) - 2*Trace(Y.T*W*X) + Trace(Y.T*Y)",
         "tr(W.T*W*X*X.T) - 2*tr(W*X*Y.T) + tr(Y*Y.T)"],
        matrices={"W": "m x d", "X": "d x n", "Y": "m x n"},
    )  # fmt: skip
    assert r.step_verdicts == (Verdict.PROVED, Verdict.PROVED)


# -- gradients and hypotheses ----------------------------------------------------------------------
def test_gradient_goes_through_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1: grad(L, W) of a sum of traces (SymPy 1.14's silent-zero case) is taken by
    theory.matrix_calculus.gradient; the true gradient is PROVED and 0 is REFUTED."""
    import theory.derivation_checker.spec as spec

    calls = []
    real = spec.gradient
    monkeypatch.setattr(spec, "gradient", lambda f, W: calls.append(W) or real(f, W))
    spec.guarded_gradient.cache_clear()
    decl = {
        "matrices": {"W": "m x d", "X": "d x n", "Y": "m x n"}, "scalars": {"lam": "positive"},
        "definitions": {"L": "Trace((W*X - Y).T*(W*X - Y))/(2*n) + lam/2*Trace(W.T*W)"},
    }  # fmt: skip
    good = check_derivation(["grad(L, W)", "(W*X - Y)*X.T/n + lam*W"], **decl)
    assert good.verdict is Verdict.PROVED and calls
    assert check_derivation(["grad(L, W)", "0"], **decl).verdict is Verdict.REFUTED


def test_hypothesis_used_only_where_cited() -> None:
    """F1: the stationarity step without uses = ["stat"] is refuted (at a non-stationary point),
    and the message says which hypothesis would make it true."""
    steps = [FACT_STEPS[0], FACT_STEPS[1]["expr"], *FACT_STEPS[2:]]
    r = check_derivation(steps, **FACT_DECL)
    assert r.first_wrong == 1 and r.step_verdicts[1:] == (Verdict.PROVED,) * 3
    assert "follow from hypothesis (stat)" in r.derivation.steps[0].check


def test_counterexample_satisfies_the_cited_hypothesis() -> None:
    """F1: a false step citing stationarity is refuted at an exact stationary point: the
    reported W, H, Delta, lam satisfy grad_W L = Delta H^T / n + lam W = 0 exactly."""
    r = check_derivation(
        ["W.T*W", {"expr": "W*W.T - (1/lam)*W.T*grad(L, W)", "uses": ["stat"]}], **FACT_DECL
    )
    w = r.witness
    assert r.verdict is Verdict.REFUTED and w is not None
    W, H, D, lam = (w["values"][k] for k in ("W", "H", "Delta", "lam"))
    assert D * H.T / w["sizes"]["n"] + lam * W == sp.zeros(*W.shape)
    assert w["hypotheses"] == ["stat"]


def test_underdetermined_and_scalar_hypotheses_get_exact_instances() -> None:
    """F1: W v = 0 (underdetermined in W) and c = 1/2 (a scalar) are solved exactly, so their
    steps are cross-checked on instances, and a wrong step citing c = 1/2 is refuted there."""
    r = check_derivation(
        ["W*v*v.T", {"expr": "0", "uses": ["null"]}],
        matrices={"W": "m x d", "v": "d x 1"}, hypotheses={"null": "W*v = 0"},
    )  # fmt: skip
    assert (
        r.verdict is Verdict.PROVED and "(null) hold exactly there" in r.derivation.steps[0].check
    )
    r = check_derivation(
        ["c*W", {"expr": "W/2", "uses": ["half"]}, {"expr": "W/3", "uses": ["half"]}],
        matrices={"W": "m x d"}, scalars={"c": "positive"}, hypotheses={"half": "c = 1/2"},
    )  # fmt: skip
    assert r.step_verdicts == (Verdict.PROVED, Verdict.REFUTED)
    assert r.witness is not None and r.witness["values"]["c"] == sp.Rational(1, 2)


def test_undefined_function_values_in_the_witness() -> None:
    """F1: a gradient through sigma written without sigma' is refuted with concrete values
    sigma(z), sigma'(z) at the points the instance needs."""
    r = check_derivation(
        ["grad(Trace(D.T*sigma(W*X))/n, W)", "hadamard(D, sigma(W*X))*X.T/n"],
        matrices={"W": "m x d", "X": "d x n", "D": "m x n"}, functions=["sigma"],
    )  # fmt: skip
    w = r.witness
    assert r.verdict is Verdict.REFUTED and w is not None
    assert any(k.startswith("sigma'(") for k in w["functions"])


# -- renderings and the notebook entry point -------------------------------------------------------
def test_renderings_text_latex_json(tmp_path: Path) -> None:
    """F1: text shows the counterexample as matrices; LaTeX uses nabla; JSON is complete."""
    r = _example("wrong_dropped_transpose.toml")
    text = r.to_text()
    assert "[REFUTED] step 3 (line 43)" in text and "counterexample for step 3" in text
    assert re.search(r"^\s+\[\s*-?\d+", text, re.M)  # matrix rows
    latex = _example("fact_proof.toml").to_latex()
    assert r"\nabla_{W}" in latex and latex.count(r"\textbf{PROVED}") == 4
    data = json.loads(r.to_json())
    assert data["first_wrong_step"] == 3 and data["verdict"] == "REFUTED"
    assert [s["verdict"] for s in data["steps"]] == ["PROVED", "PROVED", "REFUTED", "REFUTED"]
    assert isinstance(data["witness"]["values"]["W"], list)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_with_counterexample_compiles(tmp_path: Path) -> None:
    """F1: the LaTeX of a refuted derivation, counterexample matrices included, compiles."""
    body = _example("wrong_dropped_transpose.toml").to_latex()
    doc = "\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n"
    (tmp_path / "d.tex").write_text(doc + body + "\n\\end{document}\n")
    cmd = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:]


def test_notebook_entry_point_takes_plain_strings() -> None:
    """F1: theory.check_derivation accepts a list of step strings (exercises notebook)."""
    r = theory.check_derivation(["(A*B).T", "B.T*A.T"], matrices={"A": "m x k", "B": "k x n"})
    assert r.verdict is Verdict.PROVED


# -- mutations: a wrong step must be refuted, never proved -----------------------------------------
def _fact_step_lines() -> list[tuple[int, str]]:
    lines = FACT_FILE.read_text().splitlines()
    out, k = [], -1
    for line in lines:
        if line.startswith("[[steps]]"):
            k += 1
        if line.startswith("expr = ") and k >= 0:
            out.append((k, line))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("k", "line", "pos"),
    [(k, line, m.start()) for k, line in _fact_step_lines() for m in re.finditer(r"\.T", line)],
)
def test_any_dropped_transpose_is_caught(tmp_path: Path, k: int, line: str, pos: int) -> None:
    """F1: dropping any one transpose from a step of the FACT proof is refuted at the step that
    introduces it or the next one (or, where it breaks the shapes, rejected naming that step)."""
    path = _variant(tmp_path, line, line[:pos] + line[pos + 2 :])
    try:
        r = check_derivation_file(path)
    except InputError as exc:
        assert f"step {k} (line" in str(exc) and "transpose missing" in str(exc)
        return
    assert r.verdict is Verdict.REFUTED and r.first_wrong in {max(k, 1), k + 1}


@pytest.mark.parametrize(
    ("old", "new", "step"),
    [
        (
            '"W.T*W - (1/lam)*W.T*(Delta*H.T/n + lam*W)"',
            '"W.T*W - (1/lam)*W.T*(-Delta*H.T/n + lam*W)"',
            2,
        ),
        (
            '"W.T*W - (1/lam)*W.T*(Delta*H.T/n + lam*W)"',
            '"W.T*W - (1/lam)*W.T*(Delta*H.T + lam*W)"',
            2,
        ),
        ('"-(1/(n*lam))*W.T*Delta*H.T"', '"-(lam/n)*W.T*Delta*H.T"', 3),
        ('"-(1/(n*lam))*G_h*H.T"', '"-(1/(n*lam))*H*G_h.T"', 4),
        ('chain = { statement = "G_h = W.T*Delta"', 'chain = { statement = "G_h = 2*W.T*Delta"', 4),
        ('uses = ["stat"]', "uses = []", 1),
    ],
    ids=[
        "sign-flipped",
        "missing-1/n",
        "lam-numerator",
        "transposed-FACT",
        "wrong-chain",
        "no-stat",
    ],
)
def test_planted_false_steps_are_refuted(tmp_path: Path, old: str, new: str, step: int) -> None:
    """F1: planted false variants (flipped sign, missing 1/n, lam in the numerator, FACT
    transposed without F5, a wrong chain rule, an uncited hypothesis) are refuted at the step."""
    r = check_derivation_file(_variant(tmp_path, old, new))
    assert r.verdict is Verdict.REFUTED and r.first_wrong == step
