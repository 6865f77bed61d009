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
# A Recursive Feature Machine alternates kernel ridge regression with a learned Mahalanobis
# metric M and an update of M. NFA-RFM sets M <- AGOP^s; FACT-RFM (Boix-Adsera et al.,
# arXiv:2507.05644, Section 5) sets M <- (FACT FACT^T)^{1/2}, with FACT computed through the
# ridge coefficients so it is defined at ridge 0. Its Section 5 explains why the two usually
# agree: AGOP = M S_tau M and FACT = (r/(n lam)) M S_k' differ only by the pair weights tau vs k'
# (K1, K2, K3).

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

# %% [markdown]
# ## 1. Grokking modular addition
# Inputs are one-hot pairs (a, b), targets one-hot (a + b) mod p, half the pairs for training.
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
# Labels are the product of k hidden coordinates of x in {-1, 1}^d.

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
try:  # optional plot
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None and not SMALL:
    for method, r in results.items():
        plt.plot(r.train_acc, "--", label=f"{method} train")
        plt.plot(r.test_acc, label=f"{method} test")
    plt.xlabel("RFM iteration")
    plt.ylabel("accuracy")
    plt.legend()
    plt.show()

# %% [markdown]
# ## Verdict
# Both FACT-RFM and NFA-RFM show the phenomena at full size (p = 61, d = 50; see the README's
# tables for the measured numbers): delayed generalisation on modular addition with a
# block-circulant metric, and a sharp sample-size transition on sparse parity with M
# concentrating on the hidden coordinates. At the small size used in the test suite these are
# smoke runs only. How closely this matches the paper: the phenomena are reproduced
# qualitatively; the exact iteration counts, bandwidths and sample sizes differ from the paper's
# (not all of its settings could be confirmed), and the tabular comparison in the README is on
# a few bundled datasets, not the paper's 120 UCI sets.
