"""The sweep store: each point once, whole records only, foreign files left alone."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theory._errors import InputError
from verify.sweep.store import FORMAT, SweepStore

K = '{"a":1}'
REC = {"verdict": "NUMERICALLY_CONSISTENT", "reason": "ok", "values": {"x": 1.5, "s": "a"}}


def test_a_point_is_stored_once(tmp_path: Path) -> None:
    """N2: recording the same (task, key, version) twice keeps the first record (exactly once)."""
    with SweepStore(tmp_path / "s.sqlite") as store:
        assert store.record("t", '{"a":1}', "1.0", REC, 0.5, "h:1")
        assert not store.record("t", '{"a":1}', "1.0", {**REC, "reason": "second"}, 0.1, "h:2")
        assert store.record("t", '{"a":1}', "2.0", REC)  # another version is another point
        rows = store.rows()
        assert [(r.version, r.record["reason"], r.worker) for r in rows] == [
            ("1.0", "ok", "h:1"),
            ("2.0", "ok", None),
        ]
        assert store.finished("t", "1.0") == {'{"a":1}'}
        assert store.finished("t", "3.0") == set()


def test_an_error_is_replaced_by_a_result_never_the_reverse(tmp_path: Path) -> None:
    """N2: a failed point is retried by a rerun; a finished point is never overwritten."""
    with SweepStore(tmp_path / "s.sqlite") as store:
        assert store.record_error("t", K, "1", "ValueError: boom")
        assert store.finished("t", "1") == set()
        assert store.record("t", K, "1", REC)
        assert not store.record_error("t", K, "1", "late error")
        (row,) = store.rows()
        assert row.status == "done" and row.error is None and row.values == REC["values"]
        assert store.count() == {"done": 1}


def test_meta_and_reopening(tmp_path: Path) -> None:
    """N2: the store keeps its format and the last spec; it reopens with its points."""
    path = tmp_path / "s.sqlite"
    with SweepStore(path) as store:
        store.set_meta("spec", {"task": "t"})
        store.record("t", K, "1", REC)
    with SweepStore(path, create=False) as store:
        assert store.meta("format") == FORMAT and store.meta("spec") == {"task": "t"}
        assert len(store.rows()) == 1


def test_foreign_and_broken_files_are_refused_and_left_untouched(tmp_path: Path) -> None:
    """N2: a non-SQLite file, another SQLite database or a missing store is a clear error, and
    nothing is written into it."""
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not a database, but someone's notes\n" * 50)
    before = text.read_bytes()
    with pytest.raises(InputError, match=r"STORE must be a factcheck sweep store"):
        SweepStore(text)
    assert text.read_bytes() == before
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match=r"It is another SQLite database"):
        SweepStore(other)
    con = sqlite3.connect(other)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["users"]
    con.close()
    with pytest.raises(InputError, match=r"STORE must be an existing sweep store"):
        SweepStore(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


_WRITER = """
import json, os, sys
from verify.sweep.store import SweepStore
store = SweepStore(sys.argv[1])
if sys.argv[2] == "die-in-transaction":
    store.record("t", '{"p":"whole"}', "1", {"verdict": None, "reason": "", "values": {}})
    with store._transaction():  # the store's own transaction, as record() uses it
        store._db.execute("INSERT INTO points (task, params, version, status, finished) "
                          "VALUES ('t', '{\\"p\\":\\"half\\"}', '1', 'done', 'now')")
        os._exit(0)  # dies before COMMIT, as a killed process would
k = 0
while True:  # write until killed
    rec = {"verdict": None, "reason": "r" * 2000, "values": {"k": k}}
    store.record("t", json.dumps({"k": k}), "1", rec)
    print(k, flush=True)
    k += 1
"""


def test_a_write_cut_off_mid_transaction_leaves_no_trace(tmp_path: Path) -> None:
    """N2: a process that dies inside a point's transaction leaves the store as before it (the
    rollback journal), and the store opens, passes its check and takes new points."""
    path = tmp_path / "s.sqlite"
    subprocess.run([sys.executable, "-c", _WRITER, str(path), "die-in-transaction"], check=True)
    with SweepStore(path) as store:
        assert [r.key for r in store.rows()] == ['{"p":"whole"}']
        assert store.record("t", '{"p":"half"}', "1", REC)


def test_a_writer_killed_at_a_random_moment_leaves_whole_records(tmp_path: Path) -> None:
    """N2: SIGKILL to a process writing points in a loop: every stored record is complete and
    the store passes SQLite's integrity check (seeded moments, three kills)."""
    path = tmp_path / "s.sqlite"
    for delay in (0.3, 0.45, 0.6):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), "loop"], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one point written, then let it run a moment
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        with SweepStore(path) as store:
            rows = store.rows()
            assert rows and all(
                r.record is not None and len(r.record["reason"]) == 2000 for r in rows
            )
            assert sorted(r.values["k"] for r in rows) == list(range(len(rows)))
            assert all(json.loads(r.key)["k"] == r.values["k"] for r in rows)


def test_a_result_from_another_toolkit_version_is_refused(tmp_path: Path) -> None:
    """N2: a worker running another factcheck version cannot write into the store (its records
    would be keyed by this version)."""
    from verify.sweep.runner import SweepOutcome, _store_one
    from verify.sweep.spec import SweepSpec

    class Done:  # a finished future, as distributed.as_completed yields it
        status = "finished"

        def result(self) -> dict:
            return {"record": REC, "seconds": 1.0, "worker": "elsewhere:1", "version": "0.0.1"}

    spec = SweepSpec.from_mapping({"task": "verify-fact"})
    (point,) = spec.points()
    with SweepStore(tmp_path / "s.sqlite") as store:
        with pytest.raises(InputError, match=r"runs factcheck 0\.0\.1, this process"):
            _store_one(spec, store, Done(), point, SweepOutcome(1, 0), None)
        assert store.rows() == []
