"""The training schedule (S4): the feature steps, the exact reduced GD, emergence at small size."""

from __future__ import annotations

import numpy as np
import pytest

from theory._errors import InputError
from verify.emergence.data import EmergenceModel, Instance
from verify.emergence.measures import nfm_share
from verify.emergence.schedule import Schedule, train_schedule
from verify.emergence.twolayer import Params, hinge, init_params

SMALL = EmergenceModel(d=24, D=12, k=3, p_o=0.5)


def _setup(seed: int = 0, n: int = 1500, control: bool = False):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    inst = Instance.draw(SMALL, rng)
    return inst, inst.sample(n, rng, control=control), inst.sample(500, rng, control=control)


def test_feature_steps_replace_w_by_the_scaled_negative_gradient() -> None:
    """S4: steps 1-2 set w <- -eta grad_w L (lam_w = 1/(2 eta)), with the stated smoothings."""
    inst, train, test = _setup()
    mom, k = SMALL.moments(), SMALL.k
    sched = Schedule(width=16, steps=0, row_norm=2.0)
    hist = train_schedule(inst, train, test, sched, np.random.default_rng(9), gamma=mom.gamma,
                          s2=mom.s2)  # fmt: skip
    p = init_params(16, SMALL.d, k, mom.s2, mom.gamma, np.random.default_rng(9))
    for sd in (1 / (2 * k), k**-1.5):  # the two steps, recomputed here
        G = hinge("truncated-relu", p, train.X, train.y, sd)[2].W
        p = Params(-2.0 / np.mean(np.linalg.norm(G, axis=1)) * G, p.b, p.a)
    assert np.abs(hist.params.W - p.W).max() <= 1e-12 * np.abs(p.W).max()
    assert [c.step for c in hist.checkpoints] == [0, 1, 2]


def test_reduced_coordinates_match_plain_gd() -> None:
    """S4: GD in the row-space coordinates equals plain GD on W (to rounding), weight decay
    and biases included."""
    inst, train, test = _setup(1)
    mom = SMALL.moments()
    sched = Schedule(width=16, steps=25, lr=0.5, lam=1e-2, record_every=25)
    hist = train_schedule(inst, train, test, sched, np.random.default_rng(2), gamma=mom.gamma,
                          s2=mom.s2)  # fmt: skip
    start = train_schedule(
        inst,
        train,
        test,
        Schedule(width=16, steps=0),
        np.random.default_rng(2),
        gamma=mom.gamma,
        s2=mom.s2,
    ).params
    p = Params(start.W.copy(), start.b.copy(), np.zeros_like(start.a))
    for _ in range(25):  # the paper's penalty lam ||w||^2 has gradient 2 lam w; b undecayed
        _, _, g = hinge("truncated-relu", p, train.X, train.y)
        p = Params(p.W - 0.5 * (g.W + 2e-2 * p.W), p.b - 0.5 * g.b, p.a - 0.5 * (g.a + 2e-2 * p.a))
    # why 1e-9: 25 steps of float64 GD in two bases; differences from rounding (~1e-15) can grow
    # only through the few units that sit exactly at a kink, which this seed does not have
    assert np.abs(hist.params.W - p.W).max() <= 1e-9
    assert np.abs(hist.params.a - p.a).max() <= 1e-9


def test_features_emerge_on_structured_data_and_not_on_the_control() -> None:
    """S4: after the two feature steps W^T W lies mostly in span(M_A) (k/d = 0.078 at init) on
    the default model; on the control (A1') it does not."""
    model = EmergenceModel()
    mom = model.moments()
    shares, control = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        inst = Instance.draw(model, rng)
        for ctl, out in ((False, shares), (True, control)):
            train, test = inst.sample(4000, rng, control=ctl), inst.sample(10, rng, control=ctl)
            h = train_schedule(inst, train, test, Schedule(width=32, steps=0),
                               np.random.default_rng(seed), gamma=mom.gamma, s2=mom.s2)  # fmt: skip
            out.append(nfm_share(h.params.W, inst.M_A))
    # why 0.8 and 0.4: observed 0.91-0.94 and 0.11-0.19 at these seeds; a step that loses the
    # label (E[y x] -> E[x]) or the smoothing/scale puts the structured share near the control's
    assert min(shares) >= 0.8, shares
    assert max(control) <= 0.4, control


def test_same_seed_same_history() -> None:
    """S4: a run is reproducible for a seed."""
    inst, train, test = _setup(2)
    mom = SMALL.moments()
    runs = [train_schedule(inst, train, test, Schedule(width=8, steps=10, record_every=5),
                           np.random.default_rng(4), gamma=mom.gamma, s2=mom.s2)
            for _ in range(2)]  # fmt: skip
    assert runs[0].checkpoints == runs[1].checkpoints
    assert np.array_equal(runs[0].params.W, runs[1].params.W)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"width": 9}, "even integer"), ({"steps": -1}, "steps must be"), ({"lr": 0.0}, "lr must"),
     ({"lam": -1.0}, "lam must"), ({"activation": "gelu"}, "activation must"),
     ({"record_every": 0}, "record_every must")],
)  # fmt: skip
def test_bad_schedules(kwargs: dict[str, object], match: str) -> None:
    """S4: invalid hyperparameters are refused with the rule."""
    with pytest.raises(InputError, match=match):
        Schedule(**kwargs)  # type: ignore[arg-type]
