"""Course exercises: the fixture `claim_check` fails a false claim with the counterexample (N2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def test_false_claim_fails_with_the_shrunk_counterexample(claim_check: Callable[..., Any]) -> None:
    """N2: "NFM = AGOP**(1/2)" fails; the message names the network, the layer, both sides of
    the claim there and the certification."""
    with pytest.raises(AssertionError) as err:
        claim_check("NFM = AGOP**(1/2)", family="tanh-mlp", layers=[1])
    msg = str(err.value)
    assert "is false" in msg and "Smallest counterexample" in msg
    assert "tanh MLP" in msg and "certified at 50 digits" in msg and "confirmed at 70" in msg
    assert "NFM = [" in msg and "AGOP**(1/2) = [" in msg  # both sides, in full
    assert "||NFM - (AGOP**(1/2))||" in msg


def test_true_claim_passes(claim_check: Callable[..., Any]) -> None:
    """F1: "NFM = FACT" passes (no counterexample among the certified examples tried)."""
    res = claim_check("NFM = FACT", family="tanh-mlp", budget=10)
    assert res.verdict.value == "NUMERICALLY_CONSISTENT"


def test_plugin_loads_nothing_heavy() -> None:
    """N2: the plugin module imports only pytest (loading it costs nothing until used)."""
    import subprocess
    import sys

    code = (
        "import sys, verify.cli.pytest_plugin\n"
        "print(sorted(m for m in ('numpy', 'sympy', 'mpmath') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "[]", out.stderr
