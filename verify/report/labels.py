"""What each report entry is, what outcome it expects, and its stable id: one vocabulary for the
HTML page, the Markdown, results.json and the command line.

Roles (``ReportEntry.role``):

theorem        a statement the toolkit proves or checks as true; REFUTED here is a bug
               (``factcheck report`` exits 1);
empirical      a claim the toolkit measures but does not state as a theorem (the NFA, grokking,
               feature emergence); the expected outcome is that the measurement supports it;
planted        a deliberately false variant of a theorem (a flipped sign, a lost 1/n); the
               expected outcome is REFUTED, which shows the check can fail;
known-failure  a claim taken outside its hypotheses, where it is known to fail (the NFA without
               weight decay, FACT at an AdamW fixed point); the expected outcome is REFUTED.

The expected outcome (``ReportEntry.expected``) is a verdict name or "supported" (PROVED,
CERTIFIED, EXACT_AT_SIZES or NUMERICALLY_CONSISTENT). An entry whose verdict differs from its
expectation is listed at the top of the report; for a theorem that is a failure, for the other
roles it is a finding to read.

Verdicts are ordered by the strength of their evidence (:data:`STRENGTH`, the order in which
:class:`theory._verdict.Verdict` lists them): EXACT_AT_SIZES is weaker than PROVED (exact at the
listed sizes, not for all sizes) and stronger than a numerical agreement. A verdict name the
toolkit does not know (a newer producer's) is shown as it is and counts as not supporting the
claim: the report never stops on it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from theory._verdict import Verdict
from verify.base.records import ReportEntry

__all__ = [
    "EXPECTED_TEXT",
    "ROLES",
    "ROLE_TEXT",
    "STRENGTH",
    "as_expected",
    "entry_ids",
    "expected_of",
    "role_of",
    "supports",
]

ROLES = ("theorem", "empirical", "planted", "known-failure")
#: how each role reads in a sentence ("a planted false variant")
ROLE_TEXT = {
    "theorem": "theorem",
    "empirical": "empirical claim",
    "planted": "planted false variant",
    "known-failure": "known failure",
}
#: strongest evidence first, in the order Verdict lists them; REFUTED is not on the ladder (it is
#: evidence against)
STRENGTH = tuple(v.value for v in Verdict if v is not Verdict.REFUTED)
EXPECTED_TEXT = {
    "supported": "supported (PROVED, CERTIFIED, EXACT_AT_SIZES or NUMERICALLY_CONSISTENT)",
    "PROVED": "PROVED",
    "REFUTED": "REFUTED",
}
_DEFAULT_EXPECTED = {
    "theorem": "supported",
    "empirical": "supported",
    "planted": "REFUTED",
    "known-failure": "REFUTED",
}


def role_of(e: ReportEntry) -> str:
    """The entry's role: its own, or "theorem"/"empirical" from ``theorem``."""
    role = e.role or ("theorem" if e.theorem else "empirical")
    if role not in ROLES:
        raise ValueError(f"report entry {e.claim!r}: role must be one of {ROLES}; got {role!r}")
    if (role == "theorem") != e.theorem:
        raise ValueError(f"report entry {e.claim!r}: role {role!r} but theorem={e.theorem}")
    return role


def expected_of(e: ReportEntry) -> str:
    """The expected outcome: a verdict name, or "supported"."""
    expected = e.expected or _DEFAULT_EXPECTED[role_of(e)]
    if expected != "supported" and expected not in Verdict.__members__:
        raise ValueError(f"report entry {e.claim!r}: unknown expected outcome {expected!r}")
    return expected


def supports(verdict: str) -> bool:
    """True for a verdict that supports the claim; False for an unknown verdict name."""
    return verdict in Verdict.__members__ and Verdict[verdict].supports


def as_expected(e: ReportEntry) -> bool:
    """True when the verdict is the expected one ("supported": any supporting verdict)."""
    expected = expected_of(e)
    if expected == "supported":
        return supports(e.verdict)
    return e.verdict == expected


def _slug(text: str) -> str:
    text = re.sub(r"\bseed \d+", "", text)  # ids do not change with --seed
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _entry_slug(e: ReportEntry) -> str:
    if e.key:
        return e.key
    claim = _slug(e.claim)
    if len(claim) > 60:  # long titles: a readable prefix and a hash of the whole
        digest = hashlib.sha1(claim.encode()).hexdigest()[:6]
        claim = claim[:60].rsplit("-", 1)[0] + "-" + digest
    return f"{_slug(e.section)}/{e.tag.lower()}/{claim}"


def entry_ids(entries: Sequence[ReportEntry]) -> list[str]:
    """A stable id per entry: section/tag/claim as a slug (or the entry's ``key``), made unique
    by a counter in report order. The same command and options give the same ids; the seed does
    not enter them."""
    seen: dict[str, int] = {}
    out = []
    for e in entries:
        base = _entry_slug(e)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out
