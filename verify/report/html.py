"""report.html: the report as one self-contained document a lecturer can project.

Structure, top to bottom: title and run; how to read it (verdicts from strongest to weakest
evidence, and the four roles an entry can have); the summary (one sentence per role, the entries
whose outcome differs from the expected one, and a table of counts per result); the contents;
then one chapter per subject in lecture order (:mod:`verify.report.chapters`), each with a short
introduction, an index of its entries and the entries themselves.

Mathematics is MathML, which browsers typeset natively: derivations come typeset from their
SymPy expressions (:func:`theory.typeset.mathml.derivation_typeset`), and the ASCII maths in
titles, reasons and justifications is typeset by :mod:`theory.typeset.prose`. There is no
script, no external file and no network access; figures are inline SVG that scale with the page.
Counterexample families are shown as tables (:mod:`verify.report.witness`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from theory.typeset.prose import prose_html
from verify.base.records import ReportEntry
from verify.base.version import __version__
from verify.report.chapters import by_chapter
from verify.report.labels import (
    EXPECTED_TEXT,
    ROLE_TEXT,
    STRENGTH,
    as_expected,
    expected_of,
    role_of,
)
from verify.report.style import CSS
from verify.report.summary import headline, surprises, tag_rows
from verify.report.witness import family_html

__all__ = ["render_html", "scalable_svg"]

esc = html.escape

_VERDICT_TEXT = {
    "PROVED": "a symbolic argument valid for all sizes (a symbolic difference reduces to zero)",
    "CERTIFIED": "a rigorous or high-precision enclosure proves it",
    "EXACT_AT_SIZES": "both sides agree exactly (rational arithmetic) at the listed sizes, but "
    "no symbolic argument covers every size: weaker than PROVED",
    "NUMERICALLY_CONSISTENT": "agrees to the stated digits at the stated points",
    "INCONCLUSIVE": "the check could not decide (e.g. training did not converge); the reason "
    "says what to change",
    "REFUTED": "a counterexample, confirmed exactly or at higher precision, with the witness",
}
_ROLE_HELP = {
    "theorem": "stated as true; REFUTED here would be a bug (the command exits 1)",
    "empirical": "measured, not stated as a theorem; expected to be supported",
    "planted": "a deliberately false variant of a theorem; expected REFUTED, which shows the "
    "check can fail",
    "known-failure": "a claim taken outside its hypotheses, where it fails; expected REFUTED "
    "(INCONCLUSIVE where the hypothesis itself is not met)",
}


def _verdict(v: str) -> str:
    return f"<span class='badge {esc(v)}'>{esc(v).replace('_', '_<wbr>')}</span>"


def _role(e: ReportEntry) -> str:
    r = role_of(e)
    return f"<span class='badge role-{r}'>{esc(ROLE_TEXT[r])}</span>"


def _expectation(e: ReportEntry) -> str:
    exp = expected_of(e)
    if as_expected(e):
        return f"<span class='ok'>as expected ({esc(exp)})</span>"
    wanted = esc(EXPECTED_TEXT.get(exp, exp))
    return f"<span class='surprise'>not as expected: expected {wanted}</span>"


def scalable_svg(svg: str) -> str:
    """The SVG with a viewBox and without fixed width/height, so it scales with the page."""
    head_end = svg.find(">", svg.find("<svg"))
    if head_end < 0:
        return svg
    head = svg[: head_end + 1]
    w = re.search(r'\swidth="([\d.]+)"', head)
    h = re.search(r'\sheight="([\d.]+)"', head)
    if "viewBox" not in head and w and h:
        head = head.replace("<svg", f'<svg viewBox="0 0 {w.group(1)} {h.group(1)}"', 1)
    head = re.sub(r'\s(width|height)="[\d.]+(px)?"', "", head)
    return head + svg[head_end + 1 :]


def _legend() -> str:
    verdicts = "".join(
        f"<dt>{_verdict(v)}</dt><dd>{esc(_VERDICT_TEXT[v])}</dd>" for v in (*STRENGTH, "REFUTED")
    )
    roles = "".join(
        f"<dt><span class='badge role-{r}'>{esc(ROLE_TEXT[r])}</span></dt>"
        f"<dd>{esc(_ROLE_HELP[r])}</dd>"
        for r in ROLE_TEXT
    )
    return (
        "<details class='legend'><summary>How to read this report</summary>"
        "<p>Verdicts, from the strongest evidence to the weakest, then the refutation:</p>"
        f"<dl>{verdicts}</dl><p>Every entry has one of four roles:</p><dl>{roles}</dl>"
        "<p>Each entry states its expected outcome and whether it was met.</p></details>"
    )


def _summary(entries: Sequence[ReportEntry], ids: Sequence[str]) -> str:
    lines = "".join(f"<li>{esc(s)}</li>" for s in headline(entries))
    out = ["<section id='summary'><h2>Summary</h2>", f"<ul>{lines}</ul>"]
    odd = surprises(entries)
    if odd:
        items = "".join(
            f"<li>{_role(entries[k])} <a href='#{esc(ids[k])}'>[{esc(entries[k].tag)}] "
            f"{prose_html(entries[k].claim)}</a>: {_verdict(entries[k].verdict)}, expected "
            f"{esc(expected_of(entries[k]))}</li>"
            for k in odd
        )
        out.append(f"<p>Outcomes that differ from the expected one:</p><ul>{items}</ul>")
    else:
        out.append("<p class='ok'>Every entry has its expected outcome.</p>")
    head = ("result", "proved", "verified", "inconclusive", "refuted", "as expected")
    rows = []
    for r in tag_rows(entries):
        verified = ", ".join(f"{n} {v}" for v, n in r.verified.items())
        refuted = []
        if r.refuted_expected:
            refuted.append(f"{r.refuted_expected} expected")
        if r.refuted_unexpected:
            refuted.append(f"<span class='surprise'>{r.refuted_unexpected} unexpected</span>")
        cells = (
            f"<b>{esc(r.tag)}</b> {prose_html(r.title)}",
            str(r.proved),
            esc(verified) if verified else "0",
            esc(r.undecided),
            ", ".join(refuted) or "0",
            f"{r.as_expected} of {r.total}",
        )
        rows.append(
            "<tr>"
            + "".join(
                f"<td data-label='{h}'{'' if i == 0 else ' class=num'}>{c}</td>"
                for i, (h, c) in enumerate(zip(head, cells, strict=True))
            )
            + "</tr>"
        )
    out.append(
        "<p>Per result (equation tag), over every entry that carries it:</p>"
        "<table class='cards counts'><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
    return "".join(out)


def _contents(chapters: list[tuple[Any, list[int]]], entries: Sequence[ReportEntry]) -> str:
    items = []
    for c, ks in chapters:
        ok = sum(as_expected(entries[k]) for k in ks)
        items.append(
            f"<li><a href='#ch-{esc(c.key)}'>{prose_html(c.title)}</a> "
            f"<span class='meta'>({len(ks)} entries, {ok} as expected)</span></li>"
        )
    return f"<nav id='contents'><h2>Contents</h2><ol>{''.join(items)}</ol></nav>"


def _steps(t: dict[str, Any]) -> str:
    cells = []
    for k, s in enumerate(t["steps"], 1):
        mark = s["mark"]
        if mark == "ok":
            tick = "<span class='ok'>&#10003; checked</span>"
        elif mark == "UNCHECKED":
            tick = "<span class='surprise'>unchecked</span>"
        else:
            tick = _verdict(mark)
        cells.append(
            f"<div class='n'>{k}.</div>"
            f"<div class='lhs'>{'' if s['chained'] else s['lhs']}</div>"
            f"<div class='eq'><math><mo>=</mo></math> {s['rhs']}</div>"
            f"<div class='why'>because {s['why']} {tick}"
            + (f" <span class='check'>({s['check']})</span>" if s["check"] else "")
            + "</div>"
        )
    return f"<div class='steps'>{''.join(cells)}</div>"


def _derivation(t: dict[str, Any]) -> str:
    out = [f"<div class='scroll'>{t['statement']}</div>"]
    if t["reference"]:
        out.append(f"<p class='meta'>Reference: {esc(t['reference'])}</p>")
    if t["assumptions"]:
        assumptions = t["assumptions"]
        items = "".join(f"<li>({prose_html(label)}) {text}</li>" for label, text in assumptions)
        out.append(f"<p>Assumptions:</p><ul>{items}</ul>")
    if t["symbols"]:
        items = "".join(f"<li>{name}: {text}</li>" for name, text in t["symbols"])
        out.append(f"<details><summary>Symbols</summary><ul>{items}</ul></details>")
    out.append(_steps(t))
    if t["witness"]:
        out.append("<p>Witness:</p><pre>" + esc("\n".join(t["witness"])) + "</pre>")
    return "".join(out)


def _details(text: str, fold_above: int = 12) -> str:
    """Preformatted text, folded when longer than ``fold_above`` lines (0: never folded)."""
    lines = text.rstrip().splitlines()
    block = f"<pre>{esc(chr(10).join(lines))}</pre>"
    if not fold_above or len(lines) <= fold_above:
        return block
    return f"<details><summary>Details ({len(lines)} lines)</summary>{block}</details>"


def _entry(e: ReportEntry, eid: str) -> str:
    out = [
        f"<article class='entry' id='{esc(eid)}'>",
        f"<h3>[{esc(e.tag)}] {prose_html(e.claim)}</h3>",
        f"<p>{_role(e)} {_verdict(e.verdict)} {_expectation(e)}</p>",
        f"<p>{prose_html(e.reason)}</p>",
    ]
    tables = family_html(e)
    if e.typeset:
        out.append(_derivation(e.typeset))
    elif tables:
        out.append(tables)
        if e.details:
            out.append(f"<details><summary>Full text</summary>{_details(e.details, 0)}</details>")
    elif e.details and e.details.strip() != e.reason.strip():
        out.append(_details(e.details))
    if e.figure_svg:
        out.append(f"<figure>{scalable_svg(e.figure_svg)}</figure>")
    if e.files:
        out.append("<p class='meta'>Files: " + ", ".join(esc(f) for f in e.files) + "</p>")
    out.append(
        f"<p class='meta'>Evidence: {esc(e.evidence)}. Precision: {esc(e.precision or '-')}. "
        f"Time: {e.seconds:.1f} s. Id: <code>{esc(eid)}</code></p></article>"
    )
    return "".join(out)


def _chapter(c: Any, ks: list[int], entries: Sequence[ReportEntry], ids: Sequence[str]) -> str:
    rows = "".join(
        f"<tr><td data-label='entry'><a href='#{esc(ids[k])}'>[{esc(entries[k].tag)}] "
        f"{prose_html(entries[k].claim)}</a> {_role(entries[k])}</td>"
        f"<td data-label='verdict' class='v'>{_verdict(entries[k].verdict)} "
        f"{'&#10003;' if as_expected(entries[k]) else '<span class=surprise>!</span>'}</td></tr>"
        for k in ks
    )
    intro = f"<p>{prose_html(c.intro)}</p>" if c.intro else ""
    return (
        f"<section id='ch-{esc(c.key)}'><h2>{prose_html(c.title)}</h2>{intro}"
        "<table class='cards'><thead><tr><th>entry</th><th>verdict</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        + "".join(_entry(entries[k], ids[k]) for k in ks)
        + "</section>"
    )


def render_html(
    entries: Sequence[ReportEntry], ids: Sequence[str], elapsed: float, quick: bool, seed: int
) -> str:
    """The whole page (module docstring)."""
    chapters = by_chapter(entries)
    body = [
        "<header><h1>factcheck report</h1>",
        f"<p class='sub'>Seed {seed}, {'quick' if quick else 'default'} run, {elapsed:.1f} s, "
        f"factcheck {esc(__version__)}; {len(entries)} entries.</p></header>",
        _legend(),
        _summary(entries, ids),
        _contents(chapters, entries),
        *(_chapter(c, ks, entries, ids) for c, ks in chapters),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>factcheck report</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
