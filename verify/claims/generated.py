"""Numeric code generated from SymPy statements (``sympy.lambdify``), in float64 or mpmath.

:func:`numeric` turns a matrix expression over named symbols into a function of those names'
values, with one code printer for both number backends (verify.engine.network): the same
generated code runs on float64 arrays and on object arrays of mpmath numbers, so an identity is
checked at 50 digits by the code that checks it in float64. What the printer adds to NumPy's:

- a rational number p/q prints as ``_rational(p, q)``: p/q in float64, ``mpf(p)/q`` at the
  working precision in mpmath (a plain ``1/3`` would be a float64 constant even at 50 digits);
- ``MatPow(A, p/q)``: integer powers by repeated products; fractional powers (p/q > 0) are the
  toolkit's PSD power (verify.engine.linalg.psd_power: symmetric part, eigenvalues below the
  rounding floor set to 0, REFERENCE N3), the only power the statements use (AGOP^(1/L) in D5,
  (FACT FACT^T)^(1/2) in F5); an exponent in scalar symbols (1/L) is evaluated with their
  values (pass them as mpmath numbers at 50 digits) and must come out positive;
- ``Trace`` as the sum of the diagonal, ``HadamardProduct`` as the entrywise product, and a
  ``ZeroMatrix`` of symbolic size as the number 0 (it broadcasts).

Symbols whose names are not Python identifiers (``lambda``, ``W_{j+1}``) are renamed before the
code is generated; callers pass values by the symbols' names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from theory._errors import bad_input
from verify.engine.linalg import psd_power
from verify.engine.network import FLOAT64, Backend, mp_backend

__all__ = ["numeric"]


class _Printer(NumPyPrinter):
    """NumPy's printer plus the rules of the module docstring."""

    def _print_Rational(self, expr: sp.Rational) -> str:
        if expr.q == 1:
            return str(expr.p)
        return f"_rational({expr.p}, {expr.q})"

    def _print_Half(self, expr: Any) -> str:
        return "_rational(1, 2)"

    def _print_MatPow(self, expr: sp.MatPow) -> str:
        base, exp = expr.args
        if exp.is_Rational:
            if not exp > 0:
                raise bad_input("exponent", "be positive", exp, "Write e.g. AGOP**(1/2).")
            return f"_matpow({self._print(base)}, {exp.p}, {exp.q})"
        # an exponent in scalar symbols (e.g. 1/L): its value is checked when it is known
        return f"_matpow_value({self._print(base)}, {self._print(exp)})"

    def _print_Trace(self, expr: Any) -> str:
        return f"_trace({self._print(expr.arg)})"

    def _print_HadamardProduct(self, expr: Any) -> str:
        return "(" + ")*(".join(self._print(a) for a in expr.args) + ")"

    def _print_ZeroMatrix(self, expr: Any) -> str:
        return "0"


def _namespace(be: Backend, terms: int | None) -> dict[str, Any]:
    def rational(p: int, q: int) -> Any:
        return p / q if be.name == "float64" else mpmath.mpf(p) / q

    def matpow(a: Any, p: int, q: int) -> Any:
        a = np.asarray(a)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise bad_input(
                "power", "apply to a square matrix", f"shape {a.shape}",
                "Take powers of square quantities only (NFM, AGOP, FACT, ...).",
            )  # fmt: skip
        if q == 1:
            out = a
            for _ in range(p - 1):
                out = out @ a
            return out
        return psd_power(a, rational(p, q), be, terms=terms)

    def matpow_value(a: Any, x: Any) -> Any:
        if not x > 0:
            raise bad_input("exponent", "be positive", x, "Write e.g. AGOP**(1/L).")
        if x == int(x):
            return matpow(a, int(x), 1)
        a = np.asarray(a)
        return psd_power(a, x, be, terms=terms)

    def trace(a: Any) -> Any:
        a = np.asarray(a)
        return sum((a[i, i] for i in range(a.shape[0])), a[0, 0] * 0)

    return {
        "_rational": rational,
        "_matpow": matpow,
        "_matpow_value": matpow_value,
        "_trace": trace,
    }


@lru_cache(maxsize=256)
def _lambdified(args: tuple[sp.Basic, ...], expr: Any, backend: str, dps: int,
                terms: int | None) -> Callable[..., Any]:  # fmt: skip
    be = FLOAT64 if backend == "float64" else mp_backend(dps)
    # plain identifiers for every argument (names like "W_{j+1}" or "lambda" are not Python);
    # lambdify's own renaming would turn matrix symbols into scalars and break shape checks
    safe = [sp.MatrixSymbol(f"_a{i}", *a.shape) if isinstance(a, sp.MatrixSymbol)
            else sp.Symbol(f"_a{i}", **a.assumptions0) for i, a in enumerate(args)]  # fmt: skip
    body = expr.xreplace(dict(zip(args, safe, strict=True))) if hasattr(expr, "xreplace") else expr
    return sp.lambdify(safe, body, modules=[_namespace(be, terms), "numpy"], printer=_Printer,
                       dummify=False)  # fmt: skip


def numeric(
    args: Sequence[sp.Basic], expr: Any, be: Backend = FLOAT64, *, terms: int | None = None
) -> Callable[[Mapping[str, Any]], Any]:
    """``values -> expr`` evaluated in the numbers of ``be``; ``values`` maps each symbol's name
    to its value (arrays for matrix symbols, numbers for scalars). ``terms``: the number of
    summands behind the matrices, for the rounding floor of fractional powers
    (verify.engine.linalg)."""
    order = tuple(args)
    fn = _lambdified(order, expr, be.name, int(getattr(be, "dps", 0)), terms)
    names = [str(a.name) if hasattr(a, "name") else str(a) for a in order]

    def evaluate(values: Mapping[str, Any]) -> Any:
        missing = [n for n in names if n not in values]
        if missing:
            raise bad_input("values", f"give every symbol of the statement {names}", missing,
                            "Pass a value for each name.")  # fmt: skip
        with be.working():
            return fn(*(values[n] for n in names))

    return evaluate
