"""Recursive Feature Machines (REFERENCE section 5): NFA-RFM and FACT-RFM, and their experiments.

- :mod:`verify.rfm.machine`: the RFM loop and the public face of the kernel machine;
- :mod:`verify.rfm.kernels`, :mod:`verify.rfm.features`, :mod:`verify.rfm.expansion`: kernels,
  AGOP and FACT of a kernel machine and the feature updates, and the K1-K3 checks;
- :mod:`verify.rfm.experiments`: the public face of the experiments (sparse parity in
  :mod:`~verify.rfm.parity`, modular addition in :mod:`~verify.rfm.modular`, tabular sets in
  :mod:`~verify.rfm.tabular`, shared input checks in :mod:`~verify.rfm.inputs`), and
  :mod:`verify.rfm.report` (report entries).

The names a user can choose on the command line are defined here, so that ``factcheck --help``
needs none of the numerical modules.
"""

__all__ = ["TABULAR_DATASETS"]

#: the small datasets bundled with scikit-learn that ``factcheck rfm tabular`` runs
TABULAR_DATASETS: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits")
