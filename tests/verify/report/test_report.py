"""``factcheck report``: files written, self-contained HTML, deterministic JSON, exit status."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

import verify.report.builder as report
from theory import InputError
from verify.base.records import ReportEntry
from verify.cli.main import main

FAST = (
    ("verify.claims.f2", "report_entries", "FACT (numeric F2)", ("F2",)),
    ("verify.deep_linear.flow", "report_entries", "Deep linear networks", ("D1", "D7")),
)


class _Resources(HTMLParser):
    """Collects every external resource a page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)


@pytest.fixture
def fast_producers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "PRODUCERS", FAST)


def test_report_files_and_self_contained_html(tmp_path: Path, fast_producers: None) -> None:
    """F2, D7: report.html, report.md, results.json; HTML self-contained with inline figures."""
    assert report.run_report(out=str(tmp_path), quick=True) == 0
    page = (tmp_path / "report.html").read_text()
    parser = _Resources()
    parser.feed(page)
    assert parser.external == []  # nothing to fetch: figures inline, no MathJax, no CSS files
    svgs = page.count("<svg")
    assert svgs >= 1
    start = page.index("<svg")
    ET.fromstring(page[start : page.index("</svg>", start) + 6])  # well-formed SVG
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["claims"], "no claims"
    for claim in data["claims"]:
        assert claim["verdict"] in {
            "PROVED",
            "CERTIFIED",
            "EXACT_AT_SIZES",
            "NUMERICALLY_CONSISTENT",
            "INCONCLUSIVE",
            "REFUTED",
        }
        assert claim["evidence"] and claim["reason"]
        assert claim["role"] in {"theorem", "empirical", "planted", "known-failure"}
        assert claim["expected"] in {"supported", "PROVED", "REFUTED", "INCONCLUSIVE"}
        assert claim["as_expected"] is True and "typeset" not in claim
    ids = [c["id"] for c in data["claims"]]
    assert (
        len(set(ids)) == len(ids) and "fact-numeric-f2/f2/f2-at-random-parameters-single" in ids[0]
    )
    assert "<meta name='viewport'" in page and "<math" in page and "id='summary'" in page
    assert "width=" not in page[page.index("<svg") : page.index(">", page.index("<svg"))]
    md = (tmp_path / "report.md").read_text()
    assert "| result | proved | verified | inconclusive | refuted | as expected |" in md
    assert "## Contents" in md and "$$" in md  # derivations as display maths
    for fig in (tmp_path / "figures").glob("*.svg"):
        assert f"({fig.relative_to(tmp_path).as_posix()})" in md


def test_same_seed_same_results_json(tmp_path: Path, fast_producers: None) -> None:
    """F2, D7: the same seed gives byte-identical results.json."""
    report.run_report(out=str(tmp_path / "a"), quick=True, seed=3)
    report.run_report(out=str(tmp_path / "b"), quick=True, seed=3)
    a = (tmp_path / "a" / "results.json").read_bytes()
    assert a == (tmp_path / "b" / "results.json").read_bytes()


def test_refuted_theorem_gives_nonzero_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: a REFUTED theorem makes the report exit 1; a refuted planted variant does not."""
    fake = ModuleType("fake_producer")

    def entries(quick: bool, seed: int, theorem: bool = True) -> list[ReportEntry]:
        return [ReportEntry("S", "claim", "F1", "REFUTED", "e", "r", theorem=theorem)]

    fake.report_entries = entries  # type: ignore[attr-defined]
    fake.planted = lambda quick, seed: entries(quick, seed, False)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_producer", fake)
    monkeypatch.setattr(report, "PRODUCERS", (("fake_producer", "planted", "S", ("F1",)),))
    assert report.run_report(out=str(tmp_path / "p"), quick=True) == 0
    monkeypatch.setattr(report, "PRODUCERS", (("fake_producer", "report_entries", "S", ("F1",)),))
    assert report.run_report(out=str(tmp_path / "t"), quick=True) == 1


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--jobs", "0"], "--jobs must be an integer >= 1; got 0"),
        (["--only", "Z9"], "--only must name only known items"),
    ],
)
def test_bad_input(
    argv: list[str],
    match: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fast_producers: None,
) -> None:
    """F1: bad report options exit 2 with one line naming the option, and write nothing."""
    out = tmp_path / "r"
    assert main(["report", "--quick", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert not out.exists()
    with pytest.raises(InputError):
        report.run_report(
            out=str(out), quick=True, **({"jobs": 0} if "--jobs" in argv else {"only": "Z9"})
        )


def test_attachments_are_written_and_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N2: certificates attached to an entry land in DIR/certificates and in results.json."""
    fake = ModuleType("fake_cert_producer")
    fake.report_entries = lambda quick, seed: [  # type: ignore[attr-defined]
        ReportEntry(
            "S",
            "claim",
            "N2",
            "REFUTED",
            "e",
            "r",
            theorem=False,
            attachments={"cx 1.npz": b"PK-bytes"},
        )
    ]
    monkeypatch.setitem(sys.modules, "fake_cert_producer", fake)
    monkeypatch.setattr(
        report, "PRODUCERS", (("fake_cert_producer", "report_entries", "S", ("N2",)),)
    )
    assert report.run_report(out=str(tmp_path), quick=True) == 0
    assert (tmp_path / "certificates" / "cx-1.npz").read_bytes() == b"PK-bytes"
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["claims"][0]["files"] == ["certificates/cx-1.npz"]
    assert "attachments" not in data["claims"][0]
