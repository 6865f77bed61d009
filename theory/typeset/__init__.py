"""Typesetting the toolkit's mathematics: LaTeX that compiles, MathML that browsers render.

- :mod:`theory.typeset.ascii_math`: the ASCII notation of REFERENCE.md, parsed; maths found
  inside prose;
- :mod:`theory.typeset.prose`: that notation (alone or inside prose) as LaTeX, MathML, Markdown;
- :mod:`theory.typeset.latex`: SymPy expressions as LaTeX with the toolkit's names
  (``\\mathrm{FACT}``), and a complete document for pdflatex;
- :mod:`theory.typeset.mathml`: SymPy expressions as MathML, and a derivation laid out for the
  HTML report.

Nothing is imported here: :mod:`theory._records` uses the LaTeX printer, and the MathML module
uses the records, so each module is imported where it is needed.
"""
