# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Deep linear networks: balancedness and the NFA with exponent 1/L (D1-D7)
#
# **The claim.** For a deep linear network $f(x) = W_L \cdots W_1 x$ the imbalance
# $D_j = W_{j+1}^\top W_{j+1} - W_j W_j^\top$ is conserved by gradient flow (D2), decays like
# $e^{-2\lambda t}$ under weight decay $\lambda$ (D3) and vanishes at every weight-decayed
# stationary point (D4). A balanced network telescopes, $A^\top A = (W_1^\top W_1)^L$ with
# $A = W_L \cdots W_1$, and since the AGOP of a linear network is $A^\top A$,
#
# $$W_1^\top W_1 = \mathrm{AGOP}^{1/L} \qquad \text{(D5)},$$
#
# the NFA with exponent $\alpha = 1/L$ and constant 1; layer $j$ has $\alpha_j = 1/(L-j+1)$ (D6).
#
# **Source.** Tansley, Massart, Cartis, arXiv:2510.15563 (AISTATS 2026).
#
# **This notebook shows** (1) D1-D6 derived symbolically, the telescoping chain for $L = 3$ line
# by line, and planted false versions refuted; (2) along gradient flow: the NFA with
# $\alpha = 1/L$ kept exactly from a balanced start, and from an unbalanced start the
# imbalance conserved without weight decay and decaying at rate $2\lambda$ with it.

# %% Parameters
import os

SMALL = os.environ.get("FACTCHECK_SMALL", "0") == "1"
DEPTHS = (2, 3) if SMALL else (2, 3, 4, 5)
LAM = 0.05
T_END = 20.0 if SMALL else 60.0
SEED = 0

# %%
from theory import Verdict
from theory.deep_linear.balance import derive_d1, derive_d4
from theory.deep_linear.flow import derive_flow
from theory.deep_linear.induction import derive_nfa_induction
from theory.deep_linear.nfa import check_deep_linear_variant, derive_nfa_balanced
from theory.deep_linear.optimality import derive_nfa_deep_linear
from verify import run_flow
from verify.base.showplot import show_lines

# %% [markdown]
# ## 1. The symbolic chain
# D1 is the key identity; D2/D3 follow by differentiating the imbalance along the flow; D4 by
# putting stationarity into D1. Then, in one derivation for $L = 3$, line by line: stationarity
# of the weight-decayed objective gives $D_j = 0$, the chain telescopes, and
# $W_1^\top W_1 = \mathrm{AGOP}^{1/3}$.

# %%
for d in (derive_d1(), derive_flow(lam_zero=True), derive_flow(lam_zero=False), derive_d4()):
    print(f"[{d.claim.tag}] {d.verdict.value}: {d.claim.name}")
    assert d.verdict is Verdict.PROVED
print()
chain = derive_nfa_deep_linear(3)
print(chain.to_text())
assert chain.verdict is Verdict.PROVED

# %% [markdown]
# The exponent depends on depth and on the layer: $\alpha_j = 1/(L - j + 1)$ (here from
# balancedness directly), and the induction proves the telescoping for a symbolic depth $L$.

# %%
induction = derive_nfa_induction()
print(f"any depth: {induction.verdict.value} ({induction.reason})")
assert induction.verdict is Verdict.PROVED
for L in DEPTHS:
    for j in range(1, L + 1):
        d = derive_nfa_balanced(L, j)
        assert d.verdict is Verdict.PROVED
        print(f"L = {L}, layer {j}: alpha = 1/{L - j + 1}  {d.verdict.value}")

# %% [markdown]
# Planted false versions are refuted with exact counterexamples: a check that cannot fail
# proves nothing.

# %%
for name in ("alpha=1/2,L=3", "dD/dt=-lam*D"):
    d = check_deep_linear_variant(name)
    print(f"{name}: {d.verdict.value}  ({d.reason})")
    assert d.verdict is Verdict.REFUTED

# %% [markdown]
# ## 2. Along gradient flow
# Balanced start without weight decay: the NFA with $\alpha = 1/L$ holds at every time;
# $\alpha = 1/2$ and $\alpha = 1$ do not (two outputs, so the AGOP has rank $\ge 2$ and
# exponents can be told apart).

# %%
for L in DEPTHS:
    r = run_flow(L, widths=4, outputs=2, lam=0.0, init="balanced", t_end=T_END, seed=SEED)
    p = r.correlations
    print(
        f"L = {L}: max NFA defect {max(r.defect):.1e};  min corr alpha=1/L "
        f"{min(p['1/L']['pearson']):.12f}, alpha=1/2 {min(p['1/2']['pearson']):.4f}, "
        f"alpha=1 {min(p['1']['pearson']):.4f}"
    )
    assert max(r.defect) < 1e-9

# %% [markdown]
# Unbalanced (Gaussian) start. Without weight decay the imbalance is conserved, so the NFA
# defect never goes away (D2, D7). With weight decay $\lambda$ the imbalance decays at rate
# $2\lambda$ (D3) and the NFA defect decays with it.

# %%
r0 = run_flow(3, widths=4, outputs=2, lam=0.0, init="gaussian", t_end=T_END, seed=SEED)
r1 = run_flow(3, widths=4, outputs=2, lam=LAM, init="gaussian", t_end=T_END, seed=SEED)
tot0 = r0.imbalance_total
print(
    f"lam = 0:    imbalance {tot0[0]:.6f} -> {tot0[-1]:.6f}, NFA defect "
    f"{r0.defect[0]:.3f} -> {r0.defect[-1]:.3f}"
)
print(
    f"lam = {LAM}: imbalance {r1.imbalance_total[0]:.3e} -> {r1.imbalance_total[-1]:.3e}, "
    f"NFA defect {r1.defect[0]:.3f} -> {r1.defect[-1]:.4f}"
)
print(
    f"fitted decay rate {r1.decay_rate:.6f} +- {r1.decay_rate_stderr:.1e} (theory 2 lam = "
    f"{2 * LAM})"
)
assert abs(r1.decay_rate - 2 * LAM) < 0.01 * 2 * LAM
assert abs(tot0[-1] - tot0[0]) < 1e-8 * tot0[0]

# %%
show_lines(  # matplotlib if installed, else the toolkit's own SVG plotter
    {
        "imbalance, lam > 0": (r1.times, r1.imbalance_total),
        "NFA defect alpha = 1/L, lam > 0": (r1.times, r1.defect),
        "NFA defect, lam = 0": (r0.times, r0.defect),
    },
    title="Deep linear network L = 3: imbalance and NFA defect along gradient flow",
    xlabel="t",
    ylabel="norm",
    logy=True,
)

# %% [markdown]
# ## Verdict
# D1-D6 **PROVED** (symbolic, every step checked, exact explicit instances), L = 2..8 in the
# test suite; planted variants **REFUTED**. Numerically, the balanced flow keeps the NFA with
# $\alpha = 1/L$ to about $10^{-14}$ (float64) and the imbalance decays at the predicted rate
# $2\lambda$ to many digits. This matches the paper's statements exactly; the paper's own
# numerical experiments were not available to compare against.
