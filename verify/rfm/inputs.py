"""Input checks and the progress callback shared by the RFM experiments.

Private: used by :mod:`verify.rfm.parity`, :mod:`verify.rfm.modular` and :mod:`verify.rfm.tabular`
(re-exported together from :mod:`verify.rfm.experiments`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from theory._errors import bad_input
from verify.rfm.machine import METHODS

Progress = Callable[[str], None]


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    for m in methods:
        if m not in METHODS:
            raise bad_input("method", f"be one of {', '.join(METHODS)}", m, "Pick a method.")
    if not methods:
        raise bad_input("methods", "name at least one method", list(methods), "Pass e.g. nfa.")
    return tuple(methods)


def _positive_int(name: str, value: int, least: int, fix: str) -> int:
    if int(value) != value or value < least:
        raise bad_input(name, f"be an integer >= {least}", value, fix)
    return int(value)
