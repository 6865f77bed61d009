"""``factcheck report``: one command that re-derives and re-verifies everything the toolkit knows.

Producers are functions ``f(quick: bool, seed: int) -> list[ReportEntry]`` living next to the code
they exercise; this module runs them (optionally in worker processes), then writes into DIR:

- ``report.html``: one self-contained page (figures inline as SVG, maths as readable text);
- ``report.md``: the same content for reading on GitHub, figures as files in ``figures/``;
- ``results.json``: one entry per claim with verdict and evidence. It holds no timings, so the
  same seed gives byte-identical results.json (timings are in the HTML and Markdown only).

Exit status 1 if any claim the toolkit states as a theorem is REFUTED, else 0.

Bad --only or --out fails before any work (:mod:`verify.base.validate`). The directory is built
beside DIR once every producer has finished, then swapped in whole
(:func:`verify.base.files.atomic_directory`): an interruption leaves the previous report or none.
"""

from __future__ import annotations

import html
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
            for worker in list(getattr(pool, "_processes", {}).values()):
                worker.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
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
        claims = [_entry_json(e) for e in entries]
        results = {"toolkit": "factcheck", "seed": seed, "quick": quick, "claims": claims}
        put("results.json", json.dumps(results, indent=2, sort_keys=True))
        put("report.md", _markdown(entries, figures, elapsed, quick, seed))
        put("report.html", _html(entries, elapsed, quick, seed))
    print(_summary_table(entries))
    print("\n" + _counts(entries))
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
    d["has_figure"] = e.figure_svg is not None
    return _strip_timings(to_jsonable(d))


def _role(e: ReportEntry, fmt: str) -> str:
    """'' for theorems; 'expected failure' for refuted planted or known-false claims; else
    'empirical' (a claim the toolkit measures but does not state as a theorem)."""
    if e.theorem:
        return ""
    return " " + fmt.format("expected failure" if e.verdict == "REFUTED" else "empirical")


def _counts(entries: list[ReportEntry]) -> str:
    theorems = [e for e in entries if e.theorem]
    by: dict[str, int] = {}
    for e in theorems:
        by[e.verdict] = by.get(e.verdict, 0) + 1
    parts = ", ".join(f"{v} {k}" for k, v in sorted(by.items()))
    others = len(entries) - len(theorems)
    return (
        f"{len(theorems)} theorems: {parts}; {others} other claims (planted variants, "
        "known failures, empirical measurements)"
    )


def _summary_table(entries: list[ReportEntry]) -> str:
    rows = [("tag", "verdict", "precision", "time", "claim")]
    rows += [
        (
            e.tag,
            e.verdict + ("" if e.theorem else " (planted)"),
            e.precision,
            f"{e.seconds:.1f}s",
            e.claim[:70],
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
    lines.insert(1, "-" * min(120, sum(widths) + 80))
    return "\n".join(lines)


def _markdown(
    entries: list[ReportEntry], figures: dict[int, str], elapsed: float, quick: bool, seed: int
) -> str:
    md = [
        "# factcheck report",
        "",
        f"Seed {seed}, {'quick' if quick else 'default'} run, {elapsed:.1f} s. Verdicts: "
        "PROVED (symbolic, all sizes), EXACT_AT_SIZES (exact at the listed sizes only, not a "
        "proof for all sizes), CERTIFIED (enclosure), NUMERICALLY_CONSISTENT (to stated "
        "digits), INCONCLUSIVE, REFUTED (confirmed counterexample). Entries marked *planted* are "
        "deliberately false claims or known failures: REFUTED is the expected outcome there.",
        "",
        "| tag | claim | verdict | evidence | precision | time |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        planted = " *planted*" if not e.theorem else ""
        md.append(
            f"| {e.tag} | {e.claim.replace('|', '/')}{planted} | **{e.verdict}** | "
            f"{e.evidence} | {e.precision} | {e.seconds:.1f} s |"
        )
    section = None
    for k, e in enumerate(entries):
        if e.section != section:
            section = e.section
            md += ["", f"## {section}"]
        md += ["", f"### [{e.tag}] {e.claim}", "", f"**{e.verdict}**: {e.reason}", ""]
        if e.details:
            md += ["```text", e.details.rstrip(), "```"]
        if e.files:
            md += ["", "Files: " + ", ".join(f"[{f}]({f})" for f in e.files)]
        if k in figures:
            md += ["", f"![{e.tag}]({figures[k]})"]
    return "\n".join(md) + "\n"


_LEGEND = (
    "Verdicts: PROVED (a symbolic argument valid for all sizes), EXACT_AT_SIZES (exact checks "
    "at the listed sizes only, not a proof for all sizes), CERTIFIED (an enclosure proves "
    "it), NUMERICALLY_CONSISTENT (agrees to the stated digits at the stated points), "
    "INCONCLUSIVE (could not decide; says why), REFUTED (a counterexample confirmed exactly or "
    "at higher precision). Entries marked 'expected failure' are planted false variants or "
    "known failures of a claim outside its hypotheses: there REFUTED shows the toolkit can "
    "fail a claim. Entries marked 'empirical' are measured, not stated as theorems. The exit "
    "status is non-zero only if a theorem is REFUTED."
)

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap;font-size:12.5px;line-height:1.35}.PROVED,.CERTIFIED{color:#176317;font-weight:bold}
.EXACT_AT_SIZES{color:#4d7a1f;font-weight:bold}.NUMERICALLY_CONSISTENT{color:#1f5a99;font-weight:bold}.INCONCLUSIVE{color:#8a6d00;font-weight:bold}
.REFUTED{color:#a11;font-weight:bold}.planted{color:#666;font-style:italic}figure{margin:1em 0}
"""


def _html(entries: list[ReportEntry], elapsed: float, quick: bool, seed: int) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(e.tag)}</td><td><a href='#c{k}'>{esc(e.claim)}</a>"
        f"{_role(e, '<span class=planted>({})</span>')}</td>"
        f"<td class='{esc(e.verdict)}'>{esc(e.verdict)}</td><td>{esc(e.evidence)}</td>"
        f"<td>{esc(e.precision)}</td><td>{e.seconds:.1f} s</td></tr>"
        for k, e in enumerate(entries)
    )
    body = [
        f"<h1>factcheck report</h1><p>Seed {seed}, {'quick' if quick else 'default'} run, "
        f"{elapsed:.1f} s. Entries marked <i>planted</i> are deliberately false claims or "
        "known failures: REFUTED is the expected outcome there.</p>",
        f"<p>{esc(_LEGEND)}</p>",
        "<table><tr><th>tag</th><th>claim</th><th>verdict</th><th>evidence</th>"
        f"<th>precision</th><th>time</th></tr>{rows}</table>",
    ]
    section = None
    for k, e in enumerate(entries):
        if e.section != section:
            section = e.section
            body.append(f"<h2>{esc(section)}</h2>")
        body.append(
            f"<h3 id='c{k}'>[{esc(e.tag)}] {esc(e.claim)}</h3>"
            f"<p><span class='{esc(e.verdict)}'>{esc(e.verdict)}</span>: "
            f"{esc(e.reason)}</p>"
        )
        if e.details:
            body.append(f"<pre>{esc(e.details.rstrip())}</pre>")
        if e.files:
            body.append("<p>Files: " + ", ".join(esc(f) for f in e.files) + "</p>")
        if e.figure_svg:
            body.append(f"<figure>{e.figure_svg}</figure>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>factcheck report</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
