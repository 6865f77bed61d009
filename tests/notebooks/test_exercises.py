"""The exercise notebook and its grader: every exercise reported, wrong answers never stop it.

The notebook runs three ways: with no answers (all 14 not yet attempted; test_notebooks.py),
with the model answers (all right), and with deliberately wrong answers
(tests/notebooks/wrong_answers.py: twelve wrong in typical ways, one right, one left out), where
it must finish, print each wrong answer's counterexample and list all 14 exercises.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from verify.exercises import CheckError, Exercise, Outcome, Worksheet
from verify.exercises.catalogue import EXERCISES

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "exercises.py"


def _run(tmp_path: Path, answers: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "FACTCHECK_SMALL": "1",
        "MPLBACKEND": "Agg",
        "FACTCHECK_ANSWERS": str(answers),
    }
    return subprocess.run(
        [sys.executable, str(NOTEBOOK)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def test_catalogue_covers_the_course() -> None:
    """F1, D1, N1, N2, K2: at least ten exercises across FACT, deep linear, NFA, counterexamples
    and RFM, each with a unique key and a tag."""
    topics = {e.topic for e in EXERCISES}
    assert len(EXERCISES) >= 10 and len({e.key for e in EXERCISES}) == len(EXERCISES)
    assert {"FACT", "deep linear", "NFA", "counterexamples", "RFM"} <= topics
    keys = set(NOTEBOOK.read_text().split('sheet.check("')[1:])
    # every catalogued exercise is in the notebook (which may add exercises of its own)
    assert {e.key for e in EXERCISES} <= {k.split('"')[0] for k in keys}


def test_model_answers_are_all_right(tmp_path: Path) -> None:
    """F1, F2, D1, D3, D6, N1, N2, N3, K2: the solutions file makes every exercise right."""
    out = _run(tmp_path, ROOT / "notebooks" / "exercises_solutions.py")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "14 right, 0 wrong, 0 not yet attempted, of 14" in out.stdout


def test_wrong_answers_are_all_reported(tmp_path: Path) -> None:
    """F1, F2, D1, D3, D6, N1, N2, N3: wrong answers (a lost 1/n, a TypeError, mismatched shapes,
    a wrong derivation step, ...) are reported with their counterexamples; the notebook
    finishes and lists every exercise."""
    out = _run(tmp_path, Path(__file__).with_name("wrong_answers.py"))
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    counts = re.search(r"(\d+) right, (\d+) wrong, (\d+) not yet attempted, of (\d+)", text)
    assert counts is not None
    right, wrong, open_, total = map(int, counts.groups())
    # exercises the notebook adds beyond the catalogue are not in wrong_answers.py: not attempted
    assert (right, wrong, open_) == (1, 12, total - 13) and total >= 14
    assert "Traceback" not in text + out.stderr
    table = text[text.rindex("exercise  ") :].splitlines()[1 : 1 + len(EXERCISES)]
    assert [line.split()[0] for line in table] == [e.key for e in EXERCISES]
    text = " ".join(text.split())  # messages are wrapped at 96 columns
    assert "your answer raised TypeError: fact_numeric() takes 2 positional arguments" in text
    assert "step 2 is the first wrong step" in text and "lhs - rhs = [12]" in text
    assert "REFUTED: the sides differ at an exact stationary point" in text
    assert "your answer raised InputError: step 1 must have matching shapes" in text
    assert "for L = 3, j = 2 your exponent is 1/3" in text
    assert "the toolkit's AdamW family:" in text  # its verdict at the quick size is the family's
    assert "the search found a certified counterexample" in text
    assert text.count("counterexample:") >= 8


def test_grader_never_raises_and_takes_new_exercises(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: an exercise added from outside is one more entry; an answer that raises is wrong;
    report() counts every exercise, attempted or not."""

    def check(answer: object, small: bool) -> Outcome:
        if answer == 2:
            return Outcome.right("2 it is")
        return Outcome.wrong("not 2", f"you said {answer!r}")

    sheet = Worksheet([], small=True)
    sheet.add(Exercise("two", "F1", "FACT", "say two", "the number 2", check))
    sheet.add(Exercise("boom", "F1", "FACT", "a function", "a function of no argument",
                       lambda answer, small: answer()))  # fmt: skip
    sheet.add(Exercise("later", "F1", "FACT", "not reached", "anything", check))
    assert sheet.check("two", 3).status == "wrong"
    assert sheet.check("boom", lambda: 1 / 0).status == "wrong"
    assert sheet.check("two", 2).status == "right"
    counts = sheet.report()
    text = capsys.readouterr().out
    assert counts == {"right": 1, "wrong": 1, "not yet attempted": 1, "undecided": 0}
    assert "your answer raised ZeroDivisionError: division by zero (line" in text
    assert "you said 3" in text and "later" in text.splitlines()[-2]
    with pytest.raises(Exception, match="have a new key"):
        sheet.add(Exercise("two", "F1", "FACT", "again", "x", check))


def test_toolkit_failures_are_undecided_not_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: when the toolkit cannot check an answer (CheckError), the exercise is undecided, not
    blamed on the answer, and the summary line says so."""

    def check(answer: object, small: bool) -> Outcome:
        raise CheckError("the exercise network did not certify")

    sheet = Worksheet([Exercise("net", "F1", "FACT", "needs a network", "anything", check)])
    assert sheet.check("net", 1).status == "undecided"
    counts = sheet.report()
    text = capsys.readouterr().out
    assert counts["undecided"] == 1 and counts["wrong"] == 0
    assert "the toolkit could not check this answer: the exercise network did not certify" in text
    assert "your answer raised" not in text
    assert text.splitlines()[-1] == "0 right, 0 wrong, 0 not yet attempted, 1 undecided, of 1"
