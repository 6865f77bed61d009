"""What the FACT and NFA checks share: verdict order, precision, tables."""

from __future__ import annotations

from collections.abc import Sequence

from theory._verdict import STRENGTH, Verdict
from verify.engine.network import FLOAT64, Backend, mp_backend
from verify.engine.train import TrainResult

__all__ = ["fact_rounding_tolerance"]


def _worst(verdicts: Sequence[Verdict]) -> Verdict:
    """The weakest verdict (REFUTED < INCONCLUSIVE < ... < PROVED, theory._verdict.STRENGTH)."""
    return min(verdicts, key=STRENGTH.__getitem__)


def _backend(result: TrainResult, dps: int | None) -> Backend:
    if dps is None:
        return mp_backend(result.dps) if result.dps else FLOAT64
    return mp_backend(dps)


def fact_rounding_tolerance(depth: int, k: int, unit_roundoff: float, scale: float) -> float:
    """``(depth + 1) k u scale``: a global rounding tolerance for ||W^T W - FACT||_F.

    Both matrices are sums of at most k = n + depth * max_width products whose magnitudes add
    up to ``scale`` (Higham's gamma_k bound for inner products); grad_h went through <= depth
    backprop layers, each adding the same relative error, hence the factor (depth + 1). Pure
    arithmetic on numbers, for implementations of the layer features that do not carry
    per-entry error bounds (:mod:`verify.torch`); the engine's checks use the propagated bounds
    of :mod:`verify.claims.defect_bounds` instead.
    """
    return (depth + 1) * k * unit_roundoff * scale


# pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
def _training_line(r: TrainResult) -> str:
    h = r.hessian
    spec = ""
    if h is not None and h.min_eig is not None:
        spec = (
            f"; Hessian {h.kind}, eigenvalues [{h.min_eig:.3g}, {h.max_eig:.3g}], "
            f"{h.near_zero if h.near_zero is not None else '?'} near zero "
            f"({h.symmetry_zero_modes} symmetry, {h.dead_unit_modes} dead-unit)"
        )
    elif h is not None:  # say so: the verdicts never use the spectrum, but a reader may look
        spec = f"; Hessian spectrum {h.method}"
    dps = f", {r.grad_norm_mp:.2e} at {r.dps} digits" if r.grad_norm_mp is not None else ""
    return (
        f"training: {r.status.value}, ||grad L_lam|| = {r.grad_norm:.2e} (float64){dps}, "
        f"{r.iterations} L-BFGS iterations, {r.newton_steps}+{r.newton_steps_mp} Newton steps, "
        f"{r.seconds:.2f} s{spec}"
    )


# pragma: no mutate end


# pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


# pragma: no mutate end


# pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
def _precision(be: Backend) -> str:
    return "float64" if be.name == "float64" else f"{be.dps} digits (mpmath)"


# pragma: no mutate end
