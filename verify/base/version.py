"""The toolkit's version, in one place (read by pyproject.toml and ``factcheck --version``)."""

__version__ = "0.2.0"
