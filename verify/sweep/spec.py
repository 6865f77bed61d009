"""What a sweep runs: a task, a grid of parameter values, seeds, what to record and plot.

A spec is TOML (read with the standard library's ``tomllib``; nothing in it is run)::

    name = "nfa-violation"              # names the default store and output folder
    task = "verify-nfa"                 # factcheck sweep --list shows every task
    seeds = [0]                         # one point per grid point and seed
    record = ["nfa_violation", "pearson", "fact_rel_error"]   # table columns and figures

    [grid]                              # the axes: every combination is a point
    activation = ["tanh", "relu", "quadratic"]
    lam = [1e-3, 1e-2, 1e-1]
    width = [4, 8, 16]

    [fixed]                             # other parameters (the rest keep the task's defaults)
    n = 32

    [plot]                              # optional: kind "heatmap" or "line", x the column axis
    x = "width"

or the same on the command line (``--task``, ``--grid name=v1,v2``, ``--set name=v``,
``--seeds``, ``--record``), which also overrides a spec file or a built-in example.

A *point* is the task's full parameter dictionary: defaults, then ``fixed``, then the grid
values and the seed. Values are coerced to the parameter's kind (an int given for a float
parameter is stored as a float), so its canonical JSON (sorted keys) identifies the point: the
store keys a result by (task, that JSON, toolkit version).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from theory._errors import InputError, bad_input
from verify.base.validate import check_seed
from verify.sweep.tasks import Task, get_task, validate_point

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["MAX_POINTS", "Plot", "Point", "SweepSpec", "parse_values", "point_key", "read_spec"]

_KEYS = ("name", "task", "seeds", "record", "grid", "fixed", "plot")
#: the most points one spec may have: its points are listed in memory (about 1 KiB and 0.2 ms
#: each to build and check), so a mistyped grid of 10^9 points is refused instead of hanging
MAX_POINTS = 1_000_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def point_key(params: Mapping[str, Any]) -> str:
    """The canonical JSON of a point's parameters (sorted keys, no spaces)."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Point:
    params: dict[str, Any]
    key: str


@dataclass(frozen=True)
class Plot:
    """How figures are drawn: ``kind`` heatmap, line or auto (heatmap for two or more axes);
    ``x`` the axis along x (default: the last varying axis; the others form the rows of a
    heatmap or the series of a line plot)."""

    kind: str = "auto"
    x: str | None = None


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep (module docstring). Build it with :meth:`from_mapping`."""

    name: str
    task: str
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()
    seeds: tuple[int, ...] = (0,)
    record: tuple[str, ...] = ()
    plot: Plot = field(default_factory=Plot)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "spec") -> SweepSpec:
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise bad_input(
                f"{source}: key {unknown[0]!r}",
                f"be one of {', '.join(_KEYS)}",
                unknown[0],
                "Remove it or fix its spelling.",
            )
        if "task" not in data:
            raise bad_input(f"{source}: task", "be given", None, 'Add e.g. task = "verify-nfa".')
        task = get_task(str(data["task"]))
        name = data.get("name", task.name)
        grid = _table(data.get("grid", {}), f"{source}: [grid]")
        fixed = _table(data.get("fixed", {}), f"{source}: [fixed]")
        plot = _table(data.get("plot", {}), f"{source}: [plot]")
        spec = cls(
            name=_check_name(name, source),
            task=task.name,
            grid=tuple((k, tuple(_listed(v, k, source))) for k, v in grid.items()),
            fixed=tuple(fixed.items()),
            seeds=_seeds(data.get("seeds", [0]), source),
            record=tuple(_listed(data.get("record", list(task.quantities)), "record", source)),
            plot=_plot(plot, source),
        )
        return spec.validated()

    def validated(self) -> SweepSpec:
        """Coerce every value to its parameter's kind; check names, duplicates and the plot."""
        task = get_task(self.task)
        grid: list[tuple[str, tuple[Any, ...]]] = []
        for name, values in self.grid:
            param = _sweepable(task, name, "grid")
            coerced = tuple(param.coerce(v) for v in values)
            if not coerced:
                raise bad_input(f"grid axis {name!r}", "have at least one value", [], "Add one.")
            if len(set(coerced)) != len(coerced):
                raise bad_input(
                    f"grid axis {name!r}",
                    "list each value once",
                    list(values),
                    "Remove the repeated value.",
                )
            grid.append((name, coerced))
        fixed = []
        for name, value in self.fixed:
            if name in dict(grid):
                raise bad_input(
                    f"parameter {name!r}",
                    "be either a grid axis or fixed, not both",
                    value,
                    "Drop it from [fixed] (or --set).",
                )
            fixed.append((name, _sweepable(task, name, "fixed").coerce(value)))
        for q in self.record:
            if q not in task.quantities:
                raise bad_input(
                    "record",
                    f"name quantities of the {task.name} task ({', '.join(task.quantities)})",
                    q,
                    "Fix the name.",
                )
        size = len(self.seeds) * math.prod(len(v) for _, v in grid)
        if size > MAX_POINTS:
            raise bad_input(
                "grid",
                f"have at most {MAX_POINTS:,} points (axes x seeds)",
                f"{size:,} points",
                "Split the sweep into several, or use fewer values per axis.",
            )
        if self.plot.x is not None and self.plot.x not in dict(grid):
            raise bad_input(
                "plot x", "name a grid axis", self.plot.x, f"Pick one of {[n for n, _ in grid]}."
            )
        return replace(
            self, grid=tuple(grid), fixed=tuple(fixed), record=self.record or task.quantities
        )

    def with_overrides(
        self,
        *,
        grid: Sequence[tuple[str, tuple[Any, ...]]] = (),
        fixed: Sequence[tuple[str, Any]] = (),
        seeds: tuple[int, ...] | None = None,
        record: tuple[str, ...] | None = None,
        name: str | None = None,
    ) -> SweepSpec:
        """The command line's ``--grid``/``--set``/``--seeds``/``--record`` over this spec: an
        axis given again replaces the old one, a new one is appended."""
        axes = dict(self.grid)
        fixed_now = {k: v for k, v in self.fixed if k not in dict(grid)}
        for k, v in grid:
            axes[k] = v
        for k, v in fixed:
            axes.pop(k, None)
            fixed_now[k] = v
        return replace(
            self,
            grid=tuple(axes.items()),
            fixed=tuple(fixed_now.items()),
            seeds=self.seeds if seeds is None else seeds,
            record=self.record if record is None else record,
            name=self.name if name is None else _check_name(name, "--name"),
        ).validated()

    # -- use -------------------------------------------------------------------------------
    @property
    def task_info(self) -> Task:
        return get_task(self.task)

    def axes(self) -> list[str]:
        """The grid axes with more than one value, in spec order (seeds excluded)."""
        return [name for name, values in self.grid if len(values) > 1]

    def size(self) -> int:
        count = len(self.seeds)
        for _, values in self.grid:
            count *= len(values)
        return count

    def points(self, validate: bool = True) -> list[Point]:
        """Every point, grid-major in spec order, seeds innermost. ``validate`` applies the
        task's cross-parameter rules to each (InputError names the first bad point)."""
        task = self.task_info
        base = {**task.defaults(), **dict(self.fixed)}
        names = [n for n, _ in self.grid]
        out = []
        for combo in itertools.product(*(v for _, v in self.grid)):
            for seed in self.seeds:
                params = {**base, **dict(zip(names, combo, strict=True)), "seed": seed}
                if validate:
                    validate_point(task, params)
                out.append(Point(params, point_key(params)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "seeds": list(self.seeds),
            "record": list(self.record),
            "grid": {k: list(v) for k, v in self.grid},
            "fixed": dict(self.fixed),
            "plot": {"kind": self.plot.kind, "x": self.plot.x},
        }

    def to_toml(self) -> str:
        """The spec as a TOML file that :func:`read_spec` reads back to the same spec."""
        lines = [
            f"name = {_toml(self.name)}",
            f"task = {_toml(self.task)}",
            f"seeds = {_toml(list(self.seeds))}",
            f"record = {_toml(list(self.record))}",
            "",
            "[grid]",
        ]
        lines += [f"{k} = {_toml(list(v))}" for k, v in self.grid]
        if self.fixed:
            lines += ["", "[fixed]", *(f"{k} = {_toml(v)}" for k, v in self.fixed)]
        plot = {"kind": self.plot.kind, **({"x": self.plot.x} if self.plot.x else {})}
        lines += ["", "[plot]", *(f"{k} = {_toml(v)}" for k, v in plot.items())]
        return "\n".join(lines) + "\n"


def read_spec(path: str | Path) -> SweepSpec:
    """Read a TOML spec file (a clear InputError for a missing or malformed file)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad_input(
            "SPEC", "be a TOML file or a built-in example", str(path), "See factcheck sweep --list."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise bad_input("SPEC", "be a readable UTF-8 TOML file", str(path), str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise bad_input("SPEC", "be valid TOML", str(path), f"Fix: {exc}.") from None
    return SweepSpec.from_mapping(data, source=p.name)


def parse_values(text: str, option: str) -> tuple[str, list[str]]:
    """``name=v1,v2,...`` from the command line (values stay strings until validated)."""
    name, sep, rest = text.partition("=")
    values = [v.strip() for v in rest.split(",")]
    if not sep or not name.strip() or not all(values):
        raise bad_input(option, "look like name=v1,v2,...", text, "Pass e.g. lam=1e-3,1e-2.")
    return name.strip(), values


# -- helpers ---------------------------------------------------------------------------------
def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise bad_input(where, "be a table", value, "Write it as a [section] of name = value.")
    return dict(value)


def _listed(value: Any, name: str, source: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise bad_input(f"{source}: {name}", "be a list", value, f"Write {name} = [ ... ].")


def _check_name(name: Any, source: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise bad_input(
            f"{source}: name",
            "be 1-64 letters, digits, '.', '_' or '-' (it names files)",
            name,
            'Pass e.g. name = "my-sweep".',
        )
    return name


def _seeds(value: Any, source: str) -> tuple[int, ...]:
    """Distinct seeds, each one the validation layer accepts (verify.base.validate.check_seed)."""
    try:
        seeds = [check_seed(s) for s in value] if isinstance(value, (list, tuple)) else []
    except InputError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds):
        raise bad_input(
            f"{source}: seeds",
            "be a non-empty list of distinct integers from 0 to 2**63 - 1",
            value,
            "Write e.g. seeds = [0, 1, 2].",
        )
    return tuple(seeds)


def _plot(data: Mapping[str, Any], source: str) -> Plot:
    extra = sorted(set(data) - {"kind", "x"})
    if extra:
        raise bad_input(
            f"{source}: [plot] key {extra[0]!r}", "be kind or x", extra[0], "Remove it."
        )
    kind = data.get("kind", "auto")
    if kind not in ("auto", "heatmap", "line"):
        raise bad_input(f"{source}: plot kind", "be auto, heatmap or line", kind, "Pick one.")
    x = data.get("x")
    if x is not None and not isinstance(x, str):
        raise bad_input(f"{source}: plot x", "name a grid axis", x, 'Write x = "width".')
    return Plot(kind, x)


def _sweepable(task: Task, name: str, where: str) -> Any:
    if name == "seed":
        raise bad_input(
            f"{where} parameter 'seed'",
            "be set with seeds",
            name,
            "Write seeds = [0, 1, 2] (or --seeds 0,1,2).",
        )
    return task.param(name)


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(_toml(x) for x in v) + "]"
