"""A person's derivation as data, and its declarations turned into SymPy objects.

:class:`DerivationSpec` is what a derivation file (theory/derivation_checker/file.py) or a call of
``theory.check_derivation`` provides: declared dimensions, matrices with symbolic shapes, scalars
with assumptions, undefined (elementwise) functions, named definitions, labelled hypotheses
``lhs = rhs`` and the steps, each an expression equal to the previous one. :class:`Context`
parses all of it safely (:mod:`.safe_expr`), checks every shape, and keeps two forms of each
expression: as written (definitions and ``grad(f, W)`` kept as named placeholders, for display)
and expanded (definitions substituted; gradients through the matrix-calculus guard).
"""

from __future__ import annotations

import functools
import itertools
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from theory._errors import InputError, bad_input
from theory.derivation_checker.safe_expr import BUILTIN_FUNCTIONS, RESERVED, parse_safely
from theory.matrix_calculus import gradient

__all__ = ["Context", "DerivationSpec", "Hypothesis", "ParsedStep", "StepSpec"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ASSUMPTIONS = ("real", "positive", "nonnegative", "negative", "nonzero", "integer")


@dataclass(frozen=True)
class StepSpec:
    """One step as written: the expression, why it equals the previous one, hypotheses cited."""

    expr: str
    why: str = ""
    uses: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class DerivationSpec:
    """Everything a derivation declares (strings only; see the module docstring).

    ``matrices`` maps a name to its shape (``"m x d"`` or a pair); ``scalars`` to a tuple of
    assumptions; ``definitions`` and ``hypotheses`` to their text. ``lines`` gives source lines
    of definitions and hypotheses (by name) for error messages.
    """

    steps: tuple[StepSpec, ...]
    matrices: Mapping[str, Any] = field(default_factory=dict)
    scalars: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)
    definitions: Mapping[str, str] = field(default_factory=dict)
    hypotheses: Mapping[str, str] = field(default_factory=dict)
    dimensions: Mapping[str, str] = field(default_factory=dict)
    title: str = "a derivation"
    tag: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)  # "hypothesis stat" -> line
    about: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hypothesis:
    label: str
    text: str
    lhs: Any
    rhs: Any


@dataclass(frozen=True)
class ParsedStep:
    index: int
    spec: StepSpec
    expr: Any
    where: str


class GradSymbol(sp.MatrixSymbol):
    """The placeholder for ``grad(f, W)``: printed as written, in LaTeX as nabla_W (f)."""

    tex: dict[str, str] = {}  # name -> LaTeX; a name determines f and W, so entries never clash

    def _latex(self, printer: Any) -> str:
        return self.tex.get(self.name, r"\operatorname{grad}")


def _dims_equal(a: Any, b: Any) -> bool:
    return sp.expand(sp.sympify(a) - sp.sympify(b)) == 0


def _shape_text(e: Any) -> str:
    return " x ".join(str(x) for x in e.shape)


def check_shapes(expr: Any, where: str, text: str) -> None:
    """Refuse products, sums, traces, powers and inverses whose symbolic shapes do not fit.

    SymPy 1.14 builds ``W*W`` for a non-square ``W`` without complaint, so this is checked here.
    """
    for node in sp.preorder_traversal(expr):
        problem = ""
        if isinstance(node, sp.MatMul):
            mats = [a for a in node.args if getattr(a, "is_Matrix", False)]
            for a, b in itertools.pairwise(mats):
                if not _dims_equal(a.cols, b.rows):
                    problem = (
                        f"{sp.sstr(a)} is {_shape_text(a)} but {sp.sstr(b)} is {_shape_text(b)}"
                        " (is a transpose missing?)"
                    )
                    break
        elif isinstance(node, (sp.MatAdd, sp.HadamardProduct)):
            first = node.args[0]
            for b in node.args[1:]:
                if not all(_dims_equal(x, y) for x, y in zip(first.shape, b.shape, strict=True)):
                    problem = (
                        f"{sp.sstr(first)} is {_shape_text(first)} but {sp.sstr(b)} is "
                        f"{_shape_text(b)} (is a transpose missing?)"
                    )
                    break
        elif isinstance(node, (sp.Trace, sp.Inverse)) or (
            isinstance(node, sp.MatPow) and node.exp != 1
        ):
            arg = node.arg if isinstance(node, (sp.Trace, sp.Inverse)) else node.base
            if not _dims_equal(*arg.shape):
                problem = f"{sp.sstr(arg)} is {_shape_text(arg)}, not square"
                if isinstance(node, sp.MatPow):
                    problem += " (is a transpose missing?)"
        if problem:
            raise bad_input(where, "have matching shapes", text, f"Shape mismatch: {problem}.")


def _parse_shape(name: str, shape: Any, where: str) -> tuple[Any, Any]:
    parts = shape.split("x") if isinstance(shape, str) else list(shape)
    out = []
    for p in parts:
        p = p.strip() if isinstance(p, str) else p
        if isinstance(p, int) and not isinstance(p, bool) and p >= 1:
            out.append(sp.Integer(p))
        elif isinstance(p, str) and p.isdigit() and int(p) >= 1:
            out.append(sp.Integer(int(p)))
        elif isinstance(p, str) and _NAME.match(p):
            out.append(p)
        else:
            out = []
            break
    if len(out) != 2:
        raise bad_input(
            where, "be a shape 'rows x cols' of dimension names or positive integers",
            shape, f"Write e.g. {name} = \"m x d\".",
        )  # fmt: skip
    return out[0], out[1]


class Context:
    """The parsed declarations, definitions, hypotheses and steps of one derivation."""

    def __init__(self, spec: DerivationSpec) -> None:
        self.spec = spec
        self.dims: dict[str, sp.Symbol] = {}
        self.matrices: dict[str, sp.MatrixSymbol] = {}
        self.scalars: dict[str, sp.Symbol] = {}
        self.functions: dict[str, Any] = {}
        self.defs: dict[Any, Any] = {}  # placeholder -> expanded expression
        self.grads: dict[sp.MatrixSymbol, tuple[Any, sp.MatrixSymbol]] = {}
        self._grad_cache: dict[sp.MatrixSymbol, Any] = {}
        self._namespace: dict[str, Any] = {}
        self._where = "expression"
        self._declare()
        self.hypotheses = {k: self._hypothesis(k, v) for k, v in spec.hypotheses.items()}
        self.steps = self._steps()

    # -- declarations ---------------------------------------------------------------------------
    def _new_name(self, name: str, kind: str) -> str:
        where = f"{kind} name"
        if not isinstance(name, str) or not _NAME.match(name) or "__" in name:
            raise bad_input(where, "be a plain identifier", name, "Use letters, digits and _.")
        if keyword.iskeyword(name) or name in RESERVED:
            raise bad_input(where, "not be a Python keyword or reserved", name, "Use e.g. lam.")
        if name in self._namespace or name in BUILTIN_FUNCTIONS:
            raise bad_input(
                where, "be declared once, and not be a built-in function", name, "Rename it."
            )
        return name

    def _declare(self) -> None:
        spec = self.spec
        shapes = {}
        for name, shape in spec.matrices.items():
            shapes[name] = _parse_shape(name, shape, f"matrix {name} shape")
        dim_names = list(spec.dimensions) + [
            d for r, c in shapes.values() for d in (r, c) if isinstance(d, str)
        ]
        for d in dict.fromkeys(dim_names):
            if d in spec.matrices or d in spec.scalars:
                raise bad_input(
                    f"dimension {d}", "not also be a matrix or scalar", d, "Rename one of them."
                )
            if d not in self.dims:
                self._new_name(d, "dimension")
                self.dims[d] = self._namespace[d] = sp.Symbol(d, integer=True, positive=True)
        for name, (r, c) in shapes.items():
            self._new_name(name, "matrix")
            rows = self.dims[r] if isinstance(r, str) else r
            cols = self.dims[c] if isinstance(c, str) else c
            self.matrices[name] = self._namespace[name] = sp.MatrixSymbol(name, rows, cols)
        for name, assumptions in spec.scalars.items():
            self._new_name(name, "scalar")
            bad = [a for a in assumptions if a not in ASSUMPTIONS]
            if bad:
                raise bad_input(
                    f"scalar {name} assumptions", f"be among {', '.join(ASSUMPTIONS)}",
                    bad[0], "Use e.g. [\"positive\"].",
                )  # fmt: skip
            kw = {a: True for a in assumptions} or {"real": True}
            self.scalars[name] = self._namespace[name] = sp.Symbol(name, **kw)
        for name in spec.functions:
            self._new_name(name, "function")
            self.functions[name] = sp.Function(name)
            self._namespace[name] = _elementwise(self.functions[name])
        self._namespace.update(
            grad=self._grad, Trace=sp.Trace, tr=sp.Trace, inv=sp.Inverse,
            hadamard=sp.HadamardProduct, Identity=sp.Identity, ZeroMatrix=sp.ZeroMatrix,
        )  # fmt: skip
        for name, text in spec.definitions.items():
            self._new_name(name, "definition")
            where = self.where_named("definition", name)
            expr = self.parse(text, where)
            ph = sp.MatrixSymbol(name, *expr.shape) if expr.is_Matrix else sp.Symbol(name)
            self.defs[ph] = self.expand(expr)
            self._namespace[name] = ph

    def where_named(self, kind: str, name: str) -> str:
        line = self.spec.lines.get(f"{kind} {name}")
        return f"{kind} {name}" + (f" (line {line})" if line else "")

    # -- parsing ----------------------------------------------------------------------------------
    def parse(self, text: Any, where: str) -> Any:
        self._where = where
        functions = set(BUILTIN_FUNCTIONS) | set(self.functions)
        expr = parse_safely(text, where, self._namespace, functions, set(self.scalars))
        if not isinstance(expr, sp.Basic):
            raise bad_input(where, "be a SymPy expression", text, "Write arithmetic on names.")
        check_shapes(expr, where, text)
        return expr

    def _grad(self, f: Any, W: Any) -> sp.MatrixSymbol:
        where = self._where
        if not isinstance(W, sp.MatrixSymbol) or W not in self.matrices.values():
            raise bad_input(
                where, "take grad(f, W) with respect to a declared matrix W", sp.sstr(W),
                "Pass the matrix name as the second argument.",
            )  # fmt: skip
        if getattr(f, "is_Matrix", False) and f.shape != (1, 1):
            raise bad_input(
                where, "take grad(f, W) of a scalar f", f"{sp.sstr(f)} ({_shape_text(f)})",
                "Wrap a matrix in Trace(...) or take a 1 x 1 expression.",
            )  # fmt: skip
        check_shapes(f, where, sp.sstr(f))
        name = f"grad({sp.sstr(f)}, {W.name})"
        GradSymbol.tex[name] = rf"\nabla_{{{sp.latex(W)}}} \left({sp.latex(f)}\right)"
        ph = GradSymbol(name, *W.shape)
        self.grads[ph] = (self.expand(f), W)
        return ph

    def _hypothesis(self, label: str, text: Any) -> Hypothesis:
        where = self.where_named("hypothesis", label)
        if not isinstance(text, str) or text.count("=") != 1 or "==" in text:
            raise bad_input(where, "be one equation 'lhs = rhs'", text, "Write e.g. 'D_1 = 0'.")
        left, right = text.split("=")
        lhs, rhs = self.parse(left, where), self.parse(right, where)
        lhs, rhs = _zero_like(lhs, rhs), _zero_like(rhs, lhs)
        if lhs.is_Matrix != rhs.is_Matrix or (
            lhs.is_Matrix
            and not all(_dims_equal(a, b) for a, b in zip(lhs.shape, rhs.shape, strict=True))
        ):
            raise bad_input(
                where, "have two sides of the same shape", text,
                f"Shape mismatch: {_describe(lhs)} = {_describe(rhs)}.",
            )  # fmt: skip
        return Hypothesis(label, text.strip(), lhs, rhs)

    def _steps(self) -> list[ParsedStep]:
        specs = self.spec.steps
        if len(specs) < 2:
            raise bad_input(
                "steps", "hold a start and at least one step", len(specs), "Add the steps."
            )
        out: list[ParsedStep] = []
        for k, st in enumerate(specs):
            where = f"step {k}" + (f" (line {st.line})" if st.line else "")
            unknown = [u for u in st.uses if u not in self.hypotheses]
            if unknown:
                raise bad_input(
                    where, f"cite declared hypotheses ({', '.join(self.hypotheses) or 'none'})",
                    unknown[0], "Declare it under [hypotheses] or fix the label.",
                )  # fmt: skip
            if k == 0 and st.uses:
                raise bad_input(where, "cite no hypothesis (it is the start)", st.uses, "")
            out.append(ParsedStep(k, st, self.parse(st.expr, where), where))
        for k, ps in enumerate(out):  # a 0 next to a matrix is that zero matrix
            near = out[k - 1].expr if k else out[1].expr
            out[k] = ParsedStep(k, ps.spec, _zero_like(ps.expr, near), ps.where)
        for prev, ps in itertools.pairwise(out):
            if ps.expr.is_Matrix != prev.expr.is_Matrix:
                raise bad_input(
                    ps.where, "have the same kind as the previous step (scalar or matrix)",
                    ps.spec.expr, f"{_describe(ps.expr)} cannot equal {_describe(prev.expr)}.",
                )  # fmt: skip
        return out

    # -- expansion -------------------------------------------------------------------------------
    def expand(self, expr: Any) -> Any:
        """Substitute definitions (each stored already expanded); gradients stay placeholders."""
        return expr.xreplace(self.defs) if self.defs else expr

    def symbolic(self, expr: Any) -> Any:
        """Definitions substituted and every grad(f, W) replaced by the guarded gradient.

        Raises :class:`theory.MatrixCalculusError` when no symbolic route can be trusted.
        """
        e = self.expand(expr)
        for _ in range(len(self.grads) + 1):
            phs = [p for p in e.atoms(sp.MatrixSymbol) if p in self.grads]
            if not phs:
                return e
            e = e.xreplace({p: self._gradient(p) for p in phs})
        return e

    def _gradient(self, ph: sp.MatrixSymbol) -> Any:
        if ph not in self._grad_cache:
            f, W = self.grads[ph]
            self._grad_cache[ph] = guarded_gradient(self.symbolic(f), W)
        return self._grad_cache[ph]

    @property
    def dim_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.dims[k] for k in sorted(self.dims))


class Elementwise(ElementwiseApplyFunction):
    """``sigma(X)`` applied entry by entry, printed as written (SymPy prints a Lambda)."""

    def _name(self) -> str:
        body = self.function.expr
        return body.func.__name__ if isinstance(body, sp.Function) else sp.sstr(self.function)

    def _sympystr(self, printer: Any) -> str:
        return f"{self._name()}({printer._print(self.expr)})"

    def _latex(self, printer: Any) -> str:
        return rf"{sp.latex(sp.Symbol(self._name()))}\left({printer._print(self.expr)}\right)"


@functools.lru_cache(maxsize=256)
def guarded_gradient(f: Any, W: sp.MatrixSymbol) -> Any:
    """theory.matrix_calculus.gradient (two routes, checked entry by entry), once per (f, W)."""
    return gradient(f, W).expr


def _elementwise(f: Any) -> Any:
    def apply(*args: Any) -> Any:
        if len(args) == 1 and getattr(args[0], "is_Matrix", False):
            return Elementwise(f, args[0])
        if any(getattr(a, "is_Matrix", False) for a in args):
            raise InputError(f"{f} takes one matrix (elementwise) or scalars; got {args}")
        return f(*args)

    return apply


def _zero_like(expr: Any, other: Any) -> Any:
    """The scalar 0 next to a matrix means the zero matrix of that shape."""
    if expr == 0 and not getattr(expr, "is_Matrix", False) and other.is_Matrix:
        return sp.ZeroMatrix(*other.shape)
    return expr


def _describe(e: Any) -> str:
    return f"a {_shape_text(e)} matrix" if e.is_Matrix else "a scalar"
