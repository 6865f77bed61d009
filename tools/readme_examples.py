"""Keep the README's command-line tour true: its example outputs come from the commands.

    python tools/readme_examples.py             # rerun every example, rewrite README.md
    python tools/readme_examples.py --check     # rerun, compare, print a diff; exit 1 on drift
    python tools/readme_examples.py --only derive,check-derivation   # some examples only
    python tools/readme_examples.py --list      # the examples and what they need

An example is a ```text block of README.md whose first line is ``$ factcheck ...``; a block may
hold several commands, each followed by its output (the first ones may print nothing shown, e.g.
``factcheck verify ... --save run.npz`` before ``factcheck check run.npz``). :data:`EXAMPLES`
says, for every command, which lines of its output the README shows (``keep``: ranges of line
numbers, ``...`` stands for the lines left out) and where a long line is cut (``width``: cut at
a space, `` ...`` appended). Commands run in a scratch directory holding a copy of
``examples/``; ``setup`` names a function that writes the files a command reads.

Comparison masks (``--check`` and tests/test_readme_examples.py), applied to both sides:

- durations (``0.4 s``, ``12 s``): wall-clock time, different on every run;
- numbers in scientific notation below 1e-9 (``1.64e-16``, ``3.95e-50``): rounding-level
  quantities (gradient norms at a certified point, defects at 50 digits) whose digits depend on
  the BLAS, the CPU and the order of floating-point sums; their size, not their digits, is the
  claim, and the verdicts printed next to them are compared unmasked.

Everything else (verdicts, statements, steps, counterexamples, correlations, rates) must match
exactly. Rewriting keeps the README's prose untouched and replaces only the example blocks.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@dataclass(frozen=True)
class Example:
    """How one command of the tour is shown (module docstring)."""

    command: str
    keep: tuple[tuple[int, int | None], ...] = ((0, None),)
    width: int | None = 100
    setup: str = ""
    slow: bool = False  # minutes rather than seconds: the test marks it slow
    needs: str = ""  # an optional extra ("torch"): skipped, with the reason, where missing


EXAMPLES: tuple[Example, ...] = (
    Example("factcheck derive nfa-deep-linear --depth 3", ((0, 2), (14, 21), (-2, -1))),
    Example(
        "factcheck check-derivation examples/derivations/wrong_dropped_transpose.toml",
        ((21, 25), (29, 35), (-3, None)),
    ),
    Example("factcheck verify fact --activation tanh --depth 2 --save run.npz", ((0, 0),)),
    Example("factcheck check run.npz --dps 50", ((0, 6), (7, 11))),
    Example(
        "factcheck verify deep-linear-flow --depth 3 --outputs 2 --init gaussian --lam 0.05",
        ((0, 4),),
    ),
    Example(
        "factcheck counterexample nfa --family quadratic", ((1, 4), (8, 9), (11, 13)), slow=True
    ),
    Example(
        "factcheck check-torch model.pt --data data.npz --lam 1e-2 --activation tanh --polish "
        "--save run.npz",
        width=None,
        setup="torch_model",
        needs="torch",
    ),
    Example("factcheck rfm modular --p 23 --train-fraction 0.7 --iters 30"),
    Example("factcheck emergence", ((0, 5), (15, 16), (23, 25)), width=130, slow=True),
)

# -- masks --------------------------------------------------------------------------------------
_DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)? s\b")
_TINY = re.compile(r"(?<![\w.])\d(?:\.\d+)?e-(?:\d{3,}|[1-9]\d)\b")  # below 1e-9


def mask(text: str) -> str:
    """The comparison masks of the module docstring."""
    return _TINY.sub("<rounding>", _DURATION.sub("<t> s", text))


# -- setups -------------------------------------------------------------------------------------
def torch_model(where: Path) -> None:
    """model.pt and data.npz of the check-torch example: a tanh MLP (4, 8, 2) after 100 steps of
    full-batch SGD with weight decay 1e-2 on 32 points (seed 0)."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4))
    Y = np.tanh(X[:, :2] - X[:, 2:])
    np.savez(where / "data.npz", X=X, Y=Y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-2)
    Xt, Yt = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    for _ in range(100):
        opt.zero_grad()
        (0.5 * ((model(Xt) - Yt) ** 2).sum() / 32).backward()
        opt.step()
    torch.save(model.state_dict(), where / "model.pt")


SETUPS: dict[str, Callable[[Path], None]] = {"torch_model": torch_model}


# -- README blocks ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """A ```text block of the tour: where it sits in README.md and its commands."""

    start: int  # line index of its first content line
    stop: int  # line index of the closing fence
    commands: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.commands[-1].split()[1]


def blocks(readme: str) -> list[Block]:
    """Every ```text block whose first line is ``$ factcheck ...``."""
    lines = readme.splitlines()
    out = []
    for k, line in enumerate(lines):
        if line.strip() == "```text" and k + 1 < len(lines) and lines[k + 1].startswith("$ "):
            stop = next(j for j in range(k + 1, len(lines)) if lines[j].strip() == "```")
            cmds = tuple(x[2:] for x in lines[k + 1 : stop] if x.startswith("$ factcheck"))
            if cmds:
                out.append(Block(k + 1, stop, cmds))
    return out


def example(command: str) -> Example:
    for ex in EXAMPLES:
        if ex.command == command:
            return ex
    raise KeyError(f"README example {command!r} is not in tools/readme_examples.py EXAMPLES")


def _cut(line: str, width: int | None) -> str:
    if width is None or len(line) <= width:
        return line
    head = line[: width - 4]
    head = head[: head.rfind(" ")] if " " in head.strip() else head
    return head.rstrip() + " ..."


def shown(output: str, ex: Example) -> list[str]:
    """The lines of ``output`` the README shows for ``ex``, "..." where lines are left out."""
    lines = [x.rstrip() for x in output.rstrip("\n").splitlines()]
    n = len(lines)
    picked: list[int] = []
    for a, b in ex.keep:
        a = a + n if a < 0 else a
        b = n if b is None else (b + n if b < 0 else b)
        picked += [i for i in range(max(a, 0), min(b, n)) if i not in picked]
    out: list[str] = []
    last = -1
    for i in picked:
        if i != last + 1:
            out.append("  ...")
        out.append(_cut(lines[i], ex.width))
        last = i
    if picked and last != n - 1:
        out.append("  ...")
    return out


def factcheck() -> list[str]:
    """The factcheck command of this interpreter's environment."""
    exe = Path(sys.executable).with_name("factcheck")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "import sys; from verify.cli.main import main; sys.exit(main())"]


def render(block: Block, workdir: Path | None = None) -> list[str]:
    """Run the block's commands in a scratch directory; the block's new lines."""
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(workdir or tmp)
        if not (where / "examples").exists():
            shutil.copytree(ROOT / "examples", where / "examples")
        env = os.environ | {"COLUMNS": "100"}
        out: list[str] = []
        for command in block.commands:
            ex = example(command)
            if ex.setup:
                SETUPS[ex.setup](where)
            run = subprocess.run(
                factcheck() + command.split()[1:], cwd=where, env=env, capture_output=True,
                text=True, timeout=1800,
            )  # fmt: skip
            if run.returncode not in (0, 1, 3):  # 1, 3: REFUTED / INCONCLUSIVE are outputs too
                raise RuntimeError(f"{command} failed (exit {run.returncode}):\n{run.stderr}")
            out += [f"$ {command}", *shown(run.stdout, ex)]
        return out


def available(block: Block) -> str:
    """ "" if the block can run here, else why not (a missing extra)."""
    for command in block.commands:
        if example(command).needs == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                return "PyTorch is not installed (pip install torch==2.13.0 or '.[torch]')"
    return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    p.add_argument("--only", default="", help="comma-separated subcommands (e.g. derive,rfm)")
    p.add_argument("--list", action="store_true", help="list the examples")
    args = p.parse_args(argv)
    text = README.read_text()
    lines = text.splitlines()
    wanted = {w for w in args.only.split(",") if w}
    drift = 0
    for block in reversed(blocks(text)):  # from the end, so earlier line numbers stay valid
        if wanted and block.name not in wanted:
            continue
        if args.list:
            slow = any(example(c).slow for c in block.commands)
            print(f"{block.name}: {' ; '.join(block.commands)}{' (slow)' if slow else ''}")
            continue
        why = available(block)
        if why:
            print(f"skipped {block.name}: {why}", file=sys.stderr)
            continue
        new = render(block)
        old = lines[block.start : block.stop]
        if mask("\n".join(new)) != mask("\n".join(old)):
            drift += 1
            old_n, new_n = [x + "\n" for x in old], [x + "\n" for x in new]
            sys.stdout.writelines(difflib.unified_diff(old_n, new_n, "README.md", block.name))
        if not args.check:
            lines[block.start : block.stop] = new
    if not args.check and not args.list:
        README.write_text("\n".join(lines) + "\n")
    if args.check and drift:
        print(f"{drift} README example(s) differ from what the commands print", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
