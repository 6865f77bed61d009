"""Every bad input is one line naming argument, rule, value and fix; exit 2; nothing written.

One table for the command line (exit status 2, exactly one line on stderr, no traceback, the
output folder unchanged) and one for the library entry points (``pytest.raises(InputError,
match=...)``). The rows are the hostile inputs of the validation issue: negative seeds, unwritable
or impossible output paths, sizes that cannot fit in memory, --dps beyond the float64 floors,
degenerate RFM settings, sloppy --only lists and malformed run files (empty, text, /dev/zero, a
directory, truncated, a .npy header or zip directory claiming terabytes, a zip bomb, depth 1e9,
pickled objects).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from theory._errors import InputError
from verify.cli.main import main

#: the memory limit for the run-file rows: small, so that a "bomb" is cheap to build
SMALL_LIMIT = "64M"


def _run_file(**changes: object) -> bytes:
    """A valid run file (MLP (3, 4, 2), tanh, n = 5) with ``changes`` (None removes a key)."""
    rng = np.random.default_rng(0)
    arrays: dict[str, object] = {
        "format": np.array("factcheck-run/1"), "X": rng.standard_normal((5, 3)),
        "Y": rng.standard_normal((5, 2)), "lam": np.float64(0.01), "loss": np.array("mse"),
        "activation": np.array("tanh"), "depth": np.int64(2), "bias": np.bool_(False),
        "decay_bias": np.bool_(False), "W1": rng.standard_normal((4, 3)),
        "W2": rng.standard_normal((2, 4)),
    }  # fmt: skip
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` (no data follows)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    text += " " * (63 - (len(text) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()


def _bomb(inflated: int) -> bytes:
    """A run file whose X.npy deflates ``inflated`` bytes of zeros (about 1000:1) consistently
    with its header: only the declared size gives it away."""
    rows = (inflated - 128) // 24
    buf = io.BytesIO(_run_file(X=None))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("X.npy", "w") as member:
            member.write(_npy_header((rows, 3)))
            chunk, left = bytes(2**22), rows * 24
            while left:
                member.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
    return buf.getvalue()


def _claim_size(data: bytes, member: str, size: int) -> bytes:
    """Make the zip directory claim ``size`` (< 4 GiB) uncompressed bytes for ``member``."""
    at = data.index(b"PK\x01\x02")
    while True:
        (length,) = struct.unpack("<H", data[at + 28 : at + 30])
        if data[at + 46 : at + 46 + length] == member.encode():
            return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]
        at = data.index(b"PK\x01\x02", at + 4)


def _file(tmp: Path, data: bytes) -> Path:
    (tmp / "bad.npz").write_bytes(data)
    return tmp / "bad.npz"


RUN_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("empty", lambda t: _file(t, b""), r"run file must be a NumPy .npz archive, but it is empty"),
    ("text", lambda t: _file(t, b"hello, world\n"), r"must be a NumPy .npz archive \(a zip "
     r"file\), but it starts with b'hello, w'"),
    ("/dev/zero", lambda t: Path("/dev/zero"), r"must be a regular file, but it is a device"),
    ("directory", lambda t: t, r"must be a regular file, but it is a directory"),
    ("missing", lambda t: t / "nothing.npz", r"run file must exist"),
    ("npy", lambda t: _file(t, _npy_header((2,)) + bytes(16)),
     r"must be an .npz archive of named arrays"),
    ("truncated", lambda t: _file(t, _run_file()[:300]),
     r"must be a complete zip archive, but it is truncated or corrupt"),
    ("corrupt data", lambda t: _file(t, _flip(_run_file(), "W2.npy")),
     r"'W2.npy' is corrupt or truncated \(Bad CRC-32"),
    ("header claims 7 TiB", lambda t: _file(t, _with_member("X.npy", _npy_header((10**12, 1)),
     _run_file(X=None))), r"'X' declares shape \(1000000000000, 1\) float64 \(7.28 TiB\) and "
     r"holds 128 B"),
    ("zip directory claims 3.75 GiB", lambda t: _file(t, _claim_size(_run_file(), "W1.npy",
     0xF0000000)), r"must inflate to at most 64 MiB \(the memory limit\), but its members "
     r"declare 3.75 GiB"),
    ("zip bomb", lambda t: _file(t, _bomb(128 * 2**20)), r"must inflate to at most 64 MiB "
     r"\(the memory limit\), but its members declare 128 MiB"),
    ("depth 1e9", lambda t: _file(t, _run_file(depth=np.int64(10**9))), r"'W3' must be present"),
    ("absurd shape", lambda t: _file(t, _with_member("W1.npy", _npy_header((4, 10**7)),
     _run_file(W1=None))), r"'W1' declares shape \(4, 10000000\)"),
    ("pickled object", lambda t: _file(t, _run_file(W1=np.array([{"a": 1}] * 4, dtype=object))),
     r"must hold plain numbers or text, but 'W1' has dtype object \(objects would need pickle"),
    ("not a run file", lambda t: _file(t, _run_file(format=np.array("other/1"))),
     r"'format' must equal 'factcheck-run/1'"),
    ("unknown key", lambda t: _file(t, _with_member("evil.npy", _npy_header((0,)))),
     r"'evil' must not be present"),
    ("text member", lambda t: _file(t, _with_member("notes.txt", b"hi")),
     r"must hold only .npy arrays, but it holds 'notes.txt'"),
]  # fmt: skip


def _with_member(name: str, payload: bytes, base: bytes | None = None) -> bytes:
    """``base`` (default: the valid run file) plus one raw member ``name`` holding ``payload``."""
    buf = io.BytesIO(_run_file() if base is None else base)
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr(name, payload)
    return buf.getvalue()


def _flip(data: bytes, member: str) -> bytes:
    """Flip the last data byte of a stored member (its CRC no longer matches)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(member)
    (name_len, extra_len) = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    last = info.header_offset + 30 + name_len + extra_len + info.compress_size - 1
    return data[:last] + bytes([data[last] ^ 0xFF]) + data[last + 1 :]


@pytest.mark.parametrize(("name", "build", "message"), RUN_FILES, ids=[r[0] for r in RUN_FILES])
def test_malformed_run_files_exit_2(
    name: str, build: Callable[[Path], Path], message: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """F1 (inputs): every malformed run file: exit 2, one line, no traceback, never pickle."""
    monkeypatch.setenv("FACTCHECK_MAX_MEMORY", SMALL_LIMIT)
    path = build(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _sys(path: str) -> str:
    return path if Path(path).parent.is_dir() else ""


CLI: list[tuple[list[str], str]] = [
    (["verify", "fact", "--seed=-1"], r"--seed must be an integer from 0 to 2\*\*63 - 1; got -1"),
    (["verify", "nfa", "--seed=-1"], r"--seed must be an integer from 0"),
    (["verify", "deep-linear-flow", "--seed=-1"], r"--seed must be an integer from 0"),
    (["counterexample", "nfa", "--seed=-1"], r"--seed must be an integer from 0"),
    (["counterexample", "nfa", "--family", "quadratic", "--seed=-1"], r"--seed must be an "),
    (["rfm", "modular", "--seed=-1"], r"--seed must be an integer from 0"),
    (["rfm", "parity", "--seed=-1"], r"--seed must be an integer from 0"),
    (["rfm", "tabular", "--seeds", "0", "-3"], r"--seeds must be an integer from 0"),
    (["report", "--seed=-1"], r"--seed must be an integer from 0"),
    (["verify", "fact", "--save", "{tmp}/dir"], r"--save must name a file, but it is a dir"),
    (["verify", "fact", "--save", "{tmp}/file/x.npz"], r"--save must lie in a directory, but "
     r".*/file' is a file"),
    (["verify", "fact", "--save", "/sys/x.npz"], r"--save must be in a folder where files can "
     r"be created \(/sys: "),
    (["verify", "deep-linear-flow", "--plot", "/sys/x.svg"], r"--plot must be in a folder"),
    (["verify", "deep-linear-flow", "--plot", "{tmp}/dir"], r"--plot must name a file"),
    (["rfm", "modular", "--plot", "/proc/x.svg"], r"--plot must be in a folder where files"),
    (["rfm", "modular", "--plot", "{tmp}/x.png"], r"--plot must end in .svg"),
    (["counterexample", "nfa", "--save", "/sys/x.npz"], r"--save must be in a folder"),
    (["counterexample", "nfa", "--save", "{tmp}/x.json"], r"--save must end in .npz"),
    (["counterexample", "nfa", "--save", "{tmp}/dir/keep.txt/x.npz"], r"--save must lie in a "
     r"directory, but .*keep.txt' is a file"),
    (["report", "--out", "/sys/report"], r"--out must be in a folder where files can be created"),
    (["report", "--out", "{tmp}/file"], r"--out must name a directory, but it is a file"),
    (["report", "--out", "{tmp}/dir"], r"--out must name a new or empty directory or a previous "
     r"output of this command .* holds 'keep.txt'"),
    (["verify", "fact", "--width", "10000000"], r"--width must keep the estimated memory within"
     r" the limit \(training and checking .* needs about .* over the limit of 4 GiB\); got "
     r"10000000. Lower --width"),
    (["verify", "fact", "--n", "10000000"], r"--n must keep the estimated memory .* about 12.6 "
     r"GiB, over the limit of 4 GiB\); got 10000000. Lower --n .* --max-memory 16G"),
    (["verify", "nfa", "--d", "10000000"], r"--d must keep the estimated memory"),
    (["verify", "fact", "--depth", "1000000000"], r"--depth must keep the estimated memory"),
    (["verify", "fact", "--depth", "0"], r"--depth must be >= 1; got 0"),
    (["verify", "fact", "--max-iter", "0"], r"--max-iter must be >= 1; got 0"),
    (["rfm", "parity", "--n", "10000000"], r"n_values must keep the estimated memory .*RFM on "
     r"10,000,000 training points"),
    (["rfm", "parity", "--n-test", "0"], r"n_test must be an integer >= 1; got 0"),
    (["rfm", "modular", "--p", "100000"], r"p must keep the estimated memory"),
    (["rfm", "modular", "--p", "2"], r"p must be an integer >= 3; got 2"),
    (["rfm", "modular", "--p", "3", "--train-fraction", "0.01"], r"train_fraction must leave a "
     r"pair to train on and one to test \(p\^2 = 9 pairs\)"),
    (["rfm", "modular", "--method", "nfa", "--s", "1e6"], r"s must be in \(0, 4\] \(the AGOP "
     r"exponent; 1/2 and 1 are usual\); got 1000000.0"),
    (["rfm", "modular", "--method", "nfa", "--s", "0"], r"s must be in \(0, 4\]"),
    (["verify", "fact", "--dps", "500"], r"--dps must be an integer in \[16, 300\] \(beyond 300 "
     r"digits the float64 rounding floors underflow\); got 500"),
    (["verify", "fact", "--dps", "2000"], r"--dps must be an integer in \[16, 300\]"),
    (["verify", "deep-linear-flow", "--dps", "500"], r"--dps must be an integer in \[16, 300\]"),
    (["check", "{tmp}/nothing.npz", "--dps", "500"], r"--dps must be an integer in \[16, 300\]"),
    (["report", "--only", ",,,"], r"--only must be a comma-separated list of names from: tags "
     r"D1, .*; got ',,,'. Drop the empty items"),
    (["report", "--only", "F1,,F2"], r"--only must be a comma-separated list"),
    (["report", "--only", "N1"], r"--only must name only known items \(tags D1, .*\); got 'N1'"),
    (["report", "--only", "Z9"], r"--only must name only known items"),
    (["report", "--jobs", "0"], r"--jobs must be an integer >= 1; got 0"),
    (["verify", "fact", "--max-memory", "lots"], r"--max-memory must be a size such as 512M"),
    (["--max-memory", "0", "verify", "fact"], r"--max-memory must be at least 1M"),
    (["emergence", "--seed=-1"], r"--seed must be an integer from 0 to 2\*\*63 - 1; got -1"),
    (["emergence", "--plot", "/sys/x.svg"], r"--plot must be in a folder where files can be"),
    (["emergence", "--plot", "{tmp}"], r"--plot must end in .svg"),
    (["emergence", "--n-train", "100000000"], r"--n-train must keep the estimated memory"),
    (["emergence", "--kernel-n", "0"], r"--kernel-n must list positive integers; got \[0\]"),
    (["emergence", "--jobs", "0"], r"--jobs must be >= 1; got 0"),
    (["check-derivation", "{tmp}/nothing.toml"], r"FILE must be an existing derivation file"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), CLI, ids=[" ".join(a) for a, _ in CLI])
def test_command_line_bad_input_exits_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F1 (inputs): exit 2, one line on stderr naming argument, rule, value and fix, no
    traceback, nothing written, before any work (the sizes here would need terabytes)."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if any(a.startswith(("/sys", "/proc")) and not Path(a).parent.is_dir() for a in argv):
        pytest.skip("no /sys or /proc on this system")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "keep.txt").write_text("mine")
    (tmp_path / "file").write_text("mine")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(message, err), err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def _v(name: str) -> Any:
    """A public function of the library (``from verify import name``), loaded on use."""
    import verify

    return getattr(verify, name)


def _small() -> Any:
    return _v("synthetic_problem")(_v("MLP")((2, 3, 1)), 4)


def _wide() -> Any:
    return _v("Problem")(_v("MLP")((2, 60000, 1)), np.ones((4, 2)), np.ones((4, 1)))


def _nfa() -> Any:
    return _v("nfa_claim")()


API: list[tuple[str, Callable[[Path], object], str]] = [
    ("train seed", lambda t: _v("train")(_small(), seed=-1), r"seed must be an integer from 0"),
    ("train dps", lambda t: _v("train")(_small(), dps=500), r"dps must be an integer in "
     r"\[16, 300\]"),
    ("train memory", lambda t: _v("train")(_wide(), max_iter=1), r"problem must keep the "
     r"estimated memory .*got 'MLP \(2, 60000, 1\), n=4'"),
    ("synthetic n", lambda t: _v("synthetic_problem")(_v("MLP")((4, 8, 2)), 10**8),
     r"n must keep the estimated memory .*n = 100,000,000"),
    ("synthetic seed", lambda t: _v("synthetic_problem")(_v("MLP")((4, 8, 2)), 8, seed=-2),
     r"seed must be an integer from 0"),
    ("mp_backend", lambda t: _v("mp_backend")(2000), r"dps must be an integer in \[16, 300\]"),
    ("load_run dir", lambda t: _v("load_run")(t), r"run file must be a regular file"),
    ("run_flow seed", lambda t: _v("run_flow")(seed=-1), r"seed must be an integer from 0"),
    ("run_flow n", lambda t: _v("run_flow")(n=10**9), r"n must be an integer from 1 to 1000000"),
    ("run_flow depth", lambda t: _v("run_flow")(depth=10**9), r"depth must be an integer "
     r"from 2"),
    ("run_modular p", lambda t: _v("run_modular")(p=2), r"p must be an integer >= 3; got 2"),
    ("run_modular s", lambda t: _v("run_modular")(p=5, method="nfa", s=1e6), r"s must be in "
     r"\(0, 4\]"),
    ("run_modular memory", lambda t: _v("run_modular")(p=100_000), r"p must keep the estimated"),
    ("run_modular split", lambda t: _v("run_modular")(p=3, train_fraction=0.01),
     r"train_fraction must leave a pair to train on"),
    ("run_modular seed", lambda t: _v("run_modular")(p=5, seed=-1), r"seed must be an integer"),
    ("run_parity memory", lambda t: _v("run_parity")(n_values=[10**7]),
     r"n_values must keep the estimated memory"),
    ("run_parity n_test", lambda t: _v("run_parity")(n_test=-5), r"n_test must be an integer "
     r">= 1"),
    ("run_parity d", lambda t: _v("run_parity")(d=float("nan")), r"d must be an integer >= 1"),
    ("run_tabular seeds", lambda t: _v("run_tabular")(seeds=[0, -1]), r"seeds must be an "
     r"integer"),
    ("search seed", lambda t: _v("search")(_nfa(), budget=1, seed=-1), r"seed must be an "
     r"integer from 0"),
    ("run_family seed", lambda t: _v("run_family")("quadratic", seed=-1), r"seed must be an "),
    ("run_report out", lambda t: _v("run_report")(out=str(t / "file")), r"--out must name a "
     r"directory, but it is a file"),
    ("run_report only", lambda t: _v("run_report")(out=str(t / "r"), only=",,,"),
     r"--only must be a comma-separated list"),
    ("run_report seed", lambda t: _v("run_report")(out=str(t / "r"), seed=-1), r"--seed must "
     r"be"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "message"), API, ids=[r[0] for r in API])
def test_library_bad_input_raises_input_error(
    name: str, call: Callable[[Path], object], message: str, tmp_path: Path
) -> None:
    """F1 (inputs): the public functions check the same rules before any work, with
    InputError naming argument, rule, value and fix on one line."""
    (tmp_path / "file").write_text("mine")
    with pytest.raises(InputError, match=message) as info:
        call(tmp_path)
    assert "\n" not in str(info.value) and "; got " in str(info.value), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_consistent_bomb_is_refused_by_the_memory_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1 (inputs): a consistent run file whose arrays inflate within the limit but whose
    check would not fit is refused from its headers, before X is inflated."""
    monkeypatch.setenv("FACTCHECK_MAX_MEMORY", SMALL_LIMIT)
    rows = 48 * 2**20 // 800  # X: rows x 100 zeros, 48 MiB inflated
    buf = io.BytesIO(_run_file(X=None, Y=None, W1=np.zeros((4, 100))))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("X.npy", _npy_header((rows, 100)) + bytes(rows * 800))
        z.writestr("Y.npy", _npy_header((rows, 2)) + bytes(rows * 16))
    path = tmp_path / "bomb.npz"
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 2**20
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(
        r"run file must keep the estimated memory within the limit \(training and checking "
        r"408 parameters on n = 62,914 needs about .* over the limit of 64 MiB\)",
        err,
    ), err
