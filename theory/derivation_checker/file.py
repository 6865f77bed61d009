"""The derivation file: a hand-written TOML description of a derivation, read without running code.

TOML is read by the standard library (``tomllib``, Python >= 3.11; the ``tomli`` package, its
origin, on 3.10). Nothing in the file is executed: expressions are strings that
The parser (:mod:`.safe_expr`) admits only the declared names. The format::

    title = "FACT (F1) in four lines"        # optional
    tag = "F1"                               # optional equation tag

    [dimensions]                             # optional: what each size means
    d = "width of the layer"

    [matrices]                               # name = "rows x cols" (names or integers)
    W = "d x d"
    H = { shape = "d x n", about = "layer inputs, one per column" }

    [scalars]                                # name = assumption(s): positive, nonnegative,
    lam = "positive"                         # negative, nonzero, integer; "" = real

    [functions]                              # undefined functions, elementwise on matrices
    sigma = "activation"

    [definitions]                            # name = expression (may use earlier definitions)
    L = "Trace(Delta.T*W*H)/n + lam/2*Trace(W.T*W)"

    [hypotheses]                             # label = "lhs = rhs"; used only where cited
    stat = "grad(L, W) = 0"

    [[steps]]                                # the start
    expr = "W.T*W"

    [[steps]]                                # each later step equals the previous one
    expr = "W.T*W - (1/lam)*W.T*grad(L, W)"
    why = "stationarity"
    uses = ["stat"]

Expressions: ``+ - * / **``, ``X.T`` (transpose), ``Trace(X)`` (or ``tr``), ``inv(X)``,
``hadamard(X, Y)``, ``Identity(d)``, ``ZeroMatrix(r, c)``, ``grad(f, W)`` (gradient of a scalar f
with respect to a declared matrix W), declared functions; ``0`` next to a matrix is the zero
matrix. Every error names the step (or definition, hypothesis) and its line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from theory._errors import InputError, bad_input
from theory.derivation_checker.check import DerivationCheck, check_spec
from theory.derivation_checker.spec import DerivationSpec, StepSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["check_derivation_file", "read_derivation_file"]

MAX_BYTES = 1_000_000
_TOP = {
    "title", "tag", "dimensions", "matrices", "scalars", "functions", "definitions",
    "hypotheses", "steps",
}  # fmt: skip
_ENTRY_KEYS = {
    "matrices": ("shape", "about"),
    "scalars": ("assumptions", "about"),
    "definitions": ("expr", "about"),
    "hypotheses": ("statement", "about"),
}


def _line_of(lines: list[str], pattern: str, start: int = 0) -> int | None:
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i + 1
    return None


def _section_lines(lines: list[str], section: str, names: list[str]) -> dict[str, int]:
    head = _line_of(lines, rf"^\s*\[\s*{section}\s*\]") or 0
    out = {}
    for name in names:
        line = _line_of(lines, rf"^\s*\"?{re.escape(name)}\"?\s*[=.]", head)
        if line:
            out[name] = line
    return out


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise bad_input(f"{where} [{key}]", "be a table", value, f"Write [{key}] on its own line.")
    return value


def _entry(section: str, name: str, value: Any, where: str) -> tuple[Any, str]:
    """``(main value, about)`` from ``name = value`` or ``name = { key = value, about = ... }``."""
    if not isinstance(value, dict):
        return value, ""
    main, about_key = _ENTRY_KEYS[section]
    extra = set(value) - {main, about_key}
    if extra or main not in value:
        raise bad_input(
            f"{where} [{section}] {name}", f"have the key {main} (and optionally about)",
            sorted(value), f"Write {name} = {{ {main} = ..., about = \"...\" }}.",
        )  # fmt: skip
    return value[main], str(value.get(about_key, ""))


def _steps(raw: Any, lines: list[str], where: str) -> tuple[StepSpec, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise bad_input(
            f"{where} steps", "be a list of [[steps]] tables", type(raw).__name__,
            "Write each step as a [[steps]] table with expr = \"...\".",
        )  # fmt: skip
    headers = [i for i, s in enumerate(lines) if re.match(r"^\s*\[\[\s*steps\s*\]\]", s)]
    out = []
    for k, st in enumerate(raw):
        start = headers[k] if k < len(headers) else 0
        line = _line_of(lines, r"^\s*expr\s*=", start) if k < len(headers) else None
        label = f"{where} step {k}" + (f" (line {line})" if line else "")
        extra = set(st) - {"expr", "why", "uses"}
        if extra or "expr" not in st:
            raise bad_input(
                label, "have the keys expr and optionally why, uses", sorted(st),
                "Write expr = \"...\", why = \"...\", uses = [\"label\"].",
            )  # fmt: skip
        uses = st.get("uses", [])
        uses = [uses] if isinstance(uses, str) else uses
        if not isinstance(uses, list) or not all(isinstance(u, str) for u in uses):
            raise bad_input(label, "list hypothesis labels in uses", uses, 'Write uses = ["stat"].')
        if not isinstance(st.get("why", ""), str):
            raise bad_input(label, "give why as a string", st["why"], "Quote the justification.")
        out.append(StepSpec(st["expr"], st.get("why", ""), tuple(uses), line))
    return tuple(out)


def read_derivation_file(path: str | Path) -> DerivationSpec:
    """Read and validate a derivation file (format in the module docstring); nothing is run."""
    p = Path(path)
    where = p.name
    if not p.is_file():
        raise bad_input(
            "FILE", "be an existing derivation file (.toml)", str(path), "Check the path."
        )
    if p.stat().st_size > MAX_BYTES:
        raise bad_input(where, f"be at most {MAX_BYTES} bytes", p.stat().st_size, "Split it.")
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise bad_input(where, "be UTF-8 text", "binary data", "Save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise bad_input(where, "be valid TOML", str(exc), "Fix the syntax there.") from None
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise bad_input(
            where, f"use only the keys {', '.join(sorted(_TOP))}", unknown[0],
            "Remove or rename it (steps are written [[steps]]).",
        )  # fmt: skip
    lines = text.splitlines()
    about: dict[str, str] = {}
    sections: dict[str, dict[str, Any]] = {}
    for section in ("matrices", "scalars", "definitions", "hypotheses"):
        sections[section] = {}
        for name, value in _table(data, section, where).items():
            sections[section][name], about[name] = _entry(section, name, value, where)
    scalars = {}
    for name, a in sections["scalars"].items():
        if isinstance(a, str):
            a = [a] if a else []
        if not isinstance(a, list) or not all(isinstance(x, str) for x in a):
            raise bad_input(f"{where} scalar {name}", "list assumptions", a, 'Write ["positive"].')
        scalars[name] = tuple(a)
    for section in ("definitions", "hypotheses"):
        for name, value in sections[section].items():
            if not isinstance(value, str):
                raise bad_input(
                    f"{where} {section[:-1]} {name}", "be a string", value, "Quote the expression."
                )
    line_map = {}
    for section, kind in (("definitions", "definition"), ("hypotheses", "hypothesis")):
        for name, line in _section_lines(lines, section, list(sections[section])).items():
            line_map[f"{kind} {name}"] = line
    functions = {k: str(v) for k, v in _table(data, "functions", where).items()}
    dims = {k: str(v) for k, v in _table(data, "dimensions", where).items()}
    return DerivationSpec(
        steps=_steps(data.get("steps"), lines, where),
        matrices=sections["matrices"], scalars=scalars, functions=functions,
        definitions=sections["definitions"], hypotheses=sections["hypotheses"],
        dimensions=dims, title=str(data.get("title", p.stem)), tag=str(data.get("tag", "")),
        lines=line_map, about={k: v for k, v in about.items() if v},
    )  # fmt: skip


def check_derivation_file(path: str | Path) -> DerivationCheck:
    """Read a derivation file and check every step (theory.derivation_checker.check)."""
    spec = read_derivation_file(path)
    try:
        return check_spec(spec)
    except InputError as exc:
        raise InputError(f"{Path(path).name}: {exc}") from None
