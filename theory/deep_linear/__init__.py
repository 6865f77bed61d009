"""Deep linear networks, symbolically (Tansley, Massart, Cartis, arXiv:2510.15563; D1-D6).

- :mod:`theory.deep_linear.balance`: the key identity D1 and balancedness of weight-decayed
  stationary points (D4); :mod:`theory.deep_linear.flow`: conservation and decay of the
  imbalance under gradient flow (D2, D3);
- :mod:`theory.deep_linear.nfa`: the telescoping of a balanced network to the NFA with exponent
  1/L (D5) and 1/(L-j+1) per layer (D6), for a concrete depth;
- :mod:`theory.deep_linear.optimality`: the same NFA derived from first-order optimality in one
  derivation (stationarity => D_j = 0 => telescoping => AGOP^(1/L));
- :mod:`theory.deep_linear.induction`: the lemma and the telescoping for a symbolic depth and
  exponent, by induction with every rewrite checked.
"""
