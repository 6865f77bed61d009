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
   (:class:`Candidate`, :class:`SearchSpace`), seeded random search with local refinement
   around the worst violation (:func:`search`) and shrinking (:func:`shrink`).

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
from verify.counterexamples.search import SearchResult, Trial, run_trial, search, shrink
from verify.counterexamples.space import (
    ACTIVATION_CHOICES,
    INPUT_CHOICES,
    TARGET_CHOICES,
    Candidate,
    SearchSpace,
)

__all__ = [
    "ACTIVATION_CHOICES",
    "CERT_DPS",
    "CLAIMS",
    "INPUT_CHOICES",
    "RECHECK_EXTRA_DPS",
    "TARGET_CHOICES",
    "Candidate",
    "Certificate",
    "Claim",
    "Evaluation",
    "SearchResult",
    "SearchSpace",
    "Trial",
    "Witness",
    "alpha_grid",
    "balance_claim",
    "certify",
    "custom_claim",
    "fact_claim",
    "make_claim",
    "nfa_claim",
    "polish",
    "report_entries",
    "run_trial",
    "save_certificate",
    "search",
    "shrink",
]


def report_entries(quick: bool = False, seed: int = 0) -> list[Any]:
    """The built-in families, certified (quick < 15 s, default < 60 s)."""
    from verify.counterexamples.families import family_report_entries

    return family_report_entries(quick, seed)
