"""The grader of the exercise notebook: every exercise gets an outcome, and nothing stops the sheet.

An :class:`Exercise` is a key, the equation tag it teaches, a title, and a check: a function of
the student's answer that returns an :class:`Outcome`. Outcomes are

right              the toolkit confirmed the answer (symbolically, exactly, or numerically at a
                   stated tolerance);
wrong              it did not, and the outcome carries the counterexample: the exact instance,
                   the point or the first wrong step where the answer fails;
not yet attempted  the answer is still ``None``;
undecided          the toolkit could not check it (an INCONCLUSIVE step, or a check that raised
                   :class:`CheckError`): neither right nor wrong, and never blamed on the answer.

An answer that raises (a TypeError from a wrong signature, a shape mismatch, a typo) is wrong,
with the exception's message and the expected form of the answer, never a traceback that stops
the notebook. :meth:`Worksheet.report` lists every exercise of the sheet, attempted or not.

A new exercise is one more :class:`Exercise`: in a topic module (collected by
:mod:`verify.exercises.catalogue`), or added to a sheet from the notebook with
:meth:`Worksheet.add`.
"""

from __future__ import annotations

import importlib.util
import textwrap
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theory._errors import bad_input

__all__ = ["CheckError", "Exercise", "Outcome", "Worksheet", "load_answers"]

RIGHT, WRONG, NOT_ATTEMPTED, UNDECIDED = "right", "wrong", "not yet attempted", "undecided"


class CheckError(Exception):
    """Raised by a check when the toolkit itself cannot check the answer (not the answer's
    fault): the sheet reports the exercise as undecided."""


@dataclass(frozen=True)
class Outcome:
    """The result of checking one answer; ``counterexample`` is where a wrong answer fails."""

    status: str
    message: str
    counterexample: str = ""

    @classmethod
    def right(cls, message: str) -> Outcome:
        return cls(RIGHT, message)

    @classmethod
    def wrong(cls, message: str, counterexample: str = "") -> Outcome:
        return cls(WRONG, message, counterexample)

    @classmethod
    def undecided(cls, message: str) -> Outcome:
        return cls(UNDECIDED, message)


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``check(answer, small)`` returns an Outcome (see the module docstring)."""

    key: str
    tag: str
    topic: str
    title: str
    expects: str  # the form of the answer, shown when an answer has the wrong form
    check: Callable[[Any, bool], Outcome]


def _format(ex: Exercise, out: Outcome, note: str = "") -> str:
    head = f"[{ex.key}, {ex.tag}] {ex.title}: {out.status.upper()}{note}"
    lines = [head, textwrap.indent(textwrap.fill(out.message, 96), "    ")]
    if out.counterexample:
        lines += ["    counterexample:", textwrap.indent(out.counterexample.rstrip(), "      ")]
    return "\n".join(lines)


_TOOLKIT = (Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[2] / "theory")


def _where(exc: BaseException) -> str:
    """ " (line N of FILE)" for the last frame in the student's own code, if there is one."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if "site-packages" in path.parts or any(path.is_relative_to(t) for t in _TOOLKIT):
            continue
        return f" (line {frame.lineno} of {path.name})"
    return ""


def load_answers(path: str | Path) -> dict[str, Any]:
    """The ``ANSWERS`` dict of a Python file (e.g. notebooks/exercises_solutions.py).

    The file is the lecturer's own (it is executed, as a notebook cell would be)."""
    p = Path(path)
    if not p.is_file():
        raise bad_input("answers file", "be an existing .py file", str(path),
                        "Pass notebooks/exercises_solutions.py or your own file.")  # fmt: skip
    spec = importlib.util.spec_from_file_location(f"_answers_{p.stem}", p)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = getattr(module, "ANSWERS", None)
    if not isinstance(answers, dict):
        raise bad_input("answers file", "define a dict ANSWERS (exercise key -> answer)",
                        str(path), "Add ANSWERS = {'fact-formula': ..., ...}.")  # fmt: skip
    return answers


@dataclass
class Worksheet:
    """The exercises of one sheet and their outcomes so far.

    ``answers``: answers that replace the notebook's own (a lecturer's solutions file, or a test's
    deliberately wrong answers), by exercise key.
    """

    exercises: list[Exercise] = field(default_factory=list)
    small: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @classmethod
    def course(cls, small: bool = False, answers_file: str | Path | None = None) -> Worksheet:
        """The course sheet (:data:`verify.exercises.catalogue.EXERCISES`)."""
        from verify.exercises.catalogue import EXERCISES

        answers = load_answers(answers_file) if answers_file else {}
        return cls(list(EXERCISES), small, answers)

    def add(self, exercise: Exercise) -> None:
        """One more exercise (e.g. defined in the notebook); keys must be unique."""
        if any(e.key == exercise.key for e in self.exercises):
            raise bad_input("exercise", "have a new key", exercise.key, "Choose another key.")
        self.exercises.append(exercise)

    def _find(self, key: str) -> Exercise:
        for e in self.exercises:
            if e.key == key:
                return e
        keys = ", ".join(e.key for e in self.exercises)
        raise bad_input("key", f"be one of {keys}", key, "Use the key shown in the heading.")

    def check(self, key: str, answer: Any = None) -> Outcome:
        """Check ``answer`` for exercise ``key``; print and keep the outcome; never raise."""
        ex = self._find(key)
        note = ""
        if key in self.answers:
            answer, note = self.answers[key], " (answer taken from the answers file)"
        if answer is None:
            out = Outcome(NOT_ATTEMPTED, f"replace None by {ex.expects}")
        else:
            try:
                out = ex.check(answer, self.small)
            except CheckError as exc:  # the toolkit's failure, not the answer's
                out = Outcome.undecided(f"the toolkit could not check this answer: {exc}")
            except Exception as exc:  # the answer's own error: report it, keep the sheet going
                out = Outcome.wrong(
                    f"your answer raised {type(exc).__name__}: {exc}{_where(exc)}. Expected "
                    f"{ex.expects}."
                )
        self.outcomes[key] = out
        print(_format(ex, out, note))
        return out

    def report(self, keys: Iterable[str] | None = None) -> dict[str, int]:
        """Print every exercise's outcome (not yet attempted where none); return the counts."""
        wanted = list(keys) if keys is not None else [e.key for e in self.exercises]
        counts = {RIGHT: 0, WRONG: 0, NOT_ATTEMPTED: 0, UNDECIDED: 0}
        rows = []
        for key in wanted:
            ex = self._find(key)
            out = self.outcomes.get(key, Outcome(NOT_ATTEMPTED, ""))
            counts[out.status] += 1
            rows.append((ex.key, ex.tag, ex.topic, out.status, ex.title))
        widths = [max(len(r[i]) for r in rows + [("exercise", "tag", "topic", "outcome")])
                  for i in range(4)]  # fmt: skip
        header = ("exercise", "tag", "topic", "outcome", "title")
        for r in [header, *rows]:
            print("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
        undecided = f", {counts[UNDECIDED]} undecided" if counts[UNDECIDED] else ""
        print(
            f"{counts[RIGHT]} right, {counts[WRONG]} wrong, {counts[NOT_ATTEMPTED]} not yet "
            f"attempted{undecided}, of {len(rows)}"
        )
        return counts
