"""A sweep's results as a table (text) and as JSON, read from its store.

:func:`spec_rows` picks the stored rows of a spec's points in the spec's order (grid-major, seeds
innermost), at this toolkit version when the store has it, else the newest stored version.
:func:`table` prints them: the varying axes, the seed (with several seeds), the verdict and the
recorded quantities; a last line counts the verdicts. :func:`export` is everything in the store
as JSON (``factcheck sweep --show STORE --json``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from verify.base.version import __version__
from verify.sweep.spec import SweepSpec
from verify.sweep.store import FORMAT, Row, SweepStore

__all__ = ["export", "spec_rows", "table", "verdict_counts"]


def spec_rows(spec: SweepSpec, store: SweepStore) -> list[Row]:
    """The stored rows of the spec's points, in spec order; points not stored are left out."""
    by_key: dict[str, Row] = {}
    for row in store.rows(spec.task):
        old = by_key.get(row.key)
        if old is None or _rank(row) > _rank(old):
            by_key[row.key] = row
    return [by_key[p.key] for p in spec.points(validate=False) if p.key in by_key]


def _rank(row: Row) -> tuple[bool, bool, tuple[int, ...]]:
    nums = tuple(int(x) if x.isdigit() else 0 for x in row.version.split("."))
    return row.version == __version__, row.status == "done", nums


def verdict_counts(rows: list[Row]) -> dict[str, int]:
    return dict(
        Counter("error" if r.status == "error" else (r.verdict or "measured") for r in rows)
    )


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool) or isinstance(v, (int, str)):
        return str(v)
    return f"{v:.4g}"


def table(spec: SweepSpec, rows: list[Row], total: int | None = None) -> str:
    """The rows as an aligned text table, with a summary line."""
    axes = spec.axes() + (["seed"] if len(spec.seeds) > 1 else [])
    head = [*axes, "verdict", *spec.record]
    body = []
    versions = {r.version for r in rows}
    for r in rows:
        verdict = "error" if r.status == "error" else (r.verdict or "-")
        vals = r.values
        body.append(
            [
                *(_cell(r.params[a]) for a in axes),
                verdict,
                *(_cell(vals.get(q)) for q in spec.record),
            ]
        )
        if len(versions) > 1:
            body[-1][len(axes)] += f" (v{r.version})"
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [head, *body]
    ]
    counts = ", ".join(f"{n} {k}" for k, n in sorted(verdict_counts(rows).items()))
    total = spec.size() if total is None else total
    lines.append(
        f"{len(rows)} of {total} points stored ({counts or 'none'}); task "
        f"{spec.task}, fixed {dict(spec.fixed) or 'nothing'}"
    )
    errors = [r for r in rows if r.status == "error"]
    for r in errors[:5]:
        lines.append(f"error at {r.params}: {r.error}")
    return "\n".join(lines)


def export(store: SweepStore) -> dict[str, Any]:
    """Everything in the store: the last spec and every point (all tasks and versions)."""
    return {
        "format": FORMAT,
        "store": str(store.path),
        "spec": store.meta("spec"),
        "points": [r.to_dict() for r in store.rows()],
    }
