"""RFM experiments (REFERENCE section 5): sparse parity, modular addition, small tabular sets.

Each experiment returns a result dataclass with ``to_dict()`` (a JSON summary). Settings are the
function defaults, stated in the summaries; seeds are fixed. ``report_entries`` collects the
symbolic and numerical checks (K1, K2, residual identity, fixed points) and two small runs for
``factcheck report``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from theory._records import Verdict
from verify._report_entry import ReportEntry
from verify.rfm import (
    METHODS,
    RFMResult,
    check_kernel_expansion,
    feature_agreement,
    fixed_point_residuals,
    rfm,
)
from verify.rfm_kernels import Kernel, KernelMachine, fit_krr

__all__ = [
    "ModularResult",
    "ParityResult",
    "TabularResult",
    "TABULAR_DATASETS",
    "circulant_structure",
    "modular_addition_data",
    "report_entries",
    "run_modular",
    "run_parity",
    "run_tabular",
    "sparse_parity_data",
]

Progress = Callable[[str], None]
_EPS = float(np.finfo(np.float64).eps)


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    for m in methods:
        if m not in METHODS:
            raise bad_input("method", f"be one of {', '.join(METHODS)}", m, "Pick a method.")
    if not methods:
        raise bad_input("methods", "name at least one method", list(methods), "Pass e.g. nfa.")
    return tuple(methods)


def _positive_int(name: str, value: int, least: int, fix: str) -> int:
    if int(value) != value or value < least:
        raise bad_input(name, f"be an integer >= {least}", value, fix)
    return int(value)


# -- sparse parity ----------------------------------------------------------------------------
def sparse_parity_data(
    n: int, d: int, hidden: Sequence[int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs uniform in {-1, 1}^d; label = product of the hidden coordinates (n x 1)."""
    X = rng.choice(np.array([-1.0, 1.0]), size=(n, d))
    return X, np.prod(X[:, list(hidden)], axis=1, keepdims=True)


def _hidden_mass(M: np.ndarray, hidden: Sequence[int]) -> tuple[float, float]:
    """Share of trace(M) on the hidden coordinates, and how much the top-k eigenvectors live there.

    The second number is ``sum_{i<=k} lambda_i |P_h v_i|^2 / sum_{i<=k} lambda_i`` (top k
    eigenpairs, P_h the projection on the hidden coordinates): weighting by the eigenvalues keeps
    it meaningful when M collapses to rank one along the sum of the hidden coordinates (a single
    feature that already determines the parity, and what FACT-RFM tends to learn).
    """
    h = list(hidden)
    w, V = np.linalg.eigh(M)
    w, V = np.clip(w[::-1][: len(h)], 0.0, None), V[:, ::-1][:, : len(h)]
    mass = np.sum(V[h] ** 2, axis=0)
    share = float(np.trace(M[np.ix_(h, h)]) / np.trace(M))
    return share, float(mass @ w / np.sum(w))


@dataclass
class ParityResult:
    """Test accuracy against sample size for each method, and where M puts its mass."""

    d: int
    k: int
    hidden: list[int]
    n_values: list[int]
    settings: dict[str, Any]
    test_acc: dict[str, list[float]] = field(default_factory=dict)
    train_acc: dict[str, list[float]] = field(default_factory=dict)
    hidden_trace_share: dict[str, list[float]] = field(default_factory=dict)
    top_eigvec_hidden_mass: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def transition(self, method: str, level: float = 0.95) -> int | None:
        """Smallest n whose test accuracy is >= level (None if none)."""
        for n, acc in zip(self.n_values, self.test_acc[method], strict=True):
            if acc >= level:
                return n
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": "sparse parity",
            "d": self.d,
            "k": self.k,
            "hidden": self.hidden,
            "n_values": self.n_values,
            "settings": self.settings,
            "test_acc": self.test_acc,
            "train_acc": self.train_acc,
            "transition_n_test_acc_ge_0.95": {m: self.transition(m) for m in self.test_acc},
            "hidden_trace_share": self.hidden_trace_share,
            "top_eigvec_hidden_mass": self.top_eigvec_hidden_mass,
            "definitions": {
                "hidden_trace_share": "trace of M on the hidden coordinates / trace(M)",
                "top_eigvec_hidden_mass": "eigenvalue-weighted mean over the top-k eigenvectors "
                "of their squared mass on the hidden coordinates",
            },
            "seconds": round(self.seconds, 2),
        }


def run_parity(
    *,
    d: int = 50,
    k: int = 3,
    n_values: Sequence[int] = (500, 1000, 2000, 4000, 8000),
    methods: Sequence[str] = ("nfa", "fact"),
    iters: int = 5,
    bandwidth: float = 10.0,
    ridge: float = 1e-3,
    n_test: int = 2000,
    seed: int = 0,
    progress: Progress | None = None,
) -> ParityResult:
    """Sparse parity: RFM with a Laplace kernel at each n; the same test set for every n."""
    d = _positive_int("d", d, 1, "Pass e.g. --d 50.")
    k = _positive_int("k", k, 1, "Pass e.g. --k 3.")
    if k > d:
        raise bad_input("k", f"be <= d = {d} (hidden coordinates)", k, "Lower --k or raise --d.")
    if not n_values or any(int(n) != n or n < 2 for n in n_values):
        raise bad_input("n_values", "be integers >= 2", list(n_values), "Pass e.g. --n 500 2000.")
    methods = _check_methods(methods)
    rng = np.random.default_rng(seed)
    hidden = sorted(int(h) for h in rng.choice(d, size=k, replace=False))
    Xt, Yt = sparse_parity_data(n_test, d, hidden, rng)
    Xall, Yall = sparse_parity_data(max(n_values), d, hidden, rng)
    settings = {
        "kernel": "laplace",
        "bandwidth": bandwidth,
        "ridge": ridge,
        "iters": iters,
        "n_test": n_test,
        "seed": seed,
        "normalisation": "max eigenvalue 1",
    }
    res = ParityResult(d, k, hidden, [int(n) for n in n_values], settings)
    start = time.perf_counter()
    for method in methods:
        for key in ("test_acc", "train_acc", "hidden_trace_share", "top_eigvec_hidden_mass"):
            getattr(res, key)[method] = []
        for n in res.n_values:
            out = rfm(
                Xall[:n],
                Yall[:n],
                method=method,
                kernel=Kernel("laplace", bandwidth),
                ridge=ridge,
                iters=iters,
                X_test=Xt,
                Y_test=Yt,
            )
            share, top = _hidden_mass(out.M, hidden)
            res.test_acc[method].append(out.test_acc[-1])
            res.train_acc[method].append(out.train_acc[-1])
            res.hidden_trace_share[method].append(share)
            res.top_eigvec_hidden_mass[method].append(top)
            if progress:
                progress(
                    f"parity {method} n={n}: test acc {out.test_acc[-1]:.3f} ({out.seconds:.1f} s)"
                )
    res.seconds = time.perf_counter() - start
    return res


# -- modular addition -------------------------------------------------------------------------
def modular_addition_data(
    p: int, train_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (a, b) mod p as one-hot [e_a; e_b] in R^{2p}, targets e_{(a+b) mod p}; split."""
    a, b = np.divmod(np.arange(p * p), p)
    X = np.zeros((p * p, 2 * p))
    X[np.arange(p * p), a] = 1.0
    X[np.arange(p * p), p + b] = 1.0
    Y = np.eye(p)[(a + b) % p]
    perm = rng.permutation(p * p)
    n_train = int(round(train_fraction * p * p))
    tr, te = perm[:n_train], perm[n_train:]
    return X[tr], Y[tr], X[te], Y[te]


def _circulant_fraction(B: np.ndarray, hankel: bool) -> float | None:
    """Share of ||B||_F^2 in its projection on circulant (B_ij = c_{j-i}) or Hankel (c_{i+j})."""
    p = B.shape[0]
    i, j = np.indices(B.shape)
    label = ((i + j) if hankel else (j - i)) % p
    means = np.bincount(label.ravel(), B.ravel(), minlength=p) / p
    energy = float(np.sum(B**2))
    return float(np.sum(means[label] ** 2) / energy) if energy > 0 else None


def circulant_structure(M: np.ndarray, p: int, *, seed: int = 0) -> dict[str, Any]:
    """How block-circulant M (2p x 2p) is: per p x p block, the share of energy in its circulant
    projection (average along wrapped diagonals) and in its Hankel projection, after removing the
    diagonal of M and each block's mean (I and constants are trivially circulant). ``baseline``:
    the same measure after one random relabelling of the residues (same in both inputs), which
    destroys the cyclic order: about 1/p if the structure is not there.
    """

    def measure(Mx: np.ndarray) -> dict[str, Any]:
        Mx = Mx - np.diag(np.diag(Mx))
        out: dict[str, Any] = {}
        num = den = 0.0
        for name, (r, c) in {"aa": (0, 0), "ab": (0, 1), "bb": (1, 1)}.items():
            B = Mx[r * p : (r + 1) * p, c * p : (c + 1) * p]
            B = B - (B.sum() / (p * p - p) * (1 - np.eye(p)) if r == c else B.mean())
            if r == c:
                B = B - np.diag(np.diag(B))
            circ, hank = _circulant_fraction(B, False), _circulant_fraction(B, True)
            out[name] = {"circulant": circ, "hankel": hank}
            e = float(np.sum(B**2))
            num += e * max(circ or 0.0, hank or 0.0)
            den += e
        out["overall"] = num / den if den > 0 else None
        return out

    perm = np.random.default_rng(seed).permutation(p)
    full = np.concatenate([perm, p + perm])
    return {"blocks": measure(M), "baseline": measure(M[np.ix_(full, full)])}


@dataclass
class ModularResult:
    """Train/test accuracy against RFM iteration (grokking) and the structure of the learned M."""

    p: int
    train_fraction: float
    method: str
    settings: dict[str, Any]
    train_acc: list[float]
    test_acc: list[float]
    circulant_overall: list[float | None]
    structure: dict[str, Any]
    seconds: float
    M: np.ndarray | None = None

    def first(self, series: list[float], level: float) -> int | None:
        return next((t for t, a in enumerate(series) if a >= level), None)

    def to_dict(self) -> dict[str, Any]:
        train_done = self.first(self.train_acc, 1.0)
        test_done = self.first(self.test_acc, 1.0)
        test_90 = self.first(self.test_acc, 0.9)
        chance = 1.0 / self.p
        near_chance = [t for t, a in enumerate(self.test_acc) if a <= 3 * chance]
        return {
            "experiment": "modular addition",
            "p": self.p,
            "train_fraction": self.train_fraction,
            "method": self.method,
            "settings": self.settings,
            "train_acc": self.train_acc,
            "test_acc": self.test_acc,
            "first_iter_train_acc_1": train_done,
            "first_iter_test_acc_ge_0.9": test_90,
            "first_iter_test_acc_1": test_done,
            "iters_train_perfect_test_near_chance": sum(
                1 for t in near_chance if train_done is not None and t >= train_done
            ),
            "near_chance_means": f"test acc <= 3/p = {3 * chance:.3f}",
            "final_test_acc": self.test_acc[-1],
            "circulant_overall": self.circulant_overall,
            "structure_final": self.structure,
            "seconds": round(self.seconds, 2),
        }


def run_modular(
    *,
    p: int = 61,
    train_fraction: float = 0.5,
    method: str = "fact",
    iters: int = 75,
    bandwidth: float = 2.5,
    ridge: float = 0.0,
    s: float = 0.5,
    centered: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
) -> ModularResult:
    """Modular addition mod p with a Gaussian kernel (defaults: REFERENCE section 5)."""
    p = _positive_int("p", p, 2, "Pass e.g. --p 61.")
    if not 0 < train_fraction < 1:
        raise bad_input(
            "train_fraction",
            "be strictly between 0 and 1",
            train_fraction,
            "Pass e.g. --train-fraction 0.5.",
        )
    (method,) = _check_methods([method])
    rng = np.random.default_rng(seed)
    X, Y, Xt, Yt = modular_addition_data(p, train_fraction, rng)
    circ: list[float | None] = []

    def on_iter(t: int, machine: KernelMachine, rec: dict[str, float]) -> None:
        circ.append(circulant_structure(machine.M, p, seed=seed)["blocks"]["overall"])
        if progress:
            progress(
                f"modular {method} iter {t}/{iters}: train {rec['train_acc']:.3f} "
                f"test {rec['test_acc']:.3f}"
            )

    out: RFMResult = rfm(
        X,
        Y,
        method=method,
        kernel=Kernel("gaussian", bandwidth),
        ridge=ridge,
        iters=iters,
        s=s,
        centered=centered,
        X_test=Xt,
        Y_test=Yt,
        on_iter=on_iter,
    )
    settings = {
        "kernel": "gaussian",
        "bandwidth": bandwidth,
        "ridge": ridge,
        "s": s,
        "centered_agop": centered,
        "iters": iters,
        "seed": seed,
        "normalisation": "max eigenvalue 1",
        "solvers": sorted(set(out.solvers)),
        "n_train": int(X.shape[0]),
        "n_test": int(Xt.shape[0]),
    }
    return ModularResult(
        p,
        train_fraction,
        method,
        settings,
        out.train_acc,
        out.test_acc,
        circ,
        circulant_structure(out.M, p, seed=seed),
        out.seconds,
        out.M,
    )


# -- tabular ------------------------------------------------------------------------------------
TABULAR_DATASETS: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits")


def _load_tabular(name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn import datasets
    except ModuleNotFoundError as exc:  # optional extra
        raise bad_input(
            "tabular datasets",
            "come from scikit-learn's bundled data",
            "scikit-learn not installed",
            "pip install 'factcheck[tabular]' (or pip install scikit-learn).",
        ) from exc
    loader = getattr(datasets, f"load_{name}")
    data = loader()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target)


@dataclass
class TabularResult:
    """Test accuracy (%) per dataset and method over fixed random splits."""

    settings: dict[str, Any]
    rows: list[dict[str, Any]]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        means: dict[str, float] = {}
        for method in dict.fromkeys(r["method"] for r in self.rows):
            means[method] = float(
                np.mean([r["mean_acc"] for r in self.rows if r["method"] == method])
            )
        return {
            "experiment": "tabular",
            "settings": self.settings,
            "rows": self.rows,
            "mean_over_datasets": means,
            "seconds": round(self.seconds, 2),
        }

    def table(self) -> str:
        """A Markdown table for the README."""
        lines = [
            "| dataset | n | d | classes | method | test acc % (mean +- s.e.) |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r['dataset']} | {r['n']} | {r['d']} | {r['classes']} | "
                f"{r['method']} | {r['mean_acc']:.2f} +- {r['stderr']:.2f} |"
            )
        return "\n".join(lines)


def run_tabular(
    *,
    datasets: Sequence[str] = TABULAR_DATASETS,
    methods: Sequence[str] = ("kernel", "nfa", "fact"),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    test_fraction: float = 0.2,
    iters: int = 5,
    bandwidth: float = 10.0,
    ridge: float = 1e-3,
    progress: Progress | None = None,
) -> TabularResult:
    """Laplace-kernel RFM on scikit-learn's bundled sets; features standardised on the train split.

    Split s: a random permutation from ``default_rng(seed)``, the first ``test_fraction`` for
    testing. One-hot targets, argmax accuracy; the model after the last iteration is reported.
    """
    methods = _check_methods(methods)
    for name in datasets:
        if name not in TABULAR_DATASETS:
            raise bad_input(
                "dataset",
                f"be one of {', '.join(TABULAR_DATASETS)}",
                name,
                "Pick a bundled dataset.",
            )
    if not 0 < test_fraction < 1:
        raise bad_input(
            "test_fraction", "be strictly between 0 and 1", test_fraction, "Pass e.g. 0.2."
        )
    start = time.perf_counter()
    rows = []
    for name in datasets:
        Xraw, labels = _load_tabular(name)
        classes = np.unique(labels)
        Yraw = (labels[:, None] == classes[None, :]).astype(np.float64)
        for method in methods:
            accs = []
            for seed in seeds:
                perm = np.random.default_rng(seed).permutation(len(labels))
                n_test = int(round(test_fraction * len(labels)))
                te, tr = perm[:n_test], perm[n_test:]
                mu, sd = Xraw[tr].mean(0), Xraw[tr].std(0)
                sd[sd == 0] = 1.0
                out = rfm(
                    (Xraw[tr] - mu) / sd,
                    Yraw[tr],
                    method=method,
                    ridge=ridge,
                    kernel=Kernel("laplace", bandwidth),
                    iters=iters,
                    X_test=(Xraw[te] - mu) / sd,
                    Y_test=Yraw[te],
                )
                accs.append(100.0 * out.test_acc[-1])
            rows.append(
                {
                    "dataset": name,
                    "n": int(len(labels)),
                    "d": int(Xraw.shape[1]),
                    "classes": int(len(classes)),
                    "method": method,
                    "mean_acc": float(np.mean(accs)),
                    "stderr": float(np.std(accs, ddof=1) / np.sqrt(len(accs)))
                    if len(accs) > 1
                    else 0.0,
                    "accs": [round(a, 2) for a in accs],
                }
            )
            if progress:
                progress(f"tabular {name} {method}: {np.mean(accs):.2f}%")
    settings = {
        "kernel": "laplace",
        "bandwidth": bandwidth,
        "ridge": ridge,
        "iters": iters,
        "seeds": list(seeds),
        "test_fraction": test_fraction,
        "standardise": "train-split mean and std",
        "targets": "one-hot, argmax",
    }
    return TabularResult(settings, rows, time.perf_counter() - start)


# -- report ---------------------------------------------------------------------------------------
SECTION = "Recursive Feature Machines"


def _derivation_entry(d: Any, seconds: float, *, theorem: bool = True) -> ReportEntry:
    return ReportEntry.from_derivation(d, SECTION, seconds=seconds, theorem=theorem)


def _numeric_entries(seed: int) -> list[ReportEntry]:
    """K1, K2 and the residual identity in float64 on two inner-product machines."""
    rng = np.random.default_rng(seed)
    n, d, c = 60, 6, 3
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    Y = rng.standard_normal((n, c))
    W = rng.standard_normal((d, d))
    M = W.T @ W / d
    results: dict[str, list[dict[str, Any]]] = {"residual": [], "K1": [], "K2": []}
    t0 = time.perf_counter()
    for kernel in (Kernel("exponential", 2.0), Kernel("polynomial", 2.0, 3)):
        for ridge in (1e-2, 1.0):
            machine = fit_krr(X, Y, kernel=kernel, M=M, ridge=ridge)
            for name, row in check_kernel_expansion(machine, Y, lam=0.5).items():
                results[name].append({"kernel": kernel.kind, "ridge": ridge, **row})
    dt = (time.perf_counter() - t0) / 3
    claims = {
        "residual": ("KRR residual identity f(x_i) - y_i = -r alpha_i (float64)", "K2"),
        "K1": ("AGOP = M S_tau M (float64, two routes)", "K1"),
        "K2": ("FACT = (r/(n lam)) M S_k' (float64, F1 route vs K2)", "K2"),
    }
    out = []
    for name, rows in results.items():
        ok = all(r["ok"] for r in rows)
        verdict = Verdict.NUMERICALLY_CONSISTENT if ok else Verdict.INCONCLUSIVE
        worst = max(r["max_error"] / r["tolerance"] for r in rows)
        out.append(
            ReportEntry(
                section=SECTION,
                claim=claims[name][0],
                tag=claims[name][1],
                verdict=verdict.value,
                evidence=verdict.evidence,
                reason=(
                    f"n={n}, d={d}, c={c}; all errors within rounding bounds (worst "
                    f"error/bound {worst:.1e})"
                    if ok
                    else "an error exceeds its rounding bound: a bug in one of the two routes"
                ),
                precision=f"float64: max error {max(r['max_error'] for r in rows):.1e}",
                seconds=dt,
                data={"checks": rows},
            )
        )
    return out


def _fixed_point_entry(seed: int) -> ReportEntry:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    d = 6
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    M = (Q * np.linspace(1.0, 4.0, d)) @ Q.T
    res = fixed_point_residuals(M)
    tol = 16 * d * _EPS * 4.0**3  # why: a 4th root of an eigh-computed M^4 loses kappa^3 (kappa=4)
    ok = max(res.values()) <= tol
    verdict = Verdict.NUMERICALLY_CONSISTENT if ok else Verdict.INCONCLUSIVE
    return ReportEntry(
        section=SECTION,
        claim="M = FACT (NFA: AGOP = M^{1/s}) is a fixed point of every update",
        tag="RFM",
        verdict=verdict.value,
        evidence=verdict.evidence,
        reason=f"relative distances {', '.join(f'{k}: {v:.1e}' for k, v in res.items())} "
        f"(bound {tol:.1e})",
        precision=f"float64: {max(res.values()):.1e}",
        seconds=time.perf_counter() - t0,
        data={"residuals": res, "tolerance": tol, "condition_number": 4.0},
    )


def _k3_entry(seed: int) -> ReportEntry:
    """K3 on an inner-product NFA-RFM (quadratic kernel) trained on modular addition mod 23."""
    t0 = time.perf_counter()
    X, Y, Xt, Yt = modular_addition_data(23, 0.8, np.random.default_rng(seed))
    out = rfm(
        X,
        Y,
        method="nfa",
        kernel=Kernel("polynomial", 1.0, 2),
        ridge=1e-3,
        iters=10,
        X_test=Xt,
        Y_test=Yt,
    )
    agree = feature_agreement(out.machine)
    r2 = agree["k3_r2_tau_vs_kprime"]
    verdict = Verdict.NUMERICALLY_CONSISTENT if r2 >= 0.9 else Verdict.INCONCLUSIVE
    return ReportEntry(
        section=SECTION,
        claim="NFA and FACT differ only by the pair weights tau vs k'",
        tag="K3",
        verdict=verdict.value,
        evidence=verdict.evidence,
        reason=(
            f"R^2(tau vs k') = {r2:.3f}, weighted by A A^T: "
            f"{agree['k3_r2_weighted_by_AAT']:.3f} (paper, via a secondary source: 0.987 on "
            "mod 61, exact definition unconfirmed); "
            f"Pearson(AGOP^1/2, (FACT FACT^T)^1/2) = {agree['pearson_nfa_vs_fact']:.3f}; "
            "a measurement, not a theorem"
        ),
        precision="float64",
        seconds=time.perf_counter() - t0,
        theorem=False,
        data={
            **agree,
            "test_acc": out.test_acc[-1],
            "setting": "mod 23, fraction 0.8, kernel (1 + x^T M z)^2, ridge 1e-3, "
            "10 NFA-RFM iterations",
        },
    )


def report_entries(quick: bool = False, seed: int = 0) -> list[ReportEntry]:
    """Entries for ``factcheck report``: K1/K2/residual (symbolic and float64), fixed points,
    planted false variants, K3, and small modular-addition and sparse-parity runs."""
    from theory import kernel_expansion as ke

    out: list[ReportEntry] = []
    sizes = [(3, 2, 1)] if quick else [(3, 2, 1), (2, 3, 2)]
    for n, d, c in sizes:
        for derive in (
            ke.derive_residual_identity,
            ke.derive_agop_expansion,
            ke.derive_fact_expansion,
        ):
            t0 = time.perf_counter()
            der = derive(n, d, c)
            out.append(_derivation_entry(der, time.perf_counter() - t0))
    t0 = time.perf_counter()
    planted = ke.planted_false_variants()
    for der in planted:
        out.append(_derivation_entry(der, (time.perf_counter() - t0) / len(planted), theorem=False))
    out += _numeric_entries(seed)
    out.append(_fixed_point_entry(seed))
    out.append(_k3_entry(seed))

    p, frac, iters = (31, 0.7, 30) if quick else (41, 0.6, 30)
    for method in ("fact", "nfa"):
        res = run_modular(p=p, train_fraction=frac, method=method, iters=iters, seed=seed)
        s = res.to_dict()
        grokked = (
            s["first_iter_test_acc_1"] is not None
            and s["iters_train_perfect_test_near_chance"] >= 2
        )
        verdict = Verdict.NUMERICALLY_CONSISTENT if grokked else Verdict.INCONCLUSIVE
        its = [float(t) for t in range(len(res.train_acc))]
        out.append(
            ReportEntry(
                section=SECTION,
                claim=f"{method.upper()}-RFM groks modular addition mod {p}",
                tag="RFM",
                verdict=verdict.value,
                evidence=verdict.evidence,
                reason=(
                    f"train acc 1 from iteration {s['first_iter_train_acc_1']}, test acc near "
                    f"chance for {s['iters_train_perfect_test_near_chance']} iterations after "
                    f"that, test acc 1 from {s['first_iter_test_acc_1']}; block-circulant share "
                    f"{res.structure['blocks']['overall']:.3f} (relabelled baseline "
                    f"{res.structure['baseline']['overall']:.3f})"
                    + ("" if grokked else "; not reached here: raise --iters or the fraction")
                ),
                precision="accuracy on the held-out pairs",
                seconds=res.seconds,
                theorem=False,
                data=s,
                figure_svg=_maybe_plot(
                    {"train": (its, res.train_acc), "test": (its, res.test_acc)},
                    f"{method.upper()}-RFM, modular addition mod {p}",
                    "RFM iteration",
                    "accuracy",
                ),
            )
        )
    d, k, ns = (50, 2, (100, 200, 400, 800)) if quick else (30, 3, (250, 500, 1000, 2000))
    par = run_parity(d=d, k=k, n_values=ns, seed=seed)
    s = par.to_dict()
    found = all(par.transition(m) is not None and par.test_acc[m][0] < 0.75 for m in par.test_acc)
    verdict = Verdict.NUMERICALLY_CONSISTENT if found else Verdict.INCONCLUSIVE
    out.append(
        ReportEntry(
            section=SECTION,
            claim=f"RFM learns sparse parity (d={d}, k={k}) with a sharp transition",
            tag="RFM",
            verdict=verdict.value,
            evidence=verdict.evidence,
            reason="transition (test acc >= 0.95) at n = "
            + ", ".join(f"{m}: {par.transition(m)}" for m in par.test_acc)
            + "; top-k eigenvector mass on the hidden coordinates at the largest n: "
            + ", ".join(f"{m}: {par.top_eigvec_hidden_mass[m][-1]:.3f}" for m in par.test_acc),
            precision=f"test set of {par.settings['n_test']}",
            seconds=par.seconds,
            theorem=False,
            data=s,
            figure_svg=_maybe_plot(
                {m: ([float(n) for n in par.n_values], par.test_acc[m]) for m in par.test_acc},
                f"Sparse parity d={d}, k={k}",
                "training samples n",
                "test accuracy",
            ),
        )
    )
    return out


def _maybe_plot(
    series: dict[str, tuple[list[float], list[float]]], title: str, xlabel: str, ylabel: str
) -> str | None:
    try:
        from verify._svgplot import line_plot
    except ModuleNotFoundError:  # the plotting module is optional for the report entries
        return None
    return line_plot(series, title=title, xlabel=xlabel, ylabel=ylabel)
