"""The report's summary: counts per result and per role, the surprises, and the command-line table.

Per result (equation tag), entries are counted by verdict class: proved (PROVED), verified
(CERTIFIED, EXACT_AT_SIZES or NUMERICALLY_CONSISTENT: weaker evidence than a proof, each
named), inconclusive, and refuted, the refutations split into expected ones (planted variants and
known failures) and unexpected ones; a verdict name the toolkit does not know is counted under
its own name with the inconclusive ones (it does not support the claim). The HTML page, the
Markdown and the command line all print these same numbers with the same words
(:mod:`verify.report.labels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from verify.base.records import ReportEntry
from verify.report.chapters import TAG_TITLES, by_chapter
from verify.report.labels import (
    ROLE_TEXT,
    ROLES,
    STRENGTH,
    as_expected,
    expected_of,
    role_of,
    supports,
)

__all__ = ["TagRow", "cli_table", "headline", "surprises", "tag_rows"]

#: the supporting verdicts weaker than PROVED, strongest first
VERIFIED = tuple(v for v in STRENGTH if v != "PROVED" and supports(v))


@dataclass
class TagRow:
    """The counts for one equation tag over every entry that carries it."""

    tag: str
    title: str
    proved: int = 0
    verified: dict[str, int] = field(default_factory=dict)
    inconclusive: int = 0
    other: dict[str, int] = field(default_factory=dict)  # unknown verdict names
    refuted_expected: int = 0
    refuted_unexpected: int = 0
    total: int = 0
    as_expected: int = 0

    @property
    def n_verified(self) -> int:
        return sum(self.verified.values())

    @property
    def undecided(self) -> str:
        """The inconclusive count, then any unknown verdicts by name ("2, 1 NEW_VERDICT")."""
        return ", ".join([str(self.inconclusive), *(f"{n} {v}" for v, n in self.other.items())])


def tag_rows(entries: Sequence[ReportEntry]) -> list[TagRow]:
    """One row per tag, in the order the tags first appear in the lecture order."""
    rows: dict[str, TagRow] = {}
    for _, ks in by_chapter(entries):
        for k in ks:
            e = entries[k]
            row = rows.setdefault(e.tag, TagRow(e.tag, TAG_TITLES.get(e.tag, e.tag)))
            row.total += 1
            row.as_expected += as_expected(e)
            if e.verdict == "PROVED":
                row.proved += 1
            elif e.verdict in VERIFIED:
                row.verified[e.verdict] = row.verified.get(e.verdict, 0) + 1
            elif e.verdict == "REFUTED" and expected_of(e) == "REFUTED":
                row.refuted_expected += 1
            elif e.verdict == "REFUTED":
                row.refuted_unexpected += 1
            elif e.verdict == "INCONCLUSIVE":
                row.inconclusive += 1
            else:
                row.other[e.verdict] = row.other.get(e.verdict, 0) + 1
    return list(rows.values())


def headline(entries: Sequence[ReportEntry]) -> list[str]:
    """One sentence per role: how many entries, their verdicts, how many as expected."""
    out = []
    for role in ROLES:
        group = [e for e in entries if role_of(e) == role]
        if not group:
            continue
        by: dict[str, int] = {}
        for e in group:
            by[e.verdict] = by.get(e.verdict, 0) + 1
        order = ["PROVED", *VERIFIED, "INCONCLUSIVE", "REFUTED"]
        order += sorted(set(by) - set(order))  # unknown verdict names, after the known ones
        verdicts = ", ".join(f"{by[v]} {v}" for v in order if v in by)
        ok = sum(as_expected(e) for e in group)
        noun = ROLE_TEXT[role] + ("s" if len(group) != 1 else "")
        out.append(f"{len(group)} {noun}: {verdicts}; {ok} of {len(group)} as expected")
    return out


def surprises(entries: Sequence[ReportEntry]) -> list[int]:
    """Indices of the entries whose verdict is not the expected one (theorems first)."""
    ks = [k for k, e in enumerate(entries) if not as_expected(e)]
    return sorted(ks, key=lambda k: role_of(entries[k]) != "theorem")


def cli_table(entries: Sequence[ReportEntry]) -> str:
    """The table ``factcheck report`` prints: tag, role, verdict, expected outcome, time, claim."""
    rows = [("tag", "role", "verdict", "expected", "time", "claim")]
    for e in entries:
        expected = expected_of(e)
        mark = "as expected" if as_expected(e) else "NOT AS EXPECTED"
        rows.append(
            (
                e.tag,
                role_of(e),
                e.verdict,
                f"{expected} ({mark})",
                f"{e.seconds:.1f}s",
                e.claim[:60] + ("..." if len(e.claim) > 60 else ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5] for r in rows]
    lines.insert(1, "-" * min(140, sum(widths) + 2 * 5 + 60))
    return "\n".join(lines)
