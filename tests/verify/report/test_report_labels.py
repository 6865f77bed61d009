"""One vocabulary for every output: roles, expected outcomes, ids, chapters, summary counts.

Synthetic entries (no producers run), so each rule is checked on its own: a real success is
never called planted, a planted variant that is REFUTED is as expected, a REFUTED theorem is a
surprise listed first, EXACT_AT_SIZES counts as verified (weaker than PROVED), ids are unique
and do not depend on the seed.
"""

from __future__ import annotations

import pytest

from verify.base.records import ReportEntry
from verify.report.chapters import by_chapter, chapter_of
from verify.report.html import render_html, scalable_svg
from verify.report.labels import as_expected, entry_ids, expected_of, role_of
from verify.report.markdown import render_markdown
from verify.report.summary import cli_table, headline, surprises, tag_rows


def _e(tag: str, verdict: str, section: str = "S", claim: str = "c", **kw: object) -> ReportEntry:
    return ReportEntry(section, claim, tag, verdict, "evidence", "reason", **kw)  # type: ignore[arg-type]


ENTRIES = [
    _e("F1", "PROVED", "FACT (symbolic)", "FACT for W^T W", expected="PROVED"),
    _e("F1", "EXACT_AT_SIZES", "FACT (symbolic)", "FACT at sizes", expected="PROVED"),
    _e("F1", "REFUTED", "FACT: planted variants", "sign flipped", theorem=False, role="planted"),
    _e("N2", "NUMERICALLY_CONSISTENT", "NFA", "NFA on tanh (seed 3)", theorem=False),
    _e("N2", "REFUTED", "Counterexamples", "NFA fails", theorem=False, role="known-failure"),
    _e("K3", "INCONCLUSIVE", "Recursive Feature Machines", "tau vs k'", theorem=False),
    _e("D4", "REFUTED", "Deep linear networks", "balanced at stationary points"),
]


def test_roles_and_expectations() -> None:
    """F1, N2: roles from the entry, expected outcomes per role, and whether they were met."""
    assert [role_of(e) for e in ENTRIES] == [
        "theorem", "theorem", "planted", "empirical", "known-failure", "empirical", "theorem"
    ]  # fmt: skip
    assert [expected_of(e) for e in ENTRIES] == [
        "PROVED", "PROVED", "REFUTED", "supported", "REFUTED", "supported", "supported"
    ]  # fmt: skip
    assert [as_expected(e) for e in ENTRIES] == [True, False, True, True, True, False, False]
    assert surprises(ENTRIES) == [1, 6, 5]  # theorems first


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"role": "guess"}, "role must be one of"),
        ({"role": "planted"}, "role 'planted' but theorem=True"),
        ({"expected": "MAYBE"}, "unknown expected outcome"),
    ],
)
def test_bad_labels_are_rejected(kw: dict[str, str], match: str) -> None:
    """F1: a producer that mislabels an entry is stopped with the rule it broke."""
    with pytest.raises(ValueError, match=match):
        expected_of(_e("F1", "PROVED", **kw))


def test_ids_unique_stable_and_seed_free() -> None:
    """F1: ids are slugs of section/tag/claim, made unique in order, without the seed."""
    ids = entry_ids(ENTRIES + [ENTRIES[0]])
    assert ids[0] == "fact-symbolic/f1/fact-for-w-t-w" and ids[-1] == ids[0] + "-2"
    assert ids[3] == "nfa/n2/nfa-on-tanh"
    assert len(set(ids)) == len(ids)
    long = _e("F1", "PROVED", claim="x " * 80)
    assert len(entry_ids([long])[0]) < 90 and entry_ids([long]) == entry_ids([long])
    assert entry_ids([_e("F1", "PROVED", key="fact/f1/linear")]) == ["fact/f1/linear"]


def test_chapters_in_lecture_order() -> None:
    """F1, F2, D4, N2, K3: entries go to the chapter of their subject, in lecture order."""
    extra = [_e("F2", "PROVED", "FACT (symbolic)"), _e("S6", "NUMERICALLY_CONSISTENT", "x")]
    extra += [_e("F1", "NUMERICALLY_CONSISTENT", "Sweeps")]  # a grid of F1: its own chapter
    entries = ENTRIES + extra + [_e("Q1", "PROVED", "Odd section")]
    assert [chapter_of(e) for e in entries[:6]] == [
        "fact", "fact", "fact", "nfa", "counterexamples", "kernel"
    ]  # fmt: skip
    keys = [c.key for c, _ in by_chapter(entries)]
    assert keys == [
        "fact", "f2", "deep-linear", "nfa", "counterexamples", "kernel", "emergence", "sweeps",
        "odd-section",
    ]  # fmt: skip


def test_summary_counts_per_result() -> None:
    """F1: per tag, PROVED / verified (EXACT_AT_SIZES named) / refuted expected or not."""
    rows = {r.tag: r for r in tag_rows(ENTRIES)}
    f1 = rows["F1"]
    assert (f1.proved, f1.verified, f1.refuted_expected, f1.total, f1.as_expected) == (
        1, {"EXACT_AT_SIZES": 1}, 1, 3, 2
    )  # fmt: skip
    assert rows["D4"].refuted_unexpected == 1 and rows["K3"].inconclusive == 1
    lines = headline(ENTRIES)
    assert lines[0] == "3 theorems: 1 PROVED, 1 EXACT_AT_SIZES, 1 REFUTED; 1 of 3 as expected"
    assert (
        lines[1]
        == "2 empirical claims: 1 NUMERICALLY_CONSISTENT, 1 INCONCLUSIVE; 1 of 2 as expected"
    )


def test_same_words_in_every_format() -> None:
    """N2: the empirical NFA success is 'empirical' (never 'planted') on the command line, in
    Markdown and in HTML; the refuted theorem is flagged in all three."""
    ids = entry_ids(ENTRIES)
    table = cli_table(ENTRIES).splitlines()
    nfa = next(line for line in table if line.startswith("N2") and "NUMERICALLY" in line)
    assert " empirical " in nfa and "planted" not in nfa and "supported (as expected)" in nfa
    d4 = next(line for line in table if line.startswith("D4"))
    assert "NOT AS EXPECTED" in d4
    md = render_markdown(ENTRIES, ids, {}, 1.0, True, 0)
    assert "*empirical claim*; **NUMERICALLY_CONSISTENT**; as expected (supported)" in md
    assert "*planted false variant*; **REFUTED**; as expected (REFUTED)" in md
    assert "**not as expected**" in md
    page = render_html(ENTRIES, ids, 1.0, True, 0)
    assert page.count("role-empirical'>empirical claim<") >= 2
    assert "not as expected: expected supported" in page and "<math" in page


def test_figures_scale() -> None:
    """D7: an SVG with a fixed width gets a viewBox and loses width/height, so it scales."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="590" height="380"><rect/></svg>'
    out = scalable_svg(svg)
    assert 'viewBox="0 0 590 380"' in out and 'width="590"' not in out and "<rect/>" in out


def test_unknown_verdict_is_rendered_not_fatal() -> None:
    """F1: a verdict name the toolkit does not know (a newer producer's) is shown by name in the
    counts, the headline, the command-line table, Markdown and HTML; it never supports the claim."""
    odd = _e("F1", "ENCLOSED_SOMEHOW", "Sweeps", "FACT over widths")
    entries = [*ENTRIES, odd]
    assert not as_expected(odd) and len(ENTRIES) in surprises(entries)
    f1 = {r.tag: r for r in tag_rows(entries)}["F1"]
    assert f1.other == {"ENCLOSED_SOMEHOW": 1} and f1.inconclusive == 0
    assert f1.undecided == "0, 1 ENCLOSED_SOMEHOW"
    assert headline(entries)[0].startswith("4 theorems: 1 PROVED, 1 EXACT_AT_SIZES, 1 REFUTED, "
                                           "1 ENCLOSED_SOMEHOW;")  # fmt: skip
    ids = entry_ids(entries)
    assert "ENCLOSED_SOMEHOW" in cli_table(entries)
    assert "| 0, 1 ENCLOSED_SOMEHOW |" in render_markdown(entries, ids, {}, 1.0, True, 0)
    page = render_html(entries, ids, 1.0, True, 0)
    assert "<span class='badge ENCLOSED_SOMEHOW'>ENCLOSED_<wbr>SOMEHOW</span>" in page
