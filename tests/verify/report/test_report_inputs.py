"""``factcheck report``: --only selects what it names, the declared tags are the real ones, and a
rerun replaces the previous report as a whole."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

import verify.report.builder as report
from verify.base.records import ReportEntry


def _fake(monkeypatch: pytest.MonkeyPatch, figures: int) -> None:
    """One producer, section "P", whose entries carry their own section "X" and tags T1, T2."""
    fake = ModuleType("fake_sections")

    def entries(quick: bool, seed: int) -> list[ReportEntry]:
        return [
            ReportEntry(
                "X", f"claim {k}", f"T{1 + k % 2}", "PROVED", "e", "r", figure_svg="<svg></svg>"
            )  # fmt: skip
            for k in range(figures)
        ]

    fake.report_entries = entries  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_sections", fake)
    monkeypatch.setattr(
        report, "PRODUCERS", (("fake_sections", "report_entries", "P", ("T1", "T2")),)
    )


def test_only_a_section_keeps_all_its_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (inputs): --only SECTION keeps every entry of that producer (entries may name their
    own sections); --only TAG keeps the entries with that tag."""
    _fake(monkeypatch, 4)
    assert len(report.collect(quick=True, only="p")) == 4
    assert [e.tag for e in report.collect(quick=True, only="T2")] == ["T2", "T2"]


def test_rerun_replaces_the_previous_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1 (files): a second report into the same folder leaves nothing of the first (no stale
    figure), and the folder is accepted because it holds only report files."""
    out = tmp_path / "rep"
    _fake(monkeypatch, 4)
    assert report.run_report(out=str(out), quick=True) == 0
    assert len(list((out / "figures").iterdir())) == 4
    _fake(monkeypatch, 1)
    assert report.run_report(out=str(out), quick=True) == 0
    assert [p.name for p in (out / "figures").iterdir()] == ["00-t1.svg"]
    assert len(json.loads((out / "results.json").read_text())["claims"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


@pytest.mark.slow
def test_declared_tags_are_the_tags_of_the_entries() -> None:
    """F1 (inputs): each producer's declared tags are exactly the tags of its entries, so every
    tag that --only accepts selects something (runs every producer, quick sizes)."""
    for mod, fn, section, tags in report.PRODUCERS:
        entries = report._run_producer(mod, fn, quick=True, seed=0)
        assert sorted({e.tag for e in entries}) == sorted(tags), section
