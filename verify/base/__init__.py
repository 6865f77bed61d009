"""Bottom layer: records and helpers every other part uses; imports nothing heavy at import time.

- :mod:`verify.base.records`: :class:`ReportEntry`, one row of the report;
- :mod:`verify.base.files`: atomic file writing (a file is written whole or not at all);
- :mod:`verify.base.svgplot`: the toolkit's own small SVG plotter (no matplotlib needed);
- :mod:`verify.base.blas`: the BLAS thread default, set before NumPy is first imported.
"""
