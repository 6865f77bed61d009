"""Input rules shared by every entry point: seeds, precision, memory limits, lists, output paths.

Each public entry point (a command's run function, ``train``, ``run_parity``, ``load_run``, ...)
validates its arguments once, before any work, with these helpers; a broken rule raises
:class:`theory.InputError` naming the argument, the rule, the value and the fix, which the
command line prints as one line with exit status 2. Standard library only (the command line
imports this module while it builds its parser).

Memory. A size that cannot fit is refused before anything is allocated: every workload has an
estimate of its peak memory (next to the code it describes: :mod:`verify.engine.memory`,
:mod:`verify.rfm.inputs`), compared here with the limit

    --max-memory SIZE  >  FACTCHECK_MAX_MEMORY=SIZE  >  min(4 GiB, 3/4 of physical memory)

(SIZE like ``512M``, ``8G``, ``1.5T``; binary units). Why 4 GiB by default: every experiment and
check the toolkit ships needs well under 1 GiB, while a mistyped size (``--width 10000000``)
asks for tens of GiB; the cap keeps a typo from swapping a laptop, and the same inputs are
accepted on every machine with more than 5.3 GiB, so results do not depend on the machine.

Output paths are checked writable before the work starts: the nearest existing folder on the
way to the target must be a folder in which a file can be created (tried for real, with a probe
that is removed at once: permission bits say nothing about /sys or /proc, or to root).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from theory._errors import bad_input

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "DPS_RANGE",
    "MEMORY_ENV",
    "SEED_MAX",
    "check_dps",
    "check_memory",
    "check_output_dir",
    "check_output_file",
    "check_seed",
    "format_bytes",
    "memory_limit",
    "parse_list",
    "parse_size",
]

#: seeds are stored in run files as int64 and fed to numpy.random.default_rng
SEED_MAX = 2**63 - 1

#: digits the mpmath stages accept. Why at most 300: the rounding floors and tolerances are
#: float64 numbers proportional to the unit roundoff 10^-dps; beyond ~307 digits it underflows
#: float64 (the smallest normal number is 2.2e-308) and every floor becomes 0. 300 keeps a few
#: orders of magnitude in hand, and 300-digit Newton on the default network takes seconds.
DPS_RANGE = (16, 300)

MEMORY_ENV = "FACTCHECK_MAX_MEMORY"
#: default memory limit in bytes (module docstring: why 4 GiB)
DEFAULT_MAX_MEMORY = 4 * 2**30

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kKmMgGtTpP]?)(?:i?[bB])?\s*$")


# -- numbers -------------------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        or (
            type(value).__module__ == "numpy"
            and hasattr(value, "dtype")
            and value.dtype.kind in "iu"
        )
    )


def check_seed(value: Any, argument: str = "--seed") -> int:
    """A seed: an integer from 0 to 2**63 - 1 (NumPy seeds are non-negative; run files int64)."""
    if not _is_int(value) or not 0 <= value <= SEED_MAX:
        raise bad_input(argument, "be an integer from 0 to 2**63 - 1", value,
                        f"Pass e.g. {argument} 0.")  # fmt: skip
    return int(value)


def check_dps(value: Any, argument: str = "--dps") -> int:
    """Decimal digits of an mpmath stage, in :data:`DPS_RANGE` (why the cap: see there)."""
    lo, hi = DPS_RANGE
    if not _is_int(value) or not lo <= value <= hi:
        raise bad_input(
            argument, f"be an integer in [{lo}, {hi}] (beyond {hi} digits the float64 rounding "
            "floors underflow)", value, f"Pass e.g. {argument} 50.",
        )  # fmt: skip
    return int(value)


# -- memory --------------------------------------------------------------------------------------
def parse_size(text: str | int, argument: str = "--max-memory") -> int:
    """Bytes from ``512M``, ``8G``, ``8GiB``, ``1.5T`` or a plain number of bytes (binary units)."""
    if _is_int(text):
        size = float(text)
    else:
        m = _SIZE.match(str(text))
        if not m:
            raise bad_input(argument, "be a size such as 512M, 8G or 1.5T", text,
                            f"Pass e.g. {argument} 8G.")  # fmt: skip
        size = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not (math.isfinite(size) and size >= 2**20):
        raise bad_input(argument, "be at least 1M", text, f"Pass e.g. {argument} 8G.")
    return int(size)


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit() -> int:
    """The memory limit in bytes: FACTCHECK_MAX_MEMORY (which ``--max-memory`` sets) or the
    default min(4 GiB, 3/4 of physical memory) (module docstring)."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        return parse_size(env, MEMORY_ENV)
    physical = _physical_memory()
    return min(DEFAULT_MAX_MEMORY, physical * 3 // 4) if physical else DEFAULT_MAX_MEMORY


def format_bytes(size: float) -> str:
    """``1.5 GiB``, ``512 MiB``, ``3.2 TiB``, ``128 B`` (binary units, as --max-memory reads)."""
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size / 2**10:.3g} KiB" if size >= 2**10 else f"{int(size)} B"


def _suggest(size: float) -> str:
    """The smallest round limit (a power of two, in G or T) above ``size``."""
    gib = max(1, 2 ** math.ceil(math.log2(max(size, 1) / 2**30 * 1.25)))
    for unit, scale in (("P", 2**20), ("T", 2**10)):
        if gib >= scale:
            return f"{gib // scale}{unit}"
    return f"{gib}G"


def check_memory(estimate: float, *, argument: str, value: Any, what: str, fix: str) -> None:
    """Refuse a workload whose estimated peak memory exceeds :func:`memory_limit`.

    ``what`` names the workload (``"training MLP (4, 10000000, 2) on n = 32"``), ``fix`` says
    which sizes to lower; the message adds how to raise the limit, when this machine could.
    """
    limit = memory_limit()
    if estimate <= limit:
        return
    estimate = float(min(estimate, 2**100))  # formatting: sizes beyond any machine
    physical = _physical_memory()
    if physical is None or estimate <= physical:
        fix += f" Or raise the limit: --max-memory {_suggest(estimate)} (or {MEMORY_ENV})."
    else:
        fix += f" (This machine has {format_bytes(physical)} in all.)"
    raise bad_input(
        argument,
        f"keep the estimated memory within the limit ({what} needs about "
        f"{format_bytes(estimate)}, over the limit of {format_bytes(limit)})",
        value,
        fix,
    )


# -- option lists --------------------------------------------------------------------------------
def parse_list(
    text: str, argument: str, valid: Iterable[str], listing: str | None = None
) -> list[str]:
    """A comma-separated list, strictly: no empty item, each one of ``valid`` (case-insensitive).

    Returns the items as spelled in ``valid``, without repeats, in the order given. ``listing``
    replaces the list of valid names in the messages (when it is long).
    """
    names = {v.upper(): v for v in valid}
    listing = listing or ", ".join(names.values())
    items = [item.strip() for item in str(text).split(",")]
    if not text or any(not item for item in items):
        raise bad_input(argument, f"be a comma-separated list of names from: {listing}", text,
                        f"Drop the empty items, e.g. {argument} F1,F2.")  # fmt: skip
    out: list[str] = []
    for item in items:
        if item.upper() not in names:
            raise bad_input(argument, f"name only known items ({listing})", item,
                            "Pick from the list (case does not matter).")  # fmt: skip
        if names[item.upper()] not in out:
            out.append(names[item.upper()])
    return out


# -- output paths --------------------------------------------------------------------------------
def _kind(path: Path) -> str:
    if path.is_file():
        return "a file"
    if path.is_dir():
        return "a directory"
    if path.is_char_device() or path.is_block_device():
        return "a device"
    if path.is_fifo() or path.is_socket():
        return "a pipe or socket"
    return "not a regular file"


def _probe(directory: Path, argument: str, shown: str) -> None:
    """Create and remove a probe folder in ``directory``: the honest test of writability."""
    probe = directory / f".factcheck-probe-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        os.mkdir(probe, 0o700)
    except OSError as exc:
        raise bad_input(argument, f"be in a folder where files can be created ({directory}: "
                        f"{exc.strerror})", shown, "Pick a writable place, e.g. your home or "
                        "the current folder.") from None  # fmt: skip
    os.rmdir(probe)


def _nearest_existing(target: Path, argument: str, shown: str) -> Path:
    """The nearest existing ancestor of ``target``, which must be a directory."""
    parent = target.parent
    while not os.path.lexists(parent):
        parent = parent.parent
    if not parent.is_dir():
        raise bad_input(argument, f"lie in a directory, but {str(parent)!r} is {_kind(parent)}",
                        shown, "Pick a path whose folders are folders.")  # fmt: skip
    return parent


def check_output_file(
    argument: str, path: Any, suffixes: Sequence[str] = (), example: str = "run.npz"
) -> Path:
    """A file path the run can write at the end: not a folder or device, in a writable folder.

    ``suffixes``: allowed endings (e.g. ``(".svg",)``), case-insensitive; ``example`` a file
    name for the messages. Nothing is created (the probe is removed), and missing folders are
    created only when the file is written.
    """
    shown = str(path)
    if not shown or not shown.strip():
        raise bad_input(argument, "name a file", shown, f"Pass e.g. {argument} {example}.")
    target = Path(os.path.abspath(os.path.expanduser(shown)))
    if suffixes and target.suffix.lower() not in suffixes:
        raise bad_input(argument, f"end in {' or '.join(suffixes)}", shown,
                        f"Pass e.g. {argument} {example}.")  # fmt: skip
    if os.path.lexists(target) and not target.is_file():
        inside = os.path.join(shown, example)
        raise bad_input(argument, f"name a file, but it is {_kind(target)}", shown,
                        f"Pass a file path, e.g. {argument} {inside}.")  # fmt: skip
    _probe(_nearest_existing(target, argument, shown), argument, shown)
    return target


def check_output_dir(
    argument: str, path: Any, owned: Iterable[str], example: str = "factcheck-report"
) -> Path:
    """A directory the run replaces as a whole at the end (verify.base.files.atomic_directory).

    It may be new, empty, or hold only the names in ``owned`` (a previous output of the same
    command): anything else would be deleted by the replacement, so it is refused. Its parent
    must be writable (the new directory is built next to it, then swapped in).
    """
    shown = str(path)
    if not shown or not shown.strip():
        raise bad_input(argument, "name a directory", shown, f"Pass e.g. {argument} {example}.")
    target = Path(os.path.realpath(os.path.expanduser(shown)))
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents or target.parent == target:
        raise bad_input(argument, "name a directory other than the current folder or one "
                        "above it (the directory is replaced as a whole)", shown,
                        f"Pass e.g. {argument} {example}.")  # fmt: skip
    if os.path.lexists(target):
        if not target.is_dir():
            raise bad_input(argument, f"name a directory, but it is {_kind(target)}", shown,
                            f"Pass e.g. {argument} {example}.")  # fmt: skip
        allowed = set(owned)
        try:
            foreign = sorted(p.name for p in target.iterdir() if p.name not in allowed)
        except OSError as exc:
            raise bad_input(argument, f"be a readable directory ({exc.strerror})", shown,
                            f"Pass e.g. {argument} {example}.") from None  # fmt: skip
        if foreign:
            raise bad_input(
                argument, "name a new or empty directory or a previous output of this command "
                f"(it is replaced as a whole, and it also holds {foreign[0]!r})", shown,
                f"Pass a new directory, e.g. {argument} {os.path.join(shown, example)}.",
            )  # fmt: skip
    parent = _nearest_existing(target, argument, shown)
    _probe(parent, argument, shown)
    return target
