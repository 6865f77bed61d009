"""Sweep specs: TOML and command line, coercion to canonical point keys, every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theory._errors import InputError
from verify.sweep.examples import EXAMPLES, example
from verify.sweep.spec import SweepSpec, parse_values, point_key, read_spec
from verify.sweep.tasks import TASKS, get_task

SPEC = """
name = "small"
task = "verify-nfa"
seeds = [0, 1]
record = ["pearson", "fact_rel_error"]

[grid]
activation = ["tanh", "relu"]
lam = [1e-3, 1e-2, 1]

[fixed]
width = 3
bias = true

[plot]
x = "lam"
"""


def test_toml_spec_gives_every_point_with_full_parameters(tmp_path: Path) -> None:
    """N2: a TOML spec expands to grid x seeds points, defaults filled in, seeds innermost."""
    path = tmp_path / "s.toml"
    path.write_text(SPEC)
    spec = read_spec(path)
    points = spec.points()
    assert spec.size() == len(points) == 2 * 3 * 2
    assert spec.axes() == ["activation", "lam"]
    first = points[0].params
    assert first == {
        **get_task("verify-nfa").defaults(),
        "activation": "tanh",
        "lam": 1e-3,
        "width": 3,
        "bias": True,
        "seed": 0,
    }
    assert [p.params["seed"] for p in points[:2]] == [0, 1]
    # an int given for a float parameter is stored as a float: lam = 1 and lam = 1.0 are one point
    assert points[-1].params["lam"] == 1.0 and isinstance(points[-1].params["lam"], float)
    assert len({p.key for p in points}) == len(points)
    assert json.loads(points[0].key) == first


def test_key_is_canonical_json_of_sorted_parameters() -> None:
    """N2: the store's key does not depend on the order parameters were given in."""
    assert point_key({"b": 1, "a": 2.0}) == point_key({"a": 2.0, "b": 1}) == '{"a":2.0,"b":1}'


def test_command_line_values_coerce_to_the_same_points_as_toml(tmp_path: Path) -> None:
    """N2: --grid lam=1e-3,0.01,1 --set width=3 gives the same keys as the TOML spec."""
    path = tmp_path / "s.toml"
    path.write_text(SPEC)
    from_toml = read_spec(path)
    base = SweepSpec.from_mapping({"task": "verify-nfa", "name": "small"})
    cli = base.with_overrides(
        grid=[("activation", ("tanh", "relu")), ("lam", ("1e-3", "0.01", "1"))],
        fixed=[("width", "3"), ("bias", "true")],
        seeds=(0, 1),
        record=("pearson", "fact_rel_error"),
    )
    assert [p.key for p in cli.points()] == [p.key for p in from_toml.points()]


def test_overrides_replace_an_axis_and_fix_a_former_axis() -> None:
    """N2: --grid replaces the spec's axis; --set of a grid axis removes the axis."""
    spec = example("nfa-violation")
    smaller = spec.with_overrides(grid=[("width", ("4",))], fixed=[("activation", "tanh")])
    assert dict(smaller.grid)["width"] == (4,)
    assert "activation" not in dict(smaller.grid) and dict(smaller.fixed)["activation"] == "tanh"
    assert smaller.size() == 3  # lam only


def test_to_toml_reads_back_to_the_same_spec(tmp_path: Path) -> None:
    """N2: --print-spec output is a spec file that gives the same points."""
    for name in EXAMPLES:
        spec = example(name)
        path = tmp_path / f"{name}.toml"
        path.write_text(spec.to_toml())
        again = read_spec(path)
        assert again == spec
        assert [p.key for p in again.points(validate=False)] == [
            p.key for p in spec.points(validate=False)
        ]


def test_every_task_default_passes_its_own_rules() -> None:
    """N2: each task's default parameters form a valid point (validators included)."""
    for name in TASKS:
        assert SweepSpec.from_mapping({"task": name}).size() == 1
        SweepSpec.from_mapping({"task": name}).points()


BAD: list[tuple[dict, str]] = [
    ({"task": "nope"}, r"task must be one of verify-fact.*got 'nope'"),
    ({}, r"task must be given"),
    ({"task": "verify-nfa", "grids": {}}, r"key 'grids' must be one of name, task"),
    ({"task": "verify-nfa", "grid": {"widht": [1]}}, r"parameter must be one of the verify-nfa"),
    ({"task": "verify-nfa", "grid": {"width": [0]}}, r"parameter 'width' must be >= 1; got 0"),
    ({"task": "verify-nfa", "grid": {"width": [2.5]}}, r"'width' must be an integer; got 2.5"),
    ({"task": "verify-nfa", "grid": {"lam": ["x"]}}, r"'lam' must be a finite number; got 'x'"),
    ({"task": "verify-nfa", "grid": {"lam": [float("nan")]}}, r"'lam' must be a finite number"),
    ({"task": "verify-fact", "grid": {"lam": [0.0]}}, r"'lam' must be > 0; got 0.0"),
    ({"task": "verify-nfa", "grid": {"lam": [1e-2, 0.01]}}, r"axis 'lam' must list each value"),
    ({"task": "verify-nfa", "grid": {"lam": []}}, r"axis 'lam' must have at least one value"),
    ({"task": "verify-nfa", "grid": {"lam": 0.1}}, r"lam must be a list"),
    ({"task": "verify-nfa", "grid": {"activation": ["swish"]}}, r"must be one of identity"),
    ({"task": "verify-nfa", "grid": {"alpha": [-1]}}, r"'alpha' must be > 0 or \"best\""),
    ({"task": "verify-nfa", "grid": {"bias": ["maybe"]}}, r"'bias' must be true or false"),
    ({"task": "verify-nfa", "grid": {"seed": [1]}}, r"'seed' must be set with seeds"),
    ({"task": "verify-nfa", "seeds": [0, 0]}, r"seeds must be a non-empty list of distinct"),
    ({"task": "verify-nfa", "seeds": []}, r"seeds must be a non-empty list"),
    ({"task": "verify-nfa", "seeds": [-1]}, r"seeds must be a non-empty list"),
    ({"task": "verify-nfa", "seeds": [2**63]}, r"distinct integers from 0 to 2\*\*63 - 1"),
    ({"task": "verify-nfa", "seeds": [True]}, r"seeds must be a non-empty list"),
    (
        {"task": "verify-nfa", "seeds": list(range(10)), "grid": {"n": list(range(1, 100_002))}},
        r"grid must have at most 1,000,000 points .*got '1,000,010 points'",
    ),
    ({"task": "verify-nfa", "record": ["speed"]}, r"record must name quantities of the verify-nfa"),
    ({"task": "verify-nfa", "name": "a/b"}, r"name must be 1-64 letters"),
    ({"task": "verify-nfa", "grid": {"lam": [1e-2]}, "fixed": {"lam": 1}}, r"grid axis or fixed"),
    ({"task": "verify-nfa", "plot": {"x": "width"}}, r"plot x must name a grid axis"),
    ({"task": "verify-nfa", "plot": {"kind": "pie"}}, r"plot kind must be auto, heatmap or line"),
    ({"task": "counterexample", "fixed": {"family": "adamw"}}, r"'family' must be one of quadr"),
    ({"task": "counterexample", "fixed": {"claim": "balance"}}, r"claim must be one of \['nfa',"),
    ({"task": "counterexample", "fixed": {"scale": 0.5}}, r"'scale' must be >= 1 for the quadr"),
    ({"task": "fact-gd", "fixed": {"optimizer": "certified", "iters": 0}}, r"'iters' must be >= 1"),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_bad_specs_name_the_argument_the_rule_and_the_value(data: dict, message: str) -> None:
    """N2: every bad spec raises InputError naming what is wrong, before anything runs."""
    with pytest.raises(InputError, match=message):
        SweepSpec.from_mapping(data).points()


def test_bad_files_and_command_line_values(tmp_path: Path) -> None:
    """N2: a missing or malformed TOML file and a malformed --grid are clear InputErrors."""
    with pytest.raises(InputError, match=r"SPEC must be a TOML file or a built-in example"):
        read_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("task = \n")
    with pytest.raises(InputError, match=r"SPEC must be valid TOML"):
        read_spec(bad)
    with pytest.raises(InputError, match=r"--grid must look like name=v1,v2"):
        parse_values("lam", "--grid")
    with pytest.raises(InputError, match=r"--grid must look like name=v1,v2"):
        parse_values("lam=1,,2", "--grid")
    with pytest.raises(InputError, match=r"SPEC must be a TOML file or a built-in example"):
        example("nope")
