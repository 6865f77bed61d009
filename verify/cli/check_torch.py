"""``factcheck check-torch MODEL.pt --data DATA.npz --lam LAM``: FACT and the NFA in a torch MLP.

MODEL.pt is ``torch.save(model.state_dict(), PATH)`` of an ``nn.Sequential`` of ``nn.Linear``
layers with one activation between them (named by ``--activation``; the state_dict does not
record it), read with ``torch.load(weights_only=True)``: no arbitrary object is ever unpickled.
DATA.npz holds ``X`` (n, d) and ``Y`` (n, c) (for cross_entropy: one-hot or probability rows,
or integer labels (n,)), read with ``np.load(allow_pickle=False)``. ``--lam`` is the weight decay
used in training (torch.optim's weight_decay); ``--loss`` the engine's mse (0.5 ||f - y||^2,
mean over samples) or cross_entropy.

The report is :func:`verify.torch.feature_report` at the stored weights (full batch, float64):
a point that is not at its gradient's rounding floor is INCONCLUSIVE with the F2 explanation;
``--optimizer adamw`` makes it OUTSIDE_HYPOTHESIS (AdamW's fixed points are not stationary
points of L_lam). ``--polish`` first takes the weights to a certified stationary point (L-BFGS,
then Newton) and says how far they moved; ``--save RUN.npz`` writes the (polished) point as a
run file for ``factcheck check RUN.npz --dps 50``. Requires the optional extra: pip install
'.[torch]'.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from theory._errors import InputError, bad_input

__all__ = ["register", "run"]

_EPILOG = (
    "Exit status: 0 FACT consistent, 1 REFUTED, 3 INCONCLUSIVE or outside FACT's hypothesis, "
    "2 bad input (one line, nothing written)."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-torch",
        help="check FACT and the NFA in a torch nn.Sequential MLP saved as a state_dict",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=_EPILOG,
    )
    parser.add_argument("model", metavar="MODEL.pt", help="torch.save(model.state_dict(), PATH)")
    parser.add_argument("--data", required=True, metavar="DATA.npz", help="arrays X and Y")
    parser.add_argument("--lam", type=float, required=True, help="weight decay used in training")
    parser.add_argument("--activation", required=True, help="identity, relu, tanh, sigmoid, "
                        "softplus, gelu or quadratic (between the Linear layers)")  # fmt: skip
    parser.add_argument("--loss", default="mse", choices=("mse", "cross_entropy"),
                        help="mse (default) or cross_entropy")  # fmt: skip
    parser.add_argument("--optimizer", default="unknown",
                        help="what trained it: sgd, adam, lbfgs, gd, adamw or unknown")  # fmt: skip
    parser.add_argument("--no-decay-bias", action="store_true",
                        help="biases were not in the weight decay (default: were)")  # fmt: skip
    parser.add_argument("--polish", action="store_true", help="polish to a certified point first")
    parser.add_argument("--save", default=None, metavar="RUN.npz", help="write the run file")
    parser.add_argument("--alpha", type=float, default=0.5, help="NFA exponent (0.5)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def _data(path: str, loss: str) -> tuple[Any, Any]:
    import numpy as np

    from verify.base.npz import NpzReader
    from verify.base.validate import memory_limit

    if not Path(path).exists():
        raise bad_input("--data", "be an existing .npz file", path, "Check the path.")
    fix = "Save with numpy.savez(PATH, X=X, Y=Y)."
    # read defensively (sizes checked from the headers before anything is inflated; no pickle)
    with NpzReader(path, what="--data", max_bytes=memory_limit() // 4, fix=fix) as archive:
        missing = [k for k in ("X", "Y") if k not in archive.members]
        if missing:
            raise bad_input("--data", "hold arrays named X and Y", f"missing {missing}", fix)
        arrays = {k: archive.read(k) for k in ("X", "Y")}
    X, Y = arrays["X"], arrays["Y"]
    for key, arr in (("X", X), ("Y", Y)):
        if arr.dtype.kind not in "fiu":
            raise bad_input(f"--data {key}", "be numeric", str(arr.dtype), "Store float64.")
    if X.ndim != 2:
        raise bad_input("--data X", "be 2-D (n, d)", X.shape, "Reshape to one sample per row.")
    if Y.ndim == 1 and loss == "cross_entropy" and Y.dtype.kind in "iu":
        return X.astype(np.float64), Y.astype(np.int64)  # class labels
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    return X.astype(np.float64), Y.astype(np.float64)


def run(args: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError:
        raise InputError(
            "check-torch needs PyTorch, which is not installed; install the optional extra: "
            "pip install '.[torch]' (from the factcheck source tree)."
        ) from None
    from theory._records import to_jsonable
    from verify.torch import engine_twin, feature_report, load_sequential, polish, save_runfile
    from verify.torch._inputs import check_lam

    check_lam(args.lam)  # before any work: finite, and > 0 (FACT needs weight decay)
    X, Y = _data(args.data, args.loss)
    sequential = load_sequential(args.model, args.activation)
    linears = [m for m in sequential if isinstance(m, torch.nn.Linear)]
    d, c = linears[0].in_features, linears[-1].out_features
    model: torch.nn.Module = sequential
    if X.shape[1] != d:
        raise bad_input("--data X", f"have {d} columns (in_features of the first Linear layer)",
                        X.shape, "Pass the data the model was trained on.")  # fmt: skip
    if Y.ndim == 2 and Y.shape[1] != c:
        raise bad_input(
            "--data Y", f"have {c} columns (out_features of the last Linear layer)", Y.shape,
            "Pass one-hot rows or targets of the model's output size.",
        )  # fmt: skip
    if Y.ndim == 1 and (Y.min() < 0 or Y.max() >= c):
        raise bad_input("--data Y", f"hold class labels in 0..{c - 1}", [Y.min(), Y.max()],
                        "Pass labels of the model's classes.")  # fmt: skip
    decay_bias = not args.no_decay_bias
    engine_twin(model, X, Y, args.lam, args.loss, decay_bias=decay_bias)  # validates the data
    polished = None
    if args.polish:
        polished = polish(model, args.loss, X, Y, args.lam, decay_bias=decay_bias,
                          device=args.device)  # fmt: skip
        model = polished.model
    report = feature_report(
        model, args.loss, X, Y, args.lam, device=args.device, optimizer=args.optimizer,
        decay_bias=decay_bias, alpha=args.alpha,
    )  # fmt: skip
    if args.save:
        info = {"status": "converged" if report.certified else "not_stationary",
                "grad_norm": report.grad_norm}  # fmt: skip
        save_runfile(args.save, model.cpu(), X, Y, args.lam, args.loss, decay_bias=decay_bias,
                     info=info)  # fmt: skip
    if args.json:
        out = report.to_dict()
        out["command"] = f"check-torch {args.model}"
        out["polish"] = polished.to_dict() if polished else None
        out["saved"] = args.save
        print(json.dumps(to_jsonable(out), indent=2))
    else:
        sizes = [d] + [m.out_features for m in linears]
        print(f"factcheck check-torch {args.model}: nn.Sequential MLP {tuple(sizes)}, "
              f"{args.activation}, {args.loss}, n={X.shape[0]}, lam={args.lam:g}")  # fmt: skip
        if polished:
            print(polished.to_text())
        print(report.to_text())
        if args.save:
            print(f"run file written: {args.save} (re-verify: factcheck check {args.save} "
                  "--dps 50)")  # fmt: skip
    verdict = report.fact_verdict
    if verdict is None:
        return 3
    if verdict.value == "REFUTED":
        return 1
    return 0 if verdict.supports else 3
