"""Counterexamples: claims as data, certified witnesses, and the search that finds them.

A *claim* about converged networks (the NFA, FACT, deep-linear balancedness, or any user
function) is turned into a *violation score* at a stationary point: the claim fails at a witness
when the score exceeds the claim's tolerance there. This module is the public face of

1. :mod:`verify.counterexamples.claims`: claims as data and their scores (:class:`Claim`;
   :func:`nfa_claim`, :func:`fact_claim`, :func:`balance_claim`, :func:`custom_claim`; the NFA
   exponent grid :func:`alpha_grid`);
2. :mod:`verify.counterexamples.certify`: Newton in mpmath at ``dps`` digits (50 by default)
   until the gradient of L_lam is at its rounding floor (:func:`polish`, the engine's
   verify.train.refine_mp), the claim scored there, a violation re-checked at ``dps + 20``
   digits before it is reported REFUTED (:func:`certify`, :func:`save_certificate`);
3. :mod:`verify.counterexamples.space` and :mod:`verify.counterexamples.search`: candidates
   (:class:`Candidate` = verify.strategies.NetworkSpec, :class:`SearchSpace` =
   verify.strategies.NetworkSpace) and the search on Hypothesis (:func:`search`): a strategy
   over network, data and hyperparameters, ``hypothesis.target`` toward larger violation,
   Hypothesis's shrinking, then certification; seeded, budgets in examples, never seconds;
4. :mod:`verify.counterexamples.expressions` and :mod:`verify.counterexamples.conjecture`:
   conjectures from users, "NFM - AGOP**(1/2)" parsed safely over named layer quantities and
   searched like any claim (:func:`check_conjecture`, ``factcheck conjecture``);
5. :mod:`verify.counterexamples.exercises`: course exercises (a student's claim fails with the
   shrunk counterexample as its message; the pytest fixture is verify.cli.pytest_plugin).

The built-in families (quadratic, deep-linear-unbalanced, dead-relu, adamw) live in
:mod:`verify.counterexamples.families`; ``factcheck counterexample`` is the command line.

Non-convergence is never a refutation: a point that does not reach its rounding floor gives the
verdict INCONCLUSIVE. Search candidates must be certified stationary by the engine in float64
(verify.train.train) to be scored at all; the reported witness is certified at 50 digits.
"""

from __future__ import annotations

from typing import Any

from verify.counterexamples.certify import (
    CERT_DPS,
    RECHECK_EXTRA_DPS,
    Certificate,
    certify,
    polish,
    save_certificate,
)
from verify.counterexamples.claims import (
    CLAIMS,
    Claim,
    Evaluation,
    Witness,
    alpha_grid,
    balance_claim,
    custom_claim,
    fact_claim,
    make_claim,
    nfa_claim,
)
from verify.counterexamples.conjecture import (
    ConjectureResult,
    check_conjecture,
    conjecture_claim,
)
from verify.counterexamples.search import SearchResult, Trial, run_trial, search
from verify.counterexamples.space import (
    ACTIVATION_CHOICES,
    DEFAULT_SPACE,
    INPUT_CHOICES,
    TARGET_CHOICES,
    Candidate,
    SearchSpace,
    candidates,
    space_summary,
    spec_changes,
)

__all__ = [
    "ACTIVATION_CHOICES",
    "CERT_DPS",
    "CLAIMS",
    "DEFAULT_SPACE",
    "INPUT_CHOICES",
    "RECHECK_EXTRA_DPS",
    "TARGET_CHOICES",
    "Candidate",
    "Certificate",
    "Claim",
    "ConjectureResult",
    "Evaluation",
    "SearchResult",
    "SearchSpace",
    "Trial",
    "Witness",
    "alpha_grid",
    "balance_claim",
    "candidates",
    "certify",
    "check_conjecture",
    "conjecture_claim",
    "custom_claim",
    "fact_claim",
    "make_claim",
    "nfa_claim",
    "polish",
    "report_entries",
    "run_trial",
    "save_certificate",
    "search",
    "space_summary",
    "spec_changes",
]


def report_entries(quick: bool = False, seed: int = 0) -> list[Any]:
    """The built-in families, certified (quick < 15 s, default < 60 s)."""
    from verify.counterexamples.families import family_report_entries

    return family_report_entries(quick, seed)
