"""Tenant-supplied regexes (FAQ patterns, handoff triggers), compiled with RE2 so no pattern can stall a service.

Python's `re` backtracks: `^(\\w+\\s?)+$x` takes seconds on a 26-character message and doubles with every few more.
RE2 (`google-re2`) never backtracks, so matching is linear in the text whatever the pattern; what it cannot run in
linear time (backreferences, look-around, possessive or atomic groups) it refuses, and so do we, at load. Patterns
longer than `MAX_PATTERN_CHARS` or compiling to more than `MAX_PROGRAM_SIZE` instructions (huge counted
repetitions) are refused too: RE2's cost is linear in the text times the program size.

Semantics: patterns run on normalised text (`services/guardrails/normalize.py`: lower case, accents stripped,
nothing but a-z, 0-9 and single spaces), so RE2's ASCII `\\w`, `\\b`, `\\d`, `\\s` match exactly what Python's
Unicode classes match there; matching stays case-sensitive, as it was with `re`.
"""

from __future__ import annotations

from typing import Any

import re2

MAX_PATTERN_CHARS = 1000
MAX_PROGRAM_SIZE = 2000


class PatternError(ValueError):
    """A tenant pattern RE2 cannot run (or one too large to run cheaply); the message says why."""


def _options() -> Any:
    opts = re2.Options()
    opts.log_errors = False  # the error goes into our message, not to stderr
    opts.never_capture = True  # we only ask "does it match": no submatch bookkeeping
    return opts


def compile_pattern(pattern: str) -> Any:
    """The RE2 regex for one tenant pattern (it has `.search(text)`), or PatternError."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        rx = re2.compile(pattern, options=_options())
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"RE2 cannot run it ({why}); backreferences and look-around are not supported") from exc
    if rx.programsize > MAX_PROGRAM_SIZE:
        raise PatternError(f"too large once compiled ({rx.programsize} > {MAX_PROGRAM_SIZE} instructions)")
    return rx

