"""A stored point ON a kink, checked where it lies with the run file's slopes.

``factcheck verify fact --save FILE`` writes, for a ReLU point certified on a kink, its pinned
pairs and their slopes next to the weights (``kink_pins``, ``kink_slopes``:
:mod:`verify.engine.runfile`). ``factcheck check FILE`` then rebuilds the surrogate
(:class:`~verify.engine.kink.surrogate.PinnedProblem`) and applies the four rules of
:func:`~verify.engine.kink.certificate.certify_kink` at the stored weights, without moving
them: the file gives the verdict the run gave when it was saved. Slopes that do not certify the
stored point (an edited file, or slopes written for another point) leave it ``on_kink``,
INCONCLUSIVE, with the failing rule; a point that is not on a kink is checked as any other
(:func:`verify.engine.train.evaluate`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from verify.engine.result import Status, TrainResult

__all__ = ["evaluate_on_kink"]


def evaluate_on_kink(
    problem: object, theta: np.ndarray, pins: list[tuple[int, int, int]], slopes: np.ndarray,
    spectrum: str = "auto",
) -> TrainResult:  # fmt: skip
    """The stored point ``theta`` with relu'(0) := ``slopes`` at ``pins`` (0-based hidden layer,
    sample, unit): certified ON the kink when the four rules hold there (module docstring)."""
    from verify.engine.kink.certificate import certify_kink
    from verify.engine.kink.surrogate import pinned
    from verify.engine.network import backprop
    from verify.engine.train import evaluate, gradient_floor

    plain = evaluate(problem, theta, spectrum)  # type: ignore[arg-type]
    if plain.status is not Status.ON_KINK:
        return plain  # inside a piece, or not finite: the stored slopes play no part
    pp = pinned(plain.problem, pins, np.asarray(slopes, dtype=np.float64))
    report, _ = certify_kink(pp, plain.theta)
    if not report.certified:
        plain.reason = (
            f"the run file's slopes at its {len(pins)} pinned pair(s) do not certify the stored "
            f"point on its kink: {report.text()}; {plain.reason}"
        )
        return plain
    gn, floor = gradient_floor(pp, plain.theta)
    reason = (
        f"stored point checked where it lies with the run file's slopes: ||G|| = {gn:.3g} <= "
        f"rounding floor {floor:.3g} (every entry within its own floor; G = backpropagation "
        f"with relu'(0) := the stored slopes at the pinned pairs); {report.text()}"
    )
    return replace(
        plain, problem=pp, status=Status.CONVERGED, reason=reason, remedy="", grad_norm=gn,
        grad_floor=floor, objective=float(backprop(pp, plain.theta).value), pieces=report,
    )  # fmt: skip
