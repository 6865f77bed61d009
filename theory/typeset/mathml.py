"""MathML for the toolkit's SymPy expressions and derivations: maths a browser typesets itself.

Browsers render MathML natively (MathML Core), so a page needs no script and no network to show
``W^T W = -(1/(n lambda)) G_h H^T`` as typeset mathematics. :func:`mathml` prints an expression
with SymPy's presentation printer, with three changes for MathML Core and the toolkit's notation:

- symbol names go through :func:`theory.typeset.prose.math_mathml` (``FACT`` upright, ``grad_W
  L_lambda`` as nabla with subscripts, ``S_k'``; SymPy would print ``grad_{W L \\lambda}``);
- the transpose is an italic T (as in the LaTeX), the trace is "tr";
- named character references (``&InvisibleTimes;``) become numeric ones, so the markup is also
  well-formed XML.

:func:`derivation_typeset` renders a :class:`theory._records.Derivation` for the HTML report:
the claim as a display equation, every step's sides as separate equations (the report aligns
them at the equals sign) with its justification and check as HTML with inline maths.
"""

from __future__ import annotations

import html.entities
import json
import re
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import precedence_traditional

from theory._verdict import to_jsonable
from theory.typeset.latex import latex
from theory.typeset.prose import math_mathml, prose_html, prose_markdown

if TYPE_CHECKING:  # the records import the LaTeX printer; no cycle at run time
    from theory._records import Derivation

__all__ = ["derivation_typeset", "math_element", "mathml"]


class _Printer(MathMLPresentationPrinter):
    """SymPy's presentation MathML with the toolkit's names (module docstring)."""

    def _raw(self, markup: str) -> Any:
        node = self.dom.createElement("mrow")
        node.appendChild(self.dom.createTextNode(markup))  # SymPy's text nodes are raw markup
        return node

    def _print_Symbol(self, sym: Any, style: str = "plain") -> Any:
        return self._raw(math_mathml(sym.name))

    def _print_MatrixSymbol(self, sym: Any) -> Any:
        return self._raw(math_mathml(sym.name))

    def _print_MatMul(self, expr: Any) -> Any:
        """``-(1/(lambda n)) G_h H^T`` as minus, one fraction, then the matrices (SymPy prints
        (-1) (1/lambda) (1/n) G_h H^T)."""
        coeff, matrices = expr.as_coeff_matrices()
        coeff = sp.Mul(*coeff) if isinstance(coeff, (list, tuple)) else coeff
        row = self.dom.createElement("mrow")
        if coeff.could_extract_minus_sign():
            row.appendChild(self._raw("<mo>&#x2212;</mo>"))
            coeff = -coeff
        parts = ([] if coeff == 1 else [coeff]) + list(matrices)
        prec = precedence_traditional(expr)
        for k, part in enumerate(parts):
            if k:  # a thin space between factors: "FACT FACT^T", not "FACTFACT^T"
                row.appendChild(self._raw('<mo lspace="0.1em" rspace="0">&#x2062;</mo>'))
            scalar = k == 0 and coeff != 1 and not isinstance(part, sp.Add)
            row.appendChild(self._print(part) if scalar else self.parenthesize(part, prec, False))
        return row

    def _print_Trace(self, expr: Any) -> Any:
        row = self.dom.createElement("mrow")
        row.appendChild(self._raw("<mi>tr</mi><mo>&#x2061;</mo>"))
        row.appendChild(self._l_paren())
        row.appendChild(self._print(expr.arg))
        row.appendChild(self._r_paren())
        return row


def _numeric_entities(markup: str) -> str:
    def repl(m: re.Match[str]) -> str:
        char = html.entities.html5.get(m.group(1) + ";")
        return "".join(f"&#x{ord(c):x};" for c in char) if char else m.group(0)

    markup = re.sub(r"&#x([0-9A-Fa-f]+)(?![0-9A-Fa-f;])", r"&#x\1;", markup)  # SymPy drops some ';'
    return re.sub(r"&([A-Za-z][A-Za-z0-9]*);", repl, markup)


def mathml(expr: Any) -> str:
    """The MathML content (no ``<math>`` element) of a SymPy expression or of an ASCII-maths
    string such as ``(FACT M)^T``."""
    if isinstance(expr, str):
        return math_mathml(expr)
    out = _Printer().doprint(expr if isinstance(expr, sp.Basic) else sp.sympify(expr))
    out = out.replace("<mo>T</mo></msup>", "<mi>T</mi></msup>").replace(
        "<mo>-</mo>", "<mo>&#x2212;</mo>"
    )
    return _numeric_entities(out)


def math_element(content: str, display: bool = False) -> str:
    """Wrap MathML content into a ``<math>`` element, displayed as a block or in the line."""
    if display:
        return f'<math display="block">{content}</math>'
    return f'<math displaystyle="true">{content}</math>'


def derivation_typeset(d: Derivation) -> dict[str, Any]:
    """The derivation as MathML and HTML pieces (JSON-able; the report lays them out).

    Keys: ``statement`` (display equation), ``reference``, ``assumptions`` ([label, html]),
    ``symbols`` ([maths, html]), ``steps`` (each ``lhs``, ``rhs``, ``why``, ``check``, ``mark``
    and ``chained``: True when its left side is the previous step's right side), ``verdict``,
    ``reason`` (html) and ``witness`` (text lines). For Markdown, ``statement_tex`` and each
    step's ``tex`` (the equation in LaTeX) and ``why_md`` (the justification with ``$...$``).
    """
    c = d.claim
    steps = []
    previous = None
    for s in d.steps:
        lhs, rhs = mathml(s.lhs), mathml(s.rhs)
        steps.append(
            {
                "lhs": math_element(lhs),
                "rhs": math_element(rhs),
                "chained": lhs == previous,
                "why": prose_html(s.justification),
                "tex": f"{latex(s.lhs)} = {latex(s.rhs)}",
                "why_md": prose_markdown(s.justification),
                "check": prose_html(s.check),
                "mark": s.mark,
            }
        )
        previous = rhs
    witness = []
    if d.witness:
        witness = [f"{k}: {json.dumps(v)}" for k, v in to_jsonable(d.witness).items()]
    return {
        "statement": math_element(f"{mathml(c.lhs)}<mo>=</mo>{mathml(c.rhs)}", display=True),
        "statement_tex": f"{latex(c.lhs)} = {latex(c.rhs)}",
        "reference": str(c.reference) if c.reference is not None else "",
        "assumptions": [[a.label, prose_html(a.text)] for a in c.assumptions],
        "symbols": [[math_element(math_mathml(k)), prose_html(v)] for k, v in c.symbols.items()],
        "steps": steps,
        "verdict": d.verdict.value,
        "reason": prose_html(d.reason),
        "witness": witness,
    }
