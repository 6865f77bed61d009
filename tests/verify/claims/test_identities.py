"""F1, F2, F4, F5 property-tested on drawn networks, by code generated from the SymPy statements.

Each identity is the claim of theory.derive_fact("mlp") (verify.claims.statements), lambdified
(verify.claims.generated) and checked by verify.claims.identities, whose tolerances come from the
F2 bound and the precision. Draws: verify.strategies (every activation the engine certifies,
both losses, with and without biases, depth 1-4; ReLU in the unconverged draws). Each property
also runs at 50 digits on a few drawn examples. The quality tier mutates every statement (sign
flipped, 1/n dropped, a factor transposed, exponent changed) and requires the check to fail.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.claims.identities import check_identity
from verify.claims.statements import Statement, statement
from verify.engine.network import mp_backend
from verify.strategies import (
    CERTIFIED_ACTIVATIONS,
    CONVERGED_SPACE,
    Network,
    NetworkSpec,
    converged_networks,
    networks,
    train_spec,
)

DPS = 50
#: a few examples at 50 digits (a third of the profile's count, at least 2)
FEW = settings(max_examples=max(2, settings.default.max_examples // 3))
#: small networks for the 50-digit checks (mpmath Newton and the mpmath checks stay ~0.5 s)
SMALL = CONVERGED_SPACE.with_(depths=(1, 2, 3), max_width=4, max_d=3, samples=(12, 16))


def _assert_all(checks: list) -> None:  # type: ignore[type-arg]
    bad = [str(c) for c in checks if not c.ok]
    assert not bad, "\n".join(bad)


# -- F1 -------------------------------------------------------------------------------------------
@given(converged_networks())
def test_f1_at_converged_networks(net: Network) -> None:
    """F1: W^T W = FACT in every layer, within the F2 bound plus rounding (float64)."""
    assert net.converged
    _assert_all(check_identity("F1", net.problem, net.theta))


@pytest.mark.parametrize("activation", CERTIFIED_ACTIVATIONS)
@FEW
@given(data=st.data())
def test_f1_f4_f5_for_every_activation(activation: str, data: st.DataObject) -> None:
    """F1, F4, F5: every activation the engine certifies, both losses, depth 1-4, drawn per
    activation so that none is left out by chance."""
    net = data.draw(converged_networks(activations=(activation,)))
    for tag in ("F1", "F4", "F5"):
        _assert_all(check_identity(tag, net.problem, net.theta))


@FEW
@given(converged_networks(losses=("cross_entropy",), outputs=(2, 3)))
def test_f1_f4_f5_with_cross_entropy(net: Network) -> None:
    """F1, F4, F5: with the cross-entropy loss (drawn on its own, so that the rarer loss of the
    default draws is never left out by chance)."""
    assert net.spec.loss == "cross_entropy"
    for tag in ("F1", "F4", "F5"):
        _assert_all(check_identity(tag, net.problem, net.theta))


@FEW
@given(converged_networks(SMALL))
def test_f1_at_50_digits(net: Network) -> None:
    """F1: the same statement at 50 digits, where the F2 bound is ~1e-48."""
    theta, be = net.at_digits(DPS)
    checks = check_identity("F1", net.problem, theta, be)
    _assert_all(checks)
    assert max(c.tolerance / c.scale for c in checks) < 1e-40


# -- F2 -------------------------------------------------------------------------------------------
@given(networks())
def test_f2_at_initial_parameters(net: Network) -> None:
    """F2: W^T W - FACT = W^T grad_W L_lam / lam at arbitrary parameters (ReLU included)."""
    _assert_all(check_identity("F2", net.problem, net.theta, converged=False))


@given(converged_networks())
def test_f2_at_converged_networks(net: Network) -> None:
    """F2: the identity also at certified stationary points. Both sides are tiny there, so this
    guards the left side (W^T W and the FACT term, their signs and the 1/n); the right side,
    W^T grad_W L_lam / lam, vanishes at such points and is guarded at arbitrary parameters."""
    _assert_all(check_identity("F2", net.problem, net.theta))


@FEW
@given(networks(SMALL.with_(activations=(*SMALL.activations, "relu"))))
def test_f2_at_50_digits(net: Network) -> None:
    """F2: exact at any parameters, so at 50 digits too."""
    be = mp_backend(DPS)
    _assert_all(check_identity("F2", net.problem, be.asarray(net.theta), be, converged=False))


# -- F4 -------------------------------------------------------------------------------------------
@given(networks())
def test_f4_identity_at_initial_parameters(net: Network) -> None:
    """F4: W W^T - bFACT = grad_W L_lam W^T / lam at arbitrary parameters."""
    _assert_all(check_identity("F4", net.problem, net.theta, converged=False))


@given(converged_networks())
def test_f4_at_converged_networks(net: Network) -> None:
    """F4: W W^T = bFACT at certified stationary points, within |grad||W|/lam + rounding."""
    _assert_all(check_identity("F4", net.problem, net.theta))


@FEW
@given(networks(SMALL.with_(activations=(*SMALL.activations, "relu"))))
def test_f4_identity_at_50_digits(net: Network) -> None:
    """F4: exact at any parameters, so at 50 digits too (where grad_W L_lam W^T / lam is not
    small, so the right side's sign and factors count)."""
    be = mp_backend(DPS)
    _assert_all(check_identity("F4", net.problem, be.asarray(net.theta), be, converged=False))


@FEW
@given(converged_networks(SMALL))
def test_f4_at_50_digits(net: Network) -> None:
    """F4: both forms at 50 digits, at certified stationary points."""
    theta, be = net.at_digits(DPS)
    _assert_all(check_identity("F4", net.problem, theta, be))


# -- F5 -------------------------------------------------------------------------------------------
@given(converged_networks())
def test_f5_at_converged_networks(net: Network) -> None:
    """F5: FACT = (FACT FACT^T)^(1/2) at certified stationary points (Hoelder tolerance)."""
    _assert_all(check_identity("F5", net.problem, net.theta))


@FEW
@given(converged_networks(SMALL))
def test_f5_at_50_digits(net: Network) -> None:
    """F5: the same at 50 digits, where the tolerance is ~1e-24 of |W^T W|."""
    theta, be = net.at_digits(DPS)
    checks = check_identity("F5", net.problem, theta, be)
    _assert_all(checks)
    assert max(c.tolerance / c.scale for c in checks) < 1e-20


# -- the statements come from the derivations --------------------------------------------------
def test_statements_are_the_derivation_claims() -> None:
    """F1: the statements checked are the claims of theory.derive_fact, PROVED there (with and
    without a bias)."""
    from theory import Verdict, derive_fact

    for bias in (False, True):  # with a bias the derivation states the same identities for W
        d = derive_fact("mlp", 2, 1, bias)
        assert d.verdict is Verdict.PROVED
        for tag, record in (("F1", d.f1), ("F2", d.f2), ("F4", d.f4), ("F5", d.f5)):
            st = statement(tag)
            assert (st.lhs, st.rhs) == (record.claim.lhs, record.claim.rhs)


# -- quality tier: every mutated statement fails --------------------------------------------------
@pytest.fixture(scope="module")
def converged() -> list[Network]:
    specs = [
        NetworkSpec("tanh", (4, 3), d=3, c=2, n=16, lam=1e-2, bias=True, seed=4),
        NetworkSpec("sigmoid", (4,), d=3, c=3, n=16, lam=1e-2, loss="cross_entropy", seed=2),
    ]
    nets = [train_spec(s) for s in specs]
    assert all(n.converged for n in nets)
    return nets


@pytest.fixture(scope="module")
def unconverged() -> list[Network]:
    s = NetworkSpec("softplus", (4, 3), d=3, c=2, n=12, lam=5e-2, bias=True, seed=7)
    return [Network(s, s.problem(), s.theta0())]


def _mutations(tag: str) -> list[tuple[str, Statement]]:
    st = statement(tag)
    sym = st.by_name()
    if tag == "F5":
        fact = sym["FACT"]
        return [
            ("sign flipped", st.mutated(rhs=-st.rhs, what="sign flipped")),
            ("exponent 1/2 -> 1", st.mutated(rhs=fact * fact.T, what="exponent 1")),
        ]
    n = sym["n"]
    out = [("sign flipped", st.mutated(rhs=-st.rhs, what="sign flipped")),
           ("missing 1/n", st.mutated(lhs=st.lhs.xreplace({n: 1}), rhs=st.rhs.xreplace({n: 1}),
                                      what="missing 1/n"))]  # fmt: skip
    W, H = sym["W"], sym["H"]
    if tag == "F2":
        fact_term = st.lhs - W.T * W
        out.append(("FACT sign flipped", st.mutated(lhs=W.T * W - fact_term, what="FACT sign")))
    if tag == "F4":
        delta = sym["Delta"]
        lam = sym["lambda"]
        out.append(("transposed factor", st.mutated(
            lhs=W * W.T + (1 / (lam * n)) * W * H * delta.T, what="transposed")))  # fmt: skip
    return out


@pytest.mark.parametrize("tag", ["F1", "F2", "F4", "F5"])
def test_mutated_statements_fail(tag: str, converged: list[Network],
                                 unconverged: list[Network]) -> None:  # fmt: skip
    """F1, F2, F4, F5 (quality): every mutated statement fails its check on the drawn points
    (F2 and F4 also at an unconverged point, where both of their sides are large)."""
    for what, wrong in _mutations(tag):
        failed = False
        for net in converged + unconverged:
            is_conv = net.converged
            if tag in ("F1", "F5") and not is_conv:
                continue
            checks = check_identity(tag, net.problem, net.theta, statement_=wrong,
                                    converged=is_conv)  # fmt: skip
            failed = failed or not all(c.ok for c in checks)
        assert failed, f"{tag}: the {what} statement passed: {wrong}"


def test_unmutated_statements_pass_on_the_quality_points(
    converged: list[Network], unconverged: list[Network]
) -> None:
    """F1 (quality): the same points pass with the true statements, so failures are the
    mutations' doing."""
    for net in converged + unconverged:
        for tag in ("F2", "F4") + (("F1", "F5") if net.converged else ()):
            _assert_all(check_identity(tag, net.problem, net.theta, converged=net.converged))


def test_check_rejects_unknown_tag() -> None:
    """F1: a tag without a numeric check, or FACT without weight decay, is a clear error."""
    from theory._errors import InputError

    s = NetworkSpec("tanh", (2,), d=2, n=8)
    with pytest.raises(InputError, match="tag must be one of"):
        check_identity("F9", s.problem(), s.theta0())
    no_decay = s.with_(lam=0.0)
    for tag in ("F1", "F5"):  # FACT divides by lam: a clear error, not a division by zero
        with pytest.raises(InputError, match="lam must be > 0"):
            check_identity(tag, no_decay.problem(), no_decay.theta0())


def test_generated_code_is_exact_at_50_digits() -> None:
    """F1: the generated code keeps rationals exact in mpmath (1/3 is not a float64 1/3)."""
    from verify.claims.generated import numeric

    x = sp.Symbol("x")
    be = mp_backend(DPS)
    value = numeric((x,), sp.Rational(1, 3) * x, be)({"x": be.asarray(np.float64(3.0))})
    assert abs(value - 1) < 10 ** (-DPS + 2)
