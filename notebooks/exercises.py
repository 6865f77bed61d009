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
# # Exercises for a course on feature learning
#
# **What is tested.** Fourteen exercises across the course: FACT and its off-convergence identity
# (F1, F2), deep linear networks (D1, D3, D6), the Neural Feature Ansatz (N1, N3), where the NFA
# fails and FACT does not (section 6 of REFERENCE), and Recursive Feature Machines (K2, RFM).
#
# **Sources.** Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644 (FACT); Radhakrishnan,
# Beaglehole, Pandit, Belkin, Science 2024, arXiv:2212.13881 (the NFA, RFM); Tansley, Massart,
# Cartis, arXiv:2510.15563 (deep linear networks).
#
# **How it works.** Each exercise has an answer cell holding `None`: replace it by your answer.
# The cell after it asks the toolkit to check the answer (a symbolic proof or an exact
# refutation, or a comparison with an independent computation at a certified stationary point)
# and prints one of: **right**; **wrong**, with the counterexample (the exact instance, the point
# or the first wrong step of your derivation where the answer fails); **not yet attempted**; or
# **undecided** when the toolkit itself could not check it (say, a step too big to decide). A
# wrong answer never stops the notebook, not even one that raises an error; the last cell lists
# every exercise.
#
# The model answers are in `exercises_solutions.py`, next to this notebook. A lecturer can run
# the sheet with them (or with any file defining `ANSWERS`):
# `FACTCHECK_ANSWERS=notebooks/exercises_solutions.py python notebooks/exercises.py`.

# %% Parameters
import os

SMALL = os.environ.get("FACTCHECK_SMALL", "0") == "1"
ANSWERS_FILE = os.environ.get("FACTCHECK_ANSWERS")  # a file of answers that replace the cells'

# %%
import numpy as np  # noqa: F401  (for your answers)
import sympy as sp  # noqa: F401  (for your answers)

from verify.exercises import Worksheet

sheet = Worksheet.course(small=SMALL, answers_file=ANSWERS_FILE)

# %% [markdown]
# ## Part 1: FACT
#
# ### Exercise `fact-formula` (F1): FACT as a formula
# A weight matrix $W$ enters the network as $z = W h$. Stack the layer inputs $h_i$ as the
# columns of $H$ and the loss gradients $\nabla_h \ell_i$ as the columns of $G_h$. Write the
# identity FACT states at a stationary point of the loss with weight decay $\lambda$ and $n$
# samples, as a function `(W, H, Gh, n, lam)` returning `(left side, right side)` (SymPy matrix
# expressions: `W.T * W`, `Gh * H.T`, ...). The toolkit proves it for all sizes or refutes it at
# an exact stationary point.

# %%
ANSWER_FACT_FORMULA = None

# %%
sheet.check("fact-formula", ANSWER_FACT_FORMULA)

# %% [markdown]
# ### Exercise `fact-numeric` (F1): FACT from a forward and backward pass
# Given the layer inputs `h` and the loss gradients with respect to them `gh` (both $n \times d$,
# one row per sample), compute the $d \times d$ matrix
# $\mathrm{FACT} = -\frac{1}{n\lambda}\sum_i \nabla_h \ell_i\, h_i^\top$. It is compared with
# $W_1^\top W_1$ at a certified stationary point.

# %%
ANSWER_FACT_NUMERIC = None

# %%
sheet.check("fact-numeric", ANSWER_FACT_NUMERIC)

# %% [markdown]
# ### Exercise `f2-defect` (F2): how far from FACT is a network that has not converged?
# At the initial weights (far from stationary), predict the matrix $W^\top W - \mathrm{FACT}$
# from $W$, the gradient $\nabla_W L_\lambda$ and $\lambda$ alone: a function
# `(W, grad_W, lam)`.

# %%
ANSWER_F2_DEFECT = None

# %%
sheet.check("f2-defect", ANSWER_F2_DEFECT)

# %% [markdown]
# ### Exercise `f2-derivation` (F2): the off-convergence identity, as your own derivation
# With $L = \frac{1}{n}\mathrm{tr}(\Delta^\top W H) + \frac{\lambda}{2}\mathrm{tr}(W^\top W)$
# (first-order form) and the chain rule $G_h = W^\top \Delta$ (hypothesis `chain`), lead from
# $W^\top W - \mathrm{FACT}$, i.e. `W.T*W + G_h*H.T/(n*lam)`, to
# $\frac{1}{\lambda} W^\top \nabla_W L$, i.e. `W.T*grad(L, W)/lam`, by a list of equal
# expressions. Cite the chain rule where you use it: `{"expr": "...", "uses": ["chain"]}`.
# Every step is checked symbolically for all sizes and on exact instances.

# %%
ANSWER_F2_DERIVATION = None

# %%
sheet.check("f2-derivation", ANSWER_F2_DERIVATION)

# %% [markdown]
# ## Part 2: deep linear networks
#
# ### Exercise `d1-derivation` (D1): the key identity
# For $f(x) = W_2 W_1 x$ the loss depends on the weights only through $A = W_2 W_1$; in
# first-order form $\ell = \mathrm{tr}(G^\top W_2 W_1)$ with $G = \partial \ell / \partial A$
# held fixed. Lead from $W_2^\top \nabla_{W_2} \ell$ (`W2.T*grad(l, W2)`) to
# $\nabla_{W_1} \ell\, W_1^\top$ (`grad(l, W1)*W1.T`).

# %%
ANSWER_D1_DERIVATION = None

# %%
sheet.check("d1-derivation", ANSWER_D1_DERIVATION)

# %% [markdown]
# ### Exercise `d3-decay` (D3): how fast does the imbalance decay?
# Under gradient flow with weight decay $\lambda$, the imbalance
# $D_j = W_{j+1}^\top W_{j+1} - W_j W_j^\top$ satisfies $\|D_j(t)\| = e^{-r t}\|D_j(0)\|$.
# Give $r$ as a function of `lam`. It is compared with the rate fitted on an integrated flow.

# %%
ANSWER_D3_DECAY = None

# %%
sheet.check("d3-decay", ANSWER_D3_DECAY)

# %% [markdown]
# ### Exercise `d6-exponent` (D6): the exponent for layer $j$
# In a balanced deep linear network of depth $L$, layer $j$ satisfies the NFA
# $W_j^\top W_j = \mathrm{AGOP}_j^{\,\alpha}$, the AGOP taken with respect to layer $j$'s input.
# Give $\alpha$ as a function of `(L, j)`.

# %%
ANSWER_D6_EXPONENT = None

# %%
sheet.check("d6-exponent", ANSWER_D6_EXPONENT)

# %% [markdown]
# ## Part 3: the Neural Feature Ansatz
#
# ### Exercise `nfa-agop` (N1): the AGOP from input Jacobians
# `J` has shape $(n, c, d)$: `J[i]` is the $c \times d$ Jacobian of the network's outputs with
# respect to its input at $x_i$. Return the $d \times d$ AGOP
# $\frac{1}{n}\sum_i J_i^\top J_i$.

# %%
ANSWER_NFA_AGOP = None

# %%
sheet.check("nfa-agop", ANSWER_NFA_AGOP)

# %% [markdown]
# ### Exercise `nfa-pearson` (N3): scoring the NFA
# The NFA is scored by the Pearson correlation of matrix entries: subtract each matrix's mean
# entry, then take the cosine. Write it as a function `(A, B)` returning a number.

# %%
ANSWER_NFA_PEARSON = None

# %%
sheet.check("nfa-pearson", ANSWER_NFA_PEARSON)

# %% [markdown]
# ## Part 4: counterexamples
#
# ### Exercise `cx-quadratic` (N2): make the NFA fail
# For the quadratic network $f(x) = x^\top A x$, $A = W^\top \mathrm{diag}(a) W$, the AGOP is
# $4 A \Sigma A$ ($\Sigma$ the input second moment), while at the global minimum
# $W^\top W = 2^{1/3} |A|^{2/3}$ whatever the data. The matrix $A$ is fixed
# (`verify.exercises.counterexamples.QUADRATIC_A`). Give a $3 \times 3$ positive definite
# $\Sigma$ for which no $\mathrm{AGOP}^\alpha$, $\alpha \in [1/8, 1]$, has Pearson correlation
# $\ge 0.9$ with $W^\top W$. (With $\Sigma = I$ the NFA holds exactly at $\alpha = 1/3$.)

# %%
ANSWER_CX_QUADRATIC = None

# %%
sheet.check("cx-quadratic", ANSWER_CX_QUADRATIC)

# %% [markdown]
# ### Exercise `cx-optimizers` (F1): when does FACT apply?
# FACT holds at stationary points of $L_\lambda$. Which optimizers, run to convergence, stop at
# one? Answer with a set of names among `"gd"`, `"sgd"`, `"adam"` (with the L2 term inside the
# gradient) and `"adamw"` (decoupled weight decay).

# %%
ANSWER_CX_OPTIMIZERS = None

# %%
sheet.check("cx-optimizers", ANSWER_CX_OPTIMIZERS)

# %% [markdown]
# ### Exercise `cx-claim` (F1): a claim about $W^\top W$ that survives the search
# State a claim about the first layer of every converged tanh network as `"NFM = RHS"`, with a
# right side built from the data and the loss gradients (names `AGOP`, `AGOP_centered`, `FACT`,
# `bFACT`, `H`, `n`, `lam`; not `W`). The toolkit searches converged networks for a
# counterexample (Hypothesis draws, trains and certifies them), shrinks the first one it finds to
# the smallest network it can and certifies it at 50 digits. Try the NFA's
# `"NFM = AGOP**(1/2)"` first and read the counterexample; then find a claim that survives. In a
# pytest exercise file the same check is the fixture `claim_check` (installed with the toolkit):
# `def test_nfa(claim_check): claim_check("NFM = AGOP**(1/2)", layers=[1])`.

# %%
ANSWER_CX_CLAIM = None

# %%
sheet.check("cx-claim", ANSWER_CX_CLAIM)

# %% [markdown]
# ## Part 5: kernel machines and RFM
#
# ### Exercise `rfm-residual` (K2): residuals from the coefficients
# Kernel ridge regression with ridge $r$ has coefficients $\alpha = (K + rI)^{-1} Y$ and
# predictions $f(x_i) = (K\alpha)_i$. Write the training residuals $f(x_i) - y_i$ as a function
# `(alpha, ridge)` of the coefficients alone (no kernel matrix).

# %%
ANSWER_RFM_RESIDUAL = None

# %%
sheet.check("rfm-residual", ANSWER_RFM_RESIDUAL)

# %% [markdown]
# ### Exercise `rfm-update` (RFM): the FACT-RFM update
# FACT-RFM replaces the metric by a PSD matrix built from FACT, chosen so that $M = \mathrm{FACT}$
# is a fixed point even though FACT is not symmetric away from convergence (F5). Write the update
# as a function of the FACT matrix (a NumPy array).

# %%
ANSWER_RFM_UPDATE = None

# %%
sheet.check("rfm-update", ANSWER_RFM_UPDATE)

# %% [markdown]
# ## Every exercise
# Right, wrong (the counterexample is printed above, at the exercise) or not yet attempted.

# %%
counts = sheet.report()

# %% [markdown]
# ## Verdict
# With the model answers (`exercises_solutions.py`) all fourteen are right: the formulas and
# derivations are PROVED by the toolkit for all sizes, the numerical answers agree at a certified
# stationary point to rounding, and the counterexample is confirmed against the closed forms of
# the quadratic network. A wrong answer is answered with where it fails, never with a traceback.
