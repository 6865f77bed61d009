"""The verdict rule of the counterexample search (N2, F1, D4): a float64 violation that its
certificate did not confirm is never reported as "no violation", and only a certified
counterexample is REFUTED."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

from theory._records import Verdict
from verify.counterexamples.claims import nfa_claim

search_mod = importlib.import_module("verify.counterexamples.search")


def _cert(verdict: Verdict) -> SimpleNamespace:
    return SimpleNamespace(verdict=verdict, reason=f"certificate says {verdict.value}")


@pytest.mark.parametrize("cert", [None, _cert(Verdict.INCONCLUSIVE)], ids=["none", "unconfirmed"])
def test_unconfirmed_violation_is_not_no_violation(cert: SimpleNamespace | None) -> None:
    """N2: float64 violations whose certificate is missing or INCONCLUSIVE give INCONCLUSIVE
    (saying none was confirmed), never NUMERICALLY_CONSISTENT ("no certified violation")."""
    claim = nfa_claim(0.5, 0.9)
    failing = [object(), object()]
    verdict, reason = search_mod._search_verdict(claim, cert, 5, 8, failing)
    assert verdict is Verdict.INCONCLUSIVE
    assert "2 float64 violations, none confirmed" in reason and "no certified" not in reason


def test_only_a_certified_counterexample_is_refuted() -> None:
    """N2: REFUTED needs a REFUTED certificate; with nothing failing the search is consistent at
    the points it certified; with no certified point nothing was tested."""
    claim = nfa_claim(0.5, 0.9)
    verdict, reason = search_mod._search_verdict(claim, _cert(Verdict.REFUTED), 5, 8, [1])
    assert verdict is Verdict.REFUTED and reason.startswith("certified counterexample found")
    ok = _cert(Verdict.NUMERICALLY_CONSISTENT)
    verdict, reason = search_mod._search_verdict(claim, ok, 5, 8, [])
    assert verdict is Verdict.NUMERICALLY_CONSISTENT
    assert "no certified violation exists among 5 certified stationary points of 8" in reason
    verdict, reason = search_mod._search_verdict(claim, None, 0, 8, [])
    assert verdict is Verdict.INCONCLUSIVE and "nothing was tested" in reason


def test_cli_search_has_no_wall_clock_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """N2: `factcheck counterexample nfa` runs its whole example budget: the search takes no
    wall-clock limit at all (budgets count examples), so the same seed gives the same result on
    a slow machine; --max-seconds does not exist."""
    import verify.counterexamples as cx
    from verify.cli.main import main

    seen: list[dict[str, object]] = []

    class Stop(Exception):
        pass

    def fake_search(claim: object, **kw: object) -> None:
        seen.append(kw)
        raise Stop

    monkeypatch.setattr(cx, "search", fake_search)
    with pytest.raises(Stop):
        main(["counterexample", "nfa", "--budget", "3", "--quiet"])
    kw = seen.pop()
    assert kw["budget"] == 3 and "max_seconds" not in kw
    with pytest.raises(SystemExit) as stop:  # argparse: an unknown option, exit status 2
        main(["counterexample", "nfa", "--max-seconds", "5"])
    assert stop.value.code == 2
