"""Deliberately wrong answers to notebooks/exercises.py (tests/notebooks/test_exercises.py).

One right answer, one left out, and eleven wrong in the ways students get them wrong: a lost
1/n, a wrong signature, a transposed product, a lost 1/n in a derivation, mismatched shapes, a
rate off by 2, the wrong exponent, J J^T for J^T J, the plain cosine for Pearson, isotropic
data, and AdamW among the optimizers.
"""

import numpy as np


def fact_formula(W, H, Gh, n, lam):  # noqa: N803
    return W.T * W, -(1 / lam) * Gh * H.T  # the 1/n is lost


def fact_numeric(h, gh):  # the signature is (h, gh, n, lam): calling it raises TypeError
    return -(gh.T @ h)


def f2_defect(W, grad_W, lam):  # noqa: N803
    return W @ grad_W.T / lam  # m x m, not d x d


def d3_decay(lam):
    return lam  # the rate is 2 lam


def d6_exponent(L, j):  # noqa: N803
    return 1 / L  # right for j = 1 only


def nfa_agop(J):  # noqa: N803
    return np.einsum("icd,ied->ce", J, J) / J.shape[0]  # J J^T: c x c


def nfa_pearson(A, B):  # noqa: N803
    return float(np.sum(A * B) / (np.linalg.norm(A) * np.linalg.norm(B)))  # plain cosine


ANSWERS = {
    "fact-formula": fact_formula,
    "fact-numeric": fact_numeric,
    "f2-defect": f2_defect,
    "f2-derivation": [
        {"expr": "W.T*W + W.T*Delta*H.T/(n*lam)", "uses": ["chain"]},
        "W.T*(lam*W + Delta*H.T)/lam",  # the 1/n is lost here
    ],
    "d1-derivation": ["W2.T*G*W1"],  # W1 needs a transpose: the shapes do not match
    "d3-decay": d3_decay,
    "d6-exponent": d6_exponent,
    "nfa-agop": nfa_agop,
    "nfa-pearson": nfa_pearson,
    "cx-quadratic": np.eye(3),  # isotropic inputs: the NFA holds at alpha = 1/3
    "cx-optimizers": {"gd", "sgd", "adam", "adamw"},
    "cx-claim": "NFM = AGOP**(1/2)",
    "rfm-residual": lambda alpha, ridge: -ridge * alpha,  # right
    "rfm-update": None,  # not yet attempted
}
