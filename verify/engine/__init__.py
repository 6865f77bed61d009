"""The engine: networks, exact backpropagation, training to certified stationary points.

- :mod:`verify.engine.network`: the public face of the network (:class:`MLP`, :class:`Problem`,
  :func:`backprop`, :func:`gradient`, :func:`input_jacobians`, the float64 and mpmath backends);
  built from :mod:`~verify.engine.backends` (the mpmath one in :mod:`~verify.engine.mpbackend`,
  imported on first use), :mod:`~verify.engine.activations`, :mod:`~verify.engine.problem` and
  :mod:`~verify.engine.backprop`;
- :mod:`verify.engine.train`: L-BFGS, Newton, the stationarity certificate and the high-precision
  refinement (:func:`train`, :func:`refine_mp`), built from :mod:`~verify.engine.result`,
  :mod:`~verify.engine.hessian` and :mod:`~verify.engine.newton_mp`;
- :mod:`verify.engine.pieces` and :mod:`verify.engine.kink`: ReLU points inside a smooth piece,
  and points on a kink certified as Clarke-type stationary points (the slopes at the pinned
  pre-activations carried by the result's problem);
- :mod:`verify.engine.linalg`: the one PSD matrix power (float64 and mpmath);
- :mod:`verify.engine.runfile`: the run-file format (``.npz``, no pickle).
"""
