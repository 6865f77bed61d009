"""The report (``factcheck report``): every claim's entry collected into HTML, Markdown and JSON.

- :mod:`verify.report.builder`: :func:`run_report` (collects the entries of every part, writes
  the files atomically);
- :mod:`verify.report.fact`: the symbolic FACT entries;
- :mod:`verify.report.labels`: roles, expected outcomes and ids, the same in every format;
- :mod:`verify.report.chapters`: the lecture order of the chapters and the names of the results;
- :mod:`verify.report.summary`: counts per result and per role, the command-line table;
- :mod:`verify.report.html` (with :mod:`verify.report.style`) and :mod:`verify.report.markdown`:
  the two documents.
"""
