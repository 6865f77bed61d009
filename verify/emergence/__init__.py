"""Feature emergence from input structure (Shi, Wei, Liang, ICLR 2022, arXiv:2206.01717; S1-S6).

On data whose labels depend on a few class-relevant patterns and whose inputs mix those with
background patterns, a two-layer network trained by gradient descent learns the relevant
patterns and succeeds; linear models on data-independent features do worse; without the input
structure, learning fails (REFERENCE section 7). This subpackage reproduces that at laptop size and
looks at it through FACT (F1) and the AGOP (N1):

- :mod:`~verify.emergence.data`: the data model, its assumptions A0-A2 and normalisation S2;
- :mod:`~verify.emergence.twolayer`: the paper's network, smoothed activations, hinge loss, init;
- :mod:`~verify.emergence.schedule`: the training schedule and the measurements along it;
- :mod:`~verify.emergence.measures`: shares of span(M_A) and per-neuron alignment;
- :mod:`~verify.emergence.baselines`: random features, NNGP and NTK kernel ridge regression;
- :mod:`~verify.emergence.rfm_recovery`: NFA-RFM and FACT-RFM on the same data;
- :mod:`~verify.emergence.certified`: FACT and AGOP at a certified stationary point;
- :mod:`~verify.emergence.config`, :mod:`~verify.emergence.experiment`,
  :mod:`~verify.emergence.claims`, :mod:`~verify.emergence.render`: settings, runner, verdicts,
  text and figure; :mod:`~verify.emergence.report` the entries of ``factcheck report``.

Imports go downward only: the engine (verify.engine.network, verify.engine.train), the claims layer
(verify.claims.features, verify.claims.checks) and, for RFM on the same data, verify.rfm.
"""

from __future__ import annotations

from verify.emergence.claims import SHARE_LEVEL, Claim, Stat, claims, stat, summary
from verify.emergence.config import EmergenceConfig
from verify.emergence.data import LABELS, Dataset, EmergenceModel, Instance, Moments
from verify.emergence.experiment import EmergenceResult, SeedResult, run_experiment, run_seed
from verify.emergence.measures import neuron_alignment, nfm_share, subspace_share, top_mass
from verify.emergence.schedule import Checkpoint, Schedule, TrainHistory, train_schedule

__all__ = [
    "LABELS",
    "SHARE_LEVEL",
    "Checkpoint",
    "Claim",
    "Dataset",
    "EmergenceConfig",
    "EmergenceModel",
    "EmergenceResult",
    "Instance",
    "Moments",
    "Schedule",
    "SeedResult",
    "Stat",
    "TrainHistory",
    "claims",
    "neuron_alignment",
    "nfm_share",
    "run_experiment",
    "run_seed",
    "stat",
    "subspace_share",
    "summary",
    "top_mass",
    "train_schedule",
]
