"""The layers FACT is derived for, in two forms: symbolic shapes and explicit small instances.

Convention in theory/: samples are COLUMNS. ``H`` (d x n) holds the inputs h_i of the layer under
study, ``W`` (m x d) its weights, ``Z = W H (+ b 1^T)`` its pre-activations, ``Delta`` (m x n) the
columns delta_i = dl_i/dz_i, and ``Gh`` (d x n) the columns grad_h l_i. The objective is
``L_lam = (1/n) sum_i l_i + (lam/2) sum ||W_k||_F^2``.

Architectures
-------------
linear       z = W x, squared error l_i = |W x_i - y_i|^2 / 2.
deep-linear  f(x) = W_L ... W_1 x with squared error; the layer under study is W_j, its input is
             h = W_{j-1} ... W_1 x, and Delta = (W_L ... W_{j+1})^T R with R = f(X) - Y.
mlp          a layer z = W h (+ b) of an MLP with a symbolic elementwise activation sigma and a
             symbolic differentiable loss ell(output, y). Symbolically the rest of the network is
             abstract: L_data depends on W only through Z = W H (+ b 1^T), so by the chain-rule
             lemma (theory/chain_rule.py) grad_W L_data = grad_W Tr(Delta^T Z)/n with Delta held
             fixed; ``objective`` is that first-order form (a statement about gradients, not about
             values: the two objectives differ, their W-gradients agree). The explicit instances
             are whole networks of the requested depth L: j - 1 layers sigma(U_k h + c_k) before
             layer j, then sigma and the L - j remaining layers after it (the last one linear),
             then ell; hidden layers other than layer j's input and output have width 1 (cost).
             Their gradients and deltas come from entry-by-entry differentiation.

Each model can build an *exact stationary witness*: a point where grad_W L_lam = 0 exactly, for
the member of the family with identity activation and squared error (then stationarity in W is a
linear equation, solved in rationals). Witnesses are where false variants of FACT get refuted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from theory._checks import rand_rational
from theory._errors import bad_input
from theory._options import ARCHITECTURES, MAX_DEPTH
from theory.matrix_calculus import Gradient, gradient

__all__ = ["ARCHITECTURES", "ExplicitLayer", "LayerModel", "layer_model"]


n, lam = sp.symbols("n lambda", positive=True)


@dataclass(frozen=True)
class ExplicitLayer:
    """An explicit instance: everything an exact check needs, as explicit SymPy matrices.

    ``W`` holds scalar symbols w_ab; ``objective`` is the explicit scalar L_lam; ``H``, ``Delta``
    and ``Gh`` are computed by entry-by-entry scalar differentiation of per-sample losses (an
    independent route from the matrix calculus); ``grad`` is d objective / d w_ab entry by entry.
    """

    sizes: dict[str, int]
    W: sp.ImmutableMatrix
    objective: sp.Expr
    H: sp.ImmutableMatrix
    Delta: sp.ImmutableMatrix
    Gh: sp.ImmutableMatrix
    grad: sp.ImmutableMatrix
    n: int


@dataclass(frozen=True)
class LayerModel:
    """The symbolic-shape form of one layer of one architecture (see module docstring)."""

    arch: str
    depth: int
    layer: int
    bias: bool
    description: str
    W: sp.MatrixSymbol
    H: Any
    Delta: Any
    objective: Any
    objective_in_h: Any
    Hvar: sp.MatrixSymbol
    dims: tuple[sp.Symbol, ...]
    symbols: dict[str, str] = field(default_factory=dict)

    n = n
    lam = lam

    def gradient(self) -> Gradient:
        """grad_W L_lam by the trusted matrix calculus (two routes plus explicit sizes)."""
        return gradient(self.objective, self.W)

    def chain_rule(self) -> Gradient:
        """sum_i grad_h l_i h-columns: the gradient of sum_i l_i with respect to the inputs H."""
        return gradient(self.objective_in_h, self.Hvar)

    def lemma_instance_w(self) -> Any:
        """P^T G Q^T of the chain-rule lemma (theory/chain_rule.py) for Z = I W H + b 1^T:
        P = I, X = W, Q = H, G = dL_data/dZ = Delta / n (mlp)."""
        m = self.W.shape[0]
        return sp.Identity(m).T * (self.Delta / self.n) * self.H.T

    def lemma_instance_h(self) -> Any:
        """P^T G Q^T for Z = W H I + b 1^T: P = W, X = H, Q = I, G = d(sum_i l_i)/dZ = Delta."""
        return self.W.T * self.Delta * sp.Identity(self.n).T

    # -- explicit instances -------------------------------------------------------------------
    def explicit(
        self, k: int, seed: int = 0, activation: str = "sigma", sizes: dict[str, int] | None = None
    ) -> ExplicitLayer:
        """The k-th explicit instance (k = 0, 1, ...), exact, with symbolic weights w_ab.

        ``activation`` (mlp only) names the elementwise function used in the instance; "sigma"
        keeps it an undefined symbolic function. ``sizes`` overrides the k-th size assignment
        (keys m0..mL and n for linear models; d0, d, m, c, n for mlp).
        """
        return _explicit(self, k, seed, activation, sizes)

    def witness(self, seed: int = 0) -> dict[str, Any]:
        """An exact stationary point in W (identity activation, squared error), square W."""
        from theory.fact.witness import stationary_witness  # imports this module

        return stationary_witness(self, seed)


def layer_model(arch: str, depth: int = 1, layer: int = 1, bias: bool = False) -> LayerModel:
    """Validate the architecture arguments and build the symbolic model of that layer."""
    if arch not in ARCHITECTURES:
        raise bad_input(
            "arch", f"be one of {', '.join(ARCHITECTURES)}", arch, "Choose a listed architecture."
        )
    if not isinstance(depth, int) or depth < 1 or depth > MAX_DEPTH:
        raise bad_input("depth", f"be an integer in 1..{MAX_DEPTH}", depth, "Pass --depth 2.")
    if not isinstance(layer, int) or not 1 <= layer <= depth:
        raise bad_input(
            "layer", f"be an integer in 1..depth (= {depth})", layer, f"Pass --layer 1..{depth}."
        )
    if arch == "linear":
        if depth != 1:
            raise bad_input(
                "depth", "be 1 for --arch linear", depth, "Use --arch deep-linear for depth > 1."
            )
        if bias:
            raise bad_input(
                "bias", "be off for --arch linear", bias, "Use --arch mlp --bias for a bias."
            )
        return _linear_model(1, 1)
    if arch == "deep-linear":
        if bias:
            raise bad_input("bias", "be off for --arch deep-linear", bias, "Use --arch mlp --bias.")
        return _linear_model(depth, layer)
    return _mlp_model(depth, layer, bias)


def _linear_model(depth: int, layer: int) -> LayerModel:
    ms = sp.symbols(f"m0:{depth + 1}", positive=True, integer=True)
    Ws = [
        sp.MatrixSymbol(f"W{k + 1}" if depth > 1 else "W", ms[k + 1], ms[k]) for k in range(depth)
    ]
    X = sp.MatrixSymbol("X", ms[0], n)
    Y = sp.MatrixSymbol("Y", ms[depth], n)
    j = layer - 1
    W = Ws[j]
    before = Ws[:j]
    after = Ws[j + 1 :]
    H = _product(list(reversed(before)) + [X])
    P = _product(list(reversed(after))) if after else None
    R = _product(list(reversed(Ws)) + [X]) - Y
    Delta = P.T * R if P is not None else R
    objective = sp.Trace(R.T * R) / (2 * n) + lam / 2 * sp.Add(*[sp.Trace(Wk.T * Wk) for Wk in Ws])
    Hvar = sp.MatrixSymbol("H", ms[j], n)
    Rh = (P * W * Hvar if P is not None else W * Hvar) - Y
    desc = (
        "single linear layer z = W x, squared error, weight decay"
        if depth == 1
        else f"layer {layer} of a deep linear network f(x) = W{depth}...W1 x (L = {depth}), "
        "squared error, weight decay on every layer"
    )
    symbols = {
        "X": "inputs, one sample per column (m0 x n)",
        "Y": f"targets (m{depth} x n)",
        "n": "number of samples",
        "lambda": "weight decay, > 0",
    }
    return LayerModel(
        arch="linear" if depth == 1 else "deep-linear",
        depth=depth,
        layer=layer,
        bias=False,
        description=desc,
        W=W,
        H=H,
        Delta=Delta,
        objective=objective,
        objective_in_h=sp.Trace(Rh.T * Rh) / 2,
        Hvar=Hvar,
        dims=tuple(ms) + (n,),
        symbols=symbols,
    )


def _mlp_model(depth: int, layer: int, bias: bool) -> LayerModel:
    m, d = sp.symbols("m d", positive=True, integer=True)
    W = sp.MatrixSymbol("W", m, d)
    H = sp.MatrixSymbol("H", d, n)
    Delta = sp.MatrixSymbol("Delta", m, n)
    ones = sp.OneMatrix(n, 1)
    b = sp.MatrixSymbol("b", m, 1)
    Z = W * H + b * ones.T if bias else W * H
    # First-order (chain-rule) form of the objective: L_data depends on W only through Z, so its
    # differential is Tr(Delta^T dZ)/n with Delta = [dl_i/dz_i]; the decay term is explicit.
    objective = sp.Trace(Delta.T * Z) / n + lam / 2 * sp.Trace(W.T * W)
    where = "a hidden layer" if 1 < layer < depth else f"layer {layer}"
    desc = (
        f"{where} of an MLP with L = {depth} layers, z = W h{' + b' if bias else ''}, symbolic "
        "activation sigma and symbolic loss ell(output, y), weight decay on W"
    )
    symbols = {
        "H": "layer inputs h_i, one per column (d x n)",
        "Delta": "delta_i = dl_i/dz_i, one per column (m x n)",
        "n": "number of samples",
        "lambda": "weight decay on W, > 0",
    }
    if bias:
        symbols["b"] = "bias (not decayed; FACT for W does not need it decayed)"
    return LayerModel(
        arch="mlp",
        depth=depth,
        layer=layer,
        bias=bias,
        description=desc,
        W=W,
        H=H,
        Delta=Delta,
        objective=objective,
        # Z is linear in H, so the same first-order form also gives sum_i grad_h l_i
        objective_in_h=sp.Trace(Delta.T * Z),
        Hvar=H,
        dims=(m, d, n),
        symbols=symbols,
    )


def _product(factors: list[Any]) -> Any:
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


# -- explicit instances ------------------------------------------------------------------------
def _rand(rng: random.Random, rows: int, cols: int) -> sp.ImmutableMatrix:
    return rand_rational(rows, cols, rng)


def _syms(prefix: str, rows: int, cols: int) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}{j + 1}"))


def _shapes(model: LayerModel, k: int) -> dict[str, int]:
    # distinct neighbouring sizes so a transposed factor changes a shape (see size_assignments)
    if model.arch == "mlp":
        table = (
            {"d0": 2, "d": 2, "m": 3, "c": 1, "n": 2},
            {"d0": 3, "d": 3, "m": 2, "c": 2, "n": 2},
        )
        return dict(table[k % 2])
    widths = {f"m{i}": 2 + (i + k) % 3 for i in range(model.depth + 1)}
    return widths | {"n": 2 + k % 2}


_z = sp.Symbol("z")
#: elementwise activations as SymPy functions (exact; relu's derivative is Heaviside)
ACTIVATION_FUNCTIONS: dict[str, Any] = {
    "sigma": sp.Function("sigma"),
    "identity": sp.Lambda(_z, _z),
    "relu": sp.Lambda(_z, sp.Max(0, _z)),
    "tanh": sp.Lambda(_z, sp.tanh(_z)),
    "sigmoid": sp.Lambda(_z, 1 / (1 + sp.exp(-_z))),
    "softplus": sp.Lambda(_z, sp.log(1 + sp.exp(_z))),
    "gelu": sp.Lambda(_z, _z * (1 + sp.erf(_z / sp.sqrt(2))) / 2),
    "quadratic": sp.Lambda(_z, _z**2),
}


def _explicit(
    model: LayerModel, k: int, seed: int, activation: str, sizes: dict[str, int] | None
) -> ExplicitLayer:
    rng = random.Random(1000 * seed + 17 * k + 1)
    sizes = _shapes(model, k) | dict(sizes or {})
    if model.arch == "mlp":
        return _explicit_mlp(model, sizes, rng, ACTIVATION_FUNCTIONS[activation])
    L, j = model.depth, model.layer - 1
    widths = [sizes[f"m{i}"] for i in range(L + 1)]
    N = sizes["n"]
    Ws = [_rand(rng, widths[i + 1], widths[i]) for i in range(L)]
    Wsym = _syms("w", widths[j + 1], widths[j])
    Ws[j] = Wsym
    X = _rand(rng, widths[0], N)
    Y = _rand(rng, widths[L], N)
    H = X
    for Wk in Ws[:j]:
        H = Wk * H
    P = sp.eye(widths[j + 1])
    for Wk in Ws[j + 1 :]:
        P = Wk * P
    eta = _syms("eta", widths[j], 1)
    zeta = _syms("zeta", widths[j + 1], 1)
    losses, deltas, ghs = [], [], []
    for i in range(N):
        r = P * zeta - Y[:, i]
        li_z = (r.T * r)[0, 0] / 2
        deltas.append(_grad_at(li_z, zeta, Wsym * H[:, i]))
        rh = P * Wsym * eta - Y[:, i]
        ghs.append(_grad_at((rh.T * rh)[0, 0] / 2, eta, H[:, i]))
        losses.append(li_z.xreplace(dict(zip(zeta, Wsym * H[:, i], strict=True))))
    decay = sum(sum(x**2 for x in Wk) for Wk in Ws)
    objective = sp.Add(*losses) / N + lam / 2 * decay
    return _finish(sizes, Wsym, objective, H, deltas, ghs, N)


def _explicit_mlp(
    model: LayerModel, sizes: dict[str, int], rng: random.Random, sigma: Any
) -> ExplicitLayer:
    """The whole depth-L network with layer j symbolic (module docstring, mlp)."""
    L, j = model.depth, model.layer
    d0, d, m, c, N = sizes["d0"], sizes["d"], sizes["m"], sizes["c"], sizes["n"]
    if j == 1:
        d = sizes["d"] = d0
    if j == L:  # the layer under study is the (linear) output layer
        c = sizes["c"] = m
    # widths w_0 .. w_L: input d0, layer j maps w_{j-1} = d to w_j = m, output w_L = c; the
    # other hidden layers have width 1. Why: with sigma undefined, the deltas nest L - j
    # sigmas and the expressions grow like the product of the widths after layer j (L = 5 with
    # widths 2-3 took 40 s); width 1 keeps every layer of the requested depth in the chain
    widths = [d0] + [1] * (L - 1) + [c]
    if j > 1:
        widths[j - 1] = d
    widths[j] = m
    sizes["widths"] = tuple(widths)  # type: ignore[assignment]
    X = _rand(rng, d0, N)
    Y = sp.ImmutableMatrix(c, N, lambda i, k: sp.Symbol(f"y_{i + 1}{k + 1}"))
    before = [(_rand(rng, widths[k + 1], widths[k]), _rand(rng, widths[k + 1], 1))
              for k in range(j - 1)]  # fmt: skip
    after = [_rand(rng, widths[k + 1], widths[k]) for k in range(j, L)]
    b = _rand(rng, m, 1) if model.bias else sp.zeros(m, 1)
    Wsym = _syms("w", m, d)
    ell = sp.Function("ell")

    def head(z: Any, i: int) -> sp.Expr:
        """The rest of the network and the loss: z_j -> ell(output, y_i)."""
        out = z
        for V in after:
            out = V * out.applyfunc(sigma)
        return ell(*out, *Y[:, i])

    H = X
    for U, cU in before:
        H = (U * H + cU * sp.ones(1, N)).applyfunc(sigma)
    eta = _syms("eta", d, 1)
    zeta = _syms("zeta", m, 1)
    losses, deltas, ghs = [], [], []
    for i in range(N):
        z_i = Wsym * H[:, i] + b
        deltas.append(_grad_at(head(zeta, i), zeta, z_i))
        ghs.append(_grad_at(head(Wsym * eta + b, i), eta, H[:, i]))
        losses.append(head(z_i, i))
    decay = sum(x**2 for x in Wsym) + sum(sum(x**2 for x in U) for U, _ in before)
    decay += sum(sum(x**2 for x in V) for V in after)
    objective = sp.Add(*losses) / N + lam / 2 * decay
    return _finish(sizes, Wsym, objective, H, deltas, ghs, N)


def _grad_at(expr: sp.Expr, var: sp.ImmutableMatrix, at: Any) -> sp.ImmutableMatrix:
    """Column of d expr / d var_k, then var := at (the chain rule done by scalar calculus)."""
    sub = dict(zip(var, at, strict=True))
    return sp.ImmutableMatrix([sp.diff(expr, v).subs(sub).doit() for v in var])


def _finish(sizes, Wsym, objective, H, deltas, ghs, N) -> ExplicitLayer:
    grad = Wsym.applyfunc(lambda w: sp.diff(objective, w).doit())
    return ExplicitLayer(
        sizes=sizes,
        W=Wsym,
        objective=objective,
        H=sp.ImmutableMatrix(H),
        Delta=sp.ImmutableMatrix.hstack(*deltas),
        Gh=sp.ImmutableMatrix.hstack(*ghs),
        grad=sp.ImmutableMatrix(grad),
        n=N,
    )
