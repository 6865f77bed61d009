"""The layout shows the architecture: imports go downward only, modules stay small and named.

Layers, bottom to top (verify/__init__.py has the map): theory (symbolic, SymPy only) < base <
engine < claims < strategies (Hypothesis strategies of converged networks) < the middle layer
(deep_linear, counterexamples, rfm, torch; siblings never import each other) < emergence (which
runs RFM on its own data) < sweep (which runs tasks of all of them) < report and
exercises < cli < the facade
``verify/__init__.py``. The checks read every module's source with ``ast``, including imports
inside functions, so a lazy import cannot hide an upward one.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: layer of each part: an import must go to a lower layer, or stay inside its own part
LAYERS: dict[str, int] = {
    "theory": 0,
    "verify.base": 1,
    "verify.engine": 2,
    "verify.claims": 3,
    "verify.strategies": 4,  # Hypothesis strategies: draw, train and certify networks
    "verify.deep_linear": 5,
    "verify.counterexamples": 5,
    "verify.rfm": 5,
    "verify.torch": 5,  # the PyTorch bridge: the engine's rules on a user's own model
    "verify.emergence": 6,  # above the middle layer: it runs RFM on its data (issue S1-S6)
    "verify.sweep": 7,  # runs tasks of the middle layer and emergence; the report reads its stores
    "verify.report": 8,
    "verify.exercises": 8,  # graded exercises: checks built on the middle layer
    "verify.cli": 9,
    "verify": 10,  # the facade (verify/__init__.py) re-exports from every part
}

#: at most this many lines per module (STYLE: one concept per module, 100-400 lines)
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    """The part (key of LAYERS) a module belongs to: its longest listed prefix."""
    best = ""
    for part in LAYERS:
        if (module == part or module.startswith(part + ".")) and len(part) > len(best):
            best = part
    if not best:
        raise KeyError(module)
    return best


def _imports(source: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of theory or verify in ``source``.

    ``from verify import X`` imports the part ``verify.X`` when X is a part, else the facade.
    A relative import is reported as ``<relative>`` (the project writes absolute imports only).
    """
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            out.append((node.lineno, "<relative>"))
        elif isinstance(node, ast.ImportFrom) and node.module in ("verify", "theory"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.append((node.lineno, sub if sub in LAYERS else node.module))
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.lineno, node.module))
    return [(line, m) for line, m in out if m.split(".")[0] in ("theory", "verify", "<relative>")]


def layer_violations(source: str, module: str) -> list[str]:
    """The upward or sideways imports in ``source`` (the text of ``module``)."""
    here = _part(module)
    bad = []
    for line, target in _imports(source):
        if target == "<relative>":
            bad.append(f"{module}:{line}: relative import (write the absolute module path)")
            continue
        there = _part(target)
        if there != here and LAYERS[there] >= LAYERS[here]:
            bad.append(f"{module}:{line} ({here}) imports {target} ({there}): not downward")
    return bad


def _modules() -> list[Path]:
    return sorted([*(ROOT / "theory").rglob("*.py"), *(ROOT / "verify").rglob("*.py")])


def test_every_module_belongs_to_a_layer() -> None:
    """F1: every package under verify/ has a declared layer (a new part must choose one)."""
    unplaced = []
    for path in _modules():
        try:
            _part(_module_name(path))
        except KeyError:
            unplaced.append(str(path.relative_to(ROOT)))
    assert not unplaced, f"add these parts to LAYERS in tests/test_layout.py: {unplaced}"


def test_imports_go_downward_only() -> None:
    """F1: no module imports a higher layer or a sibling in the middle layer; theory never
    imports verify."""
    bad = [v for p in _modules() for v in layer_violations(p.read_text(), _module_name(p))]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("theory.fact.models", "from verify.engine.network import MLP"),
        ("theory.matrix_calculus", "def f():\n    import verify.claims.checks\n"),
        ("verify.engine.train", "from verify.claims.features import layer_features"),
        ("verify.engine.train", "from verify import report"),
        ("verify.rfm.machine", "from verify.counterexamples.claims import nfa_claim"),
        ("verify.report.builder", "from verify.cli.main import main"),
        ("verify.claims.checks", "import verify"),
        ("verify.engine.train", "from verify import train"),
        ("verify.engine.train", "from . import network"),
    ],
)
def test_layer_check_catches_upward_imports(module: str, source: str) -> None:
    """F1: the import-direction check fails on an upward, sideways or lazy upward import."""
    assert layer_violations(source, module)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("verify.cli.check", "from verify.engine.train import train\nfrom theory import Verdict"),
        ("verify.rfm.machine", "from verify.rfm.kernels import Kernel"),
        ("verify.counterexamples.search", "from verify.claims.features import layer_features"),
    ],
)
def test_layer_check_accepts_downward_imports(module: str, source: str) -> None:
    """F1: downward and same-part imports pass the check."""
    assert not layer_violations(source, module)


def test_modules_are_small() -> None:
    """F1: no module over MAX_LINES lines."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_no_shared_prefix_among_siblings() -> None:
    """F1: no two sibling modules share a name prefix that a subpackage could carry.

    verify/cli is exempt: its modules are named after the subcommands they add (``check``,
    ``check-derivation``), which share words by design.
    """
    shared = []
    for pkg in {p.parent for p in _modules()} - {ROOT / "verify" / "cli"}:
        prefixes: dict[str, list[str]] = {}
        for p in pkg.glob("*.py"):
            stem = p.stem.lstrip("_")
            if stem == "init__" or "_" not in stem:
                continue
            prefixes.setdefault(stem.split("_")[0], []).append(p.name)
        for prefix, names in prefixes.items():
            owners = names + [q.name for q in pkg.glob(f"{prefix}.py")]
            if len(owners) > 1:
                shared.append(f"{pkg.relative_to(ROOT)}: {sorted(owners)}")
    assert not shared, shared


def test_verify_lists_subpackages_and_the_facade() -> None:
    """F1: `ls verify/` shows the parts: subpackages and the facade, no loose modules."""
    loose = [p.name for p in (ROOT / "verify").glob("*.py") if p.name != "__init__.py"]
    assert not loose, loose


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_theory_loads_without_verify() -> None:
    """F1: importing every theory module at run time leaves verify out of sys.modules."""
    out = _run(
        "import importlib, pkgutil, sys, theory\n"
        "for m in pkgutil.walk_packages(theory.__path__, 'theory.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'verify'))"
    )
    assert out.strip() == "[]", out


def test_help_and_version_load_no_sympy_or_numpy() -> None:
    """F1: `factcheck --help` and `--version` build the whole parser without SymPy or NumPy."""
    code = (
        "import sys\n"
        "from verify.cli.main import main\n"
        "for argv in (['--help'], ['--version'], ['check', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('sympy', 'numpy', 'scipy', 'mpmath') if m in sys.modules))"
    )
    assert _run(code).strip().splitlines()[-1] == "[]"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_a_subcommand_builds_its_own_parser_alone() -> None:
    """F1: `factcheck CMD ...` builds CMD's parser only, the same one the whole parser holds
    (same help text), and imports no other subcommand's module."""
    from verify.cli.main import _COMMAND_MODULES, _command, build_parser

    whole = _subparsers(build_parser())
    assert len(whole) == len(_COMMAND_MODULES)
    for name, parser in whole.items():
        alone = _subparsers(build_parser(name))
        assert list(alone) == [name]
        assert alone[name].format_help() == parser.format_help()
    assert _command(["verify", "fact"]) == "verify"
    assert _command(["--max-memory", "8G", "rfm", "parity"]) == "rfm"
    assert _command(["--max-memory=8G", "sweep"]) == "sweep"
    assert _command(["--help"]) is None and _command([]) is None
    assert list(_subparsers(build_parser("verfy"))) == list(whole)  # a typo: every choice named
    code = (
        "import sys\n"
        "from verify.cli.main import main\n"
        "try:\n"
        "    main(['verify', 'fact', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {_COMMAND_MODULES!r} if m in sys.modules))"
    )
    assert _run(code).strip().splitlines()[-1] == "['verify.cli.verify']"


def test_a_float64_run_loads_no_mpmath() -> None:
    """F1: `factcheck verify fact` in float64 never imports mpmath (the mpmath backend,
    verify/engine/mpbackend.py, is imported by the first mp_backend call); with --dps it does."""
    code = (
        "import sys\n"
        "from verify.cli.main import main\n"
        "assert main(['verify', 'fact', '--width', '3', '--n', '12', '--json']) == 0\n"
        "print('mpmath' in sys.modules)"
    )
    assert _run(code).strip().splitlines()[-1] == "False"
    from verify.engine.backends import mp_backend
    from verify.engine.network import MpBackend  # the public face's export, loaded on first use

    assert type(mp_backend(30)) is MpBackend and MpBackend.__module__ == "verify.engine.mpbackend"


def test_check_of_a_run_file_loads_no_sympy(tmp_path: Path) -> None:
    """F1: `factcheck check FILE` (train, save, re-check a small run) never loads SymPy."""
    path = tmp_path / "run.npz"
    code = (
        "import sys\n"
        "from verify.cli.main import main\n"
        f"assert main(['verify', 'fact', '--width', '3', '--n', '12', '--save', {str(path)!r}]) "
        "== 0\n"
        f"assert main(['check', {str(path)!r}]) == 0\n"
        "print('sympy' in sys.modules)"
    )
    assert _run(code).strip().splitlines()[-1] == "False"
