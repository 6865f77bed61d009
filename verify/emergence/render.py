"""Text table and SVG figure of an emergence result (for the CLI, the report and the README)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verify.base.svgplot import line_plot
from verify.emergence.claims import claims, summary

if TYPE_CHECKING:
    from verify.emergence.experiment import EmergenceResult

__all__ = ["figure", "to_text"]


def _pm(row: dict[str, dict[str, float]], key: str) -> str:
    if key not in row:
        return ""
    s = row[key]
    se = "" if s["se"] is None else f" +- {s['se']:.4f}"  # None for one seed
    return f"{s['mean']:.4f}{se}"


def to_text(res: EmergenceResult) -> str:
    """Settings line, a table of test errors and shares (mean +- SE), then the verdicts."""
    cfg, m, sc = res.config, res.config.model, res.config.schedule
    seeds = cfg.seed_list
    lines = [
        f"feature emergence: d={m.d} D={m.D} k={m.k} {m.labels} p_o={m.p_o} "
        f"p_aligned={m.p_aligned}; n_train={cfg.n_train} n_test={cfg.n_test}; {sc.activation} "
        f"2m={sc.width}, {sc.steps} GD steps (lr {sc.lr:g}, lam {sc.lam:g}); seeds "
        f"{seeds[0]}..{seeds[-1]} ({len(seeds)}); {res.seconds:.1f} s",
        "",
        f"{'model':44s} {'test error (mean +- SE)':24s} share of span(M_A)",
    ]
    for name, row in summary(res).items():
        share = _pm(row, "share")
        if "initial_share" in row:
            share += f" (init {_pm(row, 'initial_share')}; k/d = {m.k / m.d:.4f})"
        lines.append(f"{name:44s} {_pm(row, 'test_error'):24s} {share}")
    lines.append("")
    for c in claims(res):
        lines.append(f"[{c.tag}] {c.claim}: {c.verdict.value}")
        lines.append(f"    {c.reason}")
    return "\n".join(lines)


def figure(res: EmergenceResult) -> str:
    """Mean over seeds of the share of W^T W in span(M_A) and the test error along training."""
    seeds = res.seeds
    series = {}
    for label, pick in (("network", lambda s: s.network), ("control", lambda s: s.control)):
        runs = [pick(s) for s in seeds]
        steps = [float(c.step) for c in runs[0].checkpoints]
        if any(len(r.checkpoints) != len(steps) for r in runs):  # a diverged run stopped early
            runs = runs[:1]
        for key, name in (("share", "share of W^T W"), ("test_error", "test error")):
            values = [sum(getattr(r.checkpoints[j], key) for r in runs) / len(runs)
                      for j in range(len(steps))]  # fmt: skip
            series[f"{name} ({label})"] = (steps, values)
    k_over_d = res.config.model.k / res.config.model.d
    xs = series["share of W^T W (network)"][0]
    series["k/d"] = ([xs[0], xs[-1]], [k_over_d, k_over_d])
    return line_plot(
        series, title=f"Feature emergence, mean over {len(seeds)} seeds",
        xlabel="training step (1, 2: feature steps)", ylabel="share / error",
    )  # fmt: skip
