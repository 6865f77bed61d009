"""The report (``factcheck report``): every claim's entry collected into HTML, Markdown and JSON.

- :mod:`verify.report.builder`: :func:`run_report` (collects the entries of every part, writes
  the files atomically);
- :mod:`verify.report.fact`: the symbolic FACT entries.
"""
