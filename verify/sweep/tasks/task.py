"""A sweep task's parameters and the task record (see :mod:`verify.sweep.tasks`).

Light on purpose (standard library and theory._errors only): the command line lists and
validates tasks without loading NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from theory._errors import bad_input

__all__ = ["Param", "Task"]

_KINDS = ("int", "float", "str", "bool", "alpha")


@dataclass(frozen=True)
class Param:
    """One parameter of a task: its kind, default and rule.

    Kinds: int, float, str (with ``choices``), bool, and alpha (a number > 0, or "best": the best
    exponent over the NFA check's grid). ``minimum`` is inclusive unless ``above`` is set.
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    above: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Param {self.name!r}: kind {self.kind!r} is not one of {_KINDS}")
        self.coerce(self.default)  # a default that breaks its own rule is a programming error

    def coerce(self, value: Any) -> Any:
        """The canonical value (the type that goes into the point's key), or a clear error."""
        v = self._typed(value)
        if self.choices and v not in self.choices:
            raise self._bad(f"be one of {', '.join(self.choices)}", value)
        if self.minimum is not None and isinstance(v, (int, float)) and not isinstance(v, bool):
            if v < self.minimum or (self.above and v == self.minimum):
                rule = f"be {'>' if self.above else '>='} {self.minimum:g}"
                raise self._bad(rule, value)
        return v

    def _typed(self, value: Any) -> Any:
        text = value.strip() if isinstance(value, str) else None
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if text is not None and text.lower() in ("true", "1", "yes", "false", "0", "no"):
                return text.lower() in ("true", "1", "yes")
            raise self._bad("be true or false", value)
        if self.kind == "str":
            if isinstance(value, str) and value:
                return value
            raise self._bad("be a non-empty string", value)
        if self.kind == "alpha" and text == "best":
            return "best"
        if self.kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if text is not None and text.lstrip("+-").isdigit():
                return int(text)
            raise self._bad("be an integer", value)
        # float and alpha: ints are accepted and stored as floats, so 1 and 1.0 are one point
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif text is not None:
            try:
                number = float(text)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            extra = ' or "best"' if self.kind == "alpha" else ""
            raise self._bad(f"be a finite number{extra}", value)
        if self.kind == "alpha" and not number > 0:
            raise self._bad('be > 0 or "best"', value)
        return number

    def _bad(self, rule: str, value: Any) -> Exception:
        return bad_input(f"parameter {self.name!r}", rule, value, f"{self.help}.")


@dataclass(frozen=True)
class Task:
    """A sweepable task: see the module docstring.

    ``theorem``: the verdict is about a theorem (a REFUTED point would be a bug, as in the report);
    ``validate``: optional ``"module:function"`` called with a point's parameters before anything
    is submitted (for rules that involve several parameters).
    """

    name: str
    tag: str
    summary: str
    adapter: str
    params: tuple[Param, ...]
    quantities: tuple[str, ...]
    theorem: bool = False
    validate: str | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.params)
        raise bad_input(
            "parameter",
            f"be one of the {self.name} task's: {names}",
            name,
            "Check the spelling (factcheck sweep --list shows every task).",
        )

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}
