"""A sweep in ``factcheck report``: report entries read from a store (``--sweep STORE``).

One entry per recorded quantity that has a figure (the first also holds the table and, in
results.json, every point), section "Sweeps". The verdict of a sweep that checks a claim is the
worst verdict over its stored points (REFUTED < INCONCLUSIVE < NUMERICALLY_CONSISTENT), with the
count of each in the reason; ``theorem`` follows the task (a REFUTED point of a FACT sweep makes
the report fail, as any refuted theorem does). A sweep of measurements (RFM) checks no claim at
its points: its entries say so and are marked empirical.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from theory._verdict import Verdict
from verify.base.records import ReportEntry
from verify.sweep.figures import figures
from verify.sweep.spec import SweepSpec
from verify.sweep.store import SweepStore
from verify.sweep.table import spec_rows, table, verdict_counts

__all__ = ["SECTION", "report_entries", "stores_entries"]

SECTION = "Sweeps"

_ORDER = [Verdict.REFUTED, Verdict.INCONCLUSIVE, Verdict.NUMERICALLY_CONSISTENT,
          Verdict.EXACT_AT_SIZES, Verdict.CERTIFIED, Verdict.PROVED]  # fmt: skip


def stores_entries(paths: Sequence[str | os.PathLike[str]]) -> list[ReportEntry]:
    """The entries of every store in ``paths``, in order (``factcheck report --sweep``)."""
    return [e for path in paths for e in report_entries(path)]


def report_entries(path: str | os.PathLike[str]) -> list[ReportEntry]:
    """The entries for the sweep stored at ``path`` (its last spec's points)."""
    with SweepStore(path, create=False) as store:
        data = store.meta("spec")
        if data is None:
            return []
        spec = SweepSpec.from_mapping(data, source=str(path))
        rows = spec_rows(spec, store)
    task = spec.task_info
    verdicts = {Verdict(r.verdict) for r in rows if r.status == "done" and r.verdict}
    counts = ", ".join(f"{n} {k}" for k, n in sorted(verdict_counts(rows).items()))
    stored = f"{len(rows)} of {spec.size()} points stored ({counts or 'none'})"
    if verdicts:
        verdict = min(verdicts, key=_ORDER.index)
        reason = f"worst verdict over the points; {stored}"
        theorem = task.theorem
    else:
        verdict = Verdict.NUMERICALLY_CONSISTENT
        reason = f"a map of measurements (no claim is checked at its points); {stored}"
        theorem = False
    axes = " x ".join(spec.axes()) or "seeds"
    figs: dict[str, str | None] = {**figures(spec, rows)} or {spec.record[0]: None}
    entries = []
    for k, (q, svg) in enumerate(figs.items()):
        entries.append(
            ReportEntry(
                section=SECTION,
                claim=f"sweep {spec.name}: {q} over {axes} (task {spec.task})",
                tag=task.tag,
                verdict=verdict.value,
                evidence=verdict.evidence,
                reason=reason,
                precision="as recorded per point (see the table)",
                details=table(spec, rows) if k == 0 else "",
                data={"spec": spec.to_dict(), "quantity": q}
                | ({"points": [r.to_dict() for r in rows]} if k == 0 else {}),
                figure_svg=svg,
                theorem=theorem,
            )
        )
    return entries
