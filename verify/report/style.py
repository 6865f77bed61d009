"""The stylesheet of report.html: readable when projected, usable on a phone, no horizontal scroll.

Design rules, each there for a reason a lecturer or a reader met:

- no fixed widths: the body is at most 1100 px wide and shrinks with the window; figures scale
  with their viewBox (``max-width: 100%``);
- tables become stacked cards below 640 px (each cell labelled by its column, from
  ``data-label``), so no column is ever cut off at phone width;
- a formula wider than the page scrolls inside its own box (MathML does not break lines), never
  the page; preformatted text wraps its long lines on a wide screen (a projected line must not
  be cut at the box's edge) and scrolls in its box on a phone (where wrapping would scramble its
  columns of numbers);
- derivation steps sit on a grid: left sides right-aligned, right sides starting with "=", so the
  equals signs line up; below 640 px each right side goes under its left side;
- colours carry no meaning alone: every verdict and role is also written out.
"""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;margin:0 auto;
 max-width:1100px;padding:0 16px 48px}
h1{font-size:1.9em;margin:.8em 0 .2em}h2{font-size:1.45em;margin:1.6em 0 .4em;
 border-bottom:2px solid #ddd;padding-bottom:.15em}h3{font-size:1.1em;margin:0 0 .3em}
a{color:#0b57a4}p{margin:.4em 0}
.sub{color:#555;margin-top:0}
math{font-size:1.08em}
.scroll{overflow-x:auto;max-width:100%}
pre{background:#f6f7f8;padding:8px 10px;overflow-x:auto;font-size:13px;line-height:1.35;
 border-radius:4px;max-width:100%}
details>summary{cursor:pointer;color:#0b57a4}
table{border-collapse:collapse;width:100%;font-size:15px;margin:.5em 0}
th,td{border-bottom:1px solid #ddd;padding:5px 7px;text-align:left;vertical-align:top;
 overflow-wrap:anywhere}
th{background:#f1f3f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th.num{text-align:right}
.legend{background:#f6f7f8;border-radius:6px;padding:8px 14px;font-size:.95em}
.legend dt{font-weight:600}.legend dd{margin:0 0 .3em 1em}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:.85em;font-weight:600;
 border:1px solid currentColor;margin:1px 2px 1px 0;overflow-wrap:normal}
td.v .badge{white-space:nowrap}
.PROVED,.CERTIFIED{color:#176317}.EXACT_AT_SIZES{color:#2e6b4f}
.NUMERICALLY_CONSISTENT{color:#1f5a99}.INCONCLUSIVE{color:#8a5a00}.REFUTED{color:#a11}
.role-theorem{color:#333}.role-empirical{color:#5b3f99}.role-planted{color:#7a4a12}
.role-known-failure{color:#7a4a12}
.ok{color:#176317}.surprise{color:#a11;font-weight:600}
.entry{border:1px solid #e3e3e3;border-radius:8px;padding:12px 14px;margin:14px 0}
.meta{color:#555;font-size:.88em}
.steps{display:grid;grid-template-columns:2.2em minmax(0,max-content) minmax(0,1fr);
 column-gap:.4em;align-items:baseline;margin:.6em 0}
.steps>.n{color:#777;font-size:.9em}
.steps>.lhs{text-align:right;overflow-x:auto;max-width:100%}
.steps>.eq{overflow-x:auto;max-width:100%}
.steps>.why{grid-column:2/4;font-size:.9em;color:#444;margin:0 0 .7em}
.check{color:#666}
figure{margin:1em 0}figure svg{max-width:100%;height:auto;display:block}
nav ol{padding-left:1.4em}nav li{margin:.15em 0}
@media (min-width:641px){pre{white-space:pre-wrap;overflow-wrap:anywhere}}
@media (max-width:640px){
 body{font-size:15px;padding:0 10px 32px}
 h1{font-size:1.5em}
 table.cards thead{display:none}
 table.cards tr{display:block;border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:4px}
 table.cards td{display:block;border:0;padding:2px 6px;text-align:left}
 table.cards td.num{white-space:normal}
 table.counts td:not(:first-child){display:inline-block;padding:0 10px 2px 6px}
 table.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#555}
 .steps{grid-template-columns:1.6em minmax(0,1fr)}
 .steps>.lhs{text-align:left}
 .steps>.eq,.steps>.why{grid-column:2}
}
"""
