"""Bad derivations are refused before anything runs: one message naming the place and problem.

The checker reads text a person wrote, so every refusal is tested from a table, and text that
is Python code must be refused before SymPy's parser (which evaluates with ``eval``) sees it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from theory import InputError, check_derivation

# -- malformed input: one clear message naming the step and the problem ----------------------------
M = {"W": "m x d", "H": "d x n"}
MALFORMED = [
    (["W.T*W", "W.T*V"], {}, r"^step 1 must .*got 'W\.T\*V'\. Undeclared name 'V'"),
    (["W.T*W", "W*H.T"], {}, r"^step 1 must have matching shapes.*transpose missing"),
    (["W.T*W", "W + H"], {}, r"^step 1 must have matching shapes.*Shape mismatch"),
    (["W.T*W", "__import__('os').system('echo hi')"], {}, r"^step 1 .*'__import__' is a"),
    (["W.T*W", "().__class__"], {}, r"^step 1 .*'__class__' is a private or dunder name"),
    (["W.T*W", "W.T.__class__"], {}, r"^step 1 .*'__class__' is a private or dunder name"),
    (["W.T*W", "(lambda x: x)(W)"], {}, r"^step 1 .*'lambda' is Python code"),
    (["W.T*W", "W.T*W.conjugate()"], {}, r"^step 1 .*Attribute '\.conjugate' is not allowed"),
    (["W.T*W", "W(2)"], {}, r"^step 1 .*'W' cannot be called"),
    (["W.T*W", "Trace(W=W)"], {}, r"^step 1 .*Operator '=' is not allowed; an expression has no"),
    (["W.T*W", "W^T*W"], {}, r"^step 1 .*Operator '\^' is not allowed; write powers with \*\*"),
    (["W.T*W", "9**9**9*W.T*W"], {}, r"^step 1 .*exponent must be an integer up to 64"),
    (["W.T*W", "W.T*W; import os"], {}, r"^step 1 .*Operator ';' is not allowed"),
    (["W.T*W", "W.T*W + 1"], {}, r"^step 1 .*Mix of Matrix and Scalar"),
    (["W.T*W", "Trace(W.T*W)"], {}, r"^step 1 must have the same kind as the previous step"),
    (["W.T*W", "grad(W, W)"], {}, r"^step 1 must take grad\(f, W\) of a scalar f"),
    (["W.T*W", "grad(Trace(W.T*W), W.T)"], {}, r"^step 1 must take grad\(f, W\) with respect"),
    (["W.T*W", {"expr": "W.T*W", "uses": ["stat"]}], {}, r"^step 1 must cite declared hyp"),
    (["W.T*W"], {}, r"^steps must hold a start and at least one step"),
    (["W.T*W", "W.T*W"], {"hypotheses": {"h": "W = H"}}, r"^hypothesis h must have two sides"),
    (["W.T*W", "W.T*W"], {"hypotheses": {"h": "W"}}, r"^hypothesis h must be one equation"),
    (["W.T*W", "W.T*W"], {"scalars": {"W": ""}}, r"^scalar name must be declared once"),
    (["W.T*W", "W.T*W"], {"scalars": {"c": "big"}}, r"^scalar c assumptions must be among"),
    (["W.T*W", "W.T*W"], {"matrices": {"W": "m by d"}}, r"^matrix W shape must be a shape"),
    (["W.T*W", "W.T*W"], {"definitions": {"Q": "W*W"}}, r"^definition Q must have matching"),
]


@pytest.mark.parametrize(("steps", "extra", "match"), MALFORMED)
def test_malformed_derivation(steps: list, extra: dict, match: str) -> None:
    """F1: every malformed derivation raises InputError, one line naming the place and problem."""
    kwargs = {"matrices": M} | extra
    if "matrices" in extra:
        kwargs["matrices"] = extra["matrices"]
    with pytest.raises(InputError, match=match) as info:
        check_derivation(steps, **kwargs)
    assert "\n" not in str(info.value)


def test_malicious_text_never_reaches_eval(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """F1: code in an expression is refused before SymPy's parser (which uses eval) runs."""
    import theory.derivation_checker.safe_expr as safe

    def no_eval(*args: object, **kwargs: object) -> None:
        raise AssertionError("parse_expr reached")

    monkeypatch.setattr(safe, "parse_expr", no_eval)
    marker = tmp_path / "pwned"
    for text in (
        f"__import__('os').system('touch {marker}')",
        "().__class__.__bases__[0].__subclasses__()",
        "W.T.__class__",
        "(lambda: 1)()",
        "[c for c in ()]",
        "exec('1')",
    ):
        with pytest.raises(InputError):
            check_derivation(["W.T*W", text], matrices=M)
    assert not marker.exists()
