"""The sweep store: one SQLite file (standard library) that survives interruption.

Every finished point is written as it arrives, in its own transaction, keyed by
(task, canonical JSON of its parameters, toolkit version). SQLite's rollback journal makes each
transaction all-or-nothing on disk (``synchronous = FULL``): a process killed mid-write leaves
the store as it was before that point, so the store is always a set of whole records and a
rerun of the same spec computes exactly the points that are missing.

Exactly once: the key is the table's primary key and a finished point is inserted with
``ON CONFLICT DO NOTHING`` (a point that failed with an error may be replaced by its result), so
a result delivered twice (a task retried after its worker died, two sweeps sharing a store)
is stored once; :meth:`SweepStore.record` says whether the row was new.

Tables: ``meta`` (key, value): format and the last spec run into the store; ``points``: task,
params, version, status ('done' or 'error'), verdict, record (JSON: verdict, reason, values),
error, seconds, worker ("host:pid"), finished (UTC, ISO 8601).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from theory._errors import bad_input

__all__ = ["FORMAT", "Row", "SweepStore"]

FORMAT = "factcheck-sweep/1"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE points (
    task TEXT NOT NULL,
    params TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'error')),
    verdict TEXT,
    record TEXT,
    error TEXT,
    seconds REAL,
    worker TEXT,
    finished TEXT NOT NULL,
    PRIMARY KEY (task, params, version)
);
"""


@dataclass(frozen=True)
class Row:
    """One stored point."""

    task: str
    params: dict[str, Any]
    key: str
    version: str
    status: str
    verdict: str | None
    record: dict[str, Any] | None
    error: str | None
    seconds: float | None
    worker: str | None
    finished: str

    @property
    def values(self) -> dict[str, Any]:
        return dict((self.record or {}).get("values", {}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "params": self.params,
            "version": self.version,
            "status": self.status,
            "verdict": self.verdict,
            "reason": (self.record or {}).get("reason"),
            "values": self.values,
            "error": self.error,
            "seconds": self.seconds,
            "worker": self.worker,
            "finished": self.finished,
        }


class SweepStore:
    """A sweep store on disk (module docstring). Use as a context manager, or call close()."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise bad_input("--store", "name a file", str(path), "Pass e.g. sweep.sqlite.")
        if not self.path.exists() and not create:
            raise bad_input(
                "STORE",
                "be an existing sweep store",
                str(path),
                "Pass the file a factcheck sweep wrote (--store).",
            )
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # why isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), so
        # each write is exactly one transaction; timeout: wait for a concurrent reader or writer
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            self._db.execute("PRAGMA synchronous = FULL")
            self._check_or_create()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise bad_input(
                "STORE",
                "be a factcheck sweep store (an SQLite file)",
                str(path),
                f"It could not be read ({exc}); pass another file name.",
            ) from None
        except BaseException:
            self._db.close()
            raise

    # -- opening ---------------------------------------------------------------------------
    def _check_or_create(self) -> None:
        tables = {
            r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not tables:
            with self._transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT INTO meta VALUES ('format', ?)", (json.dumps(FORMAT),))
            return
        fmt = None
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            try:
                fmt = json.loads(row[0]) if row else None
            except (TypeError, ValueError):
                fmt = None
        if fmt != FORMAT or "points" not in tables:
            raise bad_input(
                "STORE",
                f"be a factcheck sweep store (format {FORMAT})",
                str(self.path),
                "It is another SQLite database; pass another file "
                "name, so that it is left untouched.",
            )
        ok = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise bad_input(
                "STORE",
                "pass SQLite's integrity check",
                f"{self.path}: {ok}",
                "Restore it from a copy, or start a new store.",
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    # -- points ----------------------------------------------------------------------------
    def finished(self, task: str, version: str) -> set[str]:
        """Keys (canonical parameter JSON) of the points of ``task`` done at ``version``."""
        rows = self._db.execute(
            "SELECT params FROM points WHERE task = ? AND version = ? AND status = 'done'",
            (task, version),
        )
        return {r[0] for r in rows}

    def record(
        self,
        task: str,
        key: str,
        version: str,
        record: dict[str, Any],
        seconds: float | None = None,
        worker: str | None = None,
    ) -> bool:
        """Store a finished point; False if it was already stored (nothing changes then)."""
        verdict = record.get("verdict")
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO points (task, params, version, status, verdict, record, error, "
                "seconds, worker, finished) VALUES (?, ?, ?, 'done', ?, ?, NULL, ?, ?, ?) "
                "ON CONFLICT (task, params, version) DO UPDATE SET status = 'done', "
                "verdict = excluded.verdict, record = excluded.record, error = NULL, "
                "seconds = excluded.seconds, worker = excluded.worker, "
                "finished = excluded.finished WHERE points.status = 'error'",
                (
                    task,
                    key,
                    version,
                    verdict,
                    json.dumps(record, allow_nan=False),
                    seconds,
                    worker,
                    _now(),
                ),
            )
            return cur.rowcount == 1

    def record_error(self, task: str, key: str, version: str, error: str) -> bool:
        """Store a point that raised an error (never over a finished point); rerun retries it."""
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO points (task, params, version, status, error, finished) "
                "VALUES (?, ?, ?, 'error', ?, ?) ON CONFLICT (task, params, version) DO UPDATE "
                "SET error = excluded.error, finished = excluded.finished "
                "WHERE points.status = 'error'",
                (task, key, version, error, _now()),
            )
            return cur.rowcount == 1

    def rows(self, task: str | None = None) -> list[Row]:
        """Every stored point (of ``task`` if given), ordered by task, version and key."""
        query = (
            "SELECT task, params, version, status, verdict, record, error, seconds, "
            "worker, finished FROM points"
        )
        args: tuple[str, ...] = ()
        if task is not None:
            query, args = query + " WHERE task = ?", (task,)
        out = []
        for t, p, v, status, verdict, rec, err, sec, worker, fin in self._db.execute(
            query + " ORDER BY task, version, params", args
        ):
            out.append(
                Row(
                    t,
                    json.loads(p),
                    p,
                    v,
                    status,
                    verdict,
                    json.loads(rec) if rec else None,
                    err,
                    sec,
                    worker,
                    fin,
                )
            )
        return out

    def count(self) -> dict[str, int]:
        """Number of stored points by status."""
        return dict(self._db.execute("SELECT status, COUNT(*) FROM points GROUP BY status"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
