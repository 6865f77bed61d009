"""The report's entry "FACT holds at the same certified quadratic witness": its own evidence."""

from __future__ import annotations

from typing import Any

from verify.counterexamples import families


class _Certificate:
    """The two things the entry reads from a certificate: its text and its FACT rows."""

    fact: list[dict[str, Any]] = [
        {"layer": 1, "rel_error": 2.07e-43, "tolerance": 1.1e-40},
        {"layer": 2, "rel_error": 7.41e-43, "tolerance": 9.0e-41},
    ]

    def to_text(self) -> str:
        return (
            "[N2] W^T W ~ AGOP^alpha for some alpha in the grid\n"
            "verdict: REFUTED - counterexample at a certified stationary point\n"
            "witness: MLP (5, 5, 1), quadratic, lam=4.65e-09, n=48; ||grad L_lam|| = 2.3e-50\n"
            "FACT relative error per layer: 2.07e-43, 7.41e-43\n"
        )


def test_fact_entry_details_are_fact_rows_not_the_nfa_verdict() -> None:
    """F1: the NUMERICALLY_CONSISTENT FACT entry lists FACT per layer with its tolerance and the
    witness; it does not repeat the NFA family's "verdict: REFUTED"."""
    text = families._fact_rows(_Certificate())  # type: ignore[arg-type]
    assert "REFUTED" not in text and "verdict" not in text
    assert text.splitlines() == [
        "witness: MLP (5, 5, 1), quadratic, lam=4.65e-09, n=48; ||grad L_lam|| = 2.3e-50",
        "layer 1: FACT relative error 2.07e-43 (tolerance 1.1e-40)",
        "layer 2: FACT relative error 7.41e-43 (tolerance 9e-41)",
    ]


def test_family_entries_get_their_expected_outcomes() -> None:
    """F1, N2: the report's family entries are as expected: the known failures REFUTED, the
    FACT entry at the witness supported, and AdamW INCONCLUSIVE, its end point being outside
    FACT's hypothesis (a REFUTED there, or an expectation of REFUTED, would misreport FACT)."""
    from verify.report.labels import as_expected, expected_of

    entries = families.family_report_entries(quick=True)
    adamw = [e for e in entries if "[family adamw]" in e.claim]
    assert len(adamw) == 1 and expected_of(adamw[0]) == "INCONCLUSIVE"
    assert adamw[0].verdict == "INCONCLUSIVE"
    assert all(as_expected(e) for e in entries), [(e.claim, e.verdict) for e in entries]
