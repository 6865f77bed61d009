"""What a PSD-root step checks (D5, F5): W^T W is PSD, and t -> t^(1/k) inverts t -> t^k."""

from __future__ import annotations

import pytest
import sympy as sp

from theory import psd_root


def test_checks_pass_and_say_what_they_showed() -> None:
    """D5: both checks pass for symbolic sizes and a symbolic k, and name what they showed."""
    ok, what = psd_root.gram_is_psd()
    assert ok and what.startswith("PSD: x^T W^T W x = (W x)^T (W x)") and "any size" in what
    ok, what = psd_root.root_inverts_power()
    assert ok and what.startswith("(t^k)^(1/k) = t for t >= 0") and "symbolic k" in what
    assert "Thm 7.2.6" in psd_root.ROOT_THEOREM and "unique" in psd_root.ROOT_THEOREM


def test_root_check_fails_without_nonnegativity(monkeypatch: pytest.MonkeyPatch) -> None:
    """D5: for a real t of either sign (t^2)^(1/2) = |t| != t, so the scalar check is not
    vacuous: it depends on t >= 0."""
    t = sp.Symbol("t", real=True)
    assert sp.simplify((t**2) ** sp.Rational(1, 2) - t) != 0
    real_symbol = sp.Symbol

    def no_sign(name: str, **kw: object) -> sp.Symbol:
        kw.pop("nonnegative", None)
        return real_symbol(name, **kw)

    monkeypatch.setattr(psd_root.sp, "Symbol", no_sign)
    psd_root.root_inverts_power.cache_clear()
    try:
        ok, what = psd_root.root_inverts_power()
    finally:
        psd_root.root_inverts_power.cache_clear()
    assert not ok and what.startswith("FAILS")


def test_gram_check_fails_for_a_non_gram(monkeypatch: pytest.MonkeyPatch) -> None:
    """D5: the PSD check is not vacuous: the free-algebra identity fails for W W^T in place of
    W^T W, and then the check reports FAILS."""
    real = psd_root.free_algebra_zero
    monkeypatch.setattr(psd_root, "free_algebra_zero", lambda e: False)
    psd_root.gram_is_psd.cache_clear()
    try:
        ok, what = psd_root.gram_is_psd()
    finally:
        psd_root.gram_is_psd.cache_clear()
    assert not ok and what.startswith("FAILS")
    a, b = sp.symbols("a b", integer=True, positive=True)
    W, x = sp.MatrixSymbol("W", a, b), sp.MatrixSymbol("x", b, 1)
    y = sp.MatrixSymbol("y", a, 1)
    assert not real(y.T * W * W.T * y - (W * x).T * (W * x))
