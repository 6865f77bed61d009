"""Typesetting: the toolkit's ASCII maths as LaTeX and MathML, SymPy expressions with its names.

The renderings are checked against hand-written expectations (a flipped sub/superscript or a
lost Greek letter changes them), for well-formedness (MathML parses as XML, LaTeX braces and
``$`` balance) on every derivation the report shows, and by a property on arbitrary text: no
input raises, and no letter or digit of the input is lost.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory.deep_linear.balance import derive_d1
from theory.deep_linear.optimality import derive_nfa_deep_linear
from theory.fact import derive_fact
from theory.kernel_expansion import derive_fact_expansion
from theory.typeset.ascii_math import GREEK, SPECIAL
from theory.typeset.latex import latex, latex_document
from theory.typeset.mathml import derivation_typeset, mathml
from theory.typeset.prose import (
    math_latex,
    math_mathml,
    prose_html,
    prose_latex,
    prose_markdown,
)

MATH = [
    ("W_j^T W_j", r"W_{j}^{T} W_{j}"),
    ("grad_W L_lambda", r"\nabla_{W} L_{\lambda}"),
    ("(W_j^T W_j)^(L-j+1)", r"(W_{j}^{T} W_{j})^{L-j+1}"),
    ("AGOP^(1/2)", r"\mathrm{AGOP}^{1/2}"),
    ("FACT FACT^T", r"\mathrm{FACT} \mathrm{FACT}^{T}"),
    ("S_k'", r"S_{k'}"),
    ("W3...W1", r"W_{3}\dots W_{1}"),
    (
        "-(1/(n lam)) sum_i grad_h l_i h_i^T",
        r"-(1/(n \lambda )) \sum_{i} \nabla_{h} l_{i} h_{i}^{T}",
    ),
    ("dl_i/dz_i", r"{dl}_{i}/{dz}_{i}"),
    ("W^Tgrad", r"W^{T}\nabla"),
    ("M X^T ((A A^T) o T) X M", r"M X^{T} ((A A^{T}) \circ T) X M"),
    ("(K + r I)^{-1} Y", r"(K + r I)^{-1} Y"),
    ("||W_k||_F^2", r"\|W_{k}\|_{F}^{2}"),
]

PROSE = [
    (
        "chain rule: h enters only through z, so grad_h l_i = W^T delta_i",
        r"chain rule: $h$ enters only through $z$, so $\nabla_{h} l_{i} = W^{T} \delta_{i}$",
    ),
    ("divide by lam > 0", r"divide by $\lambda > 0$"),
    ("after 5 L-BFGS steps (F1 step 3)", "after 5 L-BFGS steps (F1 step 3)"),
    ("at a stationary point (stat) the right side vanishes", None),
    ("D_i = 0 for i = j..L-1", r"$D_{i} = 0$ for $i = j\dots L-1$"),
    ("inputs, one sample per column (m0 x n)", r"inputs, one sample per column $(m_{0} \times n)$"),
    ("(i.e. grad_{W_j} l = -lam W_j)", r"(i.e. $\nabla_{W_{j}} l = -\lambda W_{j}$)"),
    ("variant 'fact': W^T W", r"variant 'fact': $W^{T} W$"),
    ("the first layer's W^T W", r"the first layer's $W^{T} W$"),
    ("Pearson >= 0.9", r"Pearson $\ge 0.9$"),
    ("with G = dl/dA held fixed", r"with $G = dl/dA$ held fixed"),
    # snake_case names are text, not subscripts; short subscripts and grad_W stay maths
    ("planted false FACT (sign_flipped)", r"planted false $\mathrm{FACT}$ (sign\_flipped)"),
    ("FACT (missing_1_over_n) fails", r"$\mathrm{FACT}$ (missing\_1\_over\_n) fails"),
    ("the fact_rel_error of grad_W L_lam", r"the fact\_rel\_error of $\nabla_{W} L_{\lambda}$"),
    # a bracketed condition after a formula is a remark beside it, not a factor of it
    ("left-multiply by W^T / lam (lam > 0)", r"left-multiply by $W^{T} / \lambda$ $(\lambda > 0)$"),
    ("M X^T ((A A^T) o T) X", r"$M X^{T} ((A A^{T}) \circ T) X$"),
]


@pytest.mark.parametrize(("text", "expected"), MATH)
def test_math_latex(text: str, expected: str) -> None:
    """F1 notation: ASCII maths as LaTeX (subscripts, transposes, Greek, upright names)."""
    assert math_latex(text) == expected


@pytest.mark.parametrize(("text", "expected"), PROSE)
def test_prose_latex(text: str, expected: str | None) -> None:
    """F1 notation: maths found inside prose and set inline; the words stay text."""
    assert prose_latex(text) == (expected if expected is not None else text)


def test_mathml_of_names_and_prose() -> None:
    """F1 notation: MathML of sub/superscripts, upright names, the nabla; prose keeps its text."""
    assert math_mathml("G_h") == "<msub><mrow><mi>G</mi></mrow><mrow><mi>h</mi></mrow></msub>"
    assert math_mathml("W^T") == "<msup><mrow><mi>W</mi></mrow><mrow><mi>T</mi></mrow></msup>"
    assert math_mathml("FACT") == "<mi>FACT</mi>" and "<mo>\u2207</mo>" in math_mathml("grad_W")
    html = prose_html("assumption (stat): grad_W L_lam = 0 & more")
    assert html.startswith("assumption (stat): <math>") and html.endswith("</math> &amp; more")
    assert prose_markdown("one | two with W^T") == r"one \| two with $W^{T}$"


def test_sympy_names_latex_and_mathml() -> None:
    """F5, F2: FACT is upright (not F A C T in italics), grad_W L_lambda is nabla; the MathML
    is well-formed XML with numeric character references only."""
    F = sp.MatrixSymbol("FACT", 3, 3)
    G = sp.MatrixSymbol("grad_W L_lambda", 3, 3)
    W = sp.MatrixSymbol("W", 3, 3)
    lam = sp.Symbol("lambda", positive=True)
    assert latex(F * F.T) == r"\mathrm{FACT} \mathrm{FACT}^{T}"
    assert latex(W.T * G / lam) == r"\frac{1}{\lambda} W^{T} \nabla_{W} L_{\lambda}"
    m = mathml(-(1 / lam) * W.T * G)
    ET.fromstring(f"<math>{m}</math>")
    assert "&#x2212;" in m and "(-1)" not in m and not re.search(r"&[A-Za-z]+;", m)
    assert "<mi>FACT</mi>" in mathml(F)


@pytest.fixture(scope="module")
def derivations() -> list:
    fact = derive_fact("mlp", 3, 2, True, "tanh")
    return [*fact.all, derive_d1(), derive_nfa_deep_linear(3, 1), derive_fact_expansion(3, 2, 1)]


def test_every_report_derivation_typesets(derivations: list) -> None:
    """F1, D5, K2: every statement, step and justification of the report's derivations is
    well-formed MathML; the LaTeX has balanced braces and inline maths."""
    for d in derivations:
        t = derivation_typeset(d)
        ET.fromstring(t["statement"])
        assert len(t["steps"]) == len(d.steps)
        for s in t["steps"]:
            ET.fromstring(s["lhs"])
            ET.fromstring(s["rhs"])
            ET.fromstring(f"<div>{s['why']} {s['check']}</div>")
        tex = d.to_latex()
        assert _balanced(tex) and r"\textasciicircum" not in tex  # no ASCII W^T left in prose


def test_latex_document_is_complete() -> None:
    """F1: a document with preamble, amsmath and the fragments, title typeset."""
    doc = latex_document(["x"], "FACT for W^T W")
    assert doc.startswith(r"\documentclass") and doc.rstrip().endswith(r"\end{document}")
    assert r"\usepackage{amsmath,amssymb}" in doc and r"$\mathrm{FACT}$" in doc


def _balanced(tex: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\[{}$]|[{}]", tex):
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
        if depth < 0:
            return False
    dollars = len(re.findall(r"(?<!\\)\$", tex))
    return depth == 0 and dollars % 2 == 0


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=60))
def test_prose_never_fails_and_loses_no_letter(text: str) -> None:
    """F1 notation: any ASCII text renders; MathML parses; LaTeX balances; every letter and
    digit survives, except inside the names that become symbols (lam, grad, sum, x as times)."""
    root = ET.fromstring(f"<div>{prose_html(text)}</div>")
    assert _balanced(prose_latex(text))
    shown = Counter(re.sub(r"[^A-Za-z0-9]", "", "".join(root.itertext())))
    given_ = Counter(re.sub(r"[^A-Za-z0-9]", "", text))
    symbols = Counter("".join(w for w in re.findall(r"[A-Za-z]+", text) if w in _NAMES))
    assert not shown - given_  # nothing invented
    assert not given_ - shown - symbols  # nothing lost but names turned into symbols


_NAMES = set(GREEK) | set(SPECIAL) | {"x", "o"}
