"""The ``factcheck`` command-line tool: one module per subcommand, the entry point in ``main``.

The entry point is :func:`verify.cli.main.main` (the ``factcheck`` script); importing
:mod:`verify.cli.main` sets the BLAS thread default (see :mod:`verify.base.blas`) and nothing
heavy: each subcommand imports NumPy, SymPy and the toolkit inside its run function, so
``factcheck --help`` starts fast. :mod:`verify.cli.pytest_plugin` is the other entry point for
people: the pytest fixture ``claim_check`` for course exercises.
"""
