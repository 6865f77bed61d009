"""Keep the README's command-line tour true: its example outputs come from the commands.

    python tools/readme_examples.py             # rerun every example, rewrite the drifted blocks
    python tools/readme_examples.py --all       # rewrite every block with the exact output
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

Comparison (``--check`` and tests/test_readme_examples.py). The README must show what the
commands print, without being broken by every change elsewhere in their output:

- each run of consecutive lines the README shows (between ``...`` markers) must appear, in order,
  as consecutive lines of the command's output; lines the README leaves out may change, and new
  ones may appear, without failing;
- lines are compared word by word (alignment spaces do not count); a line the README cut
  (ending in `` ...``) must be the start of the output line;
- the words must be equal, the numbers close: within 5% of each other (the README is read to two
  digits; BLAS, CPU and another module's improvement move later digits), and any two numbers below
  1e-9 in size are equal (rounding-level quantities: gradient norms at a certified point, defects
  at 50 digits, whose size, not their digits, is the claim). Durations (``0.4 s``) are not
  compared at all.

So a changed verdict, statement, step, message or counterexample fails, and so does a number that
moved by more than 5% (a correlation from 0.99 to 0.52); the fix is to rerun this tool.
Rewriting keeps the README's prose untouched and replaces, with the exact output, only the
blocks that drifted (every block with ``--all``), so a rerun does not churn digits.
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
    needs: str = ""  # an optional extra ("torch", "flint"): skipped, with the reason, where missing


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
    Example("factcheck counterexample nfa --family quadratic --save cx.npz", ((0, 0),), slow=True),
    Example("factcheck check cx.npz --certify", ((1, 2), (15, 19)), width=None, needs="flint"),
    Example("factcheck emergence", ((0, 5), (15, 16), (23, 25)), width=130, slow=True),
)

# -- comparison ---------------------------------------------------------------------------------
_DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)? s\b")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
RTOL = 0.05  # numbers within 5% are the same number to a reader of two digits (docstring)
ROUNDING = 1e-9  # numbers below this are rounding-level (docstring)


def skeleton(line: str) -> tuple[str, list[float]]:
    """The line's words with every number replaced by ``#`` (durations by ``<t> s``), single
    spaces, and its numbers in order."""
    line = " ".join(_DURATION.sub("<t> s", line).split())
    return _NUMBER.sub("#", line), [float(x) for x in _NUMBER.findall(line)]


def _close(a: float, b: float) -> bool:
    return (abs(a) < ROUNDING and abs(b) < ROUNDING) or abs(a - b) <= RTOL * max(abs(a), abs(b))


def same_line(shown_line: str, printed: str) -> bool:
    """``shown_line`` (from the README) says what ``printed`` says (module docstring)."""
    cut = shown_line.endswith(" ...") and not printed.rstrip().endswith(" ...")
    words, numbers = skeleton(shown_line[:-4] if cut else shown_line)
    p_words, p_numbers = skeleton(printed)
    if cut:
        if not p_words.startswith(words):
            return False
        p_numbers = p_numbers[: len(numbers)]
    elif words != p_words:
        return False
    return len(numbers) == len(p_numbers) and all(map(_close, numbers, p_numbers))


def differences(shown_lines: list[str], output: str) -> list[str]:
    """The README lines of one command that the command's ``output`` no longer prints (each run
    of lines between ``...`` markers must appear in order, consecutively); [] if none."""
    printed = [x.rstrip() for x in output.rstrip("\n").splitlines()]
    runs: list[list[str]] = [[]]
    for line in shown_lines:
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(line)
    at, missing = 0, []
    for run in (r for r in runs if r):
        starts = range(at, len(printed) - len(run) + 1)
        found = (j for j in starts if all(same_line(x, printed[j + i]) for i, x in enumerate(run)))
        hit = next(found, None)
        if hit is None:
            missing += run
        else:
            at = hit + len(run)
    return missing


def block_differences(old: list[str], outputs: list[tuple[str, str]]) -> list[str]:
    """What the README block ``old`` shows that the commands (``outputs``: command, stdout)
    no longer print, and commands it lacks; [] when the block is still true."""
    shown: dict[str, list[str]] = {}
    current = ""
    for line in old:
        if line.startswith("$ factcheck"):
            current = line[2:]
            shown[current] = []
        elif current:
            shown[current].append(line)
    out = []
    for command, stdout in outputs:
        if command not in shown:
            out.append(f"$ {command}: not in the README block")
            continue
        out += [f"{command.split()[1]}: {x}" for x in differences(shown[command], stdout)]
    return out


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
    label: str = ""  # set when the subcommand alone is not unique (blocks())

    @property
    def name(self) -> str:
        return self.label or self.commands[-1].split()[1]


#: commands whose README blocks are transcripts, not rerun: sweeps need a dask cluster, minutes,
#: and some show a Ctrl-C or a remote scheduler; the conjecture search is not yet specified here
#: (its keep ranges are still to be chosen)
NOT_RERUN = ("factcheck sweep", "factcheck conjecture")


def blocks(readme: str) -> list[Block]:
    """Every ```text block whose first line is ``$ factcheck ...``."""
    lines = readme.splitlines()
    out = []
    for k, line in enumerate(lines):
        if line.strip() == "```text" and k + 1 < len(lines) and lines[k + 1].startswith("$ "):
            stop = next(j for j in range(k + 1, len(lines)) if lines[j].strip() == "```")
            cmds = tuple(x[2:] for x in lines[k + 1 : stop] if x.startswith("$ factcheck"))
            if cmds and not any(c.startswith(NOT_RERUN) for c in cmds):
                out.append(Block(k + 1, stop, cmds))
    seen: set[str] = set()
    for n, b in enumerate(out):  # a second "check" block is named by its first option
        if b.name in seen:
            option = next((w for w in b.commands[-1].split() if w.startswith("--")), f"--{n}")
            out[n] = Block(b.start, b.stop, b.commands, f"{b.name}-{option[2:]}")
        seen.add(out[n].name)
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


def run_block(block: Block, workdir: Path | None = None) -> list[tuple[str, str]]:
    """Run the block's commands in a scratch directory: (command, stdout) for each."""
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(workdir or tmp)
        if not (where / "examples").exists():
            shutil.copytree(ROOT / "examples", where / "examples")
        env = os.environ | {"COLUMNS": "100"}
        out: list[tuple[str, str]] = []
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
            out.append((command, run.stdout))
        return out


def render(outputs: list[tuple[str, str]]) -> list[str]:
    """The block's new lines: each command, then the lines of its output the README shows."""
    return [line for c, stdout in outputs for line in [f"$ {c}", *shown(stdout, example(c))]]


def available(block: Block) -> str:
    """ "" if the block can run here, else why not (a missing extra)."""
    for command in block.commands:
        if example(command).needs == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                return "PyTorch is not installed (pip install torch==2.13.0 or '.[torch]')"
        if example(command).needs == "flint":
            try:
                import flint  # noqa: F401
            except ImportError:
                return "python-flint is not installed (pip install '.[certify]')"
    return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    p.add_argument("--only", default="", help="comma-separated subcommands (e.g. derive,rfm)")
    p.add_argument("--list", action="store_true", help="list the examples")
    p.add_argument("--all", action="store_true", help="rewrite every block, not only drifted ones")
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
        outputs = run_block(block)
        new = render(outputs)
        old = lines[block.start : block.stop]
        if block_differences(old, outputs) or (args.all and new != old):
            drift += 1
            old_n, new_n = [x + "\n" for x in old], [x + "\n" for x in new]
            sys.stdout.writelines(difflib.unified_diff(old_n, new_n, "README.md", block.name))
            if not args.check:  # only blocks that say something else now: no churn of digits
                lines[block.start : block.stop] = new
    if not args.check and not args.list:
        README.write_text("\n".join(lines) + "\n")
    if args.check and drift:
        print(f"{drift} README example(s) differ from what the commands print", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
