"""``factcheck report``: one command that re-derives and re-verifies everything the toolkit knows.

Producers are functions ``f(quick: bool, seed: int) -> list[ReportEntry]`` living next to the code
they exercise; this module runs them (optionally in worker processes), then writes into DIR:

- ``report.html``: one self-contained document (summary, contents, chapters in lecture order,
  maths typeset as MathML, figures inline as SVG; :mod:`verify.report.html`);
- ``report.md``: the same content for reading on GitHub, figures as files in ``figures/``
  (:mod:`verify.report.markdown`);
- ``results.json``: one entry per claim with its stable ``id``, ``role``, ``expected`` outcome,
  whether it was met (``as_expected``), verdict and evidence (:mod:`verify.report.labels`). It
  holds no timings, so the same seed gives byte-identical results.json (timings are in the HTML
  and Markdown only).

Exit status 1 if any claim the toolkit states as a theorem is REFUTED, else 0.

Bad --only or --out fails before any work (:mod:`verify.base.validate`). The directory is built
beside DIR once every producer has finished, then swapped in whole
(:func:`verify.base.files.atomic_directory`): an interruption leaves the previous report or none.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from theory._errors import bad_input
from theory._verdict import to_jsonable
from verify.base.files import atomic_directory
from verify.base.interrupt import quiet_worker
from verify.base.records import ReportEntry
from verify.base.validate import check_output_dir, check_seed, parse_list
from verify.report.html import render_html
from verify.report.labels import as_expected, entry_ids, expected_of, role_of
from verify.report.markdown import render_markdown
from verify.report.summary import cli_table, headline

__all__ = ["PRODUCERS", "REPORT_FILES", "collect", "parse_only", "run_report"]

#: what a report directory holds: an existing --out with nothing else is a previous report
REPORT_FILES = ("report.html", "report.md", "results.json", "figures", "certificates")

#: (module, function, section, tags) of every producer; a module not present is skipped.
#: ``tags`` are exactly its entries' tags (a slow test checks it). ``--only`` runs the producers
#: whose tags or section it names and keeps their entries with a named tag (all, for a section).
PRODUCERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("verify.report.fact", "report_entries", "FACT (symbolic)", ("F1", "F2", "F4", "F5")),
    ("verify.claims.f2", "report_entries", "FACT (numeric F2)", ("F2",)),
    (
        "verify.claims.checks",
        "report_entries",
        "FACT and NFA at certified stationary points",
        ("F1", "F2", "N2"),
    ),
    (
        "verify.deep_linear.flow",
        "report_entries",
        "Deep linear networks",
        ("D1", "D2", "D3", "D4", "D5", "D6", "D7"),
    ),
    (
        "verify.counterexamples",
        "report_entries",
        "Counterexamples",
        ("N2", "F1", "D4"),
    ),
    (
        "verify.rfm.experiments",
        "report_entries",
        "Recursive Feature Machines",
        ("K1", "K2", "K3", "RFM"),
    ),
    ("verify.emergence.report", "report_entries", "Feature emergence", ("S1", "S4", "S6")),
)


def _available(wanted: set[str] | None) -> list[tuple[str, str, str]]:
    out = []
    for mod, fn, section, tags in PRODUCERS:
        if wanted and not (wanted & set(tags) or section.upper() in wanted):
            continue
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:
                continue
            raise
        if hasattr(m, fn):
            out.append((mod, fn, section))
    return out


def parse_only(only: str | None, sweeps: bool = False) -> set[str] | None:
    """``--only`` as upper-case names (None: everything); strict; "Sweeps" too with ``sweeps``."""
    if only is None:
        return None
    tags = sorted({t for *_, tags in PRODUCERS for t in tags})
    sections = [section for _, _, section, _ in PRODUCERS] + ["Sweeps"] * sweeps
    listing = f"tags {', '.join(tags)} or a section name ({'; '.join(sections)})"
    return {name.upper() for name in parse_list(only, "--only", [*tags, *sections], listing)}


def _run_producer(mod: str, fn: str, quick: bool, seed: int) -> list[ReportEntry]:
    t0 = time.perf_counter()
    entries: list[ReportEntry] = getattr(importlib.import_module(mod), fn)(quick=quick, seed=seed)
    if entries and all(e.seconds == 0.0 for e in entries):
        for e in entries:
            e.seconds = (time.perf_counter() - t0) / len(entries)
    return entries


def _wanted(entry: ReportEntry, only: set[str] | None, section: str) -> bool:
    """Keep an entry of the producer of ``section`` (named sections keep all their entries)."""
    if not only:
        return True
    return entry.tag.upper() in only or section.upper() in only


def collect(
    quick: bool = False,
    seed: int = 0,
    jobs: int = 1,
    only: str | None = None,
    sweeps: Sequence[str] = (),
) -> list[ReportEntry]:
    """Every producer's entries (progress on stderr), then those of the ``sweeps`` stores."""
    wanted = parse_only(only, sweeps=bool(sweeps))
    # sweep stores are read before any producer runs, so that a bad store fails at once
    sweeps_module = importlib.import_module("verify.sweep.report") if sweeps else None
    sweep_entries = sweeps_module.stores_entries(sweeps) if sweeps_module else []
    producers = _available(wanted)
    results: list[list[ReportEntry]] = [[] for _ in producers]
    total = len(producers)
    if jobs > 1:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=quiet_worker)
        try:
            futures = [pool.submit(_run_producer, m, f, quick, seed) for m, f, _ in producers]
            for k, fut in enumerate(futures):
                results[k] = fut.result()
                _progress(k + 1, total, producers[k][2], results[k])
        except BaseException:  # interrupted: stop the workers now, not after their task
            # (the executor has no public way to stop busy workers before Python 3.14)
            workers = list(getattr(pool, "_processes", {}).values())
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.join(5.0)
            # wait for the executor's threads, which see the workers gone and end at once: left
            # running (wait=False) they raced the interpreter's exit, which closed their pipes
            # under them ("OSError: Bad file descriptor" printed after the one-line message)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    else:
        for k, (m, f, section) in enumerate(producers):
            _progress(k, total, section, None)
            results[k] = _run_producer(m, f, quick, seed)
            _progress(k + 1, total, section, results[k])
    entries = [
        e
        for (_, _, section), group in zip(producers, results, strict=True)
        for e in group
        if _wanted(e, wanted, section)
    ]
    entries += [e for e in sweep_entries if _wanted(e, wanted, "Sweeps")]
    if wanted and not entries:
        raise bad_input(
            "--only",
            "name at least one tag or section that the report contains",
            only,
            "Use tags such as F1,F2,D5 (see results.json of a full run).",
        )
    return entries


def _progress(done: int, total: int, section: str, entries: list[ReportEntry] | None) -> None:
    if entries is None:
        print(f"[{done + 1}/{total}] {section} ...", file=sys.stderr, flush=True)
    else:
        verdicts = ", ".join(sorted({e.verdict for e in entries}))
        print(
            f"[{done}/{total}] {section}: {len(entries)} claims ({verdicts})",
            file=sys.stderr,
            flush=True,
        )


def run_report(
    out: str = "factcheck-report",
    quick: bool = False,
    only: str | None = None,
    jobs: int = 1,
    seed: int = 0,
    sweeps: Sequence[str] = (),
) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise bad_input("--jobs", "be an integer >= 1", jobs, "Pass --jobs 1 or --jobs 2.")
    check_seed(seed)
    outdir = check_output_dir("--out", out, REPORT_FILES)
    parse_only(only, sweeps=bool(sweeps))
    t0 = time.perf_counter()
    entries = collect(quick=quick, seed=seed, jobs=jobs, only=only, sweeps=sweeps)
    elapsed = time.perf_counter() - t0
    ids = entry_ids(entries)
    with atomic_directory(outdir) as stage:  # the whole report appears at once, or not at all

        def put(name: str, data: str | bytes) -> None:
            (stage / name).parent.mkdir(exist_ok=True)
            (stage / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

        for e in entries:
            for name, blob in sorted(e.attachments.items()):
                safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)
                put(f"certificates/{safe}", blob)
                e.files.append(f"certificates/{safe}")
        figures = {}
        for k, e in enumerate(entries):
            if e.figure_svg:
                figures[k] = f"figures/{k:02d}-{e.tag.lower().replace('/', '-')}.svg"
                put(figures[k], e.figure_svg)
        claims = [_entry_json(e) | _labels(e, i) for e, i in zip(entries, ids, strict=True)]
        results = {"toolkit": "factcheck", "seed": seed, "quick": quick, "claims": claims}
        put("results.json", json.dumps(results, indent=2, sort_keys=True))
        put("report.md", render_markdown(entries, ids, figures, elapsed, quick, seed))
        put("report.html", render_html(entries, ids, elapsed, quick, seed))
    print(cli_table(entries))
    print("\n" + "\n".join(headline(entries)))
    shown = Path(out)
    print(
        f"\nwrote {shown / 'report.html'}, {shown / 'report.md'}, {shown / 'results.json'} "
        f"in {elapsed:.1f} s"
    )
    refuted = [e for e in entries if e.theorem and e.verdict == "REFUTED"]
    if refuted:
        print(
            f"{len(refuted)} theorem(s) REFUTED: " + "; ".join(e.claim for e in refuted),
            file=sys.stderr,
        )
        return 1
    return 0


_TIMING_KEYS = frozenset({"seconds"})  # the one name every producer uses for a duration


#: a wall-clock duration inside prose, e.g. "4 Newton steps, 0.07 s; Hessian ..."
_DURATION = re.compile(r"(?<![\w.+-])\d+(?:\.\d+)? s(?=[;,)\n]|$)")


def _strip_timings(obj: Any) -> Any:
    """Drop wall-clock timings at any depth: they differ run to run, verdicts must not.

    Timing keys are removed; durations written inside text become "<t> s".
    """
    if isinstance(obj, dict):
        return {k: _strip_timings(v) for k, v in obj.items() if k not in _TIMING_KEYS}
    if isinstance(obj, list):
        return [_strip_timings(v) for v in obj]
    if isinstance(obj, str):
        return _DURATION.sub("<t> s", obj)
    return obj


def _entry_json(e: ReportEntry) -> dict[str, Any]:
    d = asdict(e)
    d.pop("figure_svg")
    d.pop("attachments")
    d.pop("typeset")  # MathML for the page; the same derivation is in details and latex
    d["has_figure"] = e.figure_svg is not None
    return _strip_timings(to_jsonable(d))


def _labels(e: ReportEntry, eid: str) -> dict[str, Any]:
    """The entry's id, role and expected outcome (the vocabulary of verify.report.labels)."""
    return {
        "id": eid,
        "role": role_of(e),
        "expected": expected_of(e),
        "as_expected": as_expected(e),
    }
