"""A pytest plugin for course exercises: the fixture ``claim_check``.

Installed with the toolkit as a pytest plugin (entry point ``pytest11``), so any test file can
ask for it; without the installed entry point, add
``pytest_plugins = ["verify.cli.pytest_plugin"]`` to the exercise file. The fixture is
:func:`verify.counterexamples.exercises.assert_claim_holds`: a false claim fails the test with
the shrunk, certified counterexample as its message. It sits with the command line (the
toolkit's other entry point for people) and, like the subcommands, imports nothing heavy
until it is used, so loading the plugin costs every pytest run nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["claim_check"]


@pytest.fixture
def claim_check() -> Callable[..., Any]:
    """``claim_check(expr, family="tanh-mlp", budget=30, seed=0, **options)``: check a claim
    about converged networks; a false one fails with the smallest counterexample found."""
    from verify.counterexamples.exercises import assert_claim_holds

    return assert_claim_holds
