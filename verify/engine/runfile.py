"""Run files: a trained network and its problem, in a self-describing NumPy ``.npz``.

Run-file convention (``format = "factcheck-run/1"``)
----------------------------------------------------

A run file is a NumPy ``.npz`` archive with no pickled content: every entry loads with
``np.load(path, allow_pickle=False)``. It holds everything needed to recompute the objective,
its gradient and FACT without the toolkit.

| key            | shape      | dtype   | meaning                                                |
|----------------|------------|---------|--------------------------------------------------------|
| `format`       | ()         | str     | `"factcheck-run/1"`                                    |
| `X`            | (n, d)     | float64 | inputs, one sample per row                             |
| `Y`            | (n, c)     | float64 | targets (one-hot or probability rows for cross_entropy)|
| `lam`          | ()         | float64 | weight decay lam                                       |
| `loss`         | ()         | str     | `"mse"` or `"cross_entropy"`                           |
| `activation`   | ()         | str     | identity, relu, tanh, sigmoid, softplus, gelu, quadratic |
| `depth`        | ()         | int64   | L, the number of weight matrices                       |
| `bias`         | ()         | bool    | whether layers have biases                             |
| `decay_bias`   | ()         | bool    | whether the biases are in the weight decay             |
| `W1` ... `WL`  | (out, in)  | float64 | weights; W1 is (m_1, d), WL is (c, m_{L-1})            |
| `b1` ... `bL`  | (out,)     | float64 | biases, present exactly when `bias` is true            |

Optional, informational only (never needed to recompute): `seed` (int64), `status` (str),
`grad_norm` (float64).

Network: h_1 = X; z_l = h_l @ W_l.T + b_l; h_{l+1} = sigma(z_l) for l < L; f = z_L (the last
layer is linear). gelu is the exact form z * Phi(z), quadratic is z^2.

Loss: mse: l_i = 0.5 * ||f(x_i) - y_i||^2; cross_entropy: l_i = -sum_k y_ik log softmax(f(x_i))_k.

Objective: L_lam = (1/n) sum_i l_i + (lam/2) sum_l ||W_l||_F^2, plus (lam/2) sum_l ||b_l||^2 only
when `decay_bias` is true.

FACT (F1) for layer l: FACT_l = -(1/(n lam)) sum_i (dl_i/dh_l)(x_i) h_l(x_i)^T, where
dl_i/dh_l = W_l^T dl_i/dz_l; at a stationary point W_l^T W_l = FACT_l.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import InputError, bad_input
from verify.base.files import save_npz_atomic
from verify.engine.network import ACTIVATIONS, LOSSES, MLP, Problem

__all__ = ["FORMAT", "RunFile", "load_run", "save_run"]

FORMAT = "factcheck-run/1"
_REQUIRED = ("format", "X", "Y", "lam", "loss", "activation", "depth", "bias", "decay_bias")
_OPTIONAL = ("seed", "status", "grad_norm")


@dataclass
class RunFile:
    """A loaded run: the validated problem, the flat parameters and the informational entries."""

    problem: Problem
    theta: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def save_run(
    path: str | os.PathLike[str],
    problem: Problem,
    theta: np.ndarray,
    info: dict[str, Any] | None = None,
) -> None:
    """Write the run file atomically (``verify._io.save_npz_atomic``; no pickle)."""
    net = problem.net
    params = net.unflatten(np.asarray(theta, dtype=np.float64))
    arrays: dict[str, Any] = {
        "format": np.array(FORMAT),
        "X": problem.X,
        "Y": problem.Y,
        "lam": np.float64(problem.lam),
        "loss": np.array(problem.loss),
        "activation": np.array(net.activation),
        "depth": np.int64(net.depth),
        "bias": np.bool_(net.bias),
        "decay_bias": np.bool_(problem.decay_bias),
    }
    for layer, (w, b) in enumerate(params, 1):
        arrays[f"W{layer}"] = np.ascontiguousarray(w)
        if b is not None:
            arrays[f"b{layer}"] = np.ascontiguousarray(b)
    for key, value in (info or {}).items():
        if key not in _OPTIONAL:
            raise bad_input("info", f"use only the keys {list(_OPTIONAL)}", key, "Drop it.")
        arrays[key] = np.asarray(value)
    save_npz_atomic(path, arrays)


def _fail(key: str, rule: str, got: Any, fix: str) -> InputError:
    return bad_input(f"run file key {key!r}", rule, got, fix)


def load_run(path: str | os.PathLike[str]) -> RunFile:
    """Read and validate a run file (format tag, keys, dtypes, shapes, finiteness, no pickle)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise bad_input("run file", "exist", str(path), "Check the path.") from None
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise bad_input(
            "run file", "be a NumPy .npz archive", str(path), f"Re-save it ({exc})."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise bad_input(
            "run file", "be a .npz archive (not a single .npy array)", str(path),
            "Save with factcheck verify --save or numpy.savez.",
        )  # fmt: skip
    with archive:
        data = {}
        for key in archive.files:
            try:
                data[key] = archive[key]
            except ValueError:  # object arrays need pickle, which is refused
                raise _fail(
                    key, "hold plain numbers or strings (no pickled objects)", "an object array",
                    "Re-save with numeric arrays (np.float64) and plain strings.",
                ) from None  # fmt: skip
    return _validate(data, str(path))


def _scalar(data: dict[str, np.ndarray], key: str, kind: str) -> Any:
    arr = data[key]
    if arr.shape != () or arr.dtype.kind not in kind:
        raise _fail(key, f"be a scalar of kind {kind!r}", f"{arr.dtype} {arr.shape}", "Re-save.")
    return arr.item()


def _validate(data: dict[str, np.ndarray], where: str) -> RunFile:
    for key in _REQUIRED:
        if key not in data:
            raise _fail(key, "be present", f"keys {sorted(data)}", f"Re-save {where} in format "
                        f"{FORMAT} (see verify/engine/runfile.py).")  # fmt: skip
    tag = _scalar(data, "format", "U")
    if tag != FORMAT:
        raise _fail("format", f"equal {FORMAT!r}", tag, "This is not a factcheck run file.")
    loss, act = _scalar(data, "loss", "U"), _scalar(data, "activation", "U")
    if loss not in LOSSES:
        raise _fail("loss", f"be one of {list(LOSSES)}", loss, "Fix the loss name.")
    if act not in ACTIVATIONS:
        raise _fail("activation", f"be one of {sorted(ACTIVATIONS)}", act, "Fix the name.")
    depth = _scalar(data, "depth", "iu")
    bias, decay_bias = _scalar(data, "bias", "b"), _scalar(data, "decay_bias", "b")
    lam = _scalar(data, "lam", "f")
    if not np.isfinite(lam):
        raise _fail("lam", "be finite", lam, "Store the weight decay used in training.")
    if depth < 1:
        raise _fail("depth", "be >= 1", depth, "Store the number of weight matrices.")
    arrays = {}
    for key in ["X", "Y"] + [f"{p}{i}" for i in range(1, depth + 1) for p in "Wb"]:
        if key.startswith("b") and not bias:
            continue
        if key not in data:
            raise _fail(key, "be present (depth and bias say so)", "missing", "Re-save.")
        arr = data[key]
        if arr.dtype.kind not in "fiu":
            raise _fail(key, "be a numeric array", f"dtype {arr.dtype}", "Store float64.")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise _fail(key, "be finite (no NaN or inf)", f"{arr[idx]} at {idx}", "Re-save.")
        arrays[key] = arr
    extra = sorted(
        k for k in data if k not in (*_REQUIRED, *_OPTIONAL, *arrays)
    )  # e.g. W3 in a depth-2 file
    if extra:
        raise _fail(extra[0], "not be present", f"extra key in a depth-{depth} run file",
                    "Remove it or fix 'depth'/'bias'.")  # fmt: skip
    X, Y = arrays["X"], arrays["Y"]
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise _fail("X/Y", "be 2-D with the same number of rows n", f"{X.shape}, {Y.shape}",
                    "Store X as (n, d) and Y as (n, c).")  # fmt: skip
    sizes = [X.shape[1]]
    for i in range(1, depth + 1):
        w, src = arrays[f"W{i}"], "d, the columns of X" if i == 1 else f"the rows of W{i - 1}"
        if w.ndim != 2 or w.shape[1] != sizes[-1]:
            raise _fail(
                f"W{i}",
                f"have shape (out, in) with in = {sizes[-1]} ({src})",
                w.shape,
                "Weights are stored as (out, in); transpose if you stored (in, out).",
            )
        if i == depth and w.shape[0] != Y.shape[1]:
            raise _fail(f"W{i}", f"have {Y.shape[1]} rows (c, the columns of Y)", w.shape,
                        "The last layer maps to the outputs.")  # fmt: skip
        sizes.append(w.shape[0])
        if bias and arrays[f"b{i}"].shape != (w.shape[0],):
            raise _fail(f"b{i}", f"have shape ({w.shape[0]},)", arrays[f"b{i}"].shape, "Re-save.")
    net = MLP(tuple(sizes), act, bool(bias))
    problem = Problem(net, X, Y, loss, float(lam), bool(decay_bias))
    params = [(arrays[f"W{i}"], arrays.get(f"b{i}")) for i in range(1, depth + 1)]
    info = {k: data[k].item() for k in _OPTIONAL if k in data and data[k].shape == ()}
    return RunFile(problem, net.flatten(params), info)
