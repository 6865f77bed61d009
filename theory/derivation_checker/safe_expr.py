"""Reading a person's expression without running a person's code.

Expressions in a derivation file are SymPy arithmetic on declared names. SymPy's ``parse_expr``
evaluates the text it is given with Python's ``eval``, so nothing reaches it before two checks
that run no code at all:

1. tokens (:mod:`tokenize`): no strings, no Python keywords (``lambda``, ``import``, ...), no
   dunder names, only the operators ``+ - * / ** @ ( ) , .`` and ``=`` nowhere; ``.`` only in
   ``X.T`` (transpose);
2. syntax tree (:mod:`ast`): only numbers, names, arithmetic, ``X.T`` and calls of a known
   function by name with plain arguments; every name declared; exponents small numbers, scalar
   names or simple fractions (no power towers such as ``9**9**9``, which would exhaust memory).

Only then is ``parse_expr`` called, with the declared names as its namespace, no builtins, and
the transformations that turn numbers into exact SymPy numbers (a decimal such as 0.25 becomes
1/4). Every refusal names the place (``where``), the problem and the fix, on one line.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.parsing.sympy_parser import auto_number, parse_expr, rationalize

from theory._errors import InputError, bad_input

__all__ = ["BUILTIN_FUNCTIONS", "MAX_LENGTH", "RESERVED", "parse_safely"]

#: functions every expression may call (the namespace maps them to SymPy or to the checker)
BUILTIN_FUNCTIONS = ("grad", "Trace", "tr", "inv", "hadamard", "Identity", "ZeroMatrix")
MAX_LENGTH = 2000
#: an integer exponent beyond this is refused: exact powers of large rationals grow without bound
MAX_EXPONENT = 64
#: integer literals longer than this are refused (a derivation needs small constants only)
MAX_DIGITS = 12

_OPERATORS = {"+", "-", "*", "/", "**", "@", "(", ")", ",", "."}
_HINTS = {
    "^": "write powers with ** and transposes with .T",
    "=": "an expression has no '='; hypotheses are written 'lhs = rhs'",
    "[": "matrices are declared by name, not written as lists",
    "{": "matrices are declared by name, not written as sets or dicts",
}
#: names the parser itself uses (numbers become Integer(...), Rational(...)): not for symbols
RESERVED = ("Integer", "Float", "Rational")
_SAFE_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "Integer": sp.Integer,
    "Float": sp.Float,
    "Rational": sp.Rational,
}


def _refuse(where: str, text: str, problem: str, fix: str) -> InputError:
    problem = problem[0].upper() + problem[1:]
    return bad_input(where, "be SymPy arithmetic on declared names", text, f"{problem}; {fix}.")


def _check_tokens(text: str, where: str, names: Mapping[str, Any]) -> None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise _refuse(where, text, f"it does not tokenize ({exc})", "check the brackets") from None
    previous = None
    for tok in tokens:
        kind, s = tok.type, tok.string
        if kind in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT):
            continue
        if kind == tokenize.STRING or s.startswith(("'", '"')):
            raise _refuse(where, text, "strings are Python code", "remove the quotes")
        if kind == tokenize.NAME:
            if keyword.iskeyword(s) or s in ("print", "exec", "eval", "open", "getattr"):
                raise _refuse(
                    where, text, f"'{s}' is Python code", "use only arithmetic on declared names"
                )
            if s.startswith("_") or "__" in s:
                raise _refuse(
                    where, text, f"'{s}' is a private or dunder name", "use only declared names"
                )
            if previous == "." and s != "T":
                raise _refuse(
                    where, text, f"attribute '.{s}' is not allowed", "the only attribute is .T"
                )
            if previous != "." and s not in names:
                raise _refuse(
                    where,
                    text,
                    f"undeclared name '{s}'",
                    "declare it under [matrices], [scalars], [functions] or [definitions]",
                )
        elif kind == tokenize.NUMBER:
            if not s.replace(".", "").replace("_", "").isdigit():
                raise _refuse(where, text, f"number '{s}' is not a plain decimal", "write 1/4")
            if len(s) > MAX_DIGITS:
                raise _refuse(where, text, f"number '{s}' is too long", "use small constants")
        elif kind == tokenize.OP:
            if s not in _OPERATORS:
                hint = _HINTS.get(s, "use + - * / ** ( ) and .T")
                raise _refuse(where, text, f"operator '{s}' is not allowed", hint)
        else:
            raise _refuse(where, text, f"unexpected text '{s}'", "use only arithmetic")
        previous = s


def _small_exponent(node: ast.expr, scalars: set[str]) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _small_exponent(node.operand, scalars)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return abs(node.value) <= MAX_EXPONENT
    if isinstance(node, ast.Name):
        return node.id in scalars
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return all(
            isinstance(x, ast.Constant) and isinstance(x.value, int) and abs(x.value) <= 64
            for x in (node.left, node.right)
        )
    return False


def _check_tree(
    text: str, where: str, functions: set[str], values: set[str], scalars: set[str]
) -> None:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _refuse(where, text, f"syntax error ({exc.msg})", "check the operators") from None
    binops = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, *binops, ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow) and not _small_exponent(node.right, scalars):
                raise _refuse(
                    where,
                    text,
                    "an exponent must be an integer up to 64, a fraction or a scalar name",
                    "write W**2 or (W.T*W)**(1/2)",
                )
            continue
        if isinstance(node, ast.UnaryOp):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Attribute) and node.attr == "T":
            continue
        if isinstance(node, ast.Name):
            if node.id in values or node.id in functions:
                continue
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in functions and not node.keywords:
                if not any(isinstance(a, ast.Starred) for a in node.args):
                    continue
            name = f.id if isinstance(f, ast.Name) else ast.unparse(f)
            raise _refuse(
                where,
                text,
                f"'{name}' cannot be called",
                f"call only {', '.join(sorted(functions))}, with plain arguments",
            )
        raise _refuse(
            where, text, f"'{ast.unparse(node)}' is not arithmetic", "use only declared names"
        )
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in values and id(node) not in called:
            raise _refuse(where, text, f"function '{node.id}' is used without arguments", "call it")


def parse_safely(
    text: Any,
    where: str,
    namespace: Mapping[str, Any],
    functions: set[str],
    scalars: set[str],
) -> Any:
    """Parse ``text`` into a SymPy expression using only ``namespace`` (see module docstring).

    ``functions`` are the names that may be called; ``scalars`` the names allowed as exponents.
    Raises :class:`InputError` naming ``where`` for anything else, before any evaluation.
    """
    if not isinstance(text, str) or not text.strip():
        raise bad_input(where, "be a non-empty expression string", text, "Write e.g. 'W.T*W'.")
    if len(text) > MAX_LENGTH:
        raise _refuse(where, text[:40] + "...", "the expression is too long", "split the step")
    text = " ".join(text.split())  # one logical line: newlines inside an expression are spaces
    _check_tokens(text, where, namespace)
    values = {k for k in namespace if k not in functions}
    _check_tree(text, where, functions, values, scalars)
    try:
        return parse_expr(
            text,
            local_dict=dict(namespace),
            global_dict=dict(_SAFE_GLOBALS),
            transformations=(auto_number, rationalize),
        )
    except InputError:
        raise
    except Exception as exc:  # SymPy's own refusals: scalar + matrix, bad shapes, ...
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise _refuse(
            where, text, f"SymPy could not build it ({message})", "check the shapes and types"
        ) from None
