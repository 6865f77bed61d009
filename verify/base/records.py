"""One entry of the report: a claim, its verdict, the evidence and an optional figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation: importing the records would load SymPy
    from theory._records import Derivation

__all__ = ["ReportEntry"]


@dataclass
class ReportEntry:
    """What ``factcheck report`` shows for one claim.

    ``section`` groups entries (e.g. "FACT", "Deep linear networks"); ``details`` is plain text
    (a derivation rendered with ``to_text()``, or a table of numbers); ``latex`` optional LaTeX;
    ``data`` JSON-able numbers for results.json; ``figure_svg`` an SVG document or None;
    ``precision`` says what precision was reached (e.g. "exact", "float64: 3e-15", "50 digits").
    ``theorem`` is True when the toolkit states the claim as a theorem: a REFUTED verdict on such
    an entry makes the report exit non-zero. Planted false variants and counterexample families
    set it False (for them REFUTED is the expected, healthy outcome).
    ``attachments`` maps a file name to its bytes (e.g. a certificate's run file, as written by
    ``verify.runfile.save_run``); the report writes them into ``DIR/certificates/`` and lists them
    in ``files``. Bytes, not paths, so entries cross process boundaries (``--jobs``) intact.

    How the entry is labelled (the same words in HTML, Markdown, JSON and on the command line;
    :mod:`verify.report.labels`): ``role`` is one of "theorem", "empirical" (a claim the toolkit
    measures but does not state as a theorem), "planted" (a deliberately false variant) or
    "known-failure" (a claim outside its hypotheses, shown to fail); empty means "theorem" when
    ``theorem`` is True, else "empirical". ``expected`` is the verdict the entry should get, or
    "supported" (any verdict that supports the claim); empty means the role's default (theorem
    and empirical: "supported", planted and known-failure: "REFUTED"). ``key`` fixes the entry's
    id in results.json (default: from section, tag and claim). ``typeset`` holds the MathML of a
    derivation for the HTML page (:func:`theory.typeset.mathml.derivation_typeset`); it stays out of
    results.json.
    """

    section: str
    claim: str
    tag: str
    verdict: str
    evidence: str
    reason: str
    precision: str = ""
    seconds: float = 0.0
    details: str = ""
    latex: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    figure_svg: str | None = None
    theorem: bool = True
    files: list[str] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)
    role: str = ""
    expected: str = ""
    key: str = ""
    typeset: dict[str, Any] | None = None

    @classmethod
    def from_derivation(
        cls,
        d: Derivation,
        section: str,
        *,
        seconds: float = 0.0,
        precision: str = "exact (symbolic)",
        theorem: bool = True,
        data: dict[str, Any] | None = None,
        role: str = "",
        expected: str = "",
        key: str = "",
    ) -> ReportEntry:
        """The entry for a symbolic derivation: its claim, verdict, text, LaTeX and MathML.

        A theorem derived symbolically is expected to be PROVED."""
        from theory.typeset.mathml import derivation_typeset

        return cls(
            section=section,
            claim=d.claim.name,
            tag=d.claim.tag,
            verdict=d.verdict.value,
            evidence=d.verdict.evidence,
            reason=d.reason,
            precision=precision,
            seconds=seconds,
            details=d.to_text(),
            latex=d.to_latex(),
            data={"steps": len(d.steps), "all_checked": d.all_checked} | dict(data or {}),
            theorem=theorem,
            role=role,
            expected=expected or ("PROVED" if theorem else ""),
            key=key,
            typeset=derivation_typeset(d),
        )
