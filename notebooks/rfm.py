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
# # FACT-RFM vs NFA-RFM: grokking and the sparse-parity transition (K1-K3)
#
# **The claim.** A Recursive Feature Machine alternates kernel ridge regression with a learned
# Mahalanobis metric $M$ and an update of $M$: NFA-RFM sets $M \leftarrow \mathrm{AGOP}^s$,
# FACT-RFM sets $M \leftarrow (\mathrm{FACT}\,\mathrm{FACT}^\top)^{1/2}$, with FACT computed
# through the ridge coefficients so it is defined at ridge 0. The two usually agree because, for
# a kernel machine,
#
# $$\mathrm{AGOP} = M S_\tau M \quad \text{(K1)}, \qquad
# \mathrm{FACT} = \frac{r}{n\lambda} M S_{k'} \quad \text{(K2)},$$
#
# which differ only by the pair weights $\tau$ against $k'$ (K3). Both are reported to grok
# modular addition and to learn sparse parity with a sharp transition in the sample size.
#
# **Source.** Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644, Section 5 (FACT-RFM and
# the kernel expansion); Radhakrishnan, Beaglehole, Pandit, Belkin, arXiv:2212.13881 (RFM).
#
# **This notebook shows** (1) both machines grokking modular addition, with the block-circulant
# structure of the learned metric, and (2) the sparse-parity transition, with $M$ concentrating
# on the hidden coordinates; then the learning curves as a figure.

# %% Parameters
import os

SMALL = os.environ.get("FACTCHECK_SMALL", "0") == "1"
P = 23 if SMALL else 61  # modulus for modular addition
TRAIN_FRACTION = 0.7 if SMALL else 0.5
ITERS = 30 if SMALL else 75
PARITY_D = 30 if SMALL else 50
PARITY_K = 2
PARITY_N = (50, 400) if SMALL else (100, 200, 400, 800, 1600)
SEED = 0

# %%
from verify import run_modular, run_parity
from verify.base.showplot import show_lines

# %% [markdown]
# ## 1. Grokking modular addition
# Inputs are one-hot pairs $(a, b)$, targets one-hot $(a + b) \bmod p$, half the pairs for
# training.
# Watch train accuracy reach 1 long before test accuracy moves.

# %%
results = {}
for method in ("fact", "nfa"):
    r = run_modular(p=P, train_fraction=TRAIN_FRACTION, iters=ITERS, method=method, seed=SEED)
    results[method] = r
    summary = r.to_dict()
    print(
        f"{method.upper()}-RFM mod {P}: train acc 1 at iteration "
        f"{summary['first_iter_train_acc_1']}, test acc >= 0.9 at "
        f"{summary['first_iter_test_acc_ge_0.9']}, final test acc {summary['final_test_acc']:.3f}"
    )
    print("   test acc by iteration:", " ".join(f"{a:.2f}" for a in r.test_acc))
    print(
        "   block-circulant energy fraction of M (final):",
        round(summary["structure_final"]["blocks"]["overall"], 3),
    )
    assert summary["final_test_acc"] >= 0.9, "no grokking at these settings"

# %% [markdown]
# ## 2. Sparse parity: a sharp transition in the sample size
# Labels are the product of $k$ hidden coordinates of $x \in \{-1, 1\}^d$.

# %%
par = run_parity(d=PARITY_D, k=PARITY_K, n_values=PARITY_N, seed=SEED)
for method, accs in par.test_acc.items():
    print(
        f"{method.upper()}-RFM test accuracy by n:",
        ", ".join(f"n={n}: {a:.2f}" for n, a in zip(par.n_values, accs, strict=True)),
    )
    print(
        f"   transition (first n with test acc >= 0.95): {par.transition(method)}; "
        f"top eigenvectors' mass on the hidden coordinates {par.top_eigvec_hidden_mass[method]}"
    )

# %%
curves = {}
for method, r in results.items():
    its = list(range(len(r.test_acc)))
    curves[f"{method} train"] = (its, r.train_acc)
    curves[f"{method} test"] = (its, r.test_acc)
show_lines(  # matplotlib if installed, else the toolkit's own SVG plotter
    curves, title=f"RFM on modular addition mod {P}", xlabel="RFM iteration", ylabel="accuracy"
)

# %% [markdown]
# ## Verdict
# Both FACT-RFM and NFA-RFM show the phenomena at full size ($p = 61$, $d = 50$; see the README's
# tables for the measured numbers): delayed generalisation on modular addition with a
# block-circulant metric, and a sharp sample-size transition on sparse parity with $M$
# concentrating on the hidden coordinates. At the small size used in the test suite these are
# smoke runs only. How closely this matches the paper: the phenomena are reproduced
# qualitatively; the exact iteration counts, bandwidths and sample sizes differ from the paper's
# (not all of its settings could be confirmed), and the tabular comparison in the README is on
# a few bundled datasets, not the paper's 120 UCI sets.
