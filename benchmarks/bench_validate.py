"""Bad input and memory estimates: time, peak memory and message of every refusal (not pytest).

    .venv/bin/python benchmarks/bench_validate.py            # the refusals (about a minute)
    .venv/bin/python benchmarks/bench_validate.py --memory   # estimate against measured peak

Refusals: every hostile input of the validation issue runs in a fresh process; the table shows
the exit status, the one line printed, the wall time and the peak resident memory (the child's
own ``ru_maxrss``). Target: exit 2, one line, under 10 s and 500 MiB each. The run files are
built in a temporary folder, among them a 3 MB zip that inflates to 3 GiB.

``--memory``: runs ``factcheck verify fact`` and ``factcheck rfm`` at growing sizes and prints
the estimate (verify.engine.memory, verify.rfm.inputs) next to the measured peak; the estimate
must stay above it. The largest rows take minutes and about 1.5 GiB.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

CLI = [sys.executable, "-c", "import sys; from verify.cli.main import main; sys.exit(main())"]


def _measure(argv: list[str]) -> tuple[int, str, float, float]:
    """(exit status, last stderr line, seconds, peak MiB) of one command in a fresh process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
    line = lines[-1] if lines else ""
    if len(lines) > 1:
        line = f"({len(lines)} lines) {line}"
    return child.returncode, line, seconds, usage.ru_maxrss / 1024


def _run_file(**changes: object) -> dict[str, object]:
    rng = np.random.default_rng(0)
    arrays: dict[str, object] = {
        "format": np.array("factcheck-run/1"), "X": rng.standard_normal((8, 3)),
        "Y": rng.standard_normal((8, 2)), "lam": np.float64(0.01), "loss": np.array("mse"),
        "activation": np.array("tanh"), "depth": np.int64(2), "bias": np.bool_(False),
        "decay_bias": np.bool_(False), "W1": rng.standard_normal((4, 3)),
        "W2": rng.standard_normal((2, 4)),
    }  # fmt: skip
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return arrays


def _npy_header(shape: tuple[int, ...]) -> bytes:
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def _files(tmp: Path) -> dict[str, Path]:
    """The malformed run files of the issue, built in ``tmp``."""
    out = {name: tmp / f"{name}.npz" for name in ("empty", "text", "header", "bomb", "deep")}
    out["empty"].write_bytes(b"")
    out["text"].write_text("this is not a run file\n")
    buf = io.BytesIO()
    np.savez(buf, **_run_file(X=None))  # type: ignore[arg-type]
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("X.npy", _npy_header((10**12, 1)))  # claims 7.28 TiB
    out["header"].write_bytes(buf.getvalue())
    # the bomb: a complete, consistent run file whose X (n x 100) and Y (n x 2) are zeros,
    # 3 GiB inflated, about 3 MB deflated; only the memory estimate gives it away
    rows = 3 * 2**30 // 800
    small = _run_file(X=None, Y=None, W1=np.zeros((4, 100)))
    with zipfile.ZipFile(out["bomb"], "w", compression=zipfile.ZIP_DEFLATED) as z:
        for key, value in small.items():
            z.writestr(f"{key}.npy", _npy_bytes(np.asarray(value)))
        for key, cols in (("X", 100), ("Y", 2)):
            with z.open(f"{key}.npy", "w", force_zip64=True) as member:
                member.write(_npy_header((rows, cols)))
                left, chunk = rows * cols * 8, bytes(2**24)
                while left:
                    member.write(chunk[: min(left, len(chunk))])
                    left -= min(left, len(chunk))
    np.savez(out["deep"], **_run_file(depth=np.int64(10**9)))  # type: ignore[arg-type]
    return out


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def refusals() -> int:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "dir").mkdir()
        (tmp / "file").write_text("x")
        files = _files(tmp)
        print(f"zip bomb: {files['bomb'].stat().st_size / 2**20:.1f} MiB on disk, 3 GiB inflated\n")
        rows = [
            ["verify", "fact", "--seed=-1"],
            ["verify", "deep-linear-flow", "--seed=-1"],
            ["counterexample", "nfa", "--seed=-1"],
            ["rfm", "modular", "--seed=-1"],
            ["verify", "fact", "--save", "/sys/x.npz"],
            ["verify", "fact", "--save", str(tmp / "dir")],
            ["verify", "fact", "--save", str(tmp / "file" / "x.npz")],
            ["verify", "deep-linear-flow", "--plot", "/sys/x.svg"],
            ["rfm", "modular", "--plot", "/proc/x.svg"],
            ["report", "--out", "/sys/report"],
            ["verify", "fact", "--width", "10000000"],
            ["verify", "fact", "--n", "10000000"],
            ["verify", "fact", "--d", "10000000"],
            ["verify", "fact", "--depth", "1000000000"],
            ["rfm", "parity", "--n", "10000000"],
            ["rfm", "modular", "--p", "100000"],
            ["check", str(files["empty"])],
            ["check", str(files["text"])],
            ["check", "/dev/zero"],
            ["check", str(files["header"])],
            ["check", str(files["bomb"])],
            ["check", str(files["deep"])],
            ["verify", "fact", "--dps", "500"],
            ["verify", "fact", "--dps", "2000"],
            ["rfm", "modular", "--p", "2"],
            ["rfm", "modular", "--method", "nfa", "--s", "1e6"],
            ["report", "--only", ",,,"],
            ["report", "--only", "N1"],
        ]
        print("| command | exit | seconds | peak MiB | met | line printed |")
        print("|---|---|---|---|---|---|")
        missed = 0
        for argv in rows:
            code, line, seconds, peak = _measure([*CLI, *argv])
            met = code == 2 and not line.startswith("(") and seconds < 10 and peak < 500
            missed += not met
            shown = " ".join(argv).replace(folder, "TMP")
            print(f"| `factcheck {shown}` | {code} | {seconds:.2f} | {peak:.0f} | "
                  f"{'yes' if met else 'NO'} | {line.replace(folder, 'TMP')} |")  # fmt: skip
    print(f"\n{len(rows) - missed} of {len(rows)} refused within 10 s and 500 MiB")
    return 0


def memory() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from verify.engine.memory import SizeSummary, training_bytes
    from verify.rfm.inputs import rfm_bytes

    mlp = [(4, 8, 2, 32, "tanh"), (4, 1000, 2, 32, "tanh"), (4, 4000, 2, 32, "tanh"),
           (4, 8, 2, 20_000, "tanh"), (4, 8, 2, 100_000, "tanh"), (2000, 8, 2, 32, "tanh"),
           (4, 8, 200, 32, "tanh"), (4, 120, 2, 32, "identity")]  # fmt: skip
    print("| workload | estimate MiB | measured peak MiB | estimate / peak |")
    print("|---|---|---|---|")
    for d, width, depth, n, act in mlp:
        argv = ["verify", "fact", "--d", str(d), "--width", str(width), "--depth", str(depth),
                "--n", str(n), "--activation", act, "--max-iter", "30"]  # fmt: skip
        est = training_bytes(SizeSummary.uniform(d, width, depth, 2), n, activation=act) / 2**20
        _, _, _, peak = _measure([*CLI, *argv])
        print(f"| verify fact d={d} width={width} depth={depth} n={n} {act} | {est:.0f} | "
              f"{peak:.0f} | {est / peak:.2f} |")  # fmt: skip
    for n in (2000, 4000):
        argv = ["rfm", "parity", "--n", str(n), "--iters", "1", "--method", "nfa", "--n-test",
                "500", "--quiet"]  # fmt: skip
        est = rfm_bytes(n, 500, 50, 1) / 2**20
        _, _, _, peak = _measure([*CLI, *argv])
        print(f"| rfm parity n={n} | {est:.0f} | {peak:.0f} | {est / peak:.2f} |")
    for p in (61, 101):
        argv = ["rfm", "modular", "--p", str(p), "--iters", "1", "--method", "nfa", "--quiet"]
        est = rfm_bytes(round(0.5 * p * p), p * p, 2 * p, p) / 2**20
        _, _, _, peak = _measure([*CLI, *argv])
        print(f"| rfm modular p={p} | {est:.0f} | {peak:.0f} | {est / peak:.2f} |")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--memory", action="store_true", help="estimate against measured peak")
    args = p.parse_args()
    return memory() if args.memory else refusals()


if __name__ == "__main__":
    sys.exit(main())
