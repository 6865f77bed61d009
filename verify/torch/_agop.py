"""The AGOP of every checked layer w.r.t. its input (N1), by torch.func.jacrev, in chunks.

For layer l with weight W (out x in) and output z = W u + b at each position p of sample i, the
Jacobian of the model output f (c outputs, flattened) w.r.t. the layer's input patch is
J_ip = G_ip W, with G_ip = d f(x_i) / d z_ip (c x out), by the chain rule. So

    AGOP_l = (1/n) sum_i sum_p J_ip^T J_ip = W^T M_l W / n,   M_l = sum_{i,p} G_ip^T G_ip,

summed over the c outputs (N1). For a Linear on flat inputs this is exactly the AGOP w.r.t. the
layer's input h; for a convolution (or a Linear applied at every token) it is the AGOP w.r.t. the
patch, summed over positions (the convolutional AGOP). G is obtained by adding a zero probe e to
z in a forward hook and taking ``jacrev`` of sum_i f(x_i) w.r.t. e: since samples do not
interact (eval mode), row i of that Jacobian is d f(x_i) / d z_i. ``jacrev`` vmaps the backward
pass over the c outputs; the samples go through in chunks sized so that the Jacobians and the
activations of one chunk stay within ``max_bytes``.
"""

from __future__ import annotations

import torch
from torch.func import jacrev

from verify.torch._objective import Capture, Objective

__all__ = ["agops", "chunk_size"]

#: default memory budget of one chunk of the AGOP computation (bytes)
MAX_BYTES = 1 << 28


def chunk_size(obj: Objective, cap: Capture, n_outputs: int, max_bytes: int) -> int:
    """Samples per chunk so that one chunk's Jacobians and activations fit in ``max_bytes``.

    Why this estimate: ``jacrev`` keeps, per sample and per output, the probes' Jacobians (the
    layer outputs) and the vmapped backward's intermediates (the layer inputs and outputs); the
    factor 4 covers the forward activations between the checked layers and the transform's
    temporary copies.
    """
    per_sample = sum(h[0].numel() + dz[0].numel() for calls in cap.calls for h, dz in calls)
    per_sample += obj.X[0].numel()
    item = torch.finfo(obj.dtype).bits // 8
    return max(1, min(obj.n, max_bytes // max(1, 4 * item * n_outputs * per_sample)))


def agops(obj: Objective, theta: torch.Tensor, cap: Capture,
          max_bytes: int = MAX_BYTES) -> list[torch.Tensor]:  # fmt: skip
    """AGOP_l (in x in) for every layer of ``obj`` at ``theta`` (module docstring)."""
    theta = theta.detach()
    with torch.no_grad():
        c = obj.output(theta, obj.X[:1]).numel()
    step = chunk_size(obj, cap, c, max_bytes)
    out_shapes = [calls[0][1].shape[1:] for calls in cap.calls]
    M = [torch.zeros(x.shape[0], x.shape[0], device=obj.device, dtype=obj.dtype)
         for x in obj.layers]  # fmt: skip
    for i in range(0, obj.n, step):
        Xc = obj.X[i : i + step]
        m = Xc.shape[0]

        def summed_output(probes: tuple[torch.Tensor, ...], Xc: torch.Tensor = Xc) -> torch.Tensor:
            f = obj.probed_output(theta, Xc, probes)
            return f.reshape(f.shape[0], -1).sum(0)

        zeros = tuple(torch.zeros(m, *s, device=obj.device, dtype=obj.dtype) for s in out_shapes)
        jac = jacrev(summed_output)(zeros)  # per layer: (c, m, *out_shape)
        for j, (x, G) in enumerate(zip(obj.layers, jac, strict=True)):
            rows = x.out_rows(G.reshape(c * m, *G.shape[2:]))  # (c * m * positions, out)
            M[j] += rows.T @ rows
    return [obj.weight(theta, j).T @ Mj @ obj.weight(theta, j) / obj.n for j, Mj in enumerate(M)]
