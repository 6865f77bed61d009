"""The shared input rules: seeds, digits, sizes, memory limit, option lists, output paths."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from theory._errors import InputError
from verify.base import validate as v


@pytest.mark.parametrize(
    ("text", "size"),
    [("512M", 512 * 2**20), ("8G", 8 * 2**30), ("8GiB", 8 * 2**30), ("1.5T", 3 * 2**39),
     ("2048k", 2 * 2**20), (" 3 gb ", 3 * 2**30), (2**30, 2**30), ("1048576", 2**20)],
)  # fmt: skip
def test_parse_size_reads_binary_units(text: object, size: int) -> None:
    """F1 (inputs): --max-memory reads 512M, 8G, 8GiB, 1.5T and plain bytes, binary units."""
    assert v.parse_size(text) == size  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "abc", "8X", "-1G", "1e9", "nan", "0", "1000", "G"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    """F1 (inputs): a size that is not a number with a unit, or under 1M, is refused."""
    with pytest.raises(InputError, match=r"--max-memory must be (a size such as|at least 1M)"):
        v.parse_size(text)


def test_memory_limit_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (inputs): FACTCHECK_MAX_MEMORY wins; the default is min(4 GiB, 3/4 of RAM)."""
    monkeypatch.setenv(v.MEMORY_ENV, "3G")
    assert v.memory_limit() == 3 * 2**30
    monkeypatch.delenv(v.MEMORY_ENV)
    physical = v._physical_memory()
    expected = min(v.DEFAULT_MAX_MEMORY, physical * 3 // 4) if physical else v.DEFAULT_MAX_MEMORY
    assert v.memory_limit() == expected
    monkeypatch.setenv(v.MEMORY_ENV, "lots")
    with pytest.raises(InputError, match="FACTCHECK_MAX_MEMORY must be a size"):
        v.memory_limit()


def test_check_memory_names_estimate_limit_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (inputs): over the limit -> one line with the estimate, the limit and --max-memory."""
    monkeypatch.setenv(v.MEMORY_ENV, "1G")
    v.check_memory(2**30, argument="--n", value=5, what="w", fix="Lower it.")  # at the limit
    with pytest.raises(InputError) as info:
        v.check_memory(3 * 2**30, argument="--n", value=5, what="the job", fix="Lower it.")
    msg = str(info.value)
    assert msg.startswith("--n must keep the estimated memory within the limit (the job needs "
                          "about 3 GiB, over the limit of 1 GiB); got 5. Lower it.")  # fmt: skip
    assert "--max-memory 4G" in msg and "\n" not in msg


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, "3", True, None])
def test_seeds_are_non_negative_int64(bad: object) -> None:
    """F1 (inputs): a seed is an integer in [0, 2**63 - 1]."""
    with pytest.raises(InputError, match=r"--seed must be an integer from 0 to 2\*\*63 - 1"):
        v.check_seed(bad)
    assert v.check_seed(0) == 0 and v.check_seed(2**63 - 1) == 2**63 - 1


def test_dps_range_edges() -> None:
    """F1 (inputs): --dps accepts 16..300 and refuses 15, 301, 500, 2000 and non-integers."""
    assert v.check_dps(16) == 16 and v.check_dps(300) == 300
    for bad in (15, 301, 500, 2000, 50.0, True):
        with pytest.raises(InputError, match=r"--dps must be an integer in \[16, 300\]"):
            v.check_dps(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [(",,,", "empty items"), ("F1,,F2", "empty items"), ("", "empty items"), (" ", "empty"),
     ("F1,Z9", r"known items \(A, B\); got 'Z9'")],
)  # fmt: skip
def test_parse_list_is_strict(text: str, message: str) -> None:
    """F1 (inputs): no empty item, no unknown name; the valid names are listed."""
    with pytest.raises(InputError, match=message):
        v.parse_list(text, "--only", ["F1", "F2"], listing="A, B")
    assert v.parse_list("f2, F1,F2", "--only", ["F1", "F2"]) == ["F2", "F1"]


def test_output_file_rules(tmp_path: Path) -> None:
    """F1 (inputs): an output file is not a directory or device, and lies in writable folders."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    assert v.check_output_file("--save", tmp_path / "new" / "deeper" / "x.npz").name == "x.npz"
    assert v.check_output_file("--save", tmp_path / "file") == tmp_path / "file"
    cases = [
        (tmp_path / "dir", r"--save must name a file, but it is a directory"),
        (tmp_path / "file" / "x.npz", r"--save must lie in a directory, but .* is a file"),
        (tmp_path / "file" / "a" / "x.npz", r"must lie in a directory, but .* is a file"),
        ("/dev/null", r"--save must name a file, but it is a device"),
        ("/sys/x.npz", r"--save must be in a folder where files can be created \(/sys"),
        ("/proc/x.npz", r"--save must be in a folder where files can be created \(/proc"),
        ("", r"--save must name a file"),
    ]
    for path, message in cases:
        if str(path).startswith(("/sys", "/proc", "/dev")) and not Path(str(path)).parent.exists():
            continue
        with pytest.raises(InputError, match=message):
            v.check_output_file("--save", path)
    with pytest.raises(InputError, match=r"--plot must end in .svg"):
        v.check_output_file("--plot", tmp_path / "a.png", (".svg",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]  # the probe is gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    """F1 (inputs): a folder without write permission is refused before any work."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(InputError, match=r"where files can be created .*Permission denied"):
            v.check_output_file("--save", ro / "x.npz")
    finally:
        ro.chmod(stat.S_IRWXU)


def test_output_dir_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (inputs): --out is new, empty or a previous report; never a file, cwd or a folder
    holding anything else (it is replaced whole)."""
    owned = ("report.html", "figures")
    (tmp_path / "empty").mkdir()
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.html").write_text("x")
    (tmp_path / "old" / "figures").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    (tmp_path / "file").write_text("x")
    for ok in ("new", "empty", "old", "new/deeper"):
        assert v.check_output_dir("--out", tmp_path / ok, owned) == tmp_path / ok
    monkeypatch.chdir(tmp_path / "empty")
    cases = [
        (tmp_path / "mine", r"--out must name a new or empty directory .* holds 'notes.txt'"),
        (tmp_path / "file", r"--out must name a directory, but it is a file"),
        (tmp_path / "file" / "x", r"--out must lie in a directory, but .* is a file"),
        (".", r"--out must name a directory other than the current folder"),
        (tmp_path, r"--out must name a directory other than the current folder or one above"),
        ("/", r"--out must name a directory other than"),
        ("/sys/report", r"--out must be in a folder where files can be created"),
    ]
    for path, message in cases:
        with pytest.raises(InputError, match=message):
            v.check_output_dir("--out", path, owned)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
