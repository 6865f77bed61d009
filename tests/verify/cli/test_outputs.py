"""Output files: the umask's mode; SIGINT or SIGTERM at any moment leaves the previous
complete output or none, and a rerun works.

The commands run in a child process that is signalled at moments spread over its whole run
(interpreter start-up, computation, writing; a signal during start-up ends the process Python's
own way, before the command has written anything). Afterwards the output must be exactly the
previous complete output (or absent when there was none), or the complete new one if the signal
came after the commit; no temporary file may be left; and running again must succeed.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

#: a report producer that computes for a while and returns entries with large attachments, so
#: that writing takes long enough to be interrupted too
FAKE_PRODUCER = textwrap.dedent(
    """
    import os, time
    from verify.base.records import ReportEntry

    def report_entries(quick, seed):
        if os.environ.get("FAKE_MARK"):  # tells the test that a producer is running
            open(os.environ["FAKE_MARK"], "a").close()
        time.sleep(float(os.environ["FAKE_SECONDS"]))
        blob = bytes([seed % 256]) * (2 * 2**20)
        return [ReportEntry("S", f"claim {k}", "F1", "PROVED", "e", f"version {seed}",
                            attachments={f"c{k}.bin": blob}, figure_svg="<svg></svg>")
                for k in range(12)]
    """
)

RUN_REPORT = (
    "import sys; import verify.report.builder as b; "
    "b.PRODUCERS = (('fake_producer', 'report_entries', 'S', ('F1',)),); "
    "from verify.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


#: durations printed in report.html and report.md ("0.5 s"): they differ between two runs of the
#: same report, so the manifest compares the documents with them masked
_DURATION = re.compile(rb"\d+\.\d ?s\b")


def _manifest(folder: Path) -> dict[str, str] | None:
    """Relative path -> sha256 of every file under ``folder`` (None if it does not exist)."""
    if not folder.exists():
        return None
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.suffix in (".html", ".md"):
                data = _DURATION.sub(b"#", data)
            out[str(p.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


def _run(argv: list[str], env: dict[str, str], kill: tuple[int, float] | None = None) -> int:
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)  # fmt: skip
    if kill is not None:
        time.sleep(kill[1])
        child.send_signal(kill[0])
    _, err = child.communicate(timeout=300)
    if child.returncode in (130, 143):  # the command itself was stopped: it says so, no trace
        assert err.decode().strip().endswith("nothing further was written."), err.decode()
    elif kill is None:
        assert b"Traceback" not in err, err.decode()
    # else: a signal during interpreter start-up (Python's own KeyboardInterrupt or SIGTERM
    # exit), or after the command finished: the output checks of the callers apply all the same
    return child.returncode


def _env(tmp: Path, seconds: float) -> dict[str, str]:
    (tmp / "fake_producer.py").write_text(FAKE_PRODUCER)
    path = os.pathsep.join([str(tmp), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "FAKE_SECONDS": str(seconds)}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_report_leaves_previous_report_or_none(tmp_path: Path, sig: int) -> None:
    """F1 (files): `factcheck report` killed at any moment: previous report whole, or none."""
    env = _env(tmp_path, 0.5)
    out = tmp_path / "rep"
    report = [sys.executable, "-c", RUN_REPORT, "report", "--out", str(out)]
    start = time.perf_counter()
    assert _run([*report, "--seed", "1"], env) == 0  # version 1, uninterrupted
    took = time.perf_counter() - start
    v1 = _manifest(out)
    assert _run([*report, "--seed", "2"], env) == 0  # version 2, uninterrupted
    v2 = _manifest(out)
    assert v1 and v2 and v1 != v2
    for k in range(6):  # signals spread over start-up, computation and writing
        delay = took * (0.15 + 0.16 * k)
        _run([*report, "--seed", "1" if k % 2 else "2"], env, (sig, delay))
        now = _manifest(out)
        assert now in (v1, v2), f"mixed report after a signal at {delay:.2f} s"
        assert _leftovers(tmp_path) == [] and _leftovers(out) == []
    assert _run([*report, "--seed", "1"], env) == 0 and _manifest(out) == v1


def test_interrupted_first_report_leaves_nothing(tmp_path: Path) -> None:
    """F1 (files): a first report interrupted before its end leaves no directory at all."""
    env = _env(tmp_path, 5.0)
    out = tmp_path / "rep"
    code = _run([sys.executable, "-c", RUN_REPORT, "report", "--out", str(out)], env,
                (signal.SIGTERM, 2.0))  # fmt: skip
    assert code == 128 + signal.SIGTERM and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake_producer.py"]


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)]
)
def test_interrupted_verify_save_keeps_previous_run_file(tmp_path: Path, sig: int) -> None:
    """F1 (files): `verify fact --save` killed at any moment: the old run file or the new."""
    run = tmp_path / "run.npz"
    cmd = [sys.executable, "-m", "verify.cli.main", "verify", "fact", "--save", str(run)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    assert _run([*cmd, "--seed", "1"], env) == 0
    took = time.perf_counter() - start
    old = run.read_bytes()
    check = [sys.executable, "-m", "verify.cli.main", "check", str(run)]
    for k in range(3):
        _run([*cmd, "--seed", str(2 + k)], env, (sig, took * (0.3 + 0.3 * k)))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temporary file
        assert _run(check, env) == 0  # a whole run file: the previous one or the new one
    assert _run([*cmd, "--seed", "1"], env) == 0 and run.read_bytes() == old  # rerun works


def test_interrupted_counterexample_save_writes_both_files_or_neither(tmp_path: Path) -> None:
    """F1 (files): `counterexample --save` writes the run file and its JSON together or not
    at all (an interruption before the end leaves neither)."""
    cx = tmp_path / "cx.npz"
    cmd = [sys.executable, "-m", "verify.cli.main", "counterexample", "nfa", "--family",
           "quadratic", "--quiet", "--save", str(cx)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = _run(cmd, env, (signal.SIGTERM, 3.0))
    assert code == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_outputs_carry_the_umask(tmp_path: Path) -> None:
    """F1 (files): run files, plots and report files get 0666 & ~umask (0644 for 022), report
    folders 0777 & ~umask, not 0600 (shareable on a course server)."""
    env = {**_env(tmp_path, 0.0), "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    code = (
        "import os, sys; os.umask(0o022); import verify.report.builder as b; "
        "b.PRODUCERS = (('fake_producer', 'report_entries', 'S', ('F1',)),); "
        "from verify.cli.main import main; "
        f"assert main(['report', '--out', {str(tmp_path / 'rep')!r}]) == 0; "
        f"assert main(['verify', 'fact', '--width', '3', '--save', {str(tmp_path / 'r.npz')!r}])"
        " == 0; "
        f"assert main(['verify', 'deep-linear-flow', '--plot', {str(tmp_path / 'f.svg')!r}]) == 0"
    )
    assert _run([sys.executable, "-c", code], env) == 0
    modes = {str(p.relative_to(tmp_path)): p.stat().st_mode & 0o777 for p in tmp_path.rglob("*")}
    assert modes["r.npz"] == modes["f.svg"] == modes["rep/results.json"] == 0o644
    assert modes["rep/certificates/c0.bin"] == modes["rep/figures/00-f1.svg"] == 0o644
    assert modes["rep"] == modes["rep/figures"] == 0o755


def test_interrupted_parallel_report_stops_its_workers_at_once(tmp_path: Path) -> None:
    """F1 (files): `report --jobs 2` stopped by SIGTERM ends within seconds (the workers are
    stopped, not awaited), prints one line and writes nothing."""
    mark = tmp_path.parent / f"{tmp_path.name}.running"
    env = {**_env(tmp_path, 60.0), "FAKE_MARK": str(mark)}
    code = RUN_REPORT.replace(
        "('fake_producer', 'report_entries', 'S', ('F1',)),",
        "('fake_producer', 'report_entries', 'S', ('F1',)), "
        "('fake_producer', 'report_entries', 'T', ('F2',)),",
    )
    argv = [sys.executable, "-c", code, "report", "--jobs", "2", "--out", str(tmp_path / "r")]
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    while not mark.exists():  # a worker is running its producer
        time.sleep(0.05)
    mark.unlink()
    start = time.perf_counter()
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGTERM and time.perf_counter() - start < 20
    assert err.strip().splitlines()[-1].endswith("nothing further was written.")
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake_producer.py"]
