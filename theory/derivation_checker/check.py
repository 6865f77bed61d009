"""Check a person's own derivation step by step; name the first wrong step with a counterexample.

A derivation is a chain ``e_0 = e_1 = ... = e_K`` of SymPy expressions in declared matrices (with
symbolic shapes), scalars and undefined functions; step k claims ``e_{k-1} = e_k`` and may cite
hypotheses (``grad(L, W) = 0``, ``D_1 = 0``), which are then used for that step and no other.
Each step gets the strongest verdict its evidence supports:

PROVED          the difference reduces to zero symbolically, for all sizes: by SymPy, or in the
                free algebra of the matrix symbols and their transposes (:mod:`.rewriting`),
                using the cited hypotheses only as rewrite rules or substitutions; ``grad(f, W)``
                goes through the matrix-calculus guard (theory.matrix_calculus.gradient).
EXACT_AT_SIZES  no symbolic argument was found, but both sides agree exactly (rational
                arithmetic) on explicit instances at the listed sizes, with the cited hypotheses
                true there (theory/derivation_checker/search.py).
REFUTED         exact rational instance, cited hypotheses true, at which the sides differ: the
                smallest such instance the search finds, shown as matrices.
INCONCLUSIVE    neither (e.g. no instance satisfying the hypotheses could be built); says why.

Every step is checked by both routes: a PROVED step must also agree on the explicit instances
(if it does not, the step is INCONCLUSIVE and the disagreement is reported, never hidden). The
derivation as a whole is REFUTED if any step is (the first wrong step is named), INCONCLUSIVE if
any step is, PROVED if every step is, and EXACT_AT_SIZES otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from theory._errors import MatrixCalculusError, bad_input
from theory._records import Assumption, Claim, Derivation, Step, Verdict, _tex_text, to_jsonable
from theory.derivation_checker.rewriting import MAX_EXPANSION, expansion_size, reduces_to_zero
from theory.derivation_checker.search import Explicit, explicit_check
from theory.derivation_checker.spec import Context, DerivationSpec, Hypothesis, StepSpec
from theory.fact.context import _reduces_to_zero

__all__ = ["DerivationCheck", "check_derivation", "check_spec"]


@dataclass(frozen=True)
class DerivationCheck:
    """The checked derivation (per-step verdicts) and the counterexample at the first wrong step."""

    derivation: Derivation
    first_wrong: int | None = None
    witness: Mapping[str, Any] | None = None

    @property
    def verdict(self) -> Verdict:
        return self.derivation.verdict

    @property
    def reason(self) -> str:
        return self.derivation.reason

    @property
    def step_verdicts(self) -> tuple[Verdict, ...]:
        return tuple(s.verdict or Verdict.INCONCLUSIVE for s in self.derivation.steps)

    def to_dict(self) -> dict[str, Any]:
        out = self.derivation.to_dict()
        out["first_wrong_step"] = self.first_wrong
        out["witness"] = to_jsonable(self.witness) if self.witness is not None else None
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self) -> str:
        lines = [self.derivation.to_text()]
        w = self.witness
        if w is not None:
            lines.append(f"  counterexample for step {w['step']} (sizes {_sizes(w)}):")
            entries = list(w["values"].items()) + [
                (k, w[k]) for k in ("lhs", "rhs", "lhs - rhs") if k in w
            ]
            for name, value in entries:
                block = _matrix_lines(value)
                lines.append(f"    {name} = {block[0]}" if len(block) == 1 else f"    {name} =")
                if len(block) > 1:
                    lines += ["      " + b for b in block]
            for f, v in w.get("functions", {}).items():
                lines.append(f"    {f} = {v}")
        return "\n".join(lines)

    def to_latex(self) -> str:
        out = [self.derivation.to_latex()]
        w = self.witness
        if w is not None:
            sizes = _tex_text(_sizes(w))
            out.append(rf"\noindent{{\small counterexample for step {w['step']} ({sizes}):}}")
            entries = list(w["values"].items()) + [
                (k, w[k]) for k in ("lhs", "rhs", "lhs - rhs") if k in w
            ]
            entries += list(w.get("functions", {}).items())
            rows = [rf"  \text{{{_tex_text(k)}}} &= {sp.latex(v)} \\" for k, v in entries]
            out += [r"\begin{align*}", *rows, r"\end{align*}"]
        return "\n".join(out)


def _matrix_lines(value: Any) -> list[str]:
    """A matrix as aligned rows ``[ 1  -1/2]``; a scalar as one line."""
    if not isinstance(value, sp.MatrixBase):
        return [sp.sstr(value)]
    cells = [[sp.sstr(x) for x in value.row(i)] for i in range(value.rows)]
    widths = [max(len(r[j]) for r in cells) for j in range(value.cols)]
    return [
        "[" + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + "]" for r in cells
    ]


def _sizes(w: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in w["sizes"].items()) or "none"


# -- one step -------------------------------------------------------------------------------------
def _zero(diff: Any, relations: Sequence[Any] = ()) -> bool:
    if expansion_size(diff) > MAX_EXPANSION:  # SymPy's expand would not finish either
        return False
    return (not relations and _reduces_to_zero(diff)) or reduces_to_zero(diff, relations)


def _single(ctx: Context, e: Any) -> bool:
    return (
        e in ctx.matrices.values() or e in ctx.scalars.values() or e in ctx.grads or e in ctx.defs
    )


def _symbolic(ctx: Context, a: Any, b: Any, hyps: Sequence[Hypothesis]) -> tuple[bool, str]:
    """Try to prove ``a = b`` for all sizes, using exactly the hypotheses ``hyps``."""
    if getattr(a, "is_Matrix", False) and a.shape != b.shape:
        return False, f"the sides have different shapes ({a.shape} and {b.shape})"
    try:
        diff = ctx.symbolic(a) - ctx.symbolic(b)
        if _zero(diff):
            extra = " (the cited hypotheses are not needed)" if hyps else ""
            return True, "the difference reduces to 0 for all sizes" + extra
        if not hyps:
            return False, "the difference does not reduce to 0 symbolically"
        cites = ", ".join(f"({h.label})" for h in hyps)
        subs = {}
        for h in hyps:
            if _single(ctx, h.lhs):
                subs[h.lhs] = h.rhs
            elif _single(ctx, h.rhs):
                subs[h.rhs] = h.lhs
        a2, b2 = a.xreplace(subs), b.xreplace(subs)
        changed = (a2, b2) != (a, b)
        diff2 = ctx.symbolic(a2) - ctx.symbolic(b2) if changed else diff
        if changed and _zero(diff2):
            return True, f"the difference reduces to 0 for all sizes after substituting {cites}"
        relations = [ctx.symbolic(h.lhs) - ctx.symbolic(h.rhs) for h in hyps]
        if changed and _zero(diff2, relations):
            return True, (f"the difference reduces to 0 for all sizes after substituting "
                          f"and rewriting with {cites}")  # fmt: skip
        if _zero(diff, relations):
            return True, f"the difference reduces to 0 for all sizes, rewriting with {cites}"
        return False, f"the difference does not reduce to 0 symbolically, even with {cites}"
    except MatrixCalculusError as exc:
        first = str(exc).splitlines()[0]
        return False, f"no trusted symbolic gradient ({first})"
    except Exception as exc:  # SymPy gave up on this expression: not a proof, not a refutation
        return False, f"the symbolic route failed ({type(exc).__name__}: {exc})"


def _check_step(ctx: Context, k: int) -> tuple[Step, Explicit]:
    prev, cur = ctx.steps[k - 1], ctx.steps[k]
    hyps = [ctx.hypotheses[u] for u in cur.spec.uses]
    a, b = prev.expr, cur.expr
    sym_ok, sym_text = _symbolic(ctx, a, b, hyps)
    exp = explicit_check(ctx, k, a, b, hyps)
    if exp.status == "differ" and sym_ok:
        verdict = Verdict.INCONCLUSIVE
        text = (
            f"the symbolic route says equal ({sym_text}) but an exact instance disagrees "
            f"({exp.text}); the two routes disagree, so neither is trusted: please report"
        )
    elif exp.status == "differ":
        verdict, text = Verdict.REFUTED, f"{exp.text}; symbolically: {sym_text}"
        hint = _hint(ctx, a, b, hyps)
        if hint:
            text += f"; {hint}"
    elif sym_ok:
        verdict = Verdict.PROVED
        text = f"{sym_text}; " + (exp.text if exp.status == "agree" else f"cross-check: {exp.text}")
    elif exp.status == "agree":
        verdict, text = Verdict.EXACT_AT_SIZES, f"{exp.text}; not for all sizes: {sym_text}"
    else:
        verdict, text = Verdict.INCONCLUSIVE, f"{sym_text}; {exp.text}"
    why = cur.spec.why or "(no justification given)"
    if hyps:
        why += " [uses " + ", ".join(h.label for h in hyps) + "]"
    step = Step(a, b, why, verdict.supports, f"{cur.where}: {text}", verdict)
    return step, exp


def _hint(ctx: Context, a: Any, b: Any, hyps: Sequence[Hypothesis]) -> str:
    """If the step follows from declared hypotheses it does not cite, say which."""
    others = [h for h in ctx.hypotheses.values() if h not in hyps]
    for h in others:
        if _symbolic(ctx, a, b, [*hyps, h])[0]:
            return f"it does follow from hypothesis ({h.label}): cite it in uses"
    return ""


# -- the whole derivation -------------------------------------------------------------------------
def check_spec(spec: DerivationSpec) -> DerivationCheck:
    """Parse and check a derivation (raises :class:`theory.InputError` if it is malformed)."""
    ctx = Context(spec)
    results = [_check_step(ctx, k) for k in range(1, len(ctx.steps))]
    steps = tuple(s for s, _ in results)
    verdicts = [s.verdict for s in steps]
    refuted = [k for k, v in enumerate(verdicts, 1) if v is Verdict.REFUTED]
    undecided = [k for k, v in enumerate(verdicts, 1) if v is Verdict.INCONCLUSIVE]
    exact = [k for k, v in enumerate(verdicts, 1) if v is Verdict.EXACT_AT_SIZES]
    first, witness = None, None
    if refuted:
        first = refuted[0]
        witness = results[first - 1][1].witness
        verdict = Verdict.REFUTED
        reason = f"step {first} is the first wrong step: {results[first - 1][1].text}"
        if len(refuted) > 1:
            later = ", ".join(map(str, refuted[1:]))
            reason += f"; step{'s' if len(refuted) > 2 else ''} {later} REFUTED as well"
    elif undecided:
        verdict = Verdict.INCONCLUSIVE
        reason = f"step(s) {', '.join(map(str, undecided))} could not be decided; see their check"
    elif exact:
        verdict = Verdict.EXACT_AT_SIZES
        reason = (f"step(s) {', '.join(map(str, exact))} hold exactly at the listed sizes only "
                  "(no symbolic argument for all sizes); every other step is PROVED")  # fmt: skip
    else:
        verdict = Verdict.PROVED
        reason = ("every step reduces to zero symbolically for all sizes, using hypotheses only "
                  "where cited, and holds exactly on explicit instances")  # fmt: skip
    claim = Claim(
        spec.title, spec.tag or "user", ctx.steps[0].expr, ctx.steps[-1].expr,
        tuple(Assumption(h.label, h.text) for h in ctx.hypotheses.values()), None,
        _symbols(ctx),
    )  # fmt: skip
    return DerivationCheck(Derivation(claim, steps, verdict, reason), first, witness)


def _symbols(ctx: Context) -> dict[str, str]:
    about = ctx.spec.about
    out = {}
    for name, M in ctx.matrices.items():
        out[name] = f"{M.rows} x {M.cols} matrix" + (f": {about[name]}" if name in about else "")
    for name in ctx.scalars:
        kinds = list(ctx.spec.scalars[name]) or ["real"]
        out[name] = f"scalar, {', '.join(kinds)}" + (f": {about[name]}" if name in about else "")
    for name in ctx.functions:
        out[name] = "undefined function (elementwise on matrices)"
    for name, text in ctx.spec.definitions.items():
        out[name] = f":= {text}"
    return out


def check_derivation(
    steps: Sequence[str | Mapping[str, Any]],
    *,
    matrices: Mapping[str, Any] | None = None,
    scalars: Mapping[str, Any] | None = None,
    functions: Sequence[str] | Mapping[str, str] = (),
    definitions: Mapping[str, str] | None = None,
    hypotheses: Mapping[str, str] | None = None,
    title: str = "a derivation",
    tag: str = "",
) -> DerivationCheck:
    """Check a chain of equal expressions, each step against the previous one.

    ``steps``: the start, then each step as a string, or a mapping with ``expr``, optional
    ``why`` and ``uses`` (labels of hypotheses the step relies on). ``matrices``: name -> shape
    ("m x d" or a pair). ``scalars``: name -> assumption or list of assumptions ("positive").
    ``functions``: undefined functions (applied elementwise to matrices). ``definitions``:
    name -> expression. ``hypotheses``: label -> "lhs = rhs". Example (F1)::

        check_derivation(
            ["W.T*W", {"expr": "W.T*W - W.T*grad(L, W)/lam", "uses": ["stat"]}, ...],
            matrices={"W": "d x d", "H": "d x n", "Delta": "d x n"}, scalars={"lam": "positive"},
            definitions={"L": "Trace(Delta.T*W*H)/n + lam/2*Trace(W.T*W)"},
            hypotheses={"stat": "grad(L, W) = 0"},
        )
    """
    parsed = []
    for k, st in enumerate(steps):
        if isinstance(st, str):
            parsed.append(StepSpec(st))
        elif isinstance(st, Mapping) and set(st) <= {"expr", "why", "uses"} and "expr" in st:
            uses = st.get("uses", ())
            parsed.append(StepSpec(st["expr"], str(st.get("why", "")),
                                   (uses,) if isinstance(uses, str) else tuple(uses)))  # fmt: skip
        else:
            raise bad_input(
                f"step {k}", "be a string or a mapping with keys expr, why, uses", st,
                "Write e.g. {'expr': 'W.T*W', 'why': 'definition'}.",
            )  # fmt: skip
    scalar_specs = {
        name: ((a,) if a else ()) if isinstance(a, str) else tuple(a)
        for name, a in (scalars or {}).items()
    }
    spec = DerivationSpec(
        steps=tuple(parsed), matrices=dict(matrices or {}), scalars=scalar_specs,
        functions=dict.fromkeys(functions, "") if not isinstance(functions, Mapping)
        else dict(functions),
        definitions=dict(definitions or {}), hypotheses=dict(hypotheses or {}),
        title=title, tag=tag,
    )  # fmt: skip
    return check_spec(spec)
