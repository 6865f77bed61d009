"""The defensive .npz reader: what numpy.savez writes comes back exactly; the rest is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from theory._errors import InputError
from verify.base.npz import NpzReader

ARRAYS = {
    "c": np.arange(12.0).reshape(3, 4),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "big_endian": np.arange(5, dtype=">f8"),
    "ints": np.arange(6, dtype=np.int32).reshape(2, 3),
    "flag": np.bool_(True),
    "text": np.array("factcheck-run/1"),
    "empty": np.zeros((0, 3)),
    "scalar": np.float64(0.25),
}


@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip_of_what_numpy_writes(tmp_path: Path, compressed: bool) -> None:
    """F1 (run file): savez and savez_compressed archives read back bit for bit, headers first."""
    path = tmp_path / "a.npz"
    (np.savez_compressed if compressed else np.savez)(path, **ARRAYS)  # type: ignore[arg-type]
    with NpzReader(path, max_bytes=2**20) as z:
        assert set(z.members) == set(ARRAYS)
        for key, want in ARRAYS.items():
            head = z.members[key]
            assert head.shape == np.shape(want) and head.dtype == np.asarray(want).dtype
            got = z.read(key)
            assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
            assert np.array_equal(got, want) and got.flags.writeable


def test_limits_on_size_and_count(tmp_path: Path) -> None:
    """F1 (inputs): file size, declared inflated size and member count are bounded up front."""
    path = tmp_path / "a.npz"
    np.savez_compressed(path, x=np.zeros(1000), y=np.zeros(1000))  # 16 kB inflated, ~0.5 kB
    with pytest.raises(InputError, match=r"must be at most 128 B \(the memory limit\)"):
        NpzReader(path, max_bytes=128)
    with pytest.raises(InputError, match=r"inflate to at most 9.77 KiB .* declare 15.9 KiB"):
        NpzReader(path, max_bytes=10_000)  # the file fits, its two members together do not
    with pytest.raises(InputError, match=r"hold at most 1 arrays, but it holds 2"):
        NpzReader(path, max_bytes=2**20, max_members=1)


def test_refuses_other_zip_methods_and_names(tmp_path: Path) -> None:
    """F1 (inputs): only stored or deflated .npy members (what numpy writes) are read."""
    path = tmp_path / "a.npz"
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as z:
        z.writestr("x.npy", buf.getvalue())
    with pytest.raises(InputError, match=r"be stored or deflated .* uses zip method 12"):
        NpzReader(path, max_bytes=2**20)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(".npy", buf.getvalue())
    with pytest.raises(InputError, match=r"hold only .npy arrays, but it holds '.npy'"):
        NpzReader(path, max_bytes=2**20)


def _npy(shape: str) -> bytes:
    """A .npy 1.0 header declaring float64 ``shape`` (a header is padded to 64 bytes)."""
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def test_negative_and_inconsistent_shapes(tmp_path: Path) -> None:
    """F1 (inputs): a header whose shape is negative, or does not match the bytes, is refused."""
    path = tmp_path / "a.npz"
    for shape, message in (("(-1, -8)", "non-negative shape"), ("(3,)", "match their headers")):
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("x.npy", _npy(shape) + bytes(64))  # 8 numbers follow, not 3
        with pytest.raises(InputError, match=message):
            NpzReader(path, max_bytes=2**20)
