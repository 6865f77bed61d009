"""`factcheck sweep` on the command line: the NFA-violation example interrupted with Ctrl-C and
resumed, the message without dask, light start-up, and every bad input (exit 2, nothing
written)."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from verify.cli.main import main
from verify.sweep.store import SweepStore

from .conftest import stored

HAVE_DASK = importlib.util.find_spec("distributed") is not None
_CLI = "import sys; from verify.cli.main import main; sys.exit(main(sys.argv[1:]))"
#: the NFA-violation example, cut to 12 points (2 activations x 3 lam x 2 widths)
EXAMPLE = [
    "sweep",
    "nfa-violation",
    "--grid",
    "activation=tanh,quadratic",
    "--grid",
    "width=4,8",
    "--workers",
    "2",
    "--store",
    "nfa.sqlite",
    "--out",
    "nfa",
]


def _count(path: Path) -> int:
    try:
        con = sqlite3.connect(path)
        try:
            return int(con.execute("SELECT COUNT(*) FROM points").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.skipif(
    not HAVE_DASK, reason="the sweep extra is not installed (pip install '.[sweep]')"
)
@pytest.mark.usefixtures("no_leaked_processes")
def test_ctrl_c_leaves_a_consistent_store_and_a_rerun_finishes_only_the_rest(
    tmp_path: Path,
) -> None:
    """N2: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) after a few points:
    exit 130, whole records only, no process left; the same command again runs only the missing
    points, keeps the stored ones untouched, and writes the table and the heatmap."""
    store = tmp_path / "nfa.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLI, *EXAMPLE],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while _count(store) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    done = _count(store)
    assert 3 <= done < 12, f"interrupted after {done} of 12 points: raise the grid"
    assert f"interrupted; {done} of 12 points are in nfa.sqlite" in err
    assert "Traceback" not in err  # workers ignore SIGINT; the sweep's process handles it
    con = sqlite3.connect(store)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    before = dict(con.execute("SELECT params, finished || worker FROM points"))
    con.close()
    again = subprocess.run(
        [sys.executable, "-c", _CLI, *EXAMPLE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert f"{done} already in nfa.sqlite, {12 - done} to run" in again.stderr
    assert again.stderr.count("[nfa-violation] ") == 12 - done  # one progress line per point
    con = sqlite3.connect(store)
    after = dict(con.execute("SELECT params, finished || worker FROM points"))
    con.close()
    assert len(after) == 12 and all(after[k] == v for k, v in before.items())
    assert "12 of 12 points stored" in again.stdout
    assert (tmp_path / "nfa" / "table.txt").read_text().strip() == again.stdout.strip()
    assert "<svg" in (tmp_path / "nfa" / "nfa_violation.svg").read_text()
    assert len(stored(store)) == 12


def test_without_dask_the_message_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """N2: without dask.distributed, `factcheck sweep` exits 2 with one line naming
    pip install '.[sweep]'; --show of a store and --list need no dask."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    code = main(
        ["sweep", "--task", "verify-fact", "--store", str(tmp_path / "s.sqlite"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "pip install '.[sweep]'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.sqlite").exists()
    SweepStore(tmp_path / "empty.sqlite").close()
    assert main(["sweep", "--show", str(tmp_path / "empty.sqlite")]) == 0
    assert main(["sweep", "--list"]) == 0
    assert "verify-nfa" in capsys.readouterr().out


def test_list_and_print_spec_load_no_numpy_and_no_dask() -> None:
    """N2: `factcheck sweep --list` and `--print-spec` start without NumPy or dask."""
    code = (
        "import sys, contextlib, io\n"
        "from verify.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['sweep', '--list']) == 0\n"
        "    assert main(['sweep', 'fact-gd', '--print-spec']) == 0\n"
        "print(sorted(m for m in ('numpy', 'distributed', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


BAD_ARGS = [
    (["--workers", "0"], r"--workers must be >= 1"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], r"--workers must be left out"),
    (["--scheduler", "127.0.0.1:8786"], r"--scheduler must look like tcp://HOST:PORT"),
    (["--seeds", "a"], r"--seeds must look like 0,1,2 or 0-4"),
    (["--seeds", "1,1"], r"--seeds must list distinct integers"),
    (["--seeds", "0,9223372036854775808"], r"--seeds must be an integer from 0 to 2\*\*63 - 1"),
    (["--grid", "width=4,100000000"], r"sweep point must keep the estimated memory within"),
    (["--set", "lam=1,2"], r"--set must give one value"),
    (["--grid", "lam"], r"--grid must look like name=v1,v2"),
    (["--grid", "lam=-1"], r"parameter 'lam' must be > 0; got '-1'"),
    (["--record", "speed"], r"record must name quantities of the verify-fact task"),
    (["--name", "../x"], r"--name: name must be 1-64 letters"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_ARGS)
def test_bad_command_lines_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    """N2: bad input is one line on stderr naming the option, exit 2, no store written."""
    store = tmp_path / "s.sqlite"
    argv = ["sweep", "--task", "verify-fact", "--store", str(store), "--quiet", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not store.exists()


def test_spec_and_store_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """N2: no SPEC, SPEC with --task, an unknown SPEC and a store that is someone else's file:
    exit 2, the file untouched."""
    assert main(["sweep"]) == 2
    assert main(["sweep", "nfa-violation", "--task", "verify-nfa"]) == 2
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 100)
    assert main(["sweep", "--task", "verify-fact", "--store", str(notes), "--quiet"]) == 2
    assert notes.read_text() == "my notes\n" * 100
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[2].strip().split()[0] for line in err] == [
        "SPEC",
        "--task",
        "SPEC",
        "STORE",
    ]


@pytest.mark.skipif(not HAVE_DASK, reason="the sweep extra is not installed")
def test_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """N2: --scheduler naming a port where nothing listens: exit 2, what to start."""
    argv = [
        "sweep",
        "--task",
        "verify-fact",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--quiet",
        "--scheduler",
        "tcp://127.0.0.1:9",
    ]
    assert main(argv) == 2
    assert "must be a running dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()  # the new store it had opened is removed


def test_output_paths_are_checked_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """N2: --store that is a folder, and --out holding a file a sweep did not write, are refused
    before the store is created (the output folder is replaced as a whole at the end)."""
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    store = tmp_path / "s.sqlite"
    base = ["sweep", "--task", "verify-fact", "--quiet"]
    assert main([*base, "--store", str(busy)]) == 2
    assert "--store must name a file, but it is a directory" in capsys.readouterr().err
    assert main([*base, "--store", str(store), "--out", str(busy)]) == 2
    assert "it also holds 'notes.txt'" in capsys.readouterr().err
    assert not store.exists() and (busy / "notes.txt").read_text() == "mine"
