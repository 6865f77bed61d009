"""``factcheck sweep``: run a task over a grid of parameters, resumable, on dask.distributed.

    factcheck sweep nfa-violation                      a built-in example (--list shows them)
    factcheck sweep my.toml --workers 2                a spec file on a local cluster
    factcheck sweep --task verify-nfa --grid lam=1e-3,1e-2 --grid width=4,8 --seeds 0,1
    factcheck sweep my.toml --scheduler tcp://127.0.0.1:8786     on a running dask cluster
    factcheck sweep --show sweep-nfa-violation.sqlite [--json] [--out DIR]

Every finished point is written to the store (default ``sweep-NAME.sqlite``) as it arrives;
rerunning the same command skips the points already there, so an interrupted sweep (Ctrl-C)
resumes where it stopped. At the end the table is printed and ``DIR`` (default ``sweep-NAME/``)
receives table.txt and one SVG figure per recorded quantity. ``factcheck report --sweep STORE``
adds the sweep to the report.

Exit status: 0 every point is stored, 3 some points failed with an error (listed; a rerun
retries them), 130 interrupted (the store holds every point finished before), 2 bad input. The
verdicts at the points do not change the exit status: a sweep maps where a claim holds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from theory._errors import bad_input
from verify.base.files import atomic_directory
from verify.base.validate import check_output_dir, check_output_file, check_seed

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a task over a grid of parameters on dask (resumable store, table, figures)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Exit status: 0 all points stored, 3 some points failed, 130 interrupted, 2 bad "
        "input. dask.distributed is an optional extra: pip install '.[sweep]'.",
    )
    p.add_argument(
        "spec",
        nargs="?",
        metavar="SPEC",
        help="a TOML spec file or a built-in example (see --list)",
    )
    p.add_argument("--task", help="the task, when there is no SPEC (see --list)")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a grid axis (repeat for more; replaces the spec's axis)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=V",
        help="fix a parameter (repeat for more)",
    )
    p.add_argument("--seeds", help="seeds: 0,1,2 or 0-4")
    p.add_argument("--record", help="quantities for the table and figures: q1,q2")
    p.add_argument("--name", help="the sweep's name (default: the spec's or the task's)")
    p.add_argument("--store", help="the SQLite store (default sweep-NAME.sqlite)")
    p.add_argument("--out", help="folder for table.txt and figures (default sweep-NAME)")
    p.add_argument("--workers", type=int, help="local worker processes (default: CPU count)")
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on this dask scheduler instead of a local cluster",
    )
    p.add_argument("--show", metavar="STORE", help="print a store's table (no run)")
    p.add_argument("--list", action="store_true", help="list tasks and built-in examples")
    p.add_argument("--print-spec", action="store_true", help="print the spec as TOML (no run)")
    p.add_argument(
        "--json", action="store_true", help="print JSON (the whole store) instead of the table"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if args.show:
        return _show(args)
    from verify.sweep.runner import pending

    spec = _spec(args)
    if args.print_spec:
        print(spec.to_toml(), end="")
        return 0
    if args.scheduler is not None and args.workers is not None:
        raise bad_input(
            "--workers",
            "be left out with --scheduler (the cluster has its own workers)",
            args.workers,
            "Drop --workers.",
        )
    if args.workers is not None and args.workers < 1:
        raise bad_input("--workers", "be >= 1", args.workers, "Pass e.g. --workers 2.")
    if args.scheduler is not None:
        from verify.sweep.runner import check_address

        check_address(args.scheduler)
    from verify.sweep.store import SweepStore

    store_path = Path(args.store or f"sweep-{spec.name}.sqlite")  # shown as given
    check_output_file("--store", store_path, example="sweep.sqlite")
    _out_dir(args.out or f"sweep-{spec.name}", spec)
    created = not store_path.exists()
    store = SweepStore(store_path)
    try:
        todo, skipped = pending(spec, store)
        if todo:
            from verify.sweep.runner import require_dask

            require_dask()  # before a word about running: the extra may be missing
        store.set_meta("spec", spec.to_dict())  # what --show and the report draw
        where = args.scheduler or f"{min(args.workers or os.cpu_count() or 1, max(len(todo), 1))}"
        where = where if args.scheduler else f"a local cluster of {where} worker processes"
        _say(
            args,
            f"sweep {spec.name}: task {spec.task}, {spec.size()} points; {skipped} "
            f"already in {store_path}, {len(todo)} to run" + (f" on {where}" if todo else ""),
        )
        if todo:
            status = _execute(args, spec, store, len(todo))
            if status is not None:
                return status
        return _finish(args, spec, store)
    except BaseException:
        # nothing half written: a store this run created and never stored a point in goes
        empty = not store.count()
        store.close()
        if created and empty:
            store_path.unlink(missing_ok=True)
        raise
    finally:
        store.close()


def _execute(args: argparse.Namespace, spec: Any, store: Any, count: int) -> int | None:
    from verify.sweep.progress import Progress
    from verify.sweep.runner import ctrl_c_flag, open_cluster, run_sweep, worker_notes

    workers = min(args.workers or os.cpu_count() or 1, count)
    progress = Progress(count, label=spec.name, enabled=not args.quiet)
    outcome = None
    # Ctrl-C during the cluster's start or close is a flag (see ctrl_c_flag): no run after it
    with ctrl_c_flag() as stopped:
        try:
            with open_cluster(workers=workers, scheduler=args.scheduler) as client:
                for note in worker_notes(client) if args.scheduler and not stopped() else []:
                    _say(args, "note: " + note)
                if not stopped():
                    outcome = run_sweep(spec, store, client, progress=progress)
        except Exception:
            if not stopped():
                raise
            # Ctrl-C reached the worker processes while they started (they ignore it once
            # started): the cluster failed to start, and the user asked to stop anyway
    progress.close()
    if outcome is None or outcome.interrupted:
        have = len(store.finished(spec.task, _version()) & {p.key for p in spec.points(False)})
        print(
            f"factcheck sweep: interrupted; {have} of {spec.size()} points are in "
            f"{store.path}. Run the same command again to finish the other "
            f"{spec.size() - have}.",
            file=sys.stderr,
        )
        return 130
    if outcome.duplicates:
        _say(args, f"{outcome.duplicates} results were already stored (kept once)")
    return None


def _finish(args: argparse.Namespace, spec: Any, store: Any) -> int:
    from verify.sweep.figures import figures
    from verify.sweep.table import export, spec_rows, table

    rows = spec_rows(spec, store)
    text = table(spec, rows)
    if args.json:
        print(json.dumps(export(store), indent=2))
    else:
        print(text)
    _write_outputs(args, Path(args.out or f"sweep-{spec.name}"), text, figures(spec, rows))
    errors = [r for r in rows if r.status == "error"]
    if errors:
        print(
            f"factcheck sweep: {len(errors)} points failed with an error (see the table); a "
            "rerun retries them.",
            file=sys.stderr,
        )
        return 3
    return 0


def _show(args: argparse.Namespace) -> int:
    from verify.sweep.figures import figures
    from verify.sweep.spec import SweepSpec
    from verify.sweep.store import SweepStore
    from verify.sweep.table import export, spec_rows, table

    with SweepStore(args.show, create=False) as store:
        data = store.meta("spec")
        spec = None if data is None else SweepSpec.from_mapping(data, source=str(args.show))
        if spec is not None and args.out:
            _out_dir(args.out, spec)  # before anything is printed
        if args.json:
            print(json.dumps(export(store), indent=2))
        if spec is None:
            if not args.json:
                print(f"{args.show}: an empty sweep store")
            return 0
        rows = spec_rows(spec, store)
        text = table(spec, rows)
        if not args.json:
            print(text)
        if args.out:
            _write_outputs(args, Path(args.out), text, figures(spec, rows))
    return 0


def _out_dir(out: str, spec: Any) -> Path:
    """--out, checked before any work: new, empty, or a previous output of a sweep of this
    task (it is replaced as a whole at the end, see :func:`_write_outputs`)."""
    owned = ("table.txt", *(f"{q}.svg" for q in spec.task_info.quantities))
    return check_output_dir("--out", out, owned, example="sweep-out")


def _write_outputs(args: argparse.Namespace, out: Path, text: str, svgs: dict[str, str]) -> None:
    """table.txt and one SVG per quantity, the folder swapped in whole (never half written)."""
    with atomic_directory(out) as stage:
        (stage / "table.txt").write_text(text + "\n", encoding="utf-8")
        for q, svg in svgs.items():
            (stage / f"{q}.svg").write_text(svg, encoding="utf-8")
    names = ["table.txt", *(f"{q}.svg" for q in svgs)]
    _say(args, "wrote " + ", ".join(str(out / name) for name in names))


def _spec(args: argparse.Namespace) -> Any:
    from verify.sweep.examples import EXAMPLES, example
    from verify.sweep.spec import SweepSpec, parse_values, read_spec

    if args.spec is not None and args.task is not None:
        raise bad_input(
            "--task",
            "be left out when SPEC names the task",
            args.task,
            "Drop --task, or drop SPEC.",
        )
    if args.spec is not None:
        spec = (
            read_spec(args.spec)
            if Path(args.spec).exists() or args.spec not in EXAMPLES
            else example(args.spec)
        )
    elif args.task is not None:
        spec = SweepSpec.from_mapping({"task": args.task}, source="--task")
    else:
        raise bad_input(
            "SPEC",
            "be given (a TOML file or a built-in example), or --task",
            None,
            "See factcheck sweep --list.",
        )
    grid = [(k, tuple(v)) for k, v in (parse_values(g, "--grid") for g in args.grid)]
    fixed = []
    for s in args.set:
        name, values = parse_values(s, "--set")
        if len(values) != 1:
            raise bad_input(
                "--set", "give one value (use --grid for several)", s, f"Pass e.g. --grid {s}."
            )
        fixed.append((name, values[0]))
    record = tuple(v.strip() for v in args.record.split(",")) if args.record else None
    return spec.with_overrides(
        grid=grid, fixed=fixed, seeds=_seeds(args.seeds), record=record, name=args.name
    )


def _seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    except ValueError:
        raise bad_input(
            "--seeds", "look like 0,1,2 or 0-4", text, "Pass e.g. --seeds 0-2."
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise bad_input("--seeds", "list distinct integers", text, "Pass e.g. --seeds 0-2.")
    return tuple(check_seed(seed, "--seeds") for seed in seeds)


def _list() -> int:
    from verify.sweep.examples import EXAMPLES
    from verify.sweep.tasks import TASKS

    print("tasks (parameters with defaults; quantities recorded at each point):")
    for t in TASKS.values():
        params = ", ".join(f"{p.name}={p.default}" for p in t.params if p.name != "seed")
        print(
            f"  {t.name} [{t.tag}]: {t.summary}\n    parameters: {params}\n"
            f"    quantities: {', '.join(t.quantities)}"
        )
    print("built-in examples (factcheck sweep NAME; --print-spec shows one as TOML):")
    for name, ex in EXAMPLES.items():
        axes = " x ".join(ex["grid"])
        print(f"  {name}: task {ex['task']} over {axes}, seeds {ex['seeds']}")
    return 0


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(f"[sweep] {text}", file=sys.stderr, flush=True)


def _version() -> str:
    from verify.base.version import __version__

    return __version__
