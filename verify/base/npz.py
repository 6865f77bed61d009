"""Reading an untrusted NumPy ``.npz`` archive: every size checked before anything is inflated.

``numpy.load`` trusts the file: an empty file raises EOFError, text or /dev/zero gets a message
about pickles, a member whose header claims 7 TiB raises MemoryError, a 3 MB zip that inflates to
3 GiB runs for minutes. :class:`NpzReader` reads the archive in two stages, so a caller can check
shapes (and estimate memory) from the headers alone, then read only what it accepted:

1. open: the path must name a regular, non-empty file no larger than ``max_bytes``, starting
   with a zip signature; the zip directory must be readable; at most ``max_members`` members,
   each ``NAME.npy``, stored or deflated (what ``numpy.savez``/``savez_compressed`` write), with
   declared sizes that add up to at most ``max_bytes``. Each member's ``.npy`` header is parsed
   (the first few hundred bytes, ``numpy.lib.format``'s own safe header parser, header at most
   10 kB): dtype numeric, boolean or text, never an object (which would need pickle); and the
   header's shape times the item size must equal the member's declared size.
2. :meth:`NpzReader.read`: inflate one member, exactly the declared bytes (zipfile never
   inflates past the declared size, and checks the CRC at the end).

Every failure is an :class:`theory.InputError` naming the file, the rule and the fix.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from theory._errors import InputError, bad_input
from verify.base.validate import format_bytes

__all__ = ["Member", "NpzReader"]

#: what numpy.savez and numpy.savez_compressed write
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: dtype kinds a member may hold: bool, integers, floats, unicode text (never objects)
_KINDS = "biufU"
#: largest .npy header accepted (numpy's own default limit)
_MAX_HEADER = 10_000
_RAISE = "Raise the limit with --max-memory if the file is genuine."
_AGAIN = "Write it again (an interrupted copy or download?)."
#: errors zipfile and zlib raise on a truncated or corrupt archive
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, OSError)


@dataclass(frozen=True)
class Member:
    """One array of the archive, as its header declares it."""

    key: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    fortran_order: bool
    nbytes: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "a pipe or socket"
    return "not a regular file"


class NpzReader:
    """An ``.npz`` archive opened defensively (module docstring). Use as a context manager."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        what: str = "npz file",
        max_bytes: int,
        max_members: int = 4096,
        fix: str = "Re-save it with numpy.savez.",
    ) -> None:
        self.path, self.what, self.fix = str(path), what, fix
        self._fh: IO[bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        try:
            self._open(max_bytes, max_members)
        except BaseException:
            self.close()
            raise

    # -- errors --------------------------------------------------------------------------------
    def fail(self, rule: str, fix: str | None = None) -> InputError:
        return bad_input(self.what, rule, self.path, fix or self.fix)

    # -- stage 1 -------------------------------------------------------------------------------
    def _open(self, max_bytes: int, max_members: int) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise self.fail("exist", "Check the path.") from None
        except OSError as exc:
            raise self.fail(f"be readable ({exc.strerror})", "Check the path.") from None
        if not stat.S_ISREG(st.st_mode):
            raise self.fail(f"be a regular file, but it is {_kind(st.st_mode)}",
                            "Pass the path of a .npz file.")  # fmt: skip
        if st.st_size == 0:
            raise self.fail("be a NumPy .npz archive, but it is empty (0 bytes)")
        if st.st_size > max_bytes:
            raise self.fail(
                f"be at most {format_bytes(max_bytes)} (the memory limit), but it holds "
                f"{format_bytes(st.st_size)}", _RAISE,
            )  # fmt: skip
        try:
            self._fh = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise self.fail(f"be readable ({exc.strerror})", "Check the path.") from None
        head = self._fh.read(8)
        if head.startswith(b"\x93NUMPY"):
            raise self.fail("be an .npz archive of named arrays, not a single .npy array",
                            "Save with numpy.savez(path, X=X, ...).")  # fmt: skip
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise self.fail(f"be a NumPy .npz archive (a zip file), but it starts with {head!r}")
        self._fh.seek(0)
        try:
            self._zip = zipfile.ZipFile(self._fh)
            infos = self._zip.infolist()
        except _CORRUPT as exc:
            raise self.fail(
                f"be a complete zip archive, but it is truncated or corrupt ({exc})", _AGAIN
            ) from None
        if len(infos) > max_members:
            raise self.fail(f"hold at most {max_members} arrays, but it holds {len(infos)}")
        self.members: dict[str, Member] = {}
        total = 0
        for info in infos:
            total += info.file_size
            if total > max_bytes:
                raise self.fail(
                    f"inflate to at most {format_bytes(max_bytes)} (the memory limit), but its "
                    f"members declare {format_bytes(total)} or more",
                    _RAISE,
                )  # fmt: skip
            member = self._header(info)
            if member.key in self.members:
                raise self.fail(f"name each array once, but {member.key!r} appears twice")
            self.members[member.key] = member

    def _header(self, info: zipfile.ZipInfo) -> Member:
        name = info.filename
        if not name.endswith(".npy") or len(name) == 4:
            raise self.fail(f"hold only .npy arrays, but it holds {name!r}")
        if info.flag_bits & 0x1:
            raise self.fail(f"not be encrypted, but {name!r} is")
        if info.compress_type not in _METHODS:
            raise self.fail(f"be stored or deflated (numpy.savez, savez_compressed), but {name!r} "
                            f"uses zip method {info.compress_type}")  # fmt: skip
        assert self._zip is not None
        try:
            with self._zip.open(info) as fp:
                version = np.lib.format.read_magic(fp)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp, _MAX_HEADER)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp, _MAX_HEADER)
                else:
                    raise ValueError(f"unsupported .npy format version {version}")
                offset = fp.tell()
        except _CORRUPT as exc:
            raise self.fail(f"hold readable .npy arrays, but {name!r} is corrupt or truncated "
                            f"({exc})", _AGAIN) from None  # fmt: skip
        key = name[:-4]
        if any(s < 0 for s in shape):
            raise self.fail(f"hold arrays of non-negative shape, but {key!r} declares {shape}")
        bad = dtype.kind not in _KINDS or dtype.itemsize == 0
        if bad or dtype.hasobject or dtype.fields or dtype.subdtype:
            raise self.fail(f"hold plain numbers or text, but {key!r} has dtype {dtype} "
                            "(objects would need pickle, which is never used)",
                            "Save numeric arrays (float64) and plain strings.")  # fmt: skip
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise self.fail(
                f"hold arrays that match their headers, but {key!r} declares shape {shape} "
                f"{dtype} ({format_bytes(nbytes)}) and holds {format_bytes(info.file_size)}",
                "The file is truncated or was not written by numpy.savez.",
            )  # fmt: skip
        return Member(key, tuple(int(s) for s in shape), dtype, bool(fortran), nbytes)

    # -- stage 2 -------------------------------------------------------------------------------
    def read(self, key: str) -> np.ndarray:
        """Inflate and return one member (exactly the bytes its header declares)."""
        member = self.members[key]
        assert self._zip is not None
        try:
            with self._zip.open(key + ".npy") as fp:
                version = np.lib.format.read_magic(fp)
                reader = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                reader(fp, _MAX_HEADER)
                data = fp.read(member.nbytes)
                if len(data) != member.nbytes or fp.read(1):
                    raise EOFError(f"expected {member.nbytes} bytes, got {len(data)}")
        except _CORRUPT as exc:
            raise self.fail(
                f"be a complete archive, but {key!r} is truncated or corrupt ({exc})", _AGAIN
            ) from None
        flat = np.frombuffer(data, dtype=member.dtype)
        if member.fortran_order:  # stored column by column: the transpose of the C layout
            return flat.reshape(member.shape[::-1]).T.copy()
        return flat.reshape(member.shape).copy()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
