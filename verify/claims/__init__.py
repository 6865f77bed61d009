"""Claims checked at a point: FACT (F1-F5) and the NFA (N1-N3), with their verdict rules.

- :mod:`verify.claims.features`: the layer quantities (NFM, AGOP, FACT, bFACT) and correlations;
- :mod:`verify.claims.checks`: the public face (:func:`check_fact`, :func:`check_nfa`,
  :func:`report_entries`), built from :mod:`~verify.claims.fact`, :mod:`~verify.claims.nfa` and
  the shared verdict rules in :mod:`~verify.claims.common`;
- :mod:`verify.claims.f2`: F2 lambdified from the SymPy statement (:func:`check_f2`);
- :mod:`verify.claims.statements`, :mod:`~verify.claims.generated` and
  :mod:`~verify.claims.identities`: every identity's SymPy statement taken from its derivation
  (F1, F2, F4, F5, D1, D4, D5/D6, K1, K2), turned into float64 or mpmath code by lambdify, and
  checked at a point with tolerances from the F2 bound and the precision
  (:func:`~verify.claims.identities.check_identity`; the property tests draw the points).
"""
