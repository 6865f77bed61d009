"""Feature matrices of every layer: NFM, AGOP, FACT, bFACT and the NFA correlations.

For layer l with weight W (out x in) and input h_l (REFERENCE.md; conventions of
:mod:`verify.engine.network`):

- NFM        W^T W                                                          (N1)
- AGOP       (1/n) sum_i J_i^T J_i, J_i = d f(x_i) / d h_l (c x in), summed over outputs   (N1)
- centered   (1/n) sum_i (J_i - Jbar)^T (J_i - Jbar), Jbar the mean Jacobian          (N1)
- FACT       -(1/(n lam)) sum_i grad_h l_i h_i^T  (in x in)                                 (F1)
- bFACT      -(1/(n lam)) sum_i delta_i (W h_i)^T  (out x out; bias excluded)              (F4)
- symmetrized (FACT + FACT^T)/2 and PSD form (FACT FACT^T)^{1/2}                            (F5)
- F2 bound   ||W||_F ||grad_W L_lam||_F / lam >= ||W^T W - FACT||_F                        (F2)
- relative FACT error ||W^T W - FACT||_F / ||W^T W||_F.

Matrix powers of PSD matrices use a symmetric eigendecomposition with eigenvalues below a
rounding floor clipped to 0 (N3, :mod:`verify.engine.linalg`; AGOP is usually rank-deficient).
Agreement is scored by Pearson correlation of the entries (subtract each matrix's mean entry,
then cosine) and by plain cosine; both are reported and every result says which one a verdict
used (N3). Everything runs in float64 or mpmath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine import linalg as _linalg
from verify.engine.backprop import backprop_at
from verify.engine.network import FLOAT64, Array, Backend, Problem, input_jacobians

__all__ = [
    "DEFAULT_ALPHA_GRID",
    "Correlation",
    "LayerFeatures",
    "NfaScore",
    "all_zero",
    "correlation",
    "fro",
    "layer_features",
    "nfa_score",
    "psd_power",
]

#: exponents tried by the best-alpha search: 0.05, 0.10, ..., 2.00 (covers 1/L for L <= 20)
DEFAULT_ALPHA_GRID: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(1, 41))


def fro(a: Array, be: Backend) -> Any:
    """Frobenius norm in the backend's numbers (the backend is always named, never implied)."""
    return be.sqrt(np.sum(a * a))


@dataclass
class LayerFeatures:
    """The feature matrices of one layer (backend arrays) and float summaries (see module doc)."""

    layer: int  # 1-based, as in the docs
    W: Array
    nfm: Array
    agop: Array
    agop_centered: Array
    fact: Array
    bfact: Array
    grad_W: Array
    fact_rel_error: float
    fact_defect: float
    f2_bound: float
    f2_residual: float  # ||(W^T W - FACT) - W^T grad_W / lam||_F: rounding only (F2 is exact)
    bfact_rel_error: float
    fact_asymmetry: float  # ||FACT - FACT^T||_F / ||FACT||_F (zero at a stationary point, F5)
    nfm_norm: float
    rounding_scale: float  # ||W||_F^2 + (1/(n lam)) sum_i |grad_h l_i| |h_i|: size of the summands
    terms: int = 0  # k = n + depth * max width: the longest chain of sums behind these matrices

    def fact_sym(self) -> Array:
        """(FACT + FACT^T)/2 (F5)."""
        return (self.fact + self.fact.T) / 2

    def fact_psd(self, be: Backend = FLOAT64) -> Array:
        """(FACT FACT^T)^{1/2}, the PSD form used by FACT-RFM (F5)."""
        return psd_power(self.fact @ self.fact.T, 0.5, be)


def layer_features(problem: Problem, theta: Array, be: Backend = FLOAT64) -> list[LayerFeatures]:
    """NFM, AGOP, FACT, bFACT and the F2 bound for every layer at ``theta``.

    The last point's features are kept on the problem and returned again while ``theta`` (by
    value) and the precision are unchanged: the FACT and the NFA check of one run share them
    (at 50 digits they were a third of a ``factcheck verify fact --dps 50``). Treat the result
    as read-only."""
    key, theta = (be.name, be.dps), be.asarray(theta)
    saved = problem._cache.get("layer-features")
    if saved is not None:
        k, at, feats = saved
        if k == key and at.shape == theta.shape and bool(np.all(at == theta)):
            return feats
    feats = _layer_features(problem, theta.copy(), be)
    problem._cache["layer-features"] = (key, theta.copy(), feats)
    return feats


def _layer_features(problem: Problem, theta: Array, be: Backend) -> list[LayerFeatures]:
    bp = backprop_at(problem, theta, be)  # the pass of the certificate, kept at this point
    jac = input_jacobians(problem, theta, be)
    n, out = problem.n, []
    with be.working():
        _, _, lam = problem.data(be)
        # 1/lam: FACT, bFACT and F2 are undefined without weight decay (lam = 0); NaN there (in
        # both backends) instead of a ZeroDivisionError, so the NFM and AGOP stay usable
        inv_lam = 1 / lam if lam != 0 else be.asarray(np.float64("nan"))
        for idx, ((w, _), (gw, _)) in enumerate(zip(bp.params, bp.grads, strict=True)):
            h, gh, delta = bp.hs[idx], bp.grad_h[idx], bp.deltas[idx]
            mm = be.matmul  # exact integer products at dps digits (verify/engine/mpmatmul.py)
            nfm = mm(w.T, w)
            fact = -mm(gh.T, h) * inv_lam / n  # F1
            bfact = -mm(delta.T, mm(h, w.T)) * inv_lam / n  # F4
            agop = sum(mm(j.T, j) for j in jac[idx]) / n  # N1, summed over outputs
            agop_c = sum(_centred_gram(j, be) for j in jac[idx])
            defect = nfm - fact
            f2_gap = defect - mm(w.T, gw) * inv_lam  # F2: exactly zero in exact arithmetic
            gram = mm(w, w.T)
            sizes = be.sqrt(np.sum(gh * gh, axis=1)) * be.sqrt(np.sum(h * h, axis=1))
            norm = float(fro(nfm, be))
            out.append(
                LayerFeatures(
                    layer=idx + 1,
                    W=w,
                    nfm=nfm,
                    agop=agop,
                    agop_centered=agop_c / n,
                    fact=fact,
                    bfact=bfact,
                    grad_W=gw,
                    fact_rel_error=_ratio(fro(defect, be), fro(nfm, be)),
                    fact_defect=float(fro(defect, be)),
                    f2_bound=float(fro(w, be) * fro(gw, be) * inv_lam),  # F2
                    f2_residual=float(fro(f2_gap, be)),
                    bfact_rel_error=_ratio(fro(gram - bfact, be), fro(gram, be)),  # F4
                    fact_asymmetry=_ratio(fro(fact - fact.T, be), fro(fact, be)),  # F5
                    nfm_norm=norm,
                    rounding_scale=float(fro(w, be) ** 2 + np.sum(sizes) * inv_lam / n),
                    terms=n + problem.net.depth * max(problem.net.sizes),
                )
            )
    return out


def _centred_gram(j: Array, be: Backend) -> Array:
    """(J - Jbar)^T (J - Jbar) for the rows of J, Jbar their mean (N1, centered AGOP). Centred
    once and reused: centring one factor only gives the same matrix in exact arithmetic."""
    jc = j - np.mean(j, axis=0)
    return be.matmul(jc.T, jc)


def _ratio(num: Any, den: Any) -> float:
    return float(num / den) if den != 0 else (0.0 if num == 0 else float("inf"))


# -- PSD powers and correlations ---------------------------------------------------------------
def psd_power(a: Array, alpha: float, be: Backend = FLOAT64) -> Array:
    """``A^alpha`` for symmetric PSD ``A`` (N3): :func:`verify._linalg.psd_power`, eigenvalues
    below the rounding floor set to 0."""
    return _linalg.psd_power(a, alpha, be)


@dataclass(frozen=True)
class Correlation:
    """Pearson (entries centred by their mean, then cosine) and plain cosine of two matrices.

    ``defined`` is False when Pearson is 0/0: a matrix whose entries are all equal (the zero
    matrix included) has no centred part. The number is then reported as 0.0, and no verdict
    may rest on it (verify.claims.nfa makes such a layer INCONCLUSIVE).
    """

    pearson: float
    cosine: float
    defined: bool = True


def correlation(a: Array, b: Array, be: Backend = FLOAT64) -> Correlation:
    """N3: both scores of the entries of ``a`` and ``b``."""
    with be.working():
        ac, bc = a - np.mean(a), b - np.mean(b)
        den = fro(ac, be) * fro(bc, be)
        return Correlation(
            pearson=_ratio(np.sum(ac * bc), den),
            cosine=_ratio(np.sum(a * b), fro(a, be) * fro(b, be)),
            defined=bool(den != 0),
        )


@dataclass(frozen=True)
class NfaScore:
    """NFA agreement of one layer: NFM against AGOP^alpha (N2), both scores (N3).

    ``alpha`` is the exponent used (the best over ``grid`` by Pearson if a grid was searched);
    ``by_alpha`` lists ``(alpha, pearson, cosine)`` for every exponent tried. ``defined``: the
    Pearson correlation at ``alpha`` is not 0/0. ``trivial``: W^T W = 0 and AGOP = 0 exactly (a
    trivial stationary point, e.g. all weights zero: the NFA reads 0 = c 0 and says nothing).
    """

    layer: int
    alpha: float
    pearson: float
    cosine: float
    centered: bool
    searched: bool
    by_alpha: tuple[tuple[float, float, float], ...]
    defined: bool = True
    trivial: bool = False

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
    def to_dict(self) -> dict[str, Any]:
        return {
            "pearson_defined": self.defined,
            "trivial": self.trivial,
            "layer": self.layer,
            "alpha": self.alpha,
            "pearson": self.pearson,
            "cosine": self.cosine,
            "agop": "centered" if self.centered else "uncentered",
            "alpha_searched": self.searched,
            "verdict_score": "pearson",
        }

    # pragma: no mutate end


def nfa_score(
    feat: LayerFeatures,
    alpha: float | None = 0.5,
    *,
    grid: Sequence[float] = DEFAULT_ALPHA_GRID,
    centered: bool = False,
    be: Backend = FLOAT64,
) -> NfaScore:
    """Correlate NFM with AGOP^alpha; ``alpha=None`` searches ``grid`` for the best Pearson."""
    alphas = list(grid) if alpha is None else [alpha]
    if not alphas:
        raise bad_input("grid", "contain at least one exponent", grid, "Pass e.g. [0.5, 1.0].")
    agop = feat.agop_centered if centered else feat.agop
    if not all(np.isfinite(be.to_float(m)).all() for m in (feat.nfm, agop)):
        # overflow: nothing to correlate; NaN scores, which the verdicts report as INCONCLUSIVE
        nan = float("nan")
        rows_nan = tuple((float(a), nan, nan) for a in alphas)
        return NfaScore(feat.layer, float(alphas[0]), nan, nan, centered, alpha is None, rows_nan)
    # one eigendecomposition for every exponent; the floor counts the summands that formed AGOP
    eig = _linalg.psd_eigh(agop, be, feat.terms or None)
    rows, defined = [], {}
    for a in alphas:
        c = correlation(feat.nfm, _linalg.psd_power_from_eigh(eig, float(a), be), be)
        rows.append((float(a), c.pearson, c.cosine))
        defined[float(a)] = c.defined
    best = max(rows, key=lambda r: r[1])  # N3: the verdict score is Pearson
    trivial = all_zero(feat.nfm) and all_zero(agop)
    return NfaScore(
        feat.layer, best[0], best[1], best[2], centered, alpha is None, tuple(rows),
        defined[best[0]], trivial,
    )  # fmt: skip


def all_zero(a: Array) -> bool:
    """Every entry is exactly zero (float64 or mpmath)."""
    return all(x == 0 for x in np.asarray(a).flat)
