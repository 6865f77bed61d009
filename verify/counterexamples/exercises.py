"""Course exercises: a student states a claim, the toolkit answers with the smallest counterexample.

:func:`assert_claim_holds` checks a claim about converged networks, written as an expression
that should vanish ("NFM - AGOP**(1/2)") or an equation ("NFM = FACT"), with the conjecture
search (verify.counterexamples.conjecture). If the claim is false it raises ``AssertionError``
whose message is the shrunk, certified counterexample: the network, its data and weight decay,
the layer where the claim fails, both sides of the claim there (small matrices printed in full)
and how the witness was certified. In a pytest exercise file use the fixture ``claim_check`` of
:mod:`verify.cli.pytest_plugin` (installed as a pytest plugin with the toolkit)::

    def test_my_claim(claim_check):
        claim_check("NFM = AGOP**(1/2)", family="tanh-mlp")

A claim that survives the search passes, with the honest caveat that it held at the certified
examples tried (NUMERICALLY_CONSISTENT), which is not a proof. A search that cannot decide
(no example certified, or a float64 failure not confirmed at high precision) fails the
exercise with that explanation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theory._verdict import Verdict
from verify.claims.generated import numeric
from verify.counterexamples.claims import Witness
from verify.counterexamples.conjecture import ConjectureResult, _layer_values, check_conjecture
from verify.counterexamples.expressions import parse_conjecture, symbols
from verify.engine.network import FLOAT64, backprop

__all__ = ["assert_claim_holds", "counterexample_message"]

#: matrices up to this size are printed in full in a counterexample message
PRINT_MAX = 4


def _sides(res: ConjectureResult, layer: int) -> list[str]:
    """The claim's top-level terms at the witness's layer, in float64 (for the message)."""
    cert = res.certificate
    assert cert is not None
    w = Witness(cert.problem, cert.point.theta)
    values = _layer_values(w, layer - 1, backprop(cert.problem, cert.point.theta))
    c = res.conjecture
    syms = symbols()
    used = [syms[n] for n in sorted(c.used)]
    if c.sides is not None:  # an equation: show its two sides
        parsed = [parse_conjecture(side) for side in c.sides if side.strip()]
        named = [(p.text, p.expr) for p in parsed]
        used = sorted({s for p in parsed for s in p.used} | set(c.used))
        used_syms = [syms[n] for n in used]
    else:
        named = [(str(t), t) for t in c.terms]
        used_syms = used
        used = sorted(c.used)
    out = []
    for name, term in named:
        value = numeric(used_syms, term, FLOAT64)({n: values[n] for n in used})
        v = np.asarray(value, dtype=float)
        if v.ndim == 2 and max(v.shape) <= PRINT_MAX:
            rows = "; ".join(" ".join(f"{x:.4g}" for x in row) for row in v)
            out.append(f"    {name} = [{rows}]")
        else:
            out.append(f"    ||{name}||_F = {np.linalg.norm(v):.4g}")
    return out


def counterexample_message(res: ConjectureResult) -> str:
    """The failure message for a refuted claim (module docstring)."""
    cert = res.certificate
    s = res.search
    if res.verdict is not Verdict.REFUTED or cert is None:
        return f"could not decide the claim {res.conjecture}: {res.reason}"
    ev = cert.evaluation
    assert ev is not None
    worst = max(ev.data["layers"], key=lambda r: r["violation"])
    spec = cert.origin.get("description", "")
    lines = [
        f"The claim {res.conjecture} is false (family {res.family}).",
        f"Smallest counterexample found (Hypothesis tried {s.tried} example(s), then shrank "
        f"the first failure in {s.shrink_trainings} training(s)):",
        f"  {spec}",
        f"  at its stationary point, certified at {cert.point.dps} digits "
        f"(||grad L_lam|| = {float(cert.point.grad_norm_mp or 0):.2g}), layer {worst['layer']}:",
        f"  ||{res.conjecture.difference}|| / (sum of its terms' norms) = "
        f"{worst['violation']:.4g}, "
        f"far above the tolerance {worst['tolerance']:.2g}; confirmed at "
        f"{cert.recheck.get('dps')} digits.",
        "  Your claim there:" if res.conjecture.sides else "  The terms of your claim there:",
        *_sides(res, worst["layer"]),
    ]
    if s.shrink_log:
        lines.append("  (shrinking changed: " + "; ".join(s.shrink_log) + ")")
    return "\n".join(lines)


def assert_claim_holds(
    expr: str, *, family: str = "tanh-mlp", budget: int = 30, seed: int = 0, **options: Any
) -> ConjectureResult:
    """Check a student's claim; raise AssertionError with the counterexample if it is false
    (or with the reason if the search could not decide). ``options`` go to
    :func:`~verify.counterexamples.conjecture.check_conjecture` (e.g. ``layers=[1]``)."""
    res = check_conjecture(expr, family=family, budget=budget, seed=seed, **options)
    if res.verdict is not Verdict.NUMERICALLY_CONSISTENT:
        raise AssertionError(counterexample_message(res))
    return res
