"""The identities as SymPy statements ready for numeric code, taken from the derivations.

A :class:`Statement` is ``lhs = rhs`` over named matrix and scalar symbols, with the tag it
states and where it comes from. :func:`statement` returns, for each tag:

- F1, F2, F4, F5: the claim of the derivation record itself, ``theory.derive_fact("mlp")``
  (for a layer of an MLP with an arbitrary activation and loss, so for every layer of every
  network the engine trains); symbols W, H (d x n, columns h_i), G_h (columns grad_h l_i),
  Delta (columns delta_i), ``grad_W L_lambda``, FACT, n, lambda;
- D4: the claim of ``theory.derive_d4()`` (D_j = W_{j+1}^T W_{j+1} - W_j W_j^T = 0);
- D5, D6: the claim of ``theory.derive_nfa_deep_linear(L, j)`` (W_j^T W_j = AGOP_j^(1/(L-j+1)));
- D1: the record states D1 in words, so the statement is written here once,
  W_{j+1}^T S_{j+1} = S_j W_j^T with S_k the gradient of the loss w.r.t. W_k, on the record's
  own weight symbols; :func:`d1_gradients` gives the derivation's trusted gradients, and
  substituting them must reduce the statement to 0 (a test checks it);
- K1, K2: the records fix n = 3 and state S_tau, S_k' in their symbol tables, so the outer
  product is taken from the claim (``M S_tau M``; ``(r/(n lam)) M S_k'`` with n symbolic, which
  a test compares with the claim at n = 3) and S_tau = X^T ((A A^T) o (K'^T K' / n)) X,
  S_k' = X^T ((A A^T) o K') X are written from the tables (K'_ij = k'(x_i^T M x_j), X with the
  centres as rows, A the KRR coefficients, o the entrywise product).

:meth:`Statement.mutated` builds deliberately wrong variants (quality tier: every property test
must fail on them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import sympy as sp

from theory._errors import bad_input

__all__ = ["TAGS", "Statement", "d1_gradients", "k2_claim_template", "statement"]

TAGS = ("F1", "F2", "F4", "F5", "D1", "D4", "D5", "D6", "K1", "K2")


@dataclass(frozen=True)
class Statement:
    """``lhs = rhs`` (SymPy), the equation tag and the source of the statement."""

    tag: str
    lhs: Any
    rhs: Any
    source: str

    @property
    def symbols(self) -> tuple[sp.Basic, ...]:
        """Every free symbol (matrix or scalar), sorted by name: the numeric code's arguments."""
        return tuple(sorted(_free(self.lhs) | _free(self.rhs), key=lambda s: str(s)))

    def by_name(self) -> dict[str, sp.Basic]:
        return {str(s): s for s in self.symbols}

    def mutated(self, lhs: Any = None, rhs: Any = None, what: str = "mutated") -> Statement:
        """A deliberately changed copy (its source says so)."""
        return replace(
            self, lhs=self.lhs if lhs is None else lhs, rhs=self.rhs if rhs is None else rhs,
            source=f"{what} [{self.source}]",
        )  # fmt: skip

    def __str__(self) -> str:
        return f"[{self.tag}] {self.lhs} = {self.rhs}  ({self.source})"


def _free(expr: Any) -> set[sp.Basic]:
    """The symbols the numeric code needs: matrix symbols (not their shape symbols), scalar
    symbols, nothing from a zero matrix of symbolic size (it prints as 0)."""
    if isinstance(expr, sp.MatrixSymbol):
        return {expr}
    if isinstance(expr, (sp.ZeroMatrix, sp.Identity)):
        return set()
    if isinstance(expr, sp.Symbol):
        return {expr}
    out: set[sp.Basic] = set()
    for arg in getattr(expr, "args", ()):
        out |= _free(arg)
    return out


@cache
def _fact(bias: bool) -> Any:
    from theory import derive_fact

    return derive_fact("mlp", 2, 1, bias)


@cache
def _deep_linear(depth: int, layer: int) -> Statement:
    from theory import derive_nfa_deep_linear

    d = derive_nfa_deep_linear(depth, layer)
    return Statement(d.claim.tag, d.claim.lhs, d.claim.rhs,
                     f"theory.derive_nfa_deep_linear({depth}, {layer}).claim")  # fmt: skip


@cache
def _d4() -> Statement:
    from theory import derive_d4

    c = derive_d4().claim
    return Statement("D4", c.lhs, c.rhs, "theory.derive_d4().claim")


def _d4_weights() -> tuple[sp.MatrixSymbol, sp.MatrixSymbol]:
    """(W_{j+1}, W_j), the weight symbols of the D4 record."""
    syms = {str(s): s for s in _d4().lhs.free_symbols}
    return syms["W_{j+1}"], syms["W_j"]


@cache
def _d1() -> Statement:
    wn, wj = _d4_weights()
    sn = sp.MatrixSymbol("grad_{W_{j+1}} l", *wn.shape)
    sj = sp.MatrixSymbol("grad_{W_j} l", *wj.shape)
    return Statement("D1", wn.T * sn, sj * wj.T,
                     "D1 of theory.derive_d1() (stated there in words), written on the weight "
                     "symbols of theory.derive_d4().claim")  # fmt: skip


def d1_gradients() -> dict[sp.MatrixSymbol, Any]:
    """The D1 derivation's trusted gradients of l(A) w.r.t. W_{j+1} and W_j (steps 2 and 3),
    keyed by the gradient symbols of :func:`statement` ("D1")."""
    from theory import derive_d1

    steps = derive_d1().steps
    syms = _d1().by_name()
    return {syms["grad_{W_{j+1}} l"]: steps[1].rhs, syms["grad_{W_j} l"]: steps[2].rhs}


_n = sp.Symbol("n", positive=True, integer=True)
_d = sp.Symbol("d", positive=True, integer=True)
_c = sp.Symbol("c", positive=True, integer=True)


@cache
def _kernel_symbols() -> dict[str, Any]:
    from theory import derive_agop_expansion, derive_fact_expansion

    k1, k2 = derive_agop_expansion().claim, derive_fact_expansion().claim
    old = {str(s): s for s in k1.rhs.free_symbols | k2.rhs.free_symbols}
    X = sp.MatrixSymbol("X", _n, _d)
    A = sp.MatrixSymbol("A", _n, _c)
    Kp = sp.MatrixSymbol("Kp", _n, _n)
    M = sp.MatrixSymbol("M", _d, _d)
    S_tau = X.T * sp.HadamardProduct(A * A.T, Kp.T * Kp / _n) * X
    S_kp = X.T * sp.HadamardProduct(A * A.T, Kp) * X
    return {
        "k1": k1, "k2": k2, "old": old, "M": M, "S_tau": S_tau, "S_kp": S_kp,
        "AGOP": sp.MatrixSymbol("AGOP", _d, _d), "FACT": sp.MatrixSymbol("FACT", _d, _d),
    }  # fmt: skip


def k2_claim_template() -> tuple[Any, dict[str, Any]]:
    """``(r/(n lam)) M S_k'`` with S_k' still a symbol, and the substitution that turns it into
    the K2 record's right side (n = 3 and the record's own 2 x 2 symbols)."""
    k = _kernel_symbols()
    old = k["old"]
    s_kp = sp.MatrixSymbol("S_k'", _d, _d)
    template = old["r"] / (_n * old["lam"]) * k["M"] * s_kp
    return template, {"n": _n, "S_k'": s_kp, "M": k["M"], "claim": k["k2"].rhs,
                      "old_M": old["M"], "old_S": old["S_k'"]}  # fmt: skip


def _kernel(tag: str) -> Statement:
    k = _kernel_symbols()
    old = k["old"]
    if tag == "K1":
        rhs = k["k1"].rhs.xreplace({old["M"]: k["M"], old["S_tau"]: k["S_tau"]})
        return Statement("K1", k["AGOP"], rhs, "theory.derive_agop_expansion().claim with S_tau "
                         "from its symbol table")  # fmt: skip
    template, sub = k2_claim_template()
    return Statement("K2", k["FACT"], template.xreplace({sub["S_k'"]: k["S_kp"]}),
                     "theory.derive_fact_expansion().claim with n symbolic and S_k' from its "
                     "symbol table")  # fmt: skip


def statement(tag: str, *, depth: int = 2, layer: int = 1) -> Statement:
    """The statement of ``tag`` (module docstring); ``depth``, ``layer`` for D5/D6.

    F1-F5 come from the derivation without a bias: with a bias (z = W h + b) the derivation
    states the same identities for W (a test compares the two records)."""
    if tag in ("F1", "F2", "F4", "F5"):
        c = getattr(_fact(False), tag.lower()).claim
        return Statement(tag, c.lhs, c.rhs, f"theory.derive_fact('mlp').{tag.lower()}.claim")
    if tag in ("D5", "D6"):
        return _deep_linear(int(depth), int(layer))
    if tag == "D4":
        return _d4()
    if tag == "D1":
        return _d1()
    if tag in ("K1", "K2"):
        return _kernel(tag)
    raise bad_input("tag", f"be one of {list(TAGS)}", tag, "Pick a listed tag.")
