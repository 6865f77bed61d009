"""The toolkit's error types.

Every bad input raises :class:`InputError` from the public entry point that received it, with a
message that names the argument, the rule, the value received and the fix, for example::

    lam must be > 0 for FACT (F1 needs weight decay); got 0.0. Pass --lam 1e-3.

The command-line tool prints the message on one line and exits with status 2.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InputError", "MatrixCalculusError", "OutsideAssumptionsError", "bad_input"]


class InputError(ValueError):
    """A user-supplied argument breaks a rule; the message says which, why and how to fix it."""


class OutsideAssumptionsError(InputError):
    """A check was asked for outside the assumptions of the theorem it checks."""


class MatrixCalculusError(ArithmeticError):
    """Two routes to a matrix derivative disagree; the message shows both results."""


def bad_input(argument: str, rule: str, got: Any, fix: str) -> InputError:
    """Build the standard message: ``{argument} must {rule}; got {got!r}. {fix}``."""
    return InputError(f"{argument} must {rule}; got {got!r}. {fix}")
