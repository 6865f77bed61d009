"""The course's exercises in the order of the lectures: FACT, deep linear networks, the NFA,
counterexamples, RFM (14 exercises). Each topic module defines its own ``EXERCISES``."""

from __future__ import annotations

from verify.exercises import counterexamples, deep_linear, fact, nfa, rfm
from verify.exercises.grader import Exercise

__all__ = ["EXERCISES"]

EXERCISES: tuple[Exercise, ...] = (
    *fact.EXERCISES,
    *deep_linear.EXERCISES,
    *nfa.EXERCISES,
    *counterexamples.EXERCISES,
    *rfm.EXERCISES,
)
