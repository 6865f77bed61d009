"""Random malformed run files: `factcheck check` exits 2 with one line, never a traceback.

Each example starts from a valid run file and breaks it in one to three ways, each of which
alone makes it invalid: truncation, flipped data bytes (the CRC no longer matches), random bytes,
a member replaced by an array of another shape or kind, a required key dropped, an unknown key
added, a scalar entry given a wrong value, a .npy header garbled.
"""

from __future__ import annotations

import contextlib
import io
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verify.cli.main import main

_KEYS = ("format", "X", "Y", "lam", "loss", "activation", "depth", "bias", "decay_bias", "W1",
         "W2")  # fmt: skip


def _valid() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "format": np.array("factcheck-run/1"), "X": rng.standard_normal((6, 3)),
        "Y": rng.standard_normal((6, 2)), "lam": np.float64(0.05), "loss": np.array("mse"),
        "activation": np.array("tanh"), "depth": np.int64(2), "bias": np.bool_(False),
        "decay_bias": np.bool_(False), "W1": rng.standard_normal((4, 3)),
        "W2": rng.standard_normal((2, 4)),
    }  # fmt: skip


def _pack(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


_ARRAYS = st.one_of(
    st.integers(0, 3).flatmap(
        lambda nd: st.tuples(*[st.integers(0, 5)] * nd).map(
            lambda shape: np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
        )
    ),
    st.sampled_from(
        [
            np.array("text"),
            np.array([1, 2], dtype=np.int8),
            np.bool_(True),
            np.float64(np.nan),
            np.float64(np.inf),
            np.int64(-1),
            np.int64(10**9),
            np.array(["a", "b"]),
        ]
    ),  # fmt: skip
)


@st.composite
def _array_mutation(draw: st.DrawFn) -> tuple[str, object]:
    """(key, new value) that is certainly invalid for that key."""
    arrays = _valid()
    key = draw(st.sampled_from(_KEYS + ("junk",)))
    if key == "junk":
        return key, draw(_ARRAYS)
    value = draw(st.one_of(st.none(), _ARRAYS))
    if value is not None:
        old = arrays[key]
        same_kind = np.asarray(value).dtype.kind in ("fiu" if old.dtype.kind == "f" else
                                                     old.dtype.kind)  # fmt: skip
        if np.shape(value) == old.shape and same_kind and key not in ("depth", "lam"):
            value = np.zeros(old.shape + (1,))  # same shape and kind might be valid: change it
        if key == "depth" and np.asarray(value).dtype.kind in "iu" and np.shape(value) == ():
            value = np.int64(int(value) + 3 if int(value) == 2 else int(value))
        if key == "lam" and np.asarray(value).dtype.kind == "f" and np.shape(value) == ():
            value = np.float64(np.nan)
    return key, value


def _member_span(data: bytes, name: str) -> tuple[int, int]:
    """Start and end of the stored data of member ``name`` (after its local header)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    start = info.header_offset
    name_len, extra_len = struct.unpack("<HH", data[start + 26 : start + 30])
    begin = start + 30 + name_len + extra_len
    return begin, begin + info.compress_size


@st.composite
def malformed(draw: st.DrawFn) -> bytes:
    arrays = _valid()
    for key, value in draw(st.lists(_array_mutation(), min_size=0, max_size=3)):
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value  # type: ignore[assignment]
    data = _pack(arrays)
    mutated = data != _pack(_valid())
    kind = draw(st.sampled_from(["none", "truncate", "flip", "random", "header"]))
    if kind == "none" and mutated:
        return data
    if kind == "random" or (kind == "none" and not mutated):
        return draw(st.binary(max_size=2000).filter(lambda b: b[:4] != b"PK\x03\x04"))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    member = draw(st.sampled_from(sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())))
    begin, end = _member_span(data, member)
    if kind == "header":  # garble the dict of the .npy header (bytes 10.. of the member)
        at = draw(st.integers(begin + 10, min(begin + 60, end - 1)))
        # never a no-op: the "(" of the shape is within reach
        garble = b"{" if data[at] == ord("(") else b"("
        return data[:at] + garble + data[at + 1 :]
    at = draw(st.integers(begin, end - 1))
    flip = draw(st.integers(1, 255))
    return data[:at] + bytes([data[at] ^ flip]) + data[at + 1 :]


@settings(max_examples=max(50, settings.default.max_examples), deadline=None)
@given(malformed())
@example(b"")
@example(b"\x00" * 64)
@example(_pack(_valid())[:-1])
def test_random_malformed_run_files_exit_2_without_traceback(data: bytes) -> None:
    """F1 (inputs): any malformed run file is refused: exit 2, one line, no traceback."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.npz"
        path.write_bytes(data)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(["check", str(path)])
        assert sorted(p.name for p in Path(folder).iterdir()) == ["run.npz"]
    text = err.getvalue()
    assert code == 2, (code, text, out.getvalue()[:300])
    assert text.count("\n") == 1 and "Traceback" not in text and "error: " in text, text


def test_the_unmutated_file_is_valid() -> None:
    """F1 (inputs): the starting point of the mutations is a valid run file (exit 0 or 3)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.npz"
        path.write_bytes(_pack(_valid()))
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["check", str(path)]) in (0, 3)
