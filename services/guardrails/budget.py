"""Bounds on one classification: how much text the rules see, how many patterns run, how long it may take.

RE2 makes every tenant pattern linear in the text and the text is capped, so a classification is cheap; the budget
is the second line of defence (a tenant with thousands of patterns, a machine under heavy load). When it runs out
the classifier stops and routes the message to the model, the same default as a message no rule recognises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_TEXT_CHARS = 4096  # WhatsApp's own limit for a text message; Flow answers (`response_json`) can be longer
MAX_PATTERNS = 5000
MAX_SECONDS = 0.5
BUDGET_RULE = "budget:exceeded"


class BudgetExceeded(Exception):
    """Raised inside the classifier when its budget is spent; never escapes `classify`."""


@dataclass(frozen=True)
class ClassifyLimits:
    max_text_chars: int = MAX_TEXT_CHARS
    max_patterns: int = MAX_PATTERNS
    max_seconds: float = MAX_SECONDS
    clock: Callable[[], float] = time.monotonic


class Meter:
    """Counts pattern evaluations of one classification against its limits."""

    def __init__(self, limits: ClassifyLimits) -> None:
        self.limits = limits
        self.evaluated = 0
        self._started = limits.clock()

    def spend(self, n: int = 1) -> None:
        """Called before evaluating `n` patterns; raises BudgetExceeded when that would go over a limit."""
        self.evaluated += n
        if self.evaluated > self.limits.max_patterns:
            raise BudgetExceeded(f"more than {self.limits.max_patterns} patterns")
        if self.limits.clock() - self._started > self.limits.max_seconds:
            raise BudgetExceeded(f"more than {self.limits.max_seconds} s")
