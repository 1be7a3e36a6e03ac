"""Split a long answer at paragraph, then sentence, then word boundaries into parts Meta accepts (<= 4096)."""

from __future__ import annotations

import re

from schemas.meta.graph import TEXT_MAX

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _units(text: str, limit: int) -> list[tuple[str, str]]:
    """(separator before, unit) pairs, each unit <= `limit`: paragraphs, else sentences, else words, else cuts."""
    out: list[tuple[str, str]] = []
    for para in (p.strip() for p in _PARAGRAPH.split(text)):
        if not para:
            continue
        sep = "\n\n"
        for sentence in ([para] if len(para) <= limit else _SENTENCE_END.split(para)):
            words = [sentence] if len(sentence) <= limit else sentence.split(" ")
            for word in words:
                for i in range(0, len(word), limit):
                    out.append((sep, word[i:i + limit]))
                    sep = " "
    return out


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Parts in reading order, each <= `limit` chars, units joined greedily so the parts stay few."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for sep, unit in _units(text, limit):
        candidate = f"{current}{sep}{unit}" if current else unit
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = unit
    if current:
        parts.append(current)
    return parts
