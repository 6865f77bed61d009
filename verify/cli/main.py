"""The ``factcheck`` command-line tool.

Each subcommand lives in its own module ``verify/cli/<name>.py`` that defines
``register(subparsers) -> None``; the parser it adds sets ``func`` (a callable taking the parsed
arguments and returning an exit status). ``register`` uses only the standard library and the
light modules (``theory._errors``, ``theory._options``, ``verify.base``): NumPy, SymPy and the
toolkit's numerical code are imported inside the run functions, so ``factcheck --help`` and
``factcheck --version`` start in a few tens of milliseconds.

Bad input raises :class:`theory.InputError`, which this entry point prints as one line on stderr
and turns into exit status 2, with no traceback. Every parser takes ``--max-memory SIZE`` (the
memory limit of :mod:`verify.base.validate`, passed on as FACTCHECK_MAX_MEMORY). SIGINT exits
with status 130, SIGTERM and SIGHUP with 128 + the signal number; both leave no partial output
(:mod:`verify.base.files`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from theory._errors import InputError
from verify.base.blas import set_blas_threads
from verify.base.interrupt import Terminated, terminate_as_exception
from verify.base.malloc import tune_allocator
from verify.base.validate import MEMORY_ENV, parse_size
from verify.base.version import __version__

# one BLAS thread unless the environment says otherwise (why: verify/base/blas.py); this must happen
# before NumPy is imported, which the subcommand modules below do
set_blas_threads(1)

__all__ = ["main", "build_parser"]

#: subcommand modules, in the order they appear in ``factcheck --help``
_COMMAND_MODULES = (
    "verify.cli.report",
    "verify.cli.derive",
    "verify.cli.verify",
    "verify.cli.check",
    "verify.cli.check_derivation",
    "verify.cli.check_torch",
    "verify.cli.counterexample",
    "verify.cli.conjecture",
    "verify.cli.rfm",
    "verify.cli.emergence",
    "verify.cli.sweep",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line naming the fix, exit status 2.

    Every parser, at every level, takes ``--max-memory`` (so it may follow the subcommand).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--max-memory", metavar="SIZE", default=argparse.SUPPRESS,
            help=f"memory limit, e.g. 8G (default: ${MEMORY_ENV}, else 4G or 3/4 of RAM)",
        )  # fmt: skip

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}. See '{self.prog} --help'.\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or, when ``command`` names one, of that one alone (the
    other subcommands' modules are not imported). Why: importing the eleven modules and adding
    their parsers took ~20 ms of CPU, ~3% of the standard net's `factcheck verify fact`."""
    parser = _Parser(
        prog="factcheck",
        description=(
            "Derive, verify and teach the mathematics of feature learning: FACT (F1-F5), "
            "the Neural Feature Ansatz (N1-N3) and deep linear networks (D1-D7)."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"factcheck {__version__} (factcheck-toolkit)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    module = f"verify.cli.{command.replace('-', '_')}" if command else None
    for name in (module,) if module in _COMMAND_MODULES else _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs, when it comes first (after ``--max-memory SIZE``, the one
    option the top level shares with every parser); else None (``--help``, ``--version``, a
    mistyped command: the whole parser answers those)."""
    args = list(argv)
    if args[:1] == ["--max-memory"]:
        args = args[2:]
    elif args and args[0].startswith("--max-memory="):
        args = args[1:]
    return args[0] if args and not args[0].startswith("-") else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command(argv)).parse_args(argv)
    tune_allocator()  # keep NumPy temporaries in the heap (why and measured: verify/base/malloc.py)
    handlers = {s: signal.getsignal(s) for s in _TERMINATING}
    limit = os.environ.get(MEMORY_ENV)
    terminate_as_exception()
    try:
        if getattr(args, "max_memory", None) is not None:
            os.environ[MEMORY_ENV] = str(parse_size(args.max_memory))
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"factcheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("factcheck: interrupted; nothing further was written.", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"factcheck: terminated ({exc}); nothing further was written.", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:  # a caller in the same process (the tests) gets its handlers and limit back
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
        if limit is None:
            os.environ.pop(MEMORY_ENV, None)
        else:
            os.environ[MEMORY_ENV] = limit


_TERMINATING = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
