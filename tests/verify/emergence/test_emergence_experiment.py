"""The emergence experiment end to end (S1, S4, S6, F1, N1): report entries and acceptance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory._records import Verdict
from verify.emergence import EmergenceConfig, EmergenceModel, run_experiment
from verify.emergence.claims import SHARE_LEVEL, Z
from verify.emergence.report import data_model_check, report_entries


def test_data_model_check_passes_and_catches_a_wrong_model() -> None:
    """S1, S2: the report's data check passes on the model; a sampler with the wrong background
    rate (p_o claimed 0.5, sampled 0.3) fails its sample check."""
    model = EmergenceModel()
    chk = data_model_check(model, 20_000, 0)
    assert chk["exact_ok"] and chk["sample_ok"]

    class Lying(EmergenceModel):  # moments and normalisation of p_o = 0.5, samples at 0.3
        def moments(self, control: bool = False):  # type: ignore[no-untyped-def]
            return EmergenceModel(p_o=0.5).moments(control)

    chk = data_model_check(Lying(p_o=0.3), 20_000, 0)
    assert not chk["sample_ok"]


@pytest.mark.slow
def test_quick_report_entries() -> None:
    """S1, S4, S6: the quick report's entries are well formed, empirical and judged."""
    entries = report_entries(quick=True, seed=0)
    assert [e.tag for e in entries] == ["S1", "S4", "S6", "S6"]
    assert entries[0].theorem and all(not e.theorem for e in entries[1:])
    assert all(e.verdict in ("NUMERICALLY_CONSISTENT", "INCONCLUSIVE") for e in entries)
    assert entries[1].figure_svg is not None and entries[1].figure_svg.startswith("<svg")


@pytest.mark.slow
def test_acceptance_with_defaults_over_five_seeds() -> None:
    """S4, S6, F1, N1: with the defaults over 5 seeds, the network beats the best fixed-feature
    baseline by more than 3 SE, its share of span(M_A) is >= 0.9 (vs ~k/d at init), the control
    is no better than chance + 3 SE, and FACT holds at every certified point. Each inequality is
    recomputed here from the per-seed numbers."""
    res = run_experiment(EmergenceConfig(rfm=False), jobs=2)
    seeds = res.seeds
    assert len(seeds) == 5

    def mean_se(v: list[float]) -> tuple[float, float]:
        return float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(len(v)))

    gap, gap_se = mean_se([s.best_baseline.test_error - s.network.final.test_error for s in seeds])
    assert gap > Z * gap_se
    share, share_se = mean_se([s.network.final.share for s in seeds])
    assert share - Z * share_se >= SHARE_LEVEL
    init, _ = mean_se([s.network.initial.share for s in seeds])
    # at init the share is Beta(a, b), a = m k/2, b = m (d - k)/2 (m = 64 distinct rows: the
    # other 64 mirror them), mean k/d; 5 SE of the mean over 5 seeds
    a, b = 64 * 5 / 2, 64 * 59 / 2
    beta_sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert abs(init - 5 / 64) <= 5 * beta_sd / math.sqrt(5)
    acc, acc_se = mean_se([1 - s.control.final.test_error for s in seeds])
    assert acc <= 0.5 + Z * max(acc_se, math.sqrt(0.25 / (5 * 2000)))
    assert all(s.certified is not None and s.certified.certified for s in seeds)
    verdicts = {c.key: c.verdict for c in res.claims()}
    for key in ("emergence", "baselines", "control", "certified-fact"):
        assert verdicts[key] is Verdict.NUMERICALLY_CONSISTENT, key
