"""Shared records: claims, derivation steps, verdicts, and their renderings.

A *claim* is a statement with labelled assumptions, a reference and an equation tag (the tags of
REFERENCE.md: F1, D5, ...). A *derivation* is a list of *steps*, each an equation with its
justification and the outcome of the check that was run on it. A derivation ends in a *verdict*
whose strength says how the evidence was obtained:

PROVED                  a symbolic difference reduced to zero for all sizes (and, where stated,
                        exact explicit checks at concrete sizes agree);
EXACT_AT_SIZES          both sides agree exactly (rational arithmetic) on explicit instances at
                        the listed sizes, but no symbolic argument covers every size;
CERTIFIED               an enclosure (interval or high-precision bound) proves it;
NUMERICALLY_CONSISTENT  it agrees to stated digits at stated points;
INCONCLUSIVE            the check could not decide (says why and what to change);
REFUTED                 a counterexample, confirmed exactly or at higher precision, with
                        the witness.

A step is one of three kinds: ``derived`` (an equation that was checked: ``checked`` says whether
the check confirmed it), ``assumption`` (a hypothesis of the claim, quoted by its label, not
checked) or ``definition`` (a new name for an expression, not checked). Only derived steps carry
evidence; :func:`theory._checks.conclude` decides the verdict from them and refuses an assumption
that the claim does not state or a "definition" of a name that was already in use.

Every record renders as plain text, LaTeX and JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from theory._verdict import Verdict, to_jsonable
from theory.typeset.latex import latex
from theory.typeset.prose import prose_latex

__all__ = [
    "STEP_KINDS",
    "Assumption",
    "Claim",
    "Derivation",
    "Reference",
    "Step",
    "Verdict",
    "to_jsonable",
]


@dataclass(frozen=True)
class Assumption:
    """A labelled hypothesis of a claim, e.g. ``Assumption("lam>0", "weight decay lam > 0")``."""

    label: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "text": self.text}


@dataclass(frozen=True)
class Reference:
    """Where a result comes from: arXiv id, version, and the place in the paper."""

    arxiv: str
    version: str = ""
    where: str = ""
    authors: str = ""

    def __str__(self) -> str:
        parts = [self.authors, f"arXiv:{self.arxiv}{self.version}", self.where]
        return ", ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, str]:
        return {
            "arxiv": self.arxiv,
            "version": self.version,
            "where": self.where,
            "authors": self.authors,
        }


FACT_PAPER = Reference(
    "2507.05644", "", "", "Boix-Adsera, Mallinar, Simon, Belkin (Features at Convergence Theorem)"
)
NFA_PAPER = Reference(
    "2212.13881", "", "", "Radhakrishnan, Beaglehole, Pandit, Belkin (Science 2024)"
)
DEEP_LINEAR_PAPER = Reference("2510.15563", "", "", "Tansley, Massart, Cartis (AISTATS 2026)")


@dataclass(frozen=True)
class Claim:
    """A statement ``lhs = rhs`` with its tag, assumptions and reference.

    ``lhs`` and ``rhs`` are SymPy expressions (matrix expressions allowed). ``name`` is a short
    human title such as "FACT for layer 2 of a deep linear network (L = 3)".
    """

    name: str
    tag: str
    lhs: Any
    rhs: Any
    assumptions: tuple[Assumption, ...] = ()
    reference: Reference | None = None
    symbols: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tag": self.tag,
            "statement": f"{_text(self.lhs)} = {_text(self.rhs)}",
            "latex": f"{_latex(self.lhs)} = {_latex(self.rhs)}",
            "assumptions": [a.to_dict() for a in self.assumptions],
            "reference": self.reference.to_dict() if self.reference else None,
            "symbols": dict(self.symbols),
        }


#: the kinds of step (module docstring)
STEP_KINDS = ("derived", "assumption", "definition")


@dataclass(frozen=True)
class Step:
    """One equation of a derivation, its justification and the result of checking it.

    ``checked`` is True only if the check ran and confirmed the step; ``check`` says which check
    (e.g. "difference expands to 0", "explicit sizes (2,3,2) and (3,2,4), exact rationals").
    ``verdict``, when given, grades the step on its own (a derivation checked step by step, where
    one step may be PROVED and the next only EXACT_AT_SIZES or REFUTED); then ``checked`` is
    ``verdict.supports``.
    ``kind`` (module docstring): for an ``assumption`` step ``check`` is the label of the claim's
    assumption it quotes, and ``checked`` is False (nothing was checked).
    """

    lhs: Any
    rhs: Any
    justification: str
    checked: bool
    check: str = ""
    verdict: Verdict | None = None
    kind: str = "derived"

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:  # internal invariant: steps are built by the toolkit
            raise ValueError(f"step kind must be one of {STEP_KINDS}; got {self.kind!r}")
        if self.kind != "derived" and self.checked:
            raise ValueError(f"a {self.kind} step is not checked; pass checked=False")

    @property
    def mark(self) -> str:
        """How the step reads in text: the step's own verdict when it has one, else ok,
        UNCHECKED, assumption (label) or definition."""
        if self.verdict is not None:
            return self.verdict.value
        if self.kind == "assumption":
            return f"assumption ({self.check})"
        if self.kind == "definition":
            return "definition"
        return "ok" if self.checked else "UNCHECKED"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "lhs": _text(self.lhs),
            "rhs": _text(self.rhs),
            "lhs_latex": _latex(self.lhs),
            "rhs_latex": _latex(self.rhs),
            "justification": self.justification,
            "kind": self.kind,
            "checked": bool(self.checked),
            "check": self.check,
        }
        if self.verdict is not None:
            out["verdict"] = self.verdict.value
        return out


@dataclass(frozen=True)
class Derivation:
    """A claim, the steps that derive it, and the verdict with its reason.

    ``witness`` holds a counterexample (for REFUTED) or the points checked (for numerical
    verdicts), as plain JSON-able data. ``notes`` are remarks that are not part of the claim
    (shown after the verdict, never among the steps).
    """

    claim: Claim
    steps: tuple[Step, ...]
    verdict: Verdict
    reason: str
    witness: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()

    @property
    def all_checked(self) -> bool:
        """Every derived step was checked and confirmed (assumptions and definitions are not
        checks), and there is at least one derived step."""
        derived = [s for s in self.steps if s.kind == "derived"]
        return bool(derived) and all(s.checked for s in derived)

    # -- renderings -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        c = self.claim.to_dict()
        return {
            "claim": c["name"],
            "tag": self.claim.tag,
            "statement": c["statement"],
            "statement_latex": c["latex"],
            "assumptions": c["assumptions"],
            "reference": c["reference"],
            "symbols": c["symbols"],
            "steps": [s.to_dict() for s in self.steps],
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "witness": to_jsonable(self.witness) if self.witness is not None else None,
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    def to_text(self) -> str:
        c = self.claim
        lines = [f"[{c.tag}] {c.name}", f"  claim: {_text(c.lhs)} = {_text(c.rhs)}"]
        if c.reference is not None:
            lines.append(f"  reference: {c.reference}")
        if c.symbols:
            lines.append("  where:")
            lines += [f"    {k}: {v}" for k, v in c.symbols.items()]
        if c.assumptions:
            lines.append("  assumptions:")
            lines += [f"    ({a.label}) {a.text}" for a in c.assumptions]
        lines.append("  derivation:")
        for k, s in enumerate(self.steps, 1):
            lines.append(f"    {k}. {_text(s.lhs)}")
            lines.append(f"         = {_text(s.rhs)}")
            lines.append(f"       because {s.justification}")
            lines.append(f"       [{s.mark}]" + (f" {s.check}" if s.kind == "derived" else ""))
        lines.append(f"  verdict: {self.verdict.value} ({self.verdict.evidence})")
        lines.append(f"  reason: {self.reason}")
        lines += [f"  note: {note}" for note in self.notes]
        if self.witness:
            lines.append("  witness:")
            for k, v in to_jsonable(self.witness).items():
                lines.append(f"    {k}: {json.dumps(v)}")
        return "\n".join(lines)

    def to_latex(self) -> str:
        """A LaTeX fragment (amsmath ``align*``) that compiles as math.

        Each step is one aligned equation followed by its justification as wrapped prose
        (``\\intertext``), so long reasons never run off the page.
        """
        c = self.claim
        out = [
            f"% [{c.tag}] {c.name}",
            r"\begin{align*}",
            rf"  & {_latex(c.lhs)} = {_latex(c.rhs)} && \text{{({_tex_text(c.tag)})}} \\",
        ]
        for k, s in enumerate(self.steps, 1):
            tick = (
                (r"\checkmark" if s.checked else r"\textbf{unchecked}")
                if s.kind == "derived"
                else rf"\textit{{[{_tex_text(s.mark)}]}}"
            )
            if s.verdict is not None:
                tick = rf"\textbf{{{_tex_text(s.verdict.value)}}}"
            out.append(rf"  \intertext{{\small {k}. {prose_latex(s.justification)} {tick}}}")
            out.append(rf"  & {_latex(s.lhs)} = {_latex(s.rhs)} \\")
        out.append(r"\end{align*}")
        out.append(
            rf"\noindent{{\small verdict: {_tex_text(self.verdict.value)} "
            rf"({prose_latex(self.reason)})}}"
        )
        return "\n".join(out)


# -- helpers -----------------------------------------------------------------------------------
def _text(expr: Any) -> str:
    if isinstance(expr, str):
        return expr
    return sp.sstr(expr)


def _latex(expr: Any) -> str:
    """Math-mode LaTeX; symbol names in the toolkit's notation (theory.typeset.latex)."""
    return latex(expr)


_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def _tex_text(s: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in s)
