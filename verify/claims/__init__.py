"""Claims checked at a point: FACT (F1-F5) and the NFA (N1-N3), with their verdict rules.

- :mod:`verify.claims.features`: the layer quantities (NFM, AGOP, FACT, bFACT) and correlations;
- :mod:`verify.claims.checks`: the public face (:func:`check_fact`, :func:`check_nfa`,
  :func:`report_entries`), built from :mod:`~verify.claims.fact`, :mod:`~verify.claims.nfa` and
  the shared verdict rules in :mod:`~verify.claims.common`;
- :mod:`verify.claims.f2`: F2 lambdified from the SymPy statement (:func:`check_f2`).
"""
