"""Deep linear networks, symbolically (Tansley, Massart, Cartis, arXiv:2510.15563; D1-D6).

- :mod:`theory.deep_linear.balance`: the key identity D1, conservation and decay of the
  imbalance (D2, D3) and balancedness of weight-decayed stationary points (D4);
- :mod:`theory.deep_linear.nfa`: the telescoping of a balanced network to the NFA with exponent
  1/L (D5) and 1/(L-j+1) per layer (D6).
"""
