"""Conjectures from users, property-tested on converged networks (``factcheck conjecture``).

:func:`check_conjecture` parses an expression over named layer quantities
(verify.counterexamples.expressions), turns it into a claim (:func:`conjecture_claim`: the
expression must vanish in every layer of a stationary point of L_lam) and runs the Hypothesis
search of verify.counterexamples.search over a family of networks
(verify.strategies.NETWORK_FAMILIES). The outcome is a verdict with evidence: REFUTED with the
shrunk witness, certified at 50 digits and re-checked at 70 (saved as a run file by the CLI), or
NUMERICALLY_CONSISTENT: no counterexample among the certified examples tried (at those points
only, which is what the verdict says).

Score at a witness, per layer: the value E of the expression (code generated from the SymPy
expression, verify.claims.generated, in float64 or at 50 digits), reported relative to the size
of its top-level terms, ||E||_F / sum_t ||t||_F. Tolerance: a first-order bound on ||E||
propagated through the expression from its leaves: rounding R = (depth + 1) k u of every
computed quantity (k = n + depth * max width, the engine's rule), plus the stationarity
residual where the quantity's meaning depends on it: FACT by the F2 bound |W||grad_W|/lam,
bFACT by |grad_W||W|/lam (F4), grad_W by its own norm. Sums add bounds; products use
|A||e_B| + |e_A||B| + |e_A||e_B|; a fractional power a < 1 of a PSD matrix is Hoelder-a
(||A^a - B^a||_2 <= ||A - B||_2^a), with the PSD floor of verify.engine.linalg. W, AGOP and H
are taken at the witness as they are: how they would move to the exact stationary point is of
the order of the gradient and not bounded here, which is why a refutation must also survive the
re-check at 70 digits (where such effects shrink by 20 orders and a genuine violation does not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.claims.features import fro
from verify.claims.generated import numeric
from verify.counterexamples.certify import CERT_DPS, Certificate
from verify.counterexamples.claims import Claim, Evaluation, Witness
from verify.counterexamples.expressions import Conjecture, parse_conjecture, symbols
from verify.counterexamples.search import SearchResult, search
from verify.engine.linalg import PSD_FLOOR_FACTOR, psd_power
from verify.engine.network import backprop
from verify.strategies import NETWORK_FAMILIES

__all__ = ["ConjectureResult", "check_conjecture", "conjecture_claim"]

DEFAULT_FAMILY = "mlp"


def _layer_values(w: Witness, idx: int, bp: Any) -> dict[str, Any]:
    f = w.features[idx]
    pb = w.problem
    _, _, lam = pb.data(w.be)

    def num(x: float) -> Any:  # integers as numbers of the backend: 1/L is exact at 50 digits
        return x if w.be.name == "float64" else mpmath.mpf(x)

    return {"W": f.W, "NFM": f.nfm, "AGOP": f.agop, "AGOP_centered": f.agop_centered,
            "FACT": f.fact, "bFACT": f.bfact, "grad_W": f.grad_W, "H": bp.hs[idx].T,
            "n": num(float(pb.n)), "lam": lam, "L": num(float(pb.net.depth)),
            "j": num(float(idx + 1))}  # fmt: skip


def _leaf_errors(w: Witness, idx: int, bp: Any, values: dict[str, Any]) -> dict[str, float]:
    """Absolute error bound of every leaf (module docstring)."""
    pb, f, be = w.problem, w.features[idx], w.be
    net = pb.net
    R = (net.depth + 1) * (pb.n + net.depth * max(net.sizes)) * float(be.unit_roundoff)
    nW, ng, lam = float(fro(f.W, be)), float(fro(f.grad_W, be)), float(pb.lam)
    with be.working():
        dh = float(np.sum(be.sqrt(np.sum(bp.deltas[idx] ** 2, axis=1))
                          * be.sqrt(np.sum(bp.hs[idx] ** 2, axis=1))))  # fmt: skip
        dwh = float(np.sum(be.sqrt(np.sum(bp.deltas[idx] ** 2, axis=1))
                           * be.sqrt(np.sum((bp.hs[idx] @ f.W.T) ** 2, axis=1))))  # fmt: skip
        tr = float(sum(f.agop[i, i] for i in range(f.agop.shape[0])))
    return {
        "W": 0.0, "NFM": R * nW**2, "AGOP": R * tr, "AGOP_centered": 4 * R * tr,
        "FACT": f.f2_bound + R * f.rounding_scale,  # F2
        "bFACT": ng * nW / lam + R * (dwh / (pb.n * lam) + nW**2),  # F4
        "grad_W": ng + R * (dh / pb.n + lam * nW), "H": R * float(fro(values["H"], be)),
        "n": 0.0, "lam": 0.0, "L": 0.0, "j": 0.0,
    }  # fmt: skip


def _norm(x: Any) -> float:
    return float(np.linalg.norm(x)) if isinstance(x, np.ndarray) else abs(float(x))


def _bound(e: Any, vals: dict[Any, Any], errs: dict[Any, float], floor: float) -> tuple[Any, float]:
    """(float64 value, absolute error bound) of the node ``e`` (module docstring)."""
    if e in vals:
        return vals[e], errs[e]
    if e.is_Number:
        return float(e), 0.0
    if isinstance(e, (sp.MatAdd, sp.Add)):
        parts = [_bound(a, vals, errs, floor) for a in e.args]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    if isinstance(e, (sp.MatMul, sp.Mul)):
        v, err = _bound(e.args[0], vals, errs, floor)
        for a in e.args[1:]:
            v2, e2 = _bound(a, vals, errs, floor)
            both = isinstance(v, np.ndarray) and isinstance(v2, np.ndarray)
            v, err = (v @ v2 if both else v * v2), _norm(v) * e2 + err * _norm(v2) + err * e2
        return v, err
    if isinstance(e, sp.Transpose):
        v, err = _bound(e.arg, vals, errs, floor)
        return v.T, err
    if isinstance(e, sp.Trace):
        v, err = _bound(e.arg, vals, errs, floor)
        return float(np.trace(v)), math.sqrt(v.shape[0]) * err
    if isinstance(e, (sp.MatPow, sp.Pow)):
        base, exp = e.args
        v, err = _bound(base, vals, errs, floor)
        p = float(_bound(exp, vals, errs, floor)[0])  # exponents hold exact scalars only
        if not isinstance(v, np.ndarray):
            out = v**p if p == int(p) else abs(v) ** p
            if err == 0:
                return out, 0.0
            if p >= 1:
                return out, (abs(v) + err) ** p - abs(v) ** p
            if p > 0:
                return out, err**p  # Hoelder-p
            return out, (abs(p) * (abs(v) - err) ** (p - 1) * err if abs(v) > err
                         else math.inf)  # fmt: skip
        k, frac = int(math.floor(p)), p - math.floor(p)
        val, bound = np.eye(v.shape[0]), 0.0
        if k:
            val = np.linalg.matrix_power(v, k)
            bound = (_norm(v) + err) ** k - _norm(v) ** k
        if frac:
            r = psd_power(v, frac)
            phi = floor * float(np.linalg.norm(v, 2))
            e_r = math.sqrt(v.shape[0]) * (err + phi) ** frac  # Hoelder-frac on PSD matrices
            bound = _norm(val) * e_r + bound * _norm(r) + bound * e_r
            val = val @ r
        return val, bound
    raise bad_input("expression", "use only supported operations", str(e), "Simplify it.")


def _score_layer(c: Conjecture, w: Witness, idx: int, bp: Any) -> dict[str, Any]:
    values = _layer_values(w, idx, bp)
    syms = symbols()
    used = [syms[name] for name in sorted(c.used)]
    pb, be = w.problem, w.be
    k = pb.n + pb.net.depth * max(pb.net.sizes)
    vals = {name: values[name] for name in c.used}
    with be.working():
        value = numeric(used, c.expr, be, terms=k)(vals)
        size = float(fro(value, be)) if isinstance(value, np.ndarray) else abs(float(value))
        scale = 0.0
        for t in c.terms:
            tv = numeric(used, t, be, terms=k)(vals)
            scale += float(fro(tv, be)) if isinstance(tv, np.ndarray) else abs(float(tv))
    errs = _leaf_errors(w, idx, bp, values)
    f64 = {syms[n]: (be.to_float(values[n]) if isinstance(values[n], np.ndarray)
                     else float(values[n])) for n in c.used}  # fmt: skip
    floor = PSD_FLOOR_FACTOR * max(pb.net.sizes[idx], k) * float(be.unit_roundoff)
    _, err = _bound(c.expr, f64, {syms[n]: errs[n] for n in c.used}, floor)
    scale = scale or 1.0
    return {"layer": idx + 1, "violation": size / scale, "tolerance": err / scale,
            "norm": size, "scale": scale}  # fmt: skip


def conjecture_claim(conj: Conjecture | str, layers: Sequence[int] | None = None) -> Claim:
    """The claim "``conj`` vanishes in every layer (or ``layers``) at stationary points"."""
    c = parse_conjecture(conj) if isinstance(conj, str) else conj

    def score(w: Witness) -> Evaluation:
        depth = w.problem.net.depth
        chosen = range(1, depth + 1) if layers is None else [j for j in layers if j <= depth]
        bp = backprop(w.problem, w.theta, w.be)
        rows = [_score_layer(c, w, j - 1, bp) for j in chosen]
        if not rows:
            raise bad_input("layers", f"name layers in 1..{depth}", layers, "Pass e.g. [1].")
        worst = max(rows, key=lambda r: r["violation"] / r["tolerance"] if r["tolerance"] > 0
                    else math.inf * (r["violation"] > 0))  # fmt: skip
        return Evaluation(
            worst["violation"], worst["tolerance"],
            f"layer {worst['layer']}: ||{c.difference}|| / (sum of its terms' norms) = "
            f"{worst['violation']:.6g} vs tolerance {worst['tolerance']:.3g}",
            {"layers": rows},
        )  # fmt: skip

    where = "every layer" if layers is None else f"layers {list(layers)}"
    return Claim("conjecture", "user", f"{c} at every stationary point of L_lam ({where})",
                 score, "positive")  # fmt: skip


@dataclass
class ConjectureResult:
    """A conjecture checked on a family: the parsed expression and the search's result."""

    conjecture: Conjecture
    family: str
    search: SearchResult

    @property
    def verdict(self) -> Verdict:
        return self.search.verdict

    @property
    def reason(self) -> str:
        if self.verdict is Verdict.NUMERICALLY_CONSISTENT:
            return (f"no counterexample in {self.search.converged} certified examples (of "
                    f"{self.search.tried} tried); consistent at those points only. "
                    + self.search.reason)  # fmt: skip
        return self.search.reason

    @property
    def certificate(self) -> Certificate | None:
        return self.search.certificate

    def to_dict(self) -> dict[str, Any]:
        rest = {k: v for k, v in self.search.to_dict().items() if k not in ("verdict", "reason")}
        return {"conjecture": str(self.conjecture), "family": self.family,
                "verdict": self.verdict.value, "reason": self.reason, **rest}  # fmt: skip

    def to_text(self) -> str:
        head = [f"conjecture: {self.conjecture} (family {self.family})",
                f"verdict: {self.verdict.value} - {self.reason}"]  # fmt: skip
        body = self.search.to_text().splitlines()[2:]  # the search's own claim/verdict lines
        return "\n".join(head + body)


def check_conjecture(
    expr: str,
    *,
    family: str = DEFAULT_FAMILY,
    budget: int = 100,
    seed: int = 0,
    shrink_budget: int = 40,
    dps: int = CERT_DPS,
    layers: Sequence[int] | None = None,
    quiet: bool = True,
    cache: bool = False,
) -> ConjectureResult:
    """Property-test the conjecture ``expr`` on certified stationary points of ``family``
    (verify.strategies.NETWORK_FAMILIES); see the module docstring."""
    if family not in NETWORK_FAMILIES:
        raise bad_input("family", f"be one of {sorted(NETWORK_FAMILIES)}", family,
                        "Pick a listed family, e.g. --family tanh-mlp.")  # fmt: skip
    if layers is not None and not (
        len(layers) and all(isinstance(j, int) and not isinstance(j, bool) and j >= 1
                            for j in layers)
    ):  # fmt: skip
        raise bad_input("layers", "be a non-empty list of layer numbers >= 1", layers,
                        "Pass e.g. layers=[1].")  # fmt: skip
    c = parse_conjecture(expr)
    res = search(conjecture_claim(c, layers), budget=budget, seed=seed, dps=dps,
                 shrink_budget=shrink_budget, quiet=quiet, space=NETWORK_FAMILIES[family],
                 cache=cache)  # fmt: skip
    return ConjectureResult(c, family, res)
