"""D1, D4, D5/D6 and the NFA of balanced linear networks (N2), property-tested on drawn deep
linear networks (L = 2..6, >= 2 outputs) by code generated from the SymPy statements.

Statements: D4 and D5/D6 are the claims of theory.derive_d4 and theory.derive_nfa_deep_linear;
D1 is written once on the D4 record's weight symbols (the D1 record states it in words) and
tied to the derivation's own gradients below. Tolerances: verify.claims.identities (the D4
analogue of the F2 bound, the telescoping bound of the D5 derivation, Hoelder continuity of the
1/kappa-th root, and the precision). Each property also runs at 50 digits on a few examples.
"""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.claims.features import correlation, layer_features
from verify.claims.generated import numeric
from verify.claims.identities import check_identity
from verify.claims.statements import Statement, d1_gradients, statement
from verify.engine.network import mp_backend
from verify.strategies import Network, NetworkSpec, deep_linear_networks, train_spec

DPS = 50
FEW = settings(max_examples=max(2, settings.default.max_examples // 3))


def _assert_all(checks: list) -> None:  # type: ignore[type-arg]
    bad = [str(c) for c in checks if not c.ok]
    assert not bad, "\n".join(bad)


# -- D1 -------------------------------------------------------------------------------------------
@given(deep_linear_networks(balanced=False, converged=False))
def test_d1_at_unbalanced_initial_parameters(net: Network) -> None:
    """D1: W_{j+1}^T grad_{W_{j+1}} l = grad_{W_j} l W_j^T for any weights (any loss of A)."""
    _assert_all(check_identity("D1", net.problem, net.theta))


@given(deep_linear_networks(balanced=False, converged=True))
def test_d1_at_stationary_points_without_weight_decay(net: Network) -> None:
    """D1: also at stationary points with lam = 0 (unbalanced: D4 does not apply there)."""
    assert net.problem.lam == 0 and net.converged
    _assert_all(check_identity("D1", net.problem, net.theta))


@FEW
@given(deep_linear_networks(balanced=False, converged=False, depths=(2, 3, 4)))
def test_d1_at_50_digits(net: Network) -> None:
    """D1: exact at any weights, so at 50 digits too."""
    be = mp_backend(DPS)
    _assert_all(check_identity("D1", net.problem, be.asarray(net.theta), be))


def test_d1_statement_follows_from_the_derivation() -> None:
    """D1: substituting the derivation's trusted gradients makes the statement vanish
    symbolically; a sign-flipped statement does not."""
    from theory.free_algebra import free_algebra_zero

    st, grads = statement("D1"), d1_gradients()
    assert free_algebra_zero((st.lhs - st.rhs).xreplace(grads))
    assert not free_algebra_zero((st.lhs + st.rhs).xreplace(grads))


# -- D4 -------------------------------------------------------------------------------------------
@given(deep_linear_networks(balanced=True, converged=True))
def test_d4_stationary_points_with_weight_decay_are_balanced(net: Network) -> None:
    """D4: trained from an unbalanced start with lam > 0, the certified point is balanced."""
    assert net.problem.lam > 0 and net.spec.init == "gaussian"
    _assert_all(check_identity("D4", net.problem, net.theta))


@FEW
@given(deep_linear_networks(balanced=True, converged=True, depths=(2, 3, 4)))
def test_d4_at_50_digits(net: Network) -> None:
    """D4: at 50 digits the imbalance is below ~1e-45."""
    theta, be = net.at_digits(DPS)
    checks = check_identity("D4", net.problem, theta, be)
    _assert_all(checks)
    assert max(c.defect / c.scale for c in checks) < 1e-40


# -- D5, D6 ---------------------------------------------------------------------------------------
@given(deep_linear_networks(balanced=True, converged=True))
def test_d5_d6_nfa_with_alpha_1_over_L_at_converged_networks(net: Network) -> None:
    """D5, D6: W_j^T W_j = AGOP_j^(1/(L-j+1)) in every layer of a converged deep linear net."""
    _assert_all(check_identity("D5", net.problem, net.theta))


@pytest.mark.parametrize("depth", [2, 3, 4, 5, 6])
@FEW
@given(data=st.data())
def test_d1_d4_d5_d6_for_every_depth(depth: int, data: st.DataObject) -> None:
    """D1, D4, D5, D6: every depth L = 2..6 (>= 2 outputs), drawn per depth so that none is
    left out by chance."""
    net = data.draw(deep_linear_networks(balanced=True, converged=True, depths=(depth,)))
    assert net.problem.net.depth == depth
    for tag in ("D1", "D4", "D5"):
        _assert_all(check_identity(tag, net.problem, net.theta))


@FEW
@given(deep_linear_networks(balanced=True, converged=True, depths=(2, 3, 4)))
def test_d5_d6_at_50_digits(net: Network) -> None:
    """D5, D6: at 50 digits, where the Hoelder tolerance is far below the exponent's effect."""
    theta, be = net.at_digits(DPS)
    _assert_all(check_identity("D5", net.problem, theta, be))


# -- N2 for balanced linear networks ---------------------------------------------------------------
@given(deep_linear_networks(balanced=True, converged=False))
def test_n2_balanced_linear_networks_obey_the_nfa_with_alpha_1_over_L(net: Network) -> None:
    """N2: exactly balanced weights (not trained) satisfy the NFA with alpha = 1/L (D5, D6),
    and the N3 correlations of W^T W with AGOP^(1/L) are 1 within the same tolerance."""
    checks = check_identity("D5", net.problem, net.theta)
    _assert_all(checks)
    L = net.problem.net.depth
    st = statement("D5", depth=L, layer=1)
    feat = layer_features(net.problem, net.theta)[0]
    rhs = numeric(st.symbols, st.rhs)({"W_1": feat.W, "AGOP": feat.agop})
    c = correlation(feat.nfm, rhs)
    rel = checks[0].tolerance / float(sum(feat.nfm.ravel() ** 2) ** 0.5)
    assert c.cosine >= 1 - rel and c.pearson >= 1 - 2 * rel  # cos of a relative error e: 1 - e


@FEW
@given(deep_linear_networks(balanced=True, converged=False, depths=(2, 3, 4)))
def test_n2_balanced_at_50_digits(net: Network) -> None:
    """N2: the same at 50 digits (the balance of the float64 weights is exact to ~1e-16, so
    the tolerance is the float64 imbalance through the 1/L-th root)."""
    be = mp_backend(DPS)
    _assert_all(check_identity("D5", net.problem, be.asarray(net.theta), be))


# -- quality tier --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deep() -> list[Network]:
    nets = [train_spec(NetworkSpec("identity", (3, 3, 2), d=3, c=2, n=16, lam=1e-2,
                                   inputs="anisotropic", input_param=4.0, target="linear",
                                   target_scale=3.0, init_scale=2.0, seed=s))
            for s in (1, 2)]  # fmt: skip
    assert all(n.converged for n in nets)
    return nets


def _exponent_mutation(L: int, j: int) -> Statement:
    st = statement("D5" if j == 1 else "D6", depth=L, layer=j)
    kappa = L - j + 1
    if kappa < 2:
        return st
    return st.mutated(rhs=sp.MatPow(st.rhs.args[0], sp.Rational(1, kappa - 1)),
                      what="exponent 1/(L-j+1) -> 1/(L-j)")  # fmt: skip


def _half(L: int, j: int) -> Statement:
    st = statement("D5" if j == 1 else "D6", depth=L, layer=j)
    return st.mutated(rhs=sp.MatPow(st.rhs.args[0], sp.Rational(1, 2)), what="alpha = 1/2")


@pytest.mark.parametrize("precision", ["float64", "50 digits"])
def test_mutated_statements_fail(deep: list[Network], precision: str) -> None:
    """D1, D4, D5, D6 (quality): sign-flipped D1 and D4 statements, the exponent 1/L -> 1/(L-1)
    and alpha = 1/2 for L = 4 all fail their checks on converged deep linear networks."""
    d1, d4 = statement("D1"), statement("D4")
    wn, wj = (d4.by_name()[k] for k in ("W_{j+1}", "W_j"))
    wrong = {
        "D1": [d1.mutated(rhs=-d1.rhs, what="sign flipped")],
        "D4": [d4.mutated(lhs=wn.T * wn + wj * wj.T, what="sign flipped")],
        "D5": [_exponent_mutation, _half],
    }
    for net in deep:
        theta, be = (net.theta, None) if precision == "float64" else net.at_digits(DPS, drawn=False)
        args = (net.problem, theta) if be is None else (net.problem, theta, be)
        for tag, stmts in wrong.items():
            _assert_all(check_identity(tag, *args))  # the true statements pass here
            for bad in stmts:
                checks = check_identity(tag, *args, statement_=bad)  # type: ignore[arg-type]
                assert not all(c.ok for c in checks), (tag, bad)
