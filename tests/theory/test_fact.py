"""FACT (F1, F2, F4, F5) derived symbolically from first-order optimality."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import InputError, Verdict
from theory.fact import VARIANTS, check_fact_variant, derive_fact
from theory.fact.models import layer_model
from theory.matrix_calculus import matrices_equal

CASES = [
    {"arch": "linear"},
    {"arch": "deep-linear", "depth": 2, "layer": 1},
    {"arch": "deep-linear", "depth": 2, "layer": 2},
    {"arch": "deep-linear", "depth": 3, "layer": 2},
    {"arch": "deep-linear", "depth": 6, "layer": 3},
    {"arch": "mlp", "depth": 2, "layer": 1},
    {"arch": "mlp", "depth": 3, "layer": 2, "bias": True},
    {"arch": "mlp", "depth": 3, "layer": 2, "bias": True, "activation": "tanh"},
    {"arch": "mlp", "depth": 2, "layer": 2, "bias": True, "activation": "softplus"},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_fact_derivations_proved_every_step_checked(case: dict) -> None:
    """F1, F2, F4, F5: PROVED, and only because every step's check passed."""
    result = derive_fact(**case)
    for d in result.all:
        assert d.verdict is Verdict.PROVED, d.to_text()
        derived = [s for s in d.steps if s.kind == "derived"]
        assert derived and all(s.checked for s in derived)
        # every step is either checked or labelled (no constant "True" checks left)
        assert all(s.kind in ("assumption", "definition") for s in d.steps if not s.checked)
    assert result.verdict is Verdict.PROVED


def _rational_point(model, k: int, seed: int, values: list[Fraction], sizes: dict):
    E = model.explicit(k, seed=seed, sizes=sizes)
    subs = {
        w: sp.Rational(values[i % len(values)].numerator, values[i % len(values)].denominator)
        for i, w in enumerate(E.W)
    }
    return E, subs


@settings(max_examples=8, deadline=None)
@given(
    arch_depth_layer=st.sampled_from(
        [
            ("linear", 1, 1),
            ("deep-linear", 2, 1),
            ("deep-linear", 3, 2),
            ("deep-linear", 3, 3),
            ("mlp", 3, 2),
            ("mlp", 2, 1),
        ]
    ),
    widths=st.lists(st.integers(1, 3), min_size=4, max_size=4),
    n_samples=st.integers(1, 3),
    values=st.lists(
        st.fractions(min_value=-3, max_value=3, max_denominator=5), min_size=1, max_size=9
    ),
    lam_value=st.fractions(min_value=Fraction(1, 7), max_value=3, max_denominator=7),
    seed=st.integers(0, 1000),
)
def test_f2_exact_at_random_rational_points(
    arch_depth_layer, widths, n_samples, values, lam_value, seed
) -> None:
    """F2: W^T W - FACT = (1/lam) W^T grad_W L_lam exactly, at random sizes and rational points."""
    arch, depth, layer = arch_depth_layer
    model = layer_model(arch, depth, layer, bias=arch == "mlp")
    if arch == "mlp":
        sizes = {"d0": widths[0], "d": widths[1], "m": widths[2], "c": widths[3], "n": n_samples}
    else:
        sizes = {f"m{i}": widths[i] for i in range(depth + 1)} | {"n": n_samples}
    E, subs = _rational_point(model, 0, seed, values, sizes)
    lam = sp.Rational(lam_value.numerator, lam_value.denominator)
    sub = dict(subs) | {model.lam: lam}
    Wv, grad, Gh, H = (sp.ImmutableMatrix(M.xreplace(sub)) for M in (E.W, E.grad, E.Gh, E.H))
    fact = -(1 / (E.n * lam)) * Gh * H.T
    assert matrices_equal(Wv.T * Wv - fact, (1 / lam) * Wv.T * grad)
    # F4, the backward form
    Delta = sp.ImmutableMatrix(E.Delta.xreplace(sub))
    bfact = -(1 / (E.n * lam)) * Delta * (Wv * H).T
    assert matrices_equal(Wv * Wv.T - bfact, (1 / lam) * grad * Wv.T)
    # the guard can fail: with the 1/n dropped the identity does not hold (unless trivially 0)
    wrong = -(1 / lam) * Gh * H.T
    if E.n > 1 and not matrices_equal(fact, sp.zeros(*fact.shape)):
        assert not matrices_equal(Wv.T * Wv - wrong, (1 / lam) * Wv.T * grad)


@pytest.mark.parametrize(
    "arch",
    [
        {"arch": "linear"},
        {"arch": "deep-linear", "depth": 3, "layer": 2},
        {"arch": "mlp", "depth": 3, "layer": 2, "bias": True},
    ],
    ids=lambda c: c["arch"],
)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_planted_variants(arch: dict, variant: str) -> None:
    """F1 quality: false variants are REFUTED with an exact witness, true ones PROVED."""
    d = check_fact_variant(variant, **arch)
    if variant in ("fact", "transposed"):
        assert d.verdict is Verdict.PROVED, d.reason
    else:
        assert d.verdict is Verdict.REFUTED, d.reason
        assert d.witness is not None and d.witness["grad_W"] == "exactly 0"
        lhs, rhs = d.witness["lhs"], d.witness["rhs"]
        assert lhs.shape != rhs.shape or not matrices_equal(lhs, rhs)


def test_user_variant_function() -> None:
    """F1: a user-supplied variant (half of FACT) is refuted."""

    def half(W, H, Gh, n, lam):
        """W^T W = -(1/(2 n lam)) G_h H^T"""
        return W.T * W, -(1 / (2 * n * lam)) * Gh * H.T

    assert check_fact_variant(half).verdict is Verdict.REFUTED


def test_renderings() -> None:
    """F1: text, LaTeX and JSON carry the claim, tag, steps, verdict and reason."""
    r = derive_fact("mlp", 2, 1, True, "tanh")
    data = json.loads(json.dumps(r.to_dict()))
    assert data["tag"] == "F1" and data["verdict"] == "PROVED"
    for s in data["steps"]:
        assert {"lhs", "rhs", "justification", "checked", "kind"} <= set(s)
        assert s["checked"] is True or s["kind"] in ("assumption", "definition")
    kinds = [s["kind"] for s in data["steps"]]
    assert kinds[0] == "definition" and "assumption" in kinds
    assert [x["tag"] for x in data["related"]] == ["F2", "F4", "F5"]
    assert "verdict: PROVED" in r.to_text()
    latex = r.to_latex()
    assert latex.count(r"\begin{align*}") == latex.count(r"\end{align*}") == 4


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles(tmp_path) -> None:
    """F1: the LaTeX output compiles as math with pdflatex."""
    body = derive_fact("mlp", 3, 2, True, "tanh").to_latex()
    doc = "\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n"
    (tmp_path / "d.tex").write_text(doc + body + "\n\\end{document}\n")
    out = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"arch": "cnn"}, r"arch must be one of linear, deep-linear, mlp; got 'cnn'"),
        ({"arch": "deep-linear", "depth": 0}, r"depth must be an integer in 1\.\.8; got 0"),
        ({"arch": "deep-linear", "depth": 3, "layer": 4}, r"layer must be .*1\.\.depth.*got 4"),
        ({"arch": "linear", "depth": 2}, r"depth must be 1 for --arch linear"),
        ({"arch": "mlp", "activation": "swish"}, r"activation must be one of .*got 'swish'"),
        ({"arch": "linear", "activation": "tanh"}, r"activation must be left out"),
    ],
)
def test_bad_input(kwargs: dict, match: str) -> None:
    """F1: bad arguments get one clear message naming the argument, rule, value and fix."""
    with pytest.raises(InputError, match=match):
        derive_fact(**kwargs)


def test_mlp_chain_rule_is_a_lemma_checked_at_the_requested_depth() -> None:
    """F1: for an MLP the gradient step is the chain-rule lemma (symbolic sizes), not a
    "definition" of L_lam, and the explicit networks have the depth asked for."""
    r = derive_fact("mlp", 4, 2, True, "sigma")
    f1 = r.f1
    assert f1.steps[0].kind == "definition" and "l_i(z_i)" in str(f1.steps[0].rhs)
    lemma = [s for s in f1.steps if s.justification.startswith("chain-rule lemma")]
    assert len(lemma) == 2 and all("symbolic sizes" in s.check for s in lemma)
    assert all("widths=(" in s.check for s in lemma)
    widths = re.findall(r"widths=\(([^)]*)\)", lemma[0].check)
    assert len(widths) == 2 and all(w.count(",") == 4 for w in widths)  # L + 1 = 5 widths


def test_f5_remark_is_a_note_not_a_step() -> None:
    """F5: "away from a stationary point FACT is not symmetric" is a note, never rendered as a
    step next to FACT - FACT^T = 0; every F5 step is checked symbolically."""
    f5 = derive_fact("linear").f5
    assert f5.notes and "not part of the claim" in f5.notes[0]
    assert not any("not symmetric" in s.justification for s in f5.steps)
    assert all("symbolic" in s.check or "free algebra" in s.check for s in f5.steps)
    assert "note: not part of the claim" in f5.to_text()


def test_true_variant_without_certificate_is_not_refuted() -> None:
    """F1: a TRUE identity that no gradient certificate matches (W^T W = (W^T W)^T) is not
    REFUTED: the exact stationary witness satisfies it, so the verdict is INCONCLUSIVE."""

    def symmetric(W, H, Gh, n, lam):  # noqa: ANN001, ANN202
        return W.T * W, (W.T * W).T

    r = check_fact_variant(symmetric)
    assert r.verdict is Verdict.INCONCLUSIVE
    assert r.steps and not r.steps[0].checked  # the refutation certificate did not hold


def test_refuted_variant_carries_a_rechecked_certificate() -> None:
    """F1: a planted variant is REFUTED with its certificate step: witness exactly stationary
    (gradient recomputed) and the sides different."""
    r = check_fact_variant("sign-flipped", arch="mlp", depth=2, layer=1)
    assert r.verdict is Verdict.REFUTED and r.steps[0].checked
    assert "= 0 exactly" in r.steps[0].check
