"""factcheck.verify: numerical verification (NumPy, SciPy, mpmath); may import theory."""

from verify._report_entry import ReportEntry

__all__ = ["ReportEntry"]
