"""Bottom layer: records and helpers every other part uses; imports nothing heavy at import time.

- :mod:`verify.base.records`: :class:`ReportEntry`, one row of the report;
- :mod:`verify.base.validate`: the input rules every entry point shares (seeds, digits, memory
  limit, option lists, writable output paths);
- :mod:`verify.base.files`: atomic file writing (a file, a group of files or a directory is
  written whole or not at all, with the user's umask);
- :mod:`verify.base.interrupt`: SIGTERM as an exception, signals held back while output is
  committed;
- :mod:`verify.base.npz`: reading untrusted ``.npz`` archives (sizes checked before inflating,
  never pickle);
- :mod:`verify.base.svgplot`: the toolkit's own small SVG plotter (no matplotlib needed);
- :mod:`verify.base.blas`: the BLAS thread default, set before NumPy is first imported.
"""
