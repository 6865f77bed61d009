"""LaTeX for the toolkit's SymPy expressions, and a complete document around a derivation.

SymPy's printer spells a multi-letter symbol as a product of italic letters (``FACT`` becomes
F A C T) and keeps names such as ``grad_W L_lambda`` as they are. :func:`latex` prints every
symbol name through :func:`theory.typeset.prose.math_latex`, which knows the toolkit's notation
(``FACT`` -> ``\\mathrm{FACT}``, ``grad_W L_lambda`` -> ``\\nabla_W L_\\lambda``, ``S_k'``,
``(W_j^T W_j)^(L-j+1)``), and leaves everything else to SymPy.

:func:`latex_document` wraps fragments (amsmath ``align*`` blocks, see
:meth:`theory._records.Derivation.to_latex`) into a document that ``pdflatex`` compiles with the
packages of a basic TeX installation (amsmath, amssymb).
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from theory.typeset.prose import math_latex, prose_latex

__all__ = ["latex", "latex_document"]


class _Printer(LatexPrinter):
    """SymPy's LaTeX printer with the toolkit's symbol names (module docstring)."""

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        return math_latex(expr.name)

    def _print_MatrixSymbol(self, expr: Any) -> str:
        return math_latex(expr.name)

    def _print_Str(self, s: Any) -> str:  # names of undefined functions arrive as Str
        return math_latex(str(s))


def latex(expr: Any) -> str:
    """LaTeX (math mode) for a SymPy expression, or for a string that is maths throughout."""
    if isinstance(expr, str):
        return math_latex(expr)
    return _Printer().doprint(sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr)


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
"""


def latex_document(fragments: list[str], title: str) -> str:
    """A complete LaTeX document holding the fragments in order, ready for ``pdflatex``.

    Long equations may run into the margin (amsmath does not break them), which pdflatex reports
    as an overfull box and still typesets.
    """
    body = "\n\n".join(fragments)
    return (
        _PREAMBLE
        + rf"\title{{{prose_latex(title)}}}"
        + "\n\\date{}\n\\begin{document}\n\\maketitle\n\n"
        + body
        + "\n\n\\end{document}\n"
    )
