"""Deep linear flow: integration of the gradient flow and the quantities recorded over time (D7).

The flow dW_k/dt = -(W_L..W_{k+1})^T grad_A l (W_{k-1}..W_1)^T - lam W_k of the MSE loss
l(A) = (1/(2n)) ||X A^T - Y||_F^2 is integrated in float64 (DOP853) or at ``dps`` digits
(Gragg-Bulirsch-Stoer); imbalance, NFA defect and correlations are recorded at each time and the
decay rate of the imbalance is fitted (D3). Definitions in the docstring of
:mod:`verify.deep_linear.flow`, which re-exports these names.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from scipy.integrate import solve_ivp

from theory._errors import bad_input
from verify.claims.features import correlation
from verify.deep_linear.initialization import (
    INITS,
    FlowProblem,
    _check_int,
    balanced_init,
    balanced_init_mp,
    flow_problem,
    gaussian_init,
)
from verify.engine.linalg import psd_power
from verify.engine.network import FLOAT64, Backend, mp_backend

__all__ = [
    "ATOL",
    "RTOL",
    "FlowResult",
    "ScalarOutputWarning",
    "decay_rate_fit",
    "psd_power_clipped",
    "run_flow",
]

#: float64 solver tolerances: DOP853 at rtol 1e-12 keeps the global error near 1e-11 relative
#: for the smooth, mildly stiff flows here (lam <= 1, t_end <= a few hundred)
RTOL, ATOL = 1e-12, 1e-14


class ScalarOutputWarning(UserWarning):
    """With one output the AGOP is rank one: every NFA exponent fits it equally well."""


# -- the flow ------------------------------------------------------------------------------------
def _unflatten(theta: Any, sizes: tuple[int, ...]) -> list[Any]:
    out, k = [], 0
    for i, o in zip(sizes[:-1], sizes[1:], strict=True):
        out.append(theta[k : k + o * i].reshape(o, i))
        k += o * i
    return out


def _gradients(Ws: list[Any], Sxx: Any, Syx: Any, lam: Any) -> list[Any]:
    """grad_{W_k} (l + lam/2 sum ||W||^2) for the MSE loss of A (chain rule, D1's form)."""
    L = len(Ws)
    A = Ws[0]
    below: list[Any] = [None] * L  # W_{k-1} ... W_1
    for k in range(1, L):
        below[k] = A
        A = Ws[k] @ A
    GA = A @ Sxx - Syx
    grads: list[Any] = [None] * L
    above: Any = None  # W_L ... W_{k+1}
    for k in range(L - 1, -1, -1):
        left = GA if above is None else above.T @ GA
        grads[k] = (left if below[k] is None else left @ below[k].T) + lam * Ws[k]
        above = Ws[k] if above is None else above @ Ws[k]
    return grads


#: alias of :func:`verify._linalg.psd_power` (eigenvalues below the rounding floor
#: 100 k u max|eig| set to 0; the toolkit's one PSD power), kept for existing imports
psd_power_clipped = psd_power


def _metrics(Ws: list[Any], be: Backend) -> dict[str, Any]:
    L = len(Ws)
    with be.working():
        A = Ws[0]
        for W in Ws[1:]:
            A = W @ A
        nfm = Ws[0].T @ Ws[0]
        agop = A.T @ A  # D5: uncentered AGOP of a linear network
        imb = [
            float(be.sqrt(np.sum((Ws[j + 1].T @ Ws[j + 1] - Ws[j] @ Ws[j].T) ** 2)))
            for j in range(L - 1)
        ]
        nfm_norm = be.sqrt(np.sum(nfm * nfm))
        corr = {}
        defect = None
        for name, alpha in (("1/L", 1.0 / L), ("1/2", 0.5), ("1", 1.0)):
            if be.name != "float64":
                alpha = mpmath.mpf(1) / L if name == "1/L" else mpmath.mpf(alpha)
            powed = psd_power_clipped(agop, alpha, be)
            c = correlation(nfm, powed, be)
            corr[name] = (c.pearson, c.cosine)
            if name == "1/L":
                diff = nfm - powed
                defect = be.sqrt(np.sum(diff * diff)) / nfm_norm  # D5 defect
    return {"imbalance": imb, "defect": defect, "corr": corr}


@dataclass
class FlowResult:
    """Time grid, imbalance norms per j, NFA defect and correlations per alpha over time."""

    sizes: tuple[int, ...]
    lam: float
    init: str
    dps: int | None
    times: list[float]
    imbalance: list[list[float]]  # [time][j]
    defect: list[float]
    defect_exact: list[Any]  # mpf at dps digits if dps, else float
    correlations: dict[str, dict[str, list[float]]]
    decay_rate: float | None
    decay_rate_stderr: float | None
    scalar_output: bool
    solver: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def imbalance_total(self) -> list[float]:
        return [math.sqrt(sum(x * x for x in row)) for row in self.imbalance]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "depth": len(self.sizes) - 1,
            "lam": self.lam,
            "init": self.init,
            "dps": self.dps,
            "solver": self.solver,
            "times": self.times,
            "imbalance_norms": self.imbalance,
            "imbalance_total": self.imbalance_total,
            "nfa_defect": self.defect,
            "nfa_defect_dps": [mpmath.nstr(x, 5) for x in self.defect_exact] if self.dps else None,
            "correlations": self.correlations,
            "decay_rate": self.decay_rate,
            "decay_rate_stderr": self.decay_rate_stderr,
            "decay_rate_expected": 2 * self.lam if self.lam > 0 else None,
            "scalar_output": self.scalar_output,
            "exponent_identifiable": not self.scalar_output,
            "seconds": self.seconds,
            "notes": self.notes,
        }


def decay_rate_fit(times: Any, norms: Any) -> tuple[float, float]:
    """D3: least squares of log ||D(t)|| = a - rate t; returns (rate, standard error of rate)."""
    t = np.asarray(times, dtype=float)
    y = np.log(np.asarray(norms, dtype=float))
    if len(t) < 3:
        raise bad_input("times", "hold at least 3 points for a rate fit", len(t), "Record more.")
    tc = t - t.mean()
    slope = float(np.sum(tc * (y - y.mean())) / np.sum(tc * tc))
    resid = y - y.mean() - slope * tc
    se = float(math.sqrt(np.sum(resid**2) / (len(t) - 2) / np.sum(tc * tc)))
    return -slope, se


def run_flow(
    depth: int = 3,
    widths: Any = 4,
    outputs: int = 2,
    lam: float = 0.0,
    *,
    init: str = "balanced",
    t_end: float = 20.0,
    n_times: int = 21,
    dps: int | None = None,
    seed: int = 0,
    n: int = 32,
) -> FlowResult:
    """Integrate the gradient flow and record balancedness and the NFA over time (module doc)."""
    if init not in INITS:
        raise bad_input("init", f"be one of {', '.join(INITS)}", init, "Use --init balanced.")
    t_end_f = float(t_end)
    if not math.isfinite(t_end_f) or not 0 < t_end_f <= 1000:
        raise bad_input("t_end", "be a number in (0, 1000]", t_end, "Pass e.g. --t-end 20.")
    n_times = _check_int("n_times", n_times, 3, 1000, "Pass e.g. 21.")
    if dps is not None:
        mp_backend(dps)  # validates
    prob = flow_problem(depth, widths, outputs, lam, n=n, seed=seed)
    sizes = prob.sizes
    scalar = sizes[-1] == 1
    if scalar:
        warnings.warn(
            "one output (c = 1): the AGOP is rank one and every exponent alpha gives "
            "correlation 1, so the NFA exponent cannot be identified; use --outputs 2 or more",
            ScalarOutputWarning,
            stacklevel=2,
        )
    if init == "balanced" and dps is not None:
        Ws0 = balanced_init_mp(sizes, seed + 1, dps)
    else:
        Ws0 = (balanced_init if init == "balanced" else gaussian_init)(sizes, seed=seed + 1)
    theta0 = np.concatenate([W.reshape(-1) for W in Ws0])
    times = np.linspace(0.0, t_end_f, n_times)
    start = time.perf_counter()
    if dps is None:
        traj, solver = _integrate64(prob, theta0, times)
        be = FLOAT64
    else:
        traj, solver = _integrate_mp(prob, theta0, times, dps)
        be = mp_backend(dps)
    rows = [_metrics(_unflatten(th, sizes), be) for th in traj]
    seconds = time.perf_counter() - start
    corr = {
        name: {
            "pearson": [float(r["corr"][name][0]) for r in rows],
            "cosine": [float(r["corr"][name][1]) for r in rows],
        }
        for name in ("1/L", "1/2", "1")
    }
    result = FlowResult(
        sizes=sizes, lam=prob.lam, init=init, dps=dps, times=[float(t) for t in times],
        imbalance=[r["imbalance"] for r in rows], defect=[float(r["defect"]) for r in rows],
        defect_exact=[r["defect"] for r in rows], correlations=corr, decay_rate=None,
        decay_rate_stderr=None, scalar_output=scalar, solver=solver, seconds=seconds,
    )  # fmt: skip
    tot = result.imbalance_total
    if prob.lam > 0 and min(tot) > 0:
        result.decay_rate, result.decay_rate_stderr = decay_rate_fit(times, tot)  # D3
    if scalar:
        result.notes.append("scalar output: exponent not identifiable (all alphas fit)")
    return result


def _integrate64(prob: FlowProblem, theta0: np.ndarray, times: np.ndarray) -> tuple[Any, str]:
    Sxx, Syx = prob.X.T @ prob.X / prob.n, prob.Y.T @ prob.X / prob.n

    def rhs(_t: float, th: np.ndarray) -> np.ndarray:
        g = _gradients(_unflatten(th, prob.sizes), Sxx, Syx, prob.lam)
        return -np.concatenate([x.reshape(-1) for x in g])

    sol = solve_ivp(rhs, (times[0], times[-1]), theta0, method="DOP853", t_eval=times,
                    rtol=RTOL, atol=ATOL)  # fmt: skip
    if not sol.success:
        raise RuntimeError(f"DOP853 failed: {sol.message}")
    return [sol.y[:, k] for k in range(len(times))], f"DOP853 rtol={RTOL} atol={ATOL}"


def _integrate_mp(prob: FlowProblem, theta0: Any, times: np.ndarray, dps: int) -> tuple[Any, str]:
    """Gragg-Bulirsch-Stoer: modified midpoint with n = 2, 4, ..., 2K substeps, polynomial
    extrapolation in h^2 (order 2K). Per step the error estimate is the change between the last
    two extrapolation orders; a step is accepted when it is below 10^-(dps-5) times the state
    norm, else halved. The number of halvings and the largest accepted estimate are returned."""
    be = mp_backend(dps)
    K = max(6, dps // 3)  # order 2K >= 2 dps / 3: the extrapolation error falls below 10^-dps
    with mpmath.workdps(dps):
        Sxx = be.asarray(prob.X.T @ prob.X / prob.n)
        Syx = be.asarray(prob.Y.T @ prob.X / prob.n)
        lam = be.asarray(prob.lam)
        tol = mpmath.mpf(10) ** (5 - dps)

        def rhs(th: Any) -> Any:
            g = _gradients(_unflatten(th, prob.sizes), Sxx, Syx, lam)
            return -np.concatenate([x.reshape(-1) for x in g])

        def midpoint(y: Any, H: Any, n: int) -> Any:
            h = H / n
            z0, z1 = y, y + h * rhs(y)
            for _ in range(n - 1):
                z0, z1 = z1, z0 + 2 * h * rhs(z1)
            return (z0 + z1 + h * rhs(z1)) / 2

        def gbs(y: Any, H: Any) -> tuple[Any, Any]:
            T: list[Any] = []
            err = None
            for i in range(1, K + 1):
                row = [midpoint(y, H, 2 * i)]
                for k in range(1, i):
                    ratio = mpmath.mpf(i) ** 2 / mpmath.mpf(i - k) ** 2 - 1
                    row.append(row[k - 1] + (row[k - 1] - T[k - 1]) / ratio)
                if i > 1:
                    err = max(abs(x) for x in row[-1] - T[-1])
                T = row
            return T[-1], err

        y = be.asarray(theta0) if np.asarray(theta0).dtype != object else theta0
        traj, worst, halvings = [y], mpmath.mpf(0), 0
        for t0, t1 in zip(times[:-1], times[1:], strict=True):
            t, t_stop = mpmath.mpf(float(t0)), mpmath.mpf(float(t1))
            H = mpmath.mpf("0.25")
            while t < t_stop:
                step = min(H, t_stop - t)
                y_new, err = gbs(y, step)
                if err > tol * (1 + max(abs(x) for x in y)):
                    H, halvings = H / 2, halvings + 1
                    continue
                y, t, worst = y_new, t + step, max(worst, err)
            traj.append(y)
    return traj, (
        f"Gragg-Bulirsch-Stoer order {2 * K} at {dps} digits, per-step error estimate <= "
        f"{mpmath.nstr(worst, 3)} (tolerance 1e-{dps - 5} relative), {halvings} step halvings"
    )
