"""Checks with verdicts: FACT (F1, with F2 as the explanation off convergence) and the NFA (N2).

Verdicts (``theory.Verdict``) follow the project's standard:

- NUMERICALLY_CONSISTENT: at a certified stationary point the FACT defect is within the rounding
  tolerance (plus the F2 bound of the residual gradient); for the NFA, the Pearson correlation of
  NFM and AGOP^alpha is at least the threshold.
- INCONCLUSIVE: the point is not certified (training did not converge, or a user's run file is
  not at a stationary point). The reason quotes F2: ||W^T W - FACT|| <= ||W|| ||grad_W L|| / lam,
  and says what to change. Non-convergence is never a refutation.
- REFUTED: only at a certified point, and only after the violation was re-checked by Newton
  refinement and re-evaluation in mpmath at higher precision (every refutation is re-checked).
  For FACT this should never happen; the planted false variants (:data:`PLANTED_FACT`) show that
  it does when the formula is wrong.

A FACT check with lam <= 0 is outside the theorem's assumptions and raises
``OutsideAssumptionsError``.

Layout: :mod:`verify.claims.fact` (F1, F2, planted variants), :mod:`verify.claims.nfa` (N2),
:mod:`verify.claims.common` (shared helpers); this module re-exports them and builds the report
entries.
"""

from __future__ import annotations

from verify.base.records import ReportEntry
from verify.claims.fact import (
    PLANTED_FACT,
    FactCheck,
    FactLayer,
    Formula,
    check_f2,
    check_fact,
)
from verify.claims.nfa import NfaCheck, NfaLayer, check_nfa

__all__ = [
    "PLANTED_FACT",
    "FactCheck",
    "FactLayer",
    "Formula",
    "NfaCheck",
    "NfaLayer",
    "check_f2",
    "check_fact",
    "check_nfa",
    "report_entries",
]


def report_entries(quick: bool, seed: int = 0) -> list[ReportEntry]:
    """FACT and NFA checks for ``factcheck report`` (quick: a few seconds; else < ~40 s)."""
    import time

    from verify.engine.network import MLP
    from verify.engine.train import synthetic_problem, train

    entries: list[ReportEntry] = []

    def fact_entry(check: FactCheck, claim: str, theorem: bool, seconds: float) -> None:
        entries.append(
            ReportEntry(
                "FACT",
                claim,
                "F1",
                check.verdict.value,
                check.verdict.evidence,
                check.reason,
                check.precision,
                seconds,
                check.to_text(),
                "",
                check.to_dict(),
                None,
                theorem,
                role="" if theorem else "planted",
            )  # fmt: skip
        )

    cases: list[tuple[str, tuple[int, ...], str, int | None]] = [
        ("tanh", (4, 8, 2), "mse", None),
        ("tanh", (4, 8, 2), "mse", 40 if quick else 60),
    ]
    if not quick:
        cases += [
            ("gelu", (4, 6, 6, 3), "cross_entropy", None),
            ("sigmoid", (5, 6, 6, 6, 3), "cross_entropy", None),
            ("softplus", (3, 5, 2), "mse", 50),
            ("identity", (4, 5, 5, 3), "mse", 50),  # rotation zero modes: least-squares Newton
            ("tanh", (20, 64, 1), "mse", None),  # 1344 parameters: Newton-MINRES path
        ]
    base = None
    for act, sizes, loss, dps in cases:
        t0 = time.perf_counter()
        problem = synthetic_problem(MLP(sizes, act), 32, loss=loss, lam=1e-2, seed=seed)
        result = train(problem, seed=seed, dps=dps)
        base = base or result
        where = "float64" if dps is None else f"{dps} digits"
        desc = f"{act} MLP {sizes}, {loss}, lam 1e-2, n 32, seed {seed}; {where}"
        fact_entry(check_fact(result), f"FACT in every layer ({desc})", True,
                   time.perf_counter() - t0)  # fmt: skip
    assert base is not None
    for name in ("sign_flipped", "missing_1_over_n"):
        t0 = time.perf_counter()
        planted = check_fact(base, formula=name, recheck=True)
        fact_entry(planted, f"planted false FACT ({name}) must be REFUTED", False,
                   time.perf_counter() - t0)  # fmt: skip
    t0 = time.perf_counter()
    early = train(base.problem, seed=seed, max_iter=5, newton_steps=0, spectrum="none")
    verdict, _, why = check_f2(early)
    entries.append(
        ReportEntry(
            "FACT",
            "F2: W^T W - FACT = W^T grad_W L_lam / lam after 5 L-BFGS steps",
            "F2",
            verdict.value,
            verdict.evidence,
            why,
            "float64",
            time.perf_counter() - t0,
        )  # fmt: skip
    )
    nfa_cases = [("tanh", (4, 8, 2), 0.5), ("identity", (4, 6, 2), None)]
    for act, sizes, alpha in nfa_cases:
        t0 = time.perf_counter()
        problem = synthetic_problem(MLP(sizes, act), 32, lam=1e-2, seed=seed)
        nfa = check_nfa(train(problem, seed=seed), alpha=alpha, threshold=0.9, layers=[1])
        what = f"alpha={alpha}" if alpha is not None else "best alpha over a grid"
        entries.append(
            ReportEntry(
                "NFA",
                f"NFA, layer 1 of a {act} MLP {sizes} ({what}; Pearson >= 0.9)",
                "N2",
                nfa.verdict.value,
                nfa.verdict.evidence,
                nfa.reason,
                nfa.precision,
                time.perf_counter() - t0,
                nfa.to_text(),
                "",
                nfa.to_dict(),
                None,
                False,
            )  # fmt: skip
        )
    return entries
