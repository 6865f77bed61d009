"""Counterexample machinery: claims, certification, the Hypothesis search, CLI (N2, N3, F1, F2, D4).

Tiers: fast tests use tiny search spaces (the 10-seed quality runs take < 10 s each there);
the CLI acceptance run of the quadratic family is marked slow.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from theory._errors import InputError
from theory._records import Verdict
from verify.cli.main import main
from verify.counterexamples import (
    Candidate,
    SearchSpace,
    Witness,
    alpha_grid,
    balance_claim,
    certify,
    custom_claim,
    fact_claim,
    make_claim,
    nfa_claim,
    polish,
    save_certificate,
    search,
)
from verify.counterexamples.families import search_family
from verify.engine.network import MLP, Problem, mp_backend
from verify.engine.train import train

search_module = importlib.import_module("verify.counterexamples.search")  # the module, not search

#: tiny networks: every certification at 50 digits takes about a second
TINY = SearchSpace(
    activations=("tanh", "softplus"), depths=(2,), max_width=3, max_d=3, samples=(12, 16),
    log10_lam=(-3.0, -1.0),
)  # fmt: skip
TINY_LINEAR = SearchSpace(depths=(2,), max_width=3, max_d=3, samples=(12,))


def _tanh_problem(seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 3))
    Y = np.tanh(X @ rng.standard_normal((3, 1)))
    return Problem(MLP((3, 3, 1), "tanh"), X, Y, "mse", 1e-2)


# -- layout ------------------------------------------------------------------------------------
FACADES = {
    "verify.counterexamples": ("claims", "certify", "space", "search", "conjecture"),
    "verify.counterexamples.families": ("family_result", "stationary_families", "adamw"),
}


@pytest.mark.parametrize("facade", sorted(FACADES))
def test_facade_reexports_every_public_name(facade: str) -> None:
    """N2: each facade re-exports its modules' public names, so `from facade import X` works."""
    fac = importlib.import_module(facade)
    for part in FACADES[facade]:
        mod = importlib.import_module(f"verify.counterexamples.{part}")
        missing = [n for n in mod.__all__ if getattr(fac, n, None) is not getattr(mod, n)]
        assert not missing, (part, missing)
    assert all(hasattr(fac, n) for n in fac.__all__)


# -- claims ------------------------------------------------------------------------------------
def test_alpha_grid_covers_unit_interval() -> None:
    """N2: the grid holds 1/8, ..., 1 and 1/L for L = 2..depth (D5)."""
    grid = alpha_grid(4)
    assert min(grid) == 0.125 and max(grid) == 1.0
    assert all(x in grid for x in (0.25, 0.5, 1 / 3, 0.75))
    assert 1 / 4 in grid and all(0 < a <= 1 for a in grid)


def test_nfa_score_is_max_of_pearson_and_cosine() -> None:
    """N3: the violation is 1 - max over the grid of max(Pearson, cosine)."""
    problem = _tanh_problem()
    res = train(problem, seed=0, spectrum="none")
    ev = nfa_claim(None, 0.9).score(Witness(problem, res.theta))
    rows = ev.data["layers"][0]["by_alpha"]
    assert ev.violation == pytest.approx(1 - max(max(p, c) for _, p, c, _ in rows))
    assert all(m == max(p, c) for _, p, c, m in rows)


def test_custom_claim_scores_user_function() -> None:
    """N2: a user claim is a function (problem, theta, be) -> violation score."""
    claim = custom_claim("norm <= 0.1", lambda pb, th, be: float(np.sum(th * th)), 0.1)
    problem = _tanh_problem()
    res = train(problem, seed=0, spectrum="none")
    ev = claim.score(Witness(problem, res.theta))
    assert ev.violation == pytest.approx(float(np.sum(res.theta**2)))
    assert ev.fails


# -- certification -----------------------------------------------------------------------------
def test_polish_reaches_50_digit_floor() -> None:
    """F2: Newton in mpmath takes a float64 point to its 50-digit rounding floor."""
    problem = _tanh_problem()
    res = train(problem, seed=0, spectrum="none")
    point = polish(problem, res.theta, 50)
    assert point.converged and point.certified_at(mp_backend(50))
    assert point.grad_norm_mp is not None and point.grad_norm_mp < 1e-45


def test_fact_holds_at_certified_point_and_planted_variant_refuted() -> None:
    """F1: FACT is consistent at 50 digits; the sign-flipped variant is REFUTED (re-checked)."""
    problem = _tanh_problem()
    res = train(problem, seed=0, spectrum="none")
    good = certify(fact_claim("F1"), problem, res.theta)
    assert good.verdict is Verdict.NUMERICALLY_CONSISTENT
    assert max(r["rel_error"] for r in good.fact) < 1e-40
    bad = certify(fact_claim("sign_flipped"), problem, res.theta)
    assert bad.verdict is Verdict.REFUTED
    assert bad.recheck["dps"] == 70 and bad.recheck["agrees"]
    assert bad.evaluation is not None and bad.evaluation.violation == pytest.approx(2.0)


def test_non_converged_point_is_never_a_refutation() -> None:
    """F2: a point far from stationarity gives INCONCLUSIVE, not REFUTED."""
    problem = _tanh_problem()
    theta = problem.net.init(3) * 3.0
    cert = certify(fact_claim("sign_flipped"), problem, theta)
    assert cert.verdict is not Verdict.REFUTED or cert.point.converged


# -- search and shrinking ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_planted_fact_sign_flip_found_fast(seed: int) -> None:
    """F1: the planted sign flip is found and certified within 4 candidates (fast tier)."""
    res = search(fact_claim("sign_flipped"), budget=4, seed=seed, space=TINY, quiet=True,
                 shrink_budget=2)  # fmt: skip
    assert res.verdict is Verdict.REFUTED
    assert res.certificate is not None and res.certificate.point.converged


@pytest.mark.parametrize("seed", [0, 1])
def test_planted_balance_without_decay_found_fast(seed: int) -> None:
    """D4: 'balanced without weight decay' (lam = 0) is refuted within 4 candidates."""
    res = search(balance_claim(decay=False), budget=4, seed=seed, space=TINY_LINEAR,
                 quiet=True, shrink_budget=2)  # fmt: skip
    assert res.verdict is Verdict.REFUTED


@pytest.mark.parametrize("seed", [0, 1])
def test_fact_never_refuted_same_budget(seed: int) -> None:
    """F1: FACT itself is never refuted over the same budget (soundness); says what it tried."""
    res = search(fact_claim("F1"), budget=4, seed=seed, space=TINY, quiet=True)
    assert res.verdict is not Verdict.REFUTED
    assert res.tried == 4 and "activations" in res.space


def _fingerprint(res) -> tuple:  # type: ignore[no-untyped-def]  # noqa: ANN001
    cert = res.certificate
    return (res.verdict, res.tried, res.converged, res.trained, res.shrink_trainings,
            tuple(res.shrink_log), None if res.best is None else res.best.candidate,
            None if cert is None else cert.origin.get("description"))  # fmt: skip


def test_search_is_deterministic_for_a_seed() -> None:
    """N2: the same seed gives the same examples, scores, shrinking and witness."""
    a = search(nfa_claim(None, 0.99), budget=3, seed=5, space=TINY, quiet=True)
    b = search(nfa_claim(None, 0.99), budget=3, seed=5, space=TINY, quiet=True)
    assert a.best is not None and b.best is not None
    assert a.best.violation == b.best.violation
    assert _fingerprint(a) == _fingerprint(b)


def test_search_result_does_not_depend_on_machine_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    """N2: a slower machine (every training delayed) runs the same examples to the same result:
    the budget counts examples and trainings, never seconds."""
    import time

    claim = nfa_claim(None, 0.9)
    fast = search(claim, budget=5, seed=3, space=TINY, quiet=True, shrink_budget=4)
    slow_trial = search_module.run_trial

    def delayed(*args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN002, ANN003, ANN202
        time.sleep(0.05)
        return slow_trial(*args, **kwargs)

    monkeypatch.setattr(search_module, "run_trial", delayed)
    slow = search(claim, budget=5, seed=3, space=TINY, quiet=True, shrink_budget=4)
    assert _fingerprint(slow) == _fingerprint(fast)
    assert fast.tried == 5 or fast.verdict is Verdict.REFUTED


def test_search_ignores_constants_from_local_source_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N2: Hypothesis's constants harvested from "local" source files (present for an editable
    install, absent for an installed package) do not enter the search, and the search writes
    nothing (no .hypothesis/) to the current directory."""
    from hypothesis.internal.conjecture import providers

    monkeypatch.chdir(tmp_path)
    claim = fact_claim("F1")  # never fails: every example of the budget is drawn and kept

    def examples() -> list:  # type: ignore[type-arg]
        out = []
        for seed in (0, 1, 3):  # without the guard, these three searches change (measured)
            res = search(claim, budget=8, seed=seed, space=TINY, quiet=True, shrink_budget=2)
            out.append([res.tried, res.space, _fingerprint(res)])
        return out

    plain = examples()
    polluted = providers.Constants(integers=set(range(2, 40)) | {9999},
                                   floats={0.3, 1e-3, 2.5, -1.5, 0.7, 1.25})  # fmt: skip
    monkeypatch.setattr(providers, "_get_local_constants", lambda: polluted)
    providers.CONSTANTS_CACHE.cache.clear()
    assert examples() == plain
    assert providers._get_local_constants() is polluted  # restored after the search
    assert not list(tmp_path.iterdir())


def test_collapsed_networks_are_skipped_never_witnesses() -> None:
    """N3: at W = 0 (weight decay stronger than the data) the NFA compares two zero matrices; such
    points are skipped and counted, never a counterexample."""
    heavy = SearchSpace(activations=("tanh",), depths=(2,), max_width=2, max_d=2, samples=(12,),
                        log10_lam=(1.0, 1.5))  # fmt: skip
    res = search(nfa_claim(None, 0.9), budget=3, seed=0, space=heavy, quiet=True)
    assert res.skipped.get("collapsed (W = 0)", 0) >= 1
    assert res.verdict is not Verdict.REFUTED


def test_shrinking_gives_a_simpler_failing_witness() -> None:
    """F1: Hypothesis's shrinking ends at a witness that still fails, no larger than the first
    failure found (fewer samples, smaller widths, simpler numbers), and says what changed."""
    space = SearchSpace(activations=("tanh",), depths=(2, 3), max_width=4, max_d=4,
                        samples=(12, 16, 24), log10_lam=(-3.0, -1.0))  # fmt: skip
    res = search(nfa_claim(1.0, 0.999), budget=20, seed=1, space=space, quiet=True,
                 shrink_budget=20)  # fmt: skip
    assert res.witnesses, "the planted NFA with alpha = 1 and threshold 0.999 must fail"
    small, first = res.witnesses[0], res.witnesses[-1]
    assert small.evaluation is not None and small.evaluation.fails
    assert small.candidate.n <= first.candidate.n
    assert small.candidate.depth <= first.candidate.depth
    assert sum(small.candidate.widths) <= sum(first.candidate.widths)


def test_unconfirmed_violation_is_inconclusive_never_no_violation() -> None:
    """F2: a claim that fails in float64 but holds at 50 digits (a rounding artefact) gives
    INCONCLUSIVE, never NUMERICALLY_CONSISTENT ("no violation")."""
    claim = custom_claim("float64 artefact",
                         lambda pb, th, be: 1.0 if be.name == "float64" else 0.0, 0.5)  # fmt: skip
    res = search(claim, budget=3, seed=0, space=TINY, quiet=True, shrink_budget=2)
    assert res.witnesses and res.certificate is not None
    assert res.certificate.verdict is Verdict.NUMERICALLY_CONSISTENT  # holds at 50 digits
    assert res.verdict is Verdict.INCONCLUSIVE
    assert "float64 violations, none confirmed at high precision" in res.reason


def test_rounded_data_candidate() -> None:
    """N3: data rounded to 2 significant digits is what the problem holds."""
    pb = Candidate(d=2, n=8, digits=2, seed=1).problem()
    mant = np.abs(pb.X[pb.X != 0])
    scaled = mant / 10 ** np.floor(np.log10(mant)) * 10
    assert np.allclose(scaled, np.round(scaled))


# -- CLI ---------------------------------------------------------------------------------------
BAD = [
    (["counterexample", "nfa", "--threshold", "1.5"], "--threshold must be strictly between"),
    (["counterexample", "nfa", "--threshold", "0"], "--threshold must be strictly between"),
    (["counterexample", "nfa", "--budget", "0"], "--budget must be >= 1"),
    (["counterexample", "nfa", "--family", "nope"], "--family must be one of"),
    (["counterexample", "magic"], "claim must be one of"),
    (["counterexample", "fact", "--family", "dead-relu"], "claim must be one of"),
    (["counterexample", "nfa", "--alpha", "2"], "--alpha must be in"),
    (["counterexample", "fact", "--alpha", "0.5"], "--alpha must be used only with"),
    (["counterexample", "nfa", "--save", "cx.txt"], "--save must end in .npz"),
    (["counterexample", "nfa", "--shrink-budget", "-1"], "--shrink-budget must be >= 0"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_cli_bad_input(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    """N2: every bad input exits 2 with one line naming argument, rule, value and fix."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "got" in err[0]


def test_api_bad_input() -> None:
    """N2: the Python entry points raise InputError with the rule and the fix."""
    with pytest.raises(InputError, match="threshold must be a correlation strictly between"):
        nfa_claim(None, 1.0)
    with pytest.raises(InputError, match="budget must be an integer >= 1"):
        search(fact_claim(), budget=0)
    with pytest.raises(InputError, match="claim must be one of"):
        make_claim("nope")
    with pytest.raises(InputError, match="space.activations must be"):
        SearchSpace(activations=("swish",))


def test_certificate_roundtrip_through_check(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """F1: a saved certificate (run file + JSON) re-verifies with `factcheck check`."""
    problem = _tanh_problem()
    res = train(problem, seed=0, spectrum="none")
    cert = certify(nfa_claim(None, 0.99), problem, res.theta)
    npz, summary = save_certificate(cert, tmp_path / "cx.npz")
    data = json.loads(Path(summary).read_text())
    assert data["verdict"] == cert.verdict.value and len(data["theta_dps"]) == 12
    main(["check", npz, "--json"])
    checked = json.loads(capsys.readouterr().out)
    assert checked["tag"] == "F1" and checked["verdict"] == "NUMERICALLY_CONSISTENT"


@pytest.mark.slow
def test_cli_quadratic_family_acceptance(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """N2, F1: `counterexample nfa --family quadratic` certifies corr <= 0.5, FACT <= 1e-40,
    gradient <= 1e-45 at 50 digits, and the saved file passes `factcheck check`."""
    out = tmp_path / "cx.npz"
    assert main(["counterexample", "nfa", "--family", "quadratic", "--json", "--save",
                 str(out)]) == 1  # fmt: skip
    cert = json.loads(capsys.readouterr().out)["certificate"]
    assert cert["nfa_best_correlation"] <= 0.5
    assert cert["fact_rel_error_max"] <= 1e-40 and cert["grad_norm_dps"] <= 1e-45
    main(["check", str(out), "--json"])
    assert json.loads(capsys.readouterr().out)["verdict"] == "NUMERICALLY_CONSISTENT"


# -- quality over 10 seeds (each run < 10 s, so in the fast tier) ------------------------
@pytest.mark.parametrize("name", ["fact_sign", "balance_no_decay"])
def test_planted_claims_found_in_9_of_10_seeds(name: str) -> None:
    """F1, D4: planted false claims are found and certified in >= 9 of 10 seeded runs."""
    cases = {
        "fact_sign": (fact_claim("sign_flipped"), TINY),
        "balance_no_decay": (balance_claim(decay=False), TINY_LINEAR),
    }
    claim, space = cases[name]
    found = sum(
        search(claim, budget=6, seed=s, space=space, quiet=True, shrink_budget=2).verdict
        is Verdict.REFUTED
        for s in range(10)
    )
    assert found >= 9


@pytest.mark.parametrize("seed", [0, 1])
def test_planted_nfa_alpha_1_quadratic_family_fast(seed: int) -> None:
    """N2: the NFA with alpha = 1 is refuted on the quadratic family within 6 members."""
    res = search_family("quadratic", nfa_claim(1.0, 0.9), budget=6, seed=seed)
    assert res.verdict is Verdict.REFUTED


@pytest.mark.slow
def test_planted_nfa_alpha_1_quadratic_family_10_seeds() -> None:
    """N2: ... and so in >= 9 of 10 seeded Hypothesis sweeps (passed, 206 s in all)."""
    found = sum(
        search_family("quadratic", nfa_claim(1.0, 0.9), budget=6, seed=s).verdict is Verdict.REFUTED
        for s in range(10)
    )
    assert found >= 9


def test_fact_soundness_10_seeds() -> None:
    """F1: FACT is never refuted at certified stationary points over 10 seeds."""
    for s in range(10):
        assert search(fact_claim(), budget=6, seed=s, space=TINY, quiet=True).verdict is not (
            Verdict.REFUTED
        )
