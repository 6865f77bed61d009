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

Optional, for a ReLU point certified ON a kink (written by `factcheck verify fact --save`; both
or neither): `kink_pins` (m, 3) int64, the pinned pairs (hidden layer 0-based, sample 0-based,
unit 0-based) whose pre-activation is 0, and `kink_slopes` (m,) float64, the slopes in [0, 1]
taken for relu'(0) there. `factcheck check` certifies the stored point with them, where it lies
(:mod:`verify.engine.kink.stored`); without them such a point reads `on_kink`.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import InputError, bad_input
from verify.base.files import StagedWrites, npz_bytes, save_npz_atomic
from verify.base.npz import Member, NpzReader
from verify.base.validate import memory_limit
from verify.engine.memory import SizeSummary, check_training_memory
from verify.engine.network import ACTIVATIONS, LOSSES, MLP, Problem

__all__ = ["FORMAT", "RunFile", "load_run", "save_run"]

FORMAT = "factcheck-run/1"
_REQUIRED = ("format", "X", "Y", "lam", "loss", "activation", "depth", "bias", "decay_bias")
_OPTIONAL = ("seed", "status", "grad_norm")
_KINK = ("kink_pins", "kink_slopes")


@dataclass
class RunFile:
    """A loaded run: the validated problem, the flat parameters and the informational entries."""

    problem: Problem
    theta: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    #: a point certified on a kink: (pins, slopes) as stored (``kink_pins``, ``kink_slopes``)
    kink: tuple[list[tuple[int, int, int]], np.ndarray] | None = None


def save_run(
    path: str | os.PathLike[str],
    problem: Problem,
    theta: np.ndarray,
    info: dict[str, Any] | None = None,
    *,
    stage: StagedWrites | None = None,
) -> None:
    """Write the run file atomically (:mod:`verify.base.files`; no pickle).

    ``stage``: add the file to a :func:`verify.base.files.staged_writes` group instead, so that
    it appears together with the files written next to it (a certificate's JSON), or not at all.
    """
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
    pins = getattr(problem, "pins", ())  # a surrogate certified on a kink (verify/engine/kink/)
    if pins:
        arrays["kink_pins"] = np.array(pins, dtype=np.int64).reshape(-1, 3)
        slopes = problem.slopes  # type: ignore[attr-defined]
        arrays["kink_slopes"] = np.array([float(x) for x in slopes], dtype=np.float64)
    for key, value in (info or {}).items():
        if key not in _OPTIONAL:
            raise bad_input("info", f"use only the keys {list(_OPTIONAL)}", key, "Drop it.")
        arrays[key] = np.asarray(value)
    if stage is not None:
        stage.write_bytes(path, npz_bytes(arrays))
    else:
        save_npz_atomic(path, arrays)


def _fail(key: str, rule: str, got: Any, fix: str) -> InputError:
    return bad_input(f"run file key {key!r}", rule, got, fix)


#: the scalar entries and the dtype kinds they may have
_SCALARS = {
    "format": "U", "loss": "U", "activation": "U", "depth": "iu", "bias": "b", "decay_bias": "b",
    "lam": "f", "seed": "iu", "status": "U", "grad_norm": "f",
}  # fmt: skip


def load_run(path: str | os.PathLike[str]) -> RunFile:
    """Read and validate a run file; never unpickles, never inflates what it has not accepted.

    The archive is opened with :class:`verify.base.npz.NpzReader` (regular file, zip signature,
    readable directory, member sizes within the memory limit, .npy headers consistent with their
    sizes). Then, from the headers and the scalar entries alone: keys, depth, shapes, and the
    memory that checking the network will need (:mod:`verify.engine.memory`). Only then are the
    arrays inflated and checked (numeric, finite).
    """
    fix = "Save it with factcheck verify --save or numpy.savez (see verify/engine/runfile.py)."
    with NpzReader(path, what="run file", max_bytes=memory_limit(), fix=fix) as archive:
        heads = archive.members
        _check_keys(heads, str(path))
        data = {key: archive.read(key) for key in _SCALARS if key in heads}
        depth, bias = _header_scalars(data, heads)
        sizes, n = _check_shapes(heads, depth, bias)
        check_training_memory(
            SizeSummary.of(sizes, bias), n, activation=str(data["activation"]),
            argument="run file", value=str(path), fix="Check the file's sizes.",
        )  # fmt: skip
        for key in heads:
            if key not in data:
                data[key] = archive.read(key)
    return _validate(data, depth, bias, sizes)


def _check_keys(heads: dict[str, Member], where: str) -> None:
    for key in _REQUIRED:
        if key not in heads:
            raise _fail(key, "be present", f"keys {sorted(heads)}", f"Re-save {where} in format "
                        f"{FORMAT} (see verify/engine/runfile.py).")  # fmt: skip
    for key, kind in _SCALARS.items():
        if key in heads and (heads[key].shape != () or heads[key].dtype.kind not in kind):
            h = heads[key]
            raise _fail(key, f"be a scalar of kind {kind!r}", f"{h.dtype} {h.shape}", "Re-save.")


def _scalar(data: dict[str, np.ndarray], key: str, kind: str) -> Any:
    arr = data[key]
    if arr.shape != () or arr.dtype.kind not in kind:
        raise _fail(key, f"be a scalar of kind {kind!r}", f"{arr.dtype} {arr.shape}", "Re-save.")
    return arr.item()


def _header_scalars(data: dict[str, np.ndarray], heads: dict[str, Member]) -> tuple[int, bool]:
    """Format tag, depth and bias, checked against the keys present (before any array is read)."""
    tag = _scalar(data, "format", "U")
    if tag != FORMAT:
        raise _fail("format", f"equal {FORMAT!r}", tag, "This is not a factcheck run file.")
    depth, bias = _scalar(data, "depth", "iu"), _scalar(data, "bias", "b")
    if depth < 1:
        raise _fail("depth", "be >= 1", depth, "Store the number of weight matrices.")
    expected = [f"{p}{i}" for i in range(1, min(depth, len(heads)) + 1) for p in "Wb"]
    for key in expected + [f"W{len(heads) + 1}"] * (depth > len(heads)):
        if key not in heads and (key[0] == "W" or bias):
            raise _fail(key, "be present (depth and bias say so)", "missing", "Re-save.")
    allowed = {*_REQUIRED, *_OPTIONAL, *_KINK, *(k for k in expected if k[0] == "W" or bias)}
    extra = sorted(k for k in heads if k not in allowed)  # e.g. W3 in a depth-2 file
    if extra:
        raise _fail(extra[0], "not be present", f"extra key in a depth-{depth} run file",
                    "Remove it or fix 'depth'/'bias'.")  # fmt: skip
    for key in ("X", "Y", *(k for k in expected if k in heads)):
        if heads[key].dtype.kind not in "fiu":
            raise _fail(key, "be a numeric array", f"dtype {heads[key].dtype}", "Store float64.")
    return int(depth), bool(bias)


def _check_shapes(heads: dict[str, Member], depth: int, bias: bool) -> tuple[tuple[int, ...], int]:
    """Layer sizes (d, m_1, ..., c) and n from the headers' shapes."""
    X, Y = heads["X"].shape, heads["Y"].shape
    if len(X) != 2 or len(Y) != 2 or X[0] != Y[0] or 0 in X or 0 in Y:
        raise _fail("X/Y", "be 2-D with the same number of rows n (not 0)", f"{X}, {Y}",
                    "Store X as (n, d) and Y as (n, c).")  # fmt: skip
    sizes = [X[1]]
    for i in range(1, depth + 1):
        w, src = heads[f"W{i}"].shape, "d, the columns of X" if i == 1 else f"the rows of W{i - 1}"
        if len(w) != 2 or w[1] != sizes[-1] or w[0] == 0:
            raise _fail(
                f"W{i}",
                f"have shape (out, in) with in = {sizes[-1]} ({src})",
                w,
                "Weights are stored as (out, in); transpose if you stored (in, out).",
            )
        if i == depth and w[0] != Y[1]:
            raise _fail(f"W{i}", f"have {Y[1]} rows (c, the columns of Y)", w,
                        "The last layer maps to the outputs.")  # fmt: skip
        sizes.append(w[0])
        if bias and heads[f"b{i}"].shape != (w[0],):
            raise _fail(f"b{i}", f"have shape ({w[0]},)", heads[f"b{i}"].shape, "Re-save.")
    return tuple(sizes), X[0]


def _validate(
    data: dict[str, np.ndarray], depth: int, bias: bool, sizes: tuple[int, ...]
) -> RunFile:
    """Values: names of loss and activation, finite lam and arrays; builds the problem."""
    loss, act = _scalar(data, "loss", "U"), _scalar(data, "activation", "U")
    if loss not in LOSSES:
        raise _fail("loss", f"be one of {list(LOSSES)}", loss, "Fix the loss name.")
    if act not in ACTIVATIONS:
        raise _fail("activation", f"be one of {sorted(ACTIVATIONS)}", act, "Fix the name.")
    decay_bias, lam = _scalar(data, "decay_bias", "b"), _scalar(data, "lam", "f")
    if not np.isfinite(lam):
        raise _fail("lam", "be finite", lam, "Store the weight decay used in training.")
    arrays = {}
    for key in ["X", "Y"] + [f"{p}{i}" for i in range(1, depth + 1) for p in "Wb"]:
        if key.startswith("b") and not bias:
            continue
        arr = data[key].astype(np.float64)
        if not np.isfinite(arr).all():
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise _fail(key, "be finite (no NaN or inf)", f"{arr[idx]} at {idx}", "Re-save.")
        arrays[key] = arr
    net = MLP(sizes, act, bias)
    problem = Problem(net, arrays["X"], arrays["Y"], loss, float(lam), bool(decay_bias))
    params = [(arrays[f"W{i}"], arrays.get(f"b{i}")) for i in range(1, depth + 1)]
    info = {k: data[k].item() for k in _OPTIONAL if k in data}
    return RunFile(problem, net.flatten(params), info, _kink(data, sizes, len(arrays["X"]), act))


def _kink(
    data: dict[str, np.ndarray], sizes: tuple[int, ...], n: int, activation: str
) -> tuple[list[tuple[int, int, int]], np.ndarray] | None:
    """The optional pinned pairs and slopes (module docstring), validated."""
    present = [k for k in _KINK if k in data]
    if not present:
        return None
    if len(present) == 1:
        other = _KINK[1 - _KINK.index(present[0])]
        raise _fail(other, f"be present with {present[0]!r}", "missing", "Store both or neither.")
    if activation != "relu":
        raise _fail("kink_pins", "be stored only for relu networks", activation, "Remove it.")
    pins, slopes = data["kink_pins"], data["kink_slopes"]
    if pins.dtype.kind not in "iu" or pins.ndim != 2 or pins.shape[1] != 3:
        raise _fail("kink_pins", "be an (m, 3) integer array", f"{pins.dtype} {pins.shape}",
                    "Store (hidden layer, sample, unit) rows, 0-based.")  # fmt: skip
    if slopes.dtype.kind != "f" or slopes.shape != (len(pins),):
        raise _fail("kink_slopes", f"be ({len(pins)},) floats, one per pinned pair",
                    f"{slopes.dtype} {slopes.shape}", "One per row of kink_pins.")  # fmt: skip
    hidden = len(sizes) - 2
    for la, i, j in pins.tolist():
        if not (0 <= la < hidden and 0 <= i < n and 0 <= j < sizes[la + 1]):
            raise _fail("kink_pins", f"name a hidden layer < {hidden}, a sample < {n} and a unit "
                        "of that layer", (la, i, j), "Store 0-based indices.")  # fmt: skip
    if len({tuple(r) for r in pins.tolist()}) != len(pins):
        raise _fail("kink_pins", "list each pair once", "a repeated row", "Remove the repeat.")
    if not (np.isfinite(slopes).all() and (slopes >= 0).all() and (slopes <= 1).all()):
        raise _fail("kink_slopes", "be in [0, 1]", slopes[~((slopes >= 0) & (slopes <= 1))][:1],
                    "Store the certified slopes.")  # fmt: skip
    return [(int(la), int(i), int(j)) for la, i, j in pins.tolist()], slopes.astype(np.float64)
