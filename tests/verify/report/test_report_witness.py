"""The counterexample chapter as tables: the family, the certified witness, what fails there and
FACT at the same point (verify.report.witness).

The entries are those of a quick ``factcheck report --only Counterexamples`` run (seed 0), as
results.json holds them (data/counterexample_entries.json; the 50-digit parameter vectors left
out), so the tables are checked against real certificates without rerunning the search.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from verify.base.records import ReportEntry
from verify.report.html import render_html
from verify.report.labels import entry_ids
from verify.report.markdown import render_markdown
from verify.report.witness import family_html, family_markdown, number

DATA = Path(__file__).with_name("data") / "counterexample_entries.json"


def fixture_entries() -> list[ReportEntry]:
    """The counterexample entries of the fixture as ReportEntry objects."""
    return [ReportEntry(seconds=0.0, **e) for e in json.loads(DATA.read_text())]


ENTRIES = fixture_entries()


def _rows(page: str, caption: str) -> list[list[str]]:
    """The cells of the first table after ``caption``."""
    table = page[page.index(caption) :]
    table = table[table.index("<tbody>") : table.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in table.split("<tr>")[1:]]


def test_quadratic_family_witness_and_failure() -> None:
    """N2, F1: the kappa family in order, the witness at 50 digits re-checked at 70, the NFA
    failing at layer 1 (best alpha 1/8, 0.4135 < 0.9), FACT holding in both layers."""
    page = family_html(ENTRIES[0])
    assert page is not None
    family = _rows(page, "The family")
    assert [r[0] for r in family] == ["1", "10", "100", "316"]  # the parameter first, in order
    assert family[-1][1:5] == ["4.655e-09", "max_iter", "1/8", "0.4135"]
    assert "‖∇L_λ‖ = 2.271e-50 at 50 digits (rounding floor 2.744e-49)" in page
    assert "re-checked at 70 digits" in page and "agrees" in page
    assert _rows(page, "The NFA at the witness") == [
        ["1", "1/8", "0.4135", "0.5279", "0.9", "FAILS"]
    ]
    fact = _rows(page, "FACT at the same point")
    assert [(r[0], r[3]) for r in fact] == [("1", "holds"), ("2", "holds")]
    assert fact[1][1:3] == ["5.297e-43", "5.329e-43"]  # error just inside its tolerance


def test_fact_entry_shows_fact_only() -> None:
    """F1: the entry "FACT holds at the same certified witness" shows the witness and FACT per
    layer, not the NFA's family or its failure."""
    page = family_html(ENTRIES[1])
    assert page is not None and ENTRIES[1].tag == "F1"
    assert "FACT at the same point" in page and "The certified witness" in page
    assert "The NFA at the witness" not in page and "The family" not in page


def test_imbalance_and_adamw_tables() -> None:
    """D4, F1: the unbalanced witness lists D_1 far above its tolerance; the AdamW family lists
    the optimizers with their gradient norms (no certificate: no witness paragraph)."""
    balance = family_html(ENTRIES[3])
    assert balance is not None
    assert _rows(balance, "Balancedness at the witness") == [["1", "0.7302", "7.216e-50", "NO"]]
    adamw = family_html(ENTRIES[5])
    assert adamw is not None and "The certified witness" not in adamw
    optimizers = [r[0] for r in _rows(adamw, "The family")]
    assert optimizers[0] == "Adam (L2 in the gradient)" and any("AdamW" in o for o in optimizers)


def test_other_entries_keep_their_text() -> None:
    """F1: an entry that is not a family result gets no tables; the page folds the full text
    of family entries under the tables."""
    plain = ReportEntry("FACT (symbolic)", "c", "F1", "PROVED", "e", "r", details="x\ny")
    assert family_html(plain) is None
    page = render_html(ENTRIES, entry_ids(ENTRIES), 1.0, True, 0)
    assert page.count("<summary>Full text</summary>") == len(ENTRIES)


def test_markdown_tables() -> None:
    """N2, F1: report.md shows the same tables (GitHub Markdown), the full text folded."""
    md = family_markdown(ENTRIES[0])
    assert md is not None
    assert "| 316 | 4.655e-09 | max_iter | 1/8 | 0.4135 | 1.794e-05 |" in md
    assert "| 1 | 1/8 | 0.4135 | 0.5279 | 0.9 | FAILS |" in md
    assert "| 2 | 5.297e-43 | 5.329e-43 | holds |" in md
    assert md[0].startswith("**The claim tested**: $W^{T} W")
    doc = render_markdown(ENTRIES, entry_ids(ENTRIES), {}, 1.0, True, 0)
    assert doc.count("<details><summary>Full text</summary>") == len(ENTRIES)


@pytest.mark.parametrize(
    ("x", "alpha", "text"),
    [(0.125, True, "1/8"), (1 / 3, True, "1/3"), (0.9, False, "0.9"), (0.4134831, True, "0.4135"),
     (4.654985e-09, False, "4.655e-09"), (316, False, "316"), ("max_iter", False, "max_iter"),
     (float("nan"), True, "nan"), (float("inf"), True, "inf"), (0.3, True, "3/10")],
)  # fmt: skip
def test_numbers(x: object, alpha: bool, text: str) -> None:
    """N2: exponents as fractions, everything else to 4 significant digits; nan and inf as such
    (a missing value of a certificate never stops the page)."""
    assert number(x, alpha) == text
