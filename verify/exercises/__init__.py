"""Graded exercises for a course on feature learning (notebooks/exercises.py).

- :mod:`verify.exercises.grader`: :class:`Exercise`, :class:`Outcome` (right / wrong with the
  counterexample / not yet attempted / undecided) and :class:`Worksheet`, which checks answers
  without ever stopping the notebook and reports every exercise;
- :mod:`verify.exercises.catalogue`: the course's exercises, from the topic modules
  :mod:`~verify.exercises.fact`, :mod:`~verify.exercises.deep_linear`,
  :mod:`~verify.exercises.nfa`, :mod:`~verify.exercises.counterexamples` and
  :mod:`~verify.exercises.rfm`.

The model answers are not here: they are in notebooks/exercises_solutions.py.
"""

from verify.exercises.grader import CheckError, Exercise, Outcome, Worksheet, load_answers

__all__ = ["CheckError", "Exercise", "Outcome", "Worksheet", "load_answers"]
