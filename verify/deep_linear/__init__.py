"""Deep linear networks, numerically (D1-D7): gradient flow, balancedness and the NFA with 1/L.

- :mod:`verify.deep_linear.flow`: the public face (:func:`run_flow`, :class:`FlowResult`, ...),
  built from :mod:`~verify.deep_linear.initialization` (problems and initialisations),
  :mod:`~verify.deep_linear.dynamics` (integration and metrics) and
  :mod:`~verify.deep_linear.report` (report entries and the converged-point check);
- :mod:`verify.deep_linear.balance`: the imbalance D_j of any engine network with identity
  activation (used by ``factcheck verify`` and ``factcheck check``).
"""
