"""Misspelt question words corrected against the tenant's own vocabulary (edit distance, most frequent wins)."""

from __future__ import annotations


def distance(a: str, b: str, bound: int) -> int:
    """Optimal-string-alignment distance (a swap of two letters costs 1), or `bound + 1` once it exceeds it."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > bound:
            return bound + 1
        prev2, prev = prev, cur
    return prev[-1]


def allowed(word: str) -> int:
    """How many edits a word of this length may carry: none under 4 letters, 1 up to 7, then 2."""
    if not word.isalpha() or len(word) < 4:
        return 0
    return 1 if len(word) < 8 else 2


def correct(word: str, vocabulary: dict[str, int]) -> str | None:
    """The closest known term (ties: the one more rows carry), or None when nothing is close enough."""
    bound = allowed(word)
    if not bound:
        return None
    best: tuple[int, int, str] | None = None
    for known, rows in vocabulary.items():
        if abs(len(known) - len(word)) > bound or not known.isalpha():
            continue
        d = distance(word, known, bound)
        if d <= bound and (best is None or (d, -rows) < best[:2]):
            best = (d, -rows, known)
    return best[2] if best else None
