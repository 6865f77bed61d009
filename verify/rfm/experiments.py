"""RFM experiments (REFERENCE section 5): sparse parity, modular addition, small tabular sets.

Each experiment returns a result dataclass with ``to_dict()`` (a JSON summary). Settings are the
function defaults, stated in the summaries; seeds are fixed. ``report_entries`` collects the
symbolic and numerical checks (K1, K2, residual identity, fixed points) and two small runs for
``factcheck report``.

This module gathers them; each lives in its own module: :mod:`verify.rfm.parity`,
:mod:`verify.rfm.modular`, :mod:`verify.rfm.tabular` and :mod:`verify.rfm.report`.
"""

from __future__ import annotations

from verify.rfm.inputs import Progress as Progress  # re-exported (callback type)
from verify.rfm.modular import (
    ModularResult,
    circulant_structure,
    modular_addition_data,
    run_modular,
)
from verify.rfm.parity import ParityResult, run_parity, sparse_parity_data
from verify.rfm.report import SECTION as SECTION  # re-exported
from verify.rfm.report import report_entries
from verify.rfm.tabular import TABULAR_DATASETS, TabularResult, run_tabular

__all__ = [
    "ModularResult",
    "ParityResult",
    "TabularResult",
    "TABULAR_DATASETS",
    "circulant_structure",
    "modular_addition_data",
    "report_entries",
    "run_modular",
    "run_parity",
    "run_tabular",
    "sparse_parity_data",
]
