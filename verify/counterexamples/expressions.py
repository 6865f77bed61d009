"""Conjecture expressions: parsed safely into SymPy over named layer quantities, then evaluated.

A conjecture is an expression that should vanish at every stationary point of L_lam, such as
``NFM - AGOP**(1/2)`` or ``NFM*AGOP - AGOP*NFM``, or an equation ``lhs = rhs`` (``==`` also
accepted), read as ``lhs - rhs``. Names (REFERENCE.md tags; layer quantities of the layer under
test, z = W h, d inputs, m outputs, n samples):

=================  =======  ========================================================
name               shape    meaning
=================  =======  ========================================================
W                  m x d    the layer's weights
NFM                d x d    W^T W (N1)
AGOP               d x d    (1/n) sum_i J_i^T J_i, J_i = d f(x_i) / d h (N1)
AGOP_centered      d x d    the same with the mean Jacobian subtracted (N1)
FACT               d x d    -(1/(n lam)) sum_i grad_h l_i h_i^T (F1)
bFACT              m x m    -(1/(n lam)) sum_i delta_i (W h_i)^T (F4)
grad_W             m x d    gradient of L_lam w.r.t. W (zero at a stationary point)
H                  d x n    the layer's inputs h_i as columns
n, lam, L, j       scalar   samples, weight decay, depth, the layer's index (1-based)
=================  =======  ========================================================

Operations: ``+ - * / **``, ``@`` (same as ``*`` between matrices), ``.T``, ``trace(...)``;
numbers are read exactly (0.5 is 1/2). Division only by scalars; powers only of square
matrices, with positive exponents: numbers, or expressions in L, j, n such as 1/(L - j + 1)
(checked positive when evaluated); fractional powers are PSD powers (N3).

Safety: the text is parsed by Python's ``ast`` into a tree that is checked node by node (names
from the table, the operations above, numeric literals) and turned into SymPy objects directly;
nothing is ever passed to ``eval`` (so no attribute access, calls, imports or code). Shapes are
symbolic (d, m, n), so ``W + NFM`` or ``W**2`` fail with a clear error before anything runs; the
whole expression must be square (d x d, m x m, n x n) or a scalar.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import sympy as sp

from theory._errors import InputError, bad_input

__all__ = ["QUANTITIES", "SCALARS", "Conjecture", "parse_conjecture"]

MAX_LENGTH = 500
_d, _m, _n = sp.symbols("d m n", integer=True, positive=True)

#: matrix quantities: name -> (rows, cols, meaning)
QUANTITIES: dict[str, tuple[Any, Any, str]] = {
    "W": (_m, _d, "the layer's weights"),
    "NFM": (_d, _d, "W^T W (N1)"),
    "AGOP": (_d, _d, "uncentered AGOP of the output w.r.t. the layer input (N1)"),
    "AGOP_centered": (_d, _d, "centered AGOP (N1)"),
    "FACT": (_d, _d, "-(1/(n lam)) sum_i grad_h l_i h_i^T (F1)"),
    "bFACT": (_m, _m, "-(1/(n lam)) sum_i delta_i (W h_i)^T (F4)"),
    "grad_W": (_m, _d, "gradient of L_lam w.r.t. W"),
    "H": (_d, _n, "the layer inputs h_i as columns"),
}
#: scalar quantities: name -> meaning
SCALARS: dict[str, str] = {
    "n": "number of samples", "lam": "weight decay lam", "L": "depth (weight matrices)",
    "j": "index of the layer under test (1-based)",
}  # fmt: skip
_SYMBOLS: dict[str, Any] = {name: sp.MatrixSymbol(name, r, c) for name, (r, c, _) in
                            QUANTITIES.items()}  # fmt: skip
_SYMBOLS |= {"n": _n, "lam": sp.Symbol("lam", positive=True),
             "L": sp.Symbol("L", integer=True, positive=True),
             "j": sp.Symbol("j", integer=True, positive=True)}  # fmt: skip
_FUNCTIONS = ("trace",)
_EXPONENT_SYMBOLS = ("L", "j", "n")  # integers: an exponent like 1/(L - j + 1) is exact
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.MatMult: "@", ast.Div: "/",
           ast.Pow: "**"}  # fmt: skip


def _error(expr: str, rule: str, got: Any) -> InputError:
    names = ", ".join([*QUANTITIES, *SCALARS])
    return bad_input("expression", rule, got, f"Write it over {names} with + - * / ** .T and "
                     f"trace(), e.g. \"NFM - AGOP**(1/2)\" (expression: {expr!r}).")  # fmt: skip


def _is_matrix(x: Any) -> bool:
    return isinstance(x, sp.MatrixExpr)


Shape = tuple[Any, Any] | None  # (rows, cols) as symbols, or None for a scalar


def _shape(shape: Shape) -> str:
    return "scalar" if shape is None else f"{shape[0]}x{shape[1]}"


def _number(node: ast.Constant, expr: str) -> Any:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _error(expr, "contain only numbers, names and operations", repr(v))
    if isinstance(v, float):  # read the literal exactly as written: 0.1 is 1/10
        f = Fraction(repr(v))
        return sp.Rational(f.numerator, f.denominator)
    return sp.Integer(v)


class _Builder:
    """Turns a checked ``ast`` tree into SymPy, node by node (no eval), tracking shapes.

    Shapes are tracked here, symbol by symbol: SymPy accepts W + NFM (m x d plus d x d) because
    it cannot rule out m = d, but a conjecture about every layer must hold when m != d."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.used: set[str] = set()

    def build(self, node: ast.AST) -> tuple[Any, Shape]:
        e = self.expr
        if isinstance(node, ast.Constant):
            return _number(node, e), None
        if isinstance(node, ast.Name):
            if node.id not in _SYMBOLS:
                raise _error(e, "use only the named quantities "
                             f"{[*QUANTITIES, *SCALARS]}", node.id)  # fmt: skip
            self.used.add(node.id)
            q = QUANTITIES.get(node.id)
            return _SYMBOLS[node.id], None if q is None else (q[0], q[1])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            x, shape = self.build(node.operand)
            return (-x if isinstance(node.op, ast.USub) else x), shape
        if isinstance(node, ast.Attribute) and node.attr == "T":
            x, shape = self.build(node.value)
            if shape is None:
                raise _error(e, "transpose (.T) only matrices", ast.unparse(node))
            return x.T, (shape[1], shape[0])
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self._binop(node)
        raise _error(
            e,
            "use only names, numbers, + - * / ** @, .T and trace()",
            ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__,
        )

    def _call(self, node: ast.Call) -> tuple[Any, Shape]:
        e = self.expr
        if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and len(node.args) == 1 and not node.keywords):  # fmt: skip
            raise _error(e, f"call only {list(_FUNCTIONS)} with one argument", ast.unparse(node))
        x, shape = self.build(node.args[0])
        if shape is None or shape[0] != shape[1]:
            raise _error(e, "take trace() of a square matrix", f"{ast.unparse(node)} "
                         f"of shape {_shape(shape)}")  # fmt: skip
        return sp.Trace(x), None

    def _binop(self, node: ast.BinOp) -> tuple[Any, Shape]:
        e, op = self.expr, _BINOPS[type(node.op)]
        a, sa = self.build(node.left)
        b, sb = self.build(node.right)
        text = ast.unparse(node)
        mismatch = f"{text} ({_shape(sa)} {op} {_shape(sb)})"
        if op == "**":
            return self._power(a, sa, b, sb, text)
        if op == "/":
            if sb is not None:
                raise _error(e, "divide only by scalars", mismatch)
            return a / b, sa
        if op in "+-":
            if sa != sb:
                raise _error(e, "add quantities of the same shape (d x d with d x d, ...)",
                             mismatch)  # fmt: skip
            return (a + b if op == "+" else a - b), sa
        if sa is None or sb is None:
            if op == "@":
                raise _error(e, "use @ between matrices", mismatch)
            return a * b, sa or sb
        if sa[1] != sb[0]:
            raise _error(e, "multiply matrices of matching inner size (d x d times d x ...)",
                         mismatch)  # fmt: skip
        return a * b, (sa[0], sb[1])

    def _power(self, a: Any, sa: Shape, b: Any, sb: Shape, text: str) -> tuple[Any, Shape]:
        e = self.expr
        integers = {_SYMBOLS[x] for x in _EXPONENT_SYMBOLS}
        if sb is not None or not b.free_symbols <= integers or (b.is_Rational and not b > 0):
            raise _error(e, "raise to a positive number or an expression in "
                         f"{list(_EXPONENT_SYMBOLS)} (e.g. **(1/2), **(1/L))", text)  # fmt: skip
        if sa is None:
            return a**b, None
        if sa[0] != sa[1]:
            raise _error(e, "take powers of square matrices only", f"{text} ({_shape(sa)})")
        return sp.MatPow(a, b), sa


@dataclass(frozen=True)
class Conjecture:
    """A parsed conjecture: the text, the SymPy expression that should vanish, its terms."""

    text: str
    expr: Any
    used: frozenset[str]
    sides: tuple[Any, Any] | None = None  # (lhs, rhs) of an equation "lhs = rhs"

    @cached_property
    def terms(self) -> tuple[Any, ...]:
        """The top-level summands (their sizes are the scale of a violation)."""
        e = self.expr
        return tuple(e.args) if isinstance(e, (sp.MatAdd, sp.Add)) else (e,)

    @property
    def is_matrix(self) -> bool:
        return _is_matrix(self.expr)

    @property
    def difference(self) -> str:
        """The expression that should vanish, as text ("lhs - (rhs)" for an equation)."""
        if self.sides is None:
            return self.text
        return f"{self.sides[0]} - ({self.sides[1]})"

    def __str__(self) -> str:
        return f"{self.text} = 0" if self.sides is None else self.text


def parse_conjecture(text: str) -> Conjecture:
    """Parse ``text`` (module docstring); InputError for anything else."""
    if not isinstance(text, str) or not text.strip():
        raise _error(str(text), "be a non-empty expression", repr(text))
    if len(text) > MAX_LENGTH:
        raise _error(text[:40] + "...", f"be at most {MAX_LENGTH} characters", len(text))
    source = text.strip()
    if source.count("=") == 1:  # "lhs = rhs"
        source = source.replace("=", "==")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise _error(text, "be a valid expression", f"syntax error: {exc.msg}") from None
    sides: tuple[str, str] | None = None
    if isinstance(tree, ast.Compare):
        if len(tree.ops) != 1 or not isinstance(tree.ops[0], ast.Eq):
            raise _error(text, "state one equation lhs = rhs (no <, >, chains)", text)
        lhs, rhs = ((ast.get_source_segment(source, part) or ast.unparse(part)).strip()
                    for part in (tree.left, tree.comparators[0]))  # fmt: skip
        sides = (lhs, rhs)
        tree = ast.BinOp(left=tree.left, op=ast.Sub(), right=tree.comparators[0])
    builder = _Builder(text)
    expr, shape = builder.build(tree)
    if shape is not None and shape[0] != shape[1]:
        raise _error(text, "be square (d x d, m x m, n x n) or a scalar, to vanish as a "
                     "statement about a layer", f"shape {_shape(shape)}")  # fmt: skip
    if not builder.used & set(QUANTITIES):
        raise _error(text, "involve at least one layer quantity", text)
    return Conjecture(text, expr, frozenset(builder.used), sides)


def symbols() -> dict[str, Any]:
    """The SymPy symbol of every name (matrix and scalar)."""
    return dict(_SYMBOLS)
