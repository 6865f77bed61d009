"""Model answers to notebooks/exercises.py, kept apart from the worksheet.

Not a notebook: a file of answers. Run the worksheet with them:

    FACTCHECK_ANSWERS=notebooks/exercises_solutions.py python notebooks/exercises.py

Each answer is what a student would put in the matching answer cell.
"""

from __future__ import annotations

import numpy as np


def fact_formula(W, H, Gh, n, lam):  # noqa: N803 (matrices are capitals, as in the notes)
    """F1: W^T W = -(1/(n lam)) G_h H^T."""
    return W.T * W, -(1 / (n * lam)) * Gh * H.T


def fact_numeric(h, gh, n, lam):
    """F1 with samples as rows: -(1/(n lam)) sum_i gh_i h_i^T = -(gh^T h) / (n lam)."""
    return -(gh.T @ h) / (n * lam)


def f2_defect(W, grad_W, lam):  # noqa: N803
    """F2: W^T W - FACT = (1/lam) W^T grad_W L_lam."""
    return W.T @ grad_W / lam


F2_DERIVATION = [
    {"expr": "W.T*W + W.T*Delta*H.T/(n*lam)", "uses": ["chain"]},
    "W.T*(lam*W + Delta*H.T/n)/lam",
    "W.T*grad(L, W)/lam",
]

D1_DERIVATION = [
    "W2.T*G*W1.T",  # grad_{W2} l = G W1^T
    "grad(l, W1)*W1.T",  # grad_{W1} l = W2^T G
]


def d3_decay(lam):
    """D3: dD/dt = -2 lam D."""
    return 2 * lam


def d6_exponent(L, j):  # noqa: N803
    """D6: (W_L...W_j)^T (W_L...W_j) = (W_j^T W_j)^(L-j+1), so alpha_j = 1/(L - j + 1)."""
    import sympy as sp

    return sp.Rational(1, L - j + 1)


def nfa_agop(J):  # noqa: N803
    """N1: (1/n) sum_i J_i^T J_i, J_i the c x d Jacobian at x_i."""
    return np.einsum("icd,ice->de", J, J) / J.shape[0]


def nfa_pearson(A, B):  # noqa: N803
    """N3: cosine of the mean-centred entries."""
    a, b = A - A.mean(), B - B.mean()
    return float(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def cx_quadratic():
    """An input second moment stretched by 1e3 along one axis and by 1e-3 along another, in a
    basis unrelated to A's eigenvectors: the AGOP 4 A Sigma A then tilts away from every power
    of |A| (best correlation 0.86 at alpha = 1/8, the end of the range)."""
    return np.diag([1.0, 1e3, 1e-3])


def rfm_residual(alpha, ridge):
    """K2: Y = (K + r I) alpha, so K alpha - Y = -r alpha."""
    return -ridge * alpha


def rfm_update(fact):
    """RFM: M <- (FACT FACT^T)^{1/2}, the PSD square root (F5 at the fixed point)."""
    w, V = np.linalg.eigh(fact @ fact.T)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


ANSWERS = {
    "fact-formula": fact_formula,
    "fact-numeric": fact_numeric,
    "f2-defect": f2_defect,
    "f2-derivation": F2_DERIVATION,
    "d1-derivation": D1_DERIVATION,
    "d3-decay": d3_decay,
    "d6-exponent": d6_exponent,
    "nfa-agop": nfa_agop,
    "nfa-pearson": nfa_pearson,
    "cx-quadratic": cx_quadratic(),
    "cx-optimizers": {"gd", "sgd", "adam"},
    "cx-claim": "NFM = FACT",
    "rfm-residual": rfm_residual,
    "rfm-update": rfm_update,
}
