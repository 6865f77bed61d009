"""The counterexample chapter of report.html: each family and its certified witness as tables.

A counterexample family (:mod:`verify.counterexamples.families`) is a sequence of problems
indexed by one parameter (the input anisotropy kappa, the unbalanced scale s, the dead unit's
norm, the optimizer) along which a claim goes from holding to failing; its last member is
trained to a stationary point and certified at 50 digits, then re-checked at 70. A lecturer
shows three things, in this order, and this module renders them from the entry's data (the
dictionary :meth:`FamilyResult.to_dict` writes into results.json):

1. the family: one row per member, the parameter first (the claim holding, then failing);
2. the witness: the network, the data size, lam, the gradient norm at 50 digits against its
   rounding floor, and the re-check at 70 digits;
3. what fails there, layer by layer (the NFA correlation at the best alpha and its threshold, or
   the imbalance against its tolerance), and FACT at the same point, which holds (F1 within its
   tolerance: the hypothesis of the theorem is met, so the NFA, not FACT, is what fails).

:func:`family_parts` builds these as captions and tables; :func:`family_html` and
:func:`family_markdown` render them for report.html and report.md. The plain-text details stay
available, folded, under the tables. An entry whose data is not a family result (another
producer's) gets ``None`` and is shown as its text, as before.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from theory.typeset.prose import prose_html, prose_markdown
from verify.base.records import ReportEntry

__all__ = ["Part", "family_html", "family_markdown", "family_parts", "number"]

esc = html.escape

#: column labels of the family tables, in the order of the columns; a key not listed comes last,
#: shown with spaces for underscores
_LABELS = {
    "kappa": "κ (input std ratio)",
    "s": "s",
    "lam": "λ",
    "optimizer": "optimizer",
    "float64_status": "float64 training",
    "stationary_point_status": "stationary point",
    "best_alpha": "best α",
    "best_correlation": "max(Pearson, cosine) at best α",
    "corr_alpha_1/2": "max(Pearson, cosine) at α = 1/2",
    "imbalance_rel": "relative imbalance",
    "fact_rel_error_float64": "FACT rel. error (float64)",
    "fact_rel_error_max": "FACT rel. error",
    "fact_rel_error_max_50_digits": "FACT rel. error (50 digits)",
    "f2_bound_rel_max": "F2 bound (rel.)",
    "grad_L_lam": "‖∇L_λ‖",
    "grad_L_data": "‖∇L_data‖",
    "distance_to_stationary_point_rel": "distance to the stationary point (rel.)",
    "last_step_norm": "last step",
    "update_direction_norm": "update direction",
    "steps": "steps",
}


#: a table: column heads, rows of cells, and which columns are numeric (right-aligned)
Table = tuple[list[str], list[list[Any]], list[bool]]


@dataclass(frozen=True)
class Part:
    """A caption (``lead`` in bold, then ``text``; ``prose``: text holds ASCII maths to typeset;
    ``note``: a small-print remark) and an optional table (head, rows, numeric columns)."""

    lead: str
    text: str = ""
    prose: bool = False
    note: bool = False
    table: Table | None = None


def number(x: Any, alpha: bool = False) -> str:
    """A table cell: floats to 4 significant digits; with ``alpha``, exact fractions of small
    denominator as p/q (the exponents 1/8, 1/3 of the NFA grid)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if alpha and 0 < abs(x) < 1:  # finite here, so it has a ratio
        frac = Fraction(x).limit_denominator(16)
        if abs(float(frac) - x) < 1e-12:
            return f"{frac.numerator}/{frac.denominator}"
    return f"{x:.4g}"  # nan and inf as such


#: columns whose values are NFA exponents (shown as fractions)
_ALPHAS = {"best_alpha", "best α"}


def _table_html(table: Table) -> str:
    """A card table (stacks below 640 px, each cell labelled by its column)."""
    head, rows, numeric = table
    th = "".join(
        f"<th{' class=num' if isnum else ''}>{esc(h)}</th>"
        for h, isnum in zip(head, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td data-label='{esc(h)}'{' class=num' if isnum else ''}>"
            f"{esc(number(c, h in _ALPHAS))}</td>"
            for h, c, isnum in zip(head, row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table class='cards'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _table_markdown(table: Table) -> list[str]:
    head, rows, numeric = table
    bar = str.maketrans({"|": "\\|"})
    lines = [
        "| " + " | ".join(h.translate(bar) for h in head) + " |",
        "|" + "|".join("---:" if isnum else "---" for isnum in numeric) + "|",
    ]
    for row in rows:
        cells = [number(c, h in _ALPHAS).translate(bar) for h, c in zip(head, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _family(data: Mapping[str, Any]) -> list[Part]:
    seq = [r for r in data.get("sequence", []) if isinstance(r, Mapping)]
    if not seq:
        return []
    named = str(data.get("parameter", "")).split(" ")[0]  # "kappa (input std ratio)": kappa
    first = [named] if named in seq[0] else []  # the family's parameter, first
    order = list(_LABELS)  # columns in the order of _LABELS, unknown ones last
    rest = sorted((k for k in seq[0] if k not in first), key=lambda k: (k not in order,
                  order.index(k) if k in order else 0, k))  # fmt: skip
    keys = first + rest
    head = [_LABELS.get(k, k.replace("_", " ")) for k in keys]
    rows = [[r.get(k, "") for k in keys] for r in seq]
    numeric = [all(isinstance(r.get(k), (int, float)) for r in seq) for k in keys]
    parts = [
        Part(
            "The family",
            f", indexed by {data.get('parameter', 'its parameter')}: {len(seq)} members, "
            "trained in float64, the last one certified:",
            table=(head, rows, numeric),
        )
    ]
    if data.get("note"):
        parts.append(Part("", str(data["note"]), prose=True, note=True))
    return parts


def _witness(cert: Mapping[str, Any]) -> Part:
    net = cert.get("network") or {}
    recheck = cert.get("recheck") or {}
    sizes = ", ".join(str(s) for s in net.get("sizes", []))
    parts = [
        f"MLP ({sizes}), {net.get('activation', '?')} activation, {net.get('loss', '?')} loss"
        + (", with biases" if net.get("bias") else ""),
        f"n = {net.get('n', '?')} points, λ = {number(net.get('lam', 0.0))}",
    ]
    if "grad_norm_dps" in cert:
        parts.append(
            f"‖∇L_λ‖ = {number(cert['grad_norm_dps'])} at {cert.get('dps', '?')} digits "
            f"(rounding floor {number(cert.get('grad_floor_dps', float('nan')))}), "
            f"{number(cert.get('grad_norm_float64', float('nan')))} in float64"
        )
    if recheck:
        agrees = "agrees" if recheck.get("agrees") else "does NOT agree"
        parts.append(
            f"re-checked at {recheck.get('dps', '?')} digits: ‖∇L_λ‖ = "
            f"{number(recheck.get('grad_norm', float('nan')))}, the violation "
            f"{number(recheck.get('violation', float('nan')))} {agrees}"
        )
    return Part("The certified witness", ": " + "; ".join(parts) + ".")


def _nfa_rows(details: Mapping[str, Any]) -> list[Part]:
    layers = details.get("layers") or []
    threshold = details.get("threshold")
    if not layers or threshold is None:
        return []
    head = ["layer", "best α", "max(Pearson, cosine)", "α → 0 cosine", "threshold", "NFA"]
    rows = [
        [
            r.get("layer"),
            r.get("best_alpha"),
            r.get("best_correlation"),
            r.get("alpha_to_0_cosine"),
            threshold,
            "holds" if r.get("best_correlation", 0.0) >= threshold else "FAILS",
        ]
        for r in layers
    ]
    numeric = [True, True, True, True, True, False]
    return [Part("The NFA at the witness", ", per layer:", table=(head, rows, numeric))]


def _imbalance_rows(details: Mapping[str, Any]) -> list[Part]:
    rows = details.get("imbalances") or []
    if not rows:
        return []
    head = ["j", "relative imbalance of D_j", "tolerance", "balanced"]
    body = [
        [r.get("j"), r.get("imbalance_rel"), r.get("tolerance"),
         "yes" if r.get("imbalance_rel", 1.0) <= r.get("tolerance", 0.0) else "NO"]
        for r in rows
    ]  # fmt: skip
    table = (head, body, [True, True, True, False])
    return [Part("Balancedness at the witness", " (D4):", table=table)]


def _fact_rows(cert: Mapping[str, Any]) -> list[Part]:
    rows = cert.get("fact") or []
    if not rows:
        return []
    head = ["layer", "FACT relative error", "tolerance", "FACT (F1)"]
    body = [
        [r.get("layer"), r.get("rel_error"), r.get("tolerance"),
         "holds" if r.get("rel_error", 1.0) <= r.get("tolerance", 0.0) else "FAILS"]
        for r in rows
    ]  # fmt: skip
    text = f", at {cert.get('dps', '?')} digits (tolerance: the F2 bound plus rounding):"
    return [Part("FACT at the same point", text, table=(head, body, [True, True, True, False]))]


def family_parts(e: ReportEntry) -> list[Part] | None:
    """The captions and tables of a counterexample family entry (module docstring), or None
    for any other entry."""
    data = e.data
    if not isinstance(data, Mapping) or "family" not in data or "sequence" not in data:
        return None
    cert = data.get("certificate") or {}
    fact_entry = e.tag == "F1" and data.get("claim") != "fact"  # FACT at another claim's witness
    parts = []
    if data.get("statement") and not fact_entry:
        parts.append(Part("The claim tested", ": " + str(data["statement"]), prose=True))
    if not fact_entry:
        parts += _family(data)
    if cert:
        parts.append(_witness(cert))
        details = cert.get("details") or {}
        if not fact_entry:
            parts += _nfa_rows(details) + _imbalance_rows(details)
        parts += _fact_rows(cert)
    return parts


def family_html(e: ReportEntry) -> str | None:
    """The entry's parts as HTML (paragraphs and card tables), or None (:func:`family_parts`)."""
    parts = family_parts(e)
    if parts is None:
        return None
    out = []
    for p in parts:
        lead = f"<b>{esc(p.lead)}</b>" if p.lead else ""
        text = prose_html(p.text) if p.prose else esc(p.text)
        out.append(f"<p{' class=meta' if p.note else ''}>{lead}{text}</p>")
        if p.table:
            out.append(_table_html(p.table))
    return "<div class='witness'>" + "".join(out) + "</div>"


def family_markdown(e: ReportEntry) -> list[str] | None:
    """The entry's parts as Markdown lines (paragraphs and tables), or None."""
    parts = family_parts(e)
    if parts is None:
        return None
    md: list[str] = []
    for p in parts:
        lead = f"**{p.lead}**" if p.lead else ""
        text = prose_markdown(p.text) if p.prose else p.text
        md += [f"*{lead}{text}*" if p.note else lead + text, ""]
        if p.table:
            md += [*_table_markdown(p.table), ""]
    return md
