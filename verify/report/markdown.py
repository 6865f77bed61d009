"""report.md: the report for reading on GitHub, in the same order and words as report.html.

GitHub renders ``$...$`` and ``$$...$$`` as mathematics, so derivations appear as display
equations (their LaTeX from :func:`theory.typeset.mathml.derivation_typeset`) and the ASCII maths of
titles and reasons inline (:func:`theory.typeset.prose.prose_markdown`). Chapter headings stay plain
text, so their anchors (GitHub's slugs) are predictable for the contents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from theory.typeset.prose import prose_markdown
from verify.base.records import ReportEntry
from verify.report.chapters import by_chapter
from verify.report.labels import (
    EXPECTED_TEXT,
    ROLE_TEXT,
    STRENGTH,
    as_expected,
    expected_of,
    role_of,
)
from verify.report.summary import headline, surprises, tag_rows
from verify.report.witness import family_markdown

__all__ = ["render_markdown"]


def _slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _cell(text: str) -> str:
    return prose_markdown(text).replace("\n", " ")


def _outcome(e: ReportEntry) -> str:
    exp = expected_of(e)
    if as_expected(e):
        return f"as expected ({exp})"
    return f"**not as expected**: expected {EXPECTED_TEXT.get(exp, exp)}"


def _summary(entries: Sequence[ReportEntry], ids: Sequence[str]) -> list[str]:
    md = ["## Summary", ""] + [f"- {s}" for s in headline(entries)] + [""]
    odd = surprises(entries)
    if odd:
        md.append("Outcomes that differ from the expected one:")
        md.append("")
        for k in odd:
            e = entries[k]
            md.append(
                f"- *{ROLE_TEXT[role_of(e)]}* [{e.tag}] {_cell(e.claim)}: **{e.verdict}**, "
                f"expected {expected_of(e)} (`{ids[k]}`)"
            )
        md.append("")
    else:
        md += ["Every entry has its expected outcome.", ""]
    md += [
        "| result | proved | verified | inconclusive | refuted | as expected |",
        "|---|---|---|---|---|---|",
    ]
    for r in tag_rows(entries):
        verified = ", ".join(f"{n} {v}" for v, n in r.verified.items()) or "0"
        refuted = ", ".join(
            p
            for p in (
                f"{r.refuted_expected} expected" if r.refuted_expected else "",
                f"**{r.refuted_unexpected} unexpected**" if r.refuted_unexpected else "",
            )
            if p
        )
        md.append(
            f"| **{r.tag}** {_cell(r.title)} | {r.proved} | {verified} | {r.undecided} | "
            f"{refuted or 0} | {r.as_expected} of {r.total} |"
        )
    return md


def _derivation(t: dict[str, Any]) -> list[str]:
    md = ["$$", t["statement_tex"], "$$", ""]
    if t["reference"]:
        md += [f"Reference: {t['reference']}", ""]
    for k, s in enumerate(t["steps"], 1):
        marks = {"ok": "(checked)", "UNCHECKED": "**(unchecked)**"}
        mark = marks.get(s["mark"], f"**{s['mark']}**")
        md += [f"**Step {k}.** Because {s['why_md']} {mark}", "", "$$", s["tex"], "$$", ""]
    if t["witness"]:
        md += ["Witness:", "", "```text", *t["witness"], "```", ""]
    return md


def _entry(e: ReportEntry, eid: str, figure: str | None) -> list[str]:
    md = [
        f"### [{e.tag}] {_cell(e.claim)}",
        "",
        f"*{ROLE_TEXT[role_of(e)]}*; **{e.verdict}**; {_outcome(e)}; id `{eid}`",
        "",
        prose_markdown(e.reason),
        "",
    ]
    tables = family_markdown(e)
    if e.typeset:
        md += _derivation(e.typeset)
    elif tables is not None:
        md += tables
        if e.details:
            fence = ["```text", e.details.rstrip(), "```"]
            md += ["<details><summary>Full text</summary>", "", *fence, "", "</details>", ""]
    elif e.details and e.details.strip() != e.reason.strip():
        md += ["```text", e.details.rstrip(), "```", ""]
    if e.files:
        md += ["Files: " + ", ".join(f"[{f}]({f})" for f in e.files), ""]
    if figure:
        md += [f"![{e.tag}]({figure})", ""]
    md += [f"Evidence: {e.evidence}. Precision: {e.precision or '-'}. Time: {e.seconds:.1f} s.", ""]
    return md


def render_markdown(
    entries: Sequence[ReportEntry],
    ids: Sequence[str],
    figures: dict[int, str],
    elapsed: float,
    quick: bool,
    seed: int,
) -> str:
    """The whole document (module docstring); ``figures`` maps entry index to its SVG file."""
    chapters = by_chapter(entries)
    md = [
        "# factcheck report",
        "",
        f"Seed {seed}, {'quick' if quick else 'default'} run, {elapsed:.1f} s; "
        f"{len(entries)} entries.",
        "",
        "Verdicts from the strongest evidence to the weakest: " + ", ".join(STRENGTH) + "; "
        "REFUTED means a counterexample confirmed exactly or at higher precision. "
        "EXACT_AT_SIZES (exact at the listed sizes only) is weaker than PROVED. Roles: *theorem* "
        "(REFUTED would be a bug), *empirical claim* (measured, expected to be supported), "
        "*planted false variant* and *known failure* (expected REFUTED; INCONCLUSIVE where a "
        "hypothesis is not met).",
        "",
        *_summary(entries, ids),
        "",
        "## Contents",
        "",
    ]
    for n, (c, ks) in enumerate(chapters, 1):
        md.append(f"{n}. [{c.title}](#{_slug(f'{n}. {c.title}')}) ({len(ks)} entries)")
    for n, (c, ks) in enumerate(chapters, 1):
        md += ["", f"## {n}. {c.title}", ""]
        if c.intro:
            md += [prose_markdown(c.intro), ""]
        for k in ks:
            md += _entry(entries[k], ids[k], figures.get(k))
    return "\n".join(md).rstrip() + "\n"
