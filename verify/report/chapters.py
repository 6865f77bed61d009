"""The report in the order of a lecture: chapters, what each is about, and the name of each result.

The producers group their entries by the code that made them (``ReportEntry.section``); a reader
wants them by subject, in the order a course would teach them: FACT, its off-convergence identity
F2, deep linear networks (where the NFA is a theorem), the NFA on trained networks, the
counterexamples, the kernel expansion that explains the NFA, RFM built on it, and feature
emergence; stored sweeps (grids of one claim) come last. :func:`chapter_of` places an entry;
entries keep their report order within a chapter, and an entry no rule places gets a chapter
named after its section, after the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from verify.base.records import ReportEntry

__all__ = ["CHAPTERS", "TAG_TITLES", "Chapter", "chapter_of", "by_chapter"]


@dataclass(frozen=True)
class Chapter:
    """A chapter: its anchor, title and a paragraph in the toolkit's ASCII maths notation."""

    key: str
    title: str
    intro: str


CHAPTERS = (
    Chapter(
        "fact",
        "FACT: the Features at Convergence Theorem",
        "At a stationary point of a loss with weight decay lam > 0, every weight matrix satisfies "
        "W^T W = FACT = -(1/(n lam)) sum_i grad_h l_i h_i^T (F1), with a backward form (F4) and "
        "FACT symmetric PSD there (F5) (Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644). "
        "Derived symbolically for every layer kind, confirmed at certified stationary points, and "
        "planted false variants refuted.",
    ),
    Chapter(
        "f2",
        "F2: FACT away from convergence",
        "At any parameters W^T W - FACT = (1/lam) W^T grad_W L_lam: the FACT defect is a rescaled "
        "gradient, so FACT holds exactly where the gradient vanishes and approximately near it.",
    ),
    Chapter(
        "deep-linear",
        "Deep linear networks: balancedness and the NFA with alpha = 1/L",
        "For f(x) = W_L ... W_1 x, the imbalance D_j = W_{j+1}^T W_{j+1} - W_j W_j^T is conserved "
        "by gradient flow (D2), decays like exp(-2 lam t) with weight decay (D3) and vanishes at "
        "stationary points (D4); balanced networks obey the NFA W_1^T W_1 = AGOP^(1/L) exactly "
        "(D5, D6) (Tansley, Massart, Cartis, arXiv:2510.15563).",
    ),
    Chapter(
        "nfa",
        "The Neural Feature Ansatz on trained networks",
        "The NFA says W_1^T W_1 is proportional to AGOP^alpha (N2) (Radhakrishnan, Beaglehole, "
        "Pandit, Belkin, arXiv:2212.13881); it is measured here by Pearson correlation of matrix "
        "entries (N3) at certified stationary points. It is an ansatz, not a theorem.",
    ),
    Chapter(
        "counterexamples",
        "Counterexamples: where the NFA fails and FACT does not",
        "Certified stationary points (50 digits, re-checked at 70) at which the NFA fails: a "
        "quadratic network with anisotropic inputs, unbalanced deep linear networks without "
        "weight decay, dead ReLU units; FACT holds at the same points, and fails only where its "
        "hypothesis does (AdamW).",
    ),
    Chapter(
        "kernel",
        "Kernel expansion: why the NFA usually holds",
        "For a kernel machine with M = W^T W, AGOP = M S_tau M (K1) and FACT = (r/(n lam)) M S_k' "
        "(K2): they differ only by the pair weights tau against k' (K3).",
    ),
    Chapter(
        "rfm",
        "Recursive Feature Machines",
        "RFM alternates kernel ridge regression with an update of the metric M: NFA-RFM sets "
        "M = AGOP^s, FACT-RFM sets M = (FACT FACT^T)^(1/2). Fixed points, grokking of modular "
        "addition and the sparse-parity transition.",
    ),
    Chapter(
        "emergence",
        "Feature emergence from input structure",
        "A two-layer network learns the class-relevant patterns of its inputs and beats fixed "
        "features; without that structure it fails (Shi, Wei, Liang, arXiv:2206.01717), seen "
        "through FACT and the AGOP.",
    ),
    Chapter(
        "sweeps",
        "Sweeps: claims over a grid of settings",
        "Stored sweeps (factcheck report --sweep STORE): a claim checked at every point of a grid "
        "of sizes, activations or seeds; the verdict is the weakest over the points.",
    ),
)

#: the result each tag names, in the toolkit's ASCII maths notation (REFERENCE.md)
TAG_TITLES = {
    "F1": "W^T W = FACT at a stationary point",
    "F2": "W^T W - FACT = (1/lam) W^T grad_W L_lam at any point",
    "F4": "backward FACT: W W^T = bFACT",
    "F5": "FACT is symmetric PSD at a stationary point",
    "N1": "NFM and AGOP",
    "N2": "the NFA: W_1^T W_1 proportional to AGOP^alpha",
    "N3": "NFA correlation (Pearson, cosine)",
    "D1": "key identity W_{j+1}^T grad_{W_{j+1}} l = grad_{W_j} l W_j^T",
    "D2": "imbalance conserved by gradient flow",
    "D3": "imbalance decays like exp(-2 lam t)",
    "D4": "stationary points with weight decay are balanced",
    "D5": "balanced: W_1^T W_1 = AGOP^(1/L)",
    "D6": "layer j: alpha_j = 1/(L-j+1)",
    "D7": "consequences along gradient flow",
    "K1": "AGOP = M S_tau M",
    "K2": "FACT = (r/(n lam)) M S_k'",
    "K3": "NFA and FACT differ by tau against k'",
    "RFM": "Recursive Feature Machines",
    "S1": "the data model of feature emergence",
    "S4": "W^T W moves into the relevant patterns",
    "S6": "the network beats fixed features",
}

_BY_TAG = {"F1": "fact", "F4": "fact", "F5": "fact", "F2": "f2", "K1": "kernel", "K2": "kernel",
           "K3": "kernel", "RFM": "rfm"}  # fmt: skip


def chapter_of(e: ReportEntry) -> str:
    """The key of the entry's chapter (module docstring), or its section for an unknown one."""
    section = e.section.lower()
    if section.startswith("counterexample"):
        return "counterexamples"
    if section.startswith("sweep"):  # a grid of one claim: its own chapter, whatever the tag
        return "sweeps"
    if section.startswith("feature emergence") or e.tag.startswith("S"):
        return "emergence"
    if e.tag in _BY_TAG:
        return _BY_TAG[e.tag]
    if e.tag.startswith("D"):
        return "deep-linear"
    if e.tag.startswith("N"):
        return "nfa"
    return e.section


def by_chapter(entries: Sequence[ReportEntry]) -> list[tuple[Chapter, list[int]]]:
    """Chapters in lecture order with the indices of their entries (empty chapters left out)."""
    groups: dict[str, list[int]] = {}
    for k, e in enumerate(entries):
        groups.setdefault(chapter_of(e), []).append(k)
    known = {c.key: c for c in CHAPTERS}
    out = [(c, groups[c.key]) for c in CHAPTERS if c.key in groups]
    out += [(Chapter(_anchor(s), s, ""), ks) for s, ks in groups.items() if s not in known]
    return out


def _anchor(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "other"
