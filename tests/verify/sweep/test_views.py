"""A sweep read back from its store: table, JSON, figures and the report section."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from verify.base.version import __version__
from verify.cli.main import main
from verify.sweep.figures import figures
from verify.sweep.spec import SweepSpec
from verify.sweep.store import SweepStore
from verify.sweep.table import spec_rows, table


def _fake_store(path: Path, spec: SweepSpec, skip: int = 0) -> None:
    """A store as a sweep would leave it, with made-up records (value = width * lam + seed),
    written without a cluster; the first ``skip`` points are left out."""
    with SweepStore(path) as store:
        store.set_meta("spec", spec.to_dict())
        for k, p in enumerate(spec.points()):
            if k < skip:
                continue
            pr = p.params
            verdict = (
                "REFUTED" if pr["width"] == 4 and pr["lam"] == 0.1 else "NUMERICALLY_CONSISTENT"
            )
            values = {"pearson": pr["width"] * pr["lam"] + pr["seed"], "status": "converged"}
            store.record(
                spec.task, p.key, __version__, {"verdict": verdict, "reason": "", "values": values}
            )


def _spec(**extra: object) -> SweepSpec:
    return SweepSpec.from_mapping(
        {
            "name": "v",
            "task": "verify-nfa",
            "seeds": [0, 2],
            "record": ["pearson", "status"],
            "grid": {"activation": ["tanh", "relu"], "lam": [0.01, 0.1], "width": [2, 4, 8]},
            **extra,
        }
    )


def test_table_lists_points_in_spec_order_and_counts_verdicts(tmp_path: Path) -> None:
    """N2: the table has the varying axes, the seed, the verdict and the recorded quantities;
    points not yet stored are counted as missing."""
    spec = _spec()
    _fake_store(tmp_path / "s.sqlite", spec, skip=3)
    with SweepStore(tmp_path / "s.sqlite") as store:
        rows = spec_rows(spec, store)
        text = table(spec, rows)
    lines = text.splitlines()
    assert lines[0].split() == [
        "activation",
        "lam",
        "width",
        "seed",
        "verdict",
        "pearson",
        "status",
    ]
    assert len(rows) == 24 - 3 and lines[1].split()[:4] == ["tanh", "0.01", "4", "2"]
    assert "21 of 24 points stored (17 NUMERICALLY_CONSISTENT, 4 REFUTED)" in lines[-1]


def test_heatmap_cells_are_means_over_seeds_and_flag_refutations(tmp_path: Path) -> None:
    """N2: one heatmap per numeric quantity, rows = the other axes, columns = x; a cell is the
    mean over seeds (width * lam + 1 here) and carries "R" where a point was REFUTED."""
    spec = _spec()
    _fake_store(tmp_path / "s.sqlite", spec)
    with SweepStore(tmp_path / "s.sqlite") as store:
        figs = figures(spec, spec_rows(spec, store))
    assert list(figs) == ["pearson"]  # "status" is not a number
    root = ET.fromstring(figs["pearson"])
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "activation=relu, lam=0.1" in texts and "mean over 2 seeds" in texts[0]
    assert "1.04" in texts and "1.4 R" in texts  # width 4 x lam 0.01 + 1; refuted cell
    assert any((t or "").startswith("R: REFUTED") for t in texts)


def test_line_plot_for_one_numeric_axis_and_error_for_a_categorical_line(tmp_path: Path) -> None:
    """N2: one varying numeric axis gives a line plot; a line over a categorical x is refused."""
    spec = _spec().with_overrides(fixed=[("activation", "tanh"), ("lam", "0.1")])
    _fake_store(tmp_path / "s.sqlite", spec)
    with SweepStore(tmp_path / "s.sqlite") as store:
        figs = figures(spec, spec_rows(spec, store))
    assert "<polyline" in figs["pearson"] and "<rect x=" in figs["pearson"]
    bad = SweepSpec.from_mapping(
        {"task": "verify-nfa", "grid": {"activation": ["tanh", "relu"]}, "plot": {"kind": "line"}}
    )
    from theory._errors import InputError

    with pytest.raises(InputError, match="plot kind must be heatmap when x is not numeric"):
        figures(bad, [])


def test_show_prints_the_table_and_json_exports_every_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """N2: `factcheck sweep --show STORE` prints the table (no dask needed); --json exports."""
    spec = _spec()
    path = tmp_path / "s.sqlite"
    _fake_store(path, spec)
    assert main(["sweep", "--show", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "24 of 24 points stored" in capsys.readouterr().out
    assert (tmp_path / "out" / "pearson.svg").exists()
    assert main(["sweep", "--show", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "factcheck-sweep/1" and len(data["points"]) == 24
    assert data["spec"]["grid"]["width"] == [2, 4, 8]


def test_report_gets_a_sweep_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """N2: `factcheck report --sweep STORE --only sweeps` writes the sweep's section: an entry
    per figure, the worst verdict over the points, and every point in results.json."""
    spec = _spec()
    path = tmp_path / "s.sqlite"
    _fake_store(path, spec)
    out = tmp_path / "report"
    assert main(["report", "--sweep", str(path), "--only", "sweeps", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())["claims"]
    assert [c["data"]["quantity"] for c in results] == ["pearson"]
    (entry,) = results
    assert entry["section"] == "Sweeps" and entry["tag"] == "N2" and entry["verdict"] == "REFUTED"
    assert "24 of 24 points stored" in entry["reason"] and len(entry["data"]["points"]) == 24
    assert entry["has_figure"] and "<svg" in (out / "report.html").read_text()
    with pytest.raises(SystemExit):
        main(["report", "--sweep"])
    assert main(["report", "--sweep", str(tmp_path / "none.sqlite"), "--out", str(out)]) == 2
    assert "STORE must be an existing sweep store" in capsys.readouterr().err
