"""What a user can name on the command line (activations, architectures, depth), without SymPy.

The command-line parsers build their help from these, so ``factcheck --help`` never loads SymPy.
"""

from __future__ import annotations

__all__ = ["ACTIVATIONS", "ARCHITECTURES", "MAX_DEPTH"]

#: activations the FACT derivation can substitute (sigma = an arbitrary symbolic function)
ACTIVATIONS = ("sigma", "identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "quadratic")
#: architectures of ``derive fact``
ARCHITECTURES = ("linear", "deep-linear", "mlp")
#: the deepest network a derivation writes out layer by layer (general L: the induction)
MAX_DEPTH = 8
