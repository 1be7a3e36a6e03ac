"""Long answers are split into parts Meta accepts, at natural boundaries, in reading order."""

from __future__ import annotations

from services.sender.split import split_text


def test_short_text_is_one_part() -> None:
    assert split_text("  Hola, ¿cómo estás?  ") == ["Hola, ¿cómo estás?"]


def test_splits_at_paragraphs_and_keeps_everything_in_order() -> None:
    paragraphs = [f"Párrafo {i}. " + "Texto de ejemplo sobre envíos y pagos. " * 40 for i in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_text(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("Párrafo") for p in parts)  # no part begins mid-paragraph
    assert "\n\n".join(parts).split() == text.split()


def test_one_huge_paragraph_splits_at_sentences() -> None:
    text = " ".join(f"Frase número {i} del mensaje." for i in range(600))
    parts = split_text(text, limit=1000)
    assert all(len(p) <= 1000 and p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_unbroken_text_is_cut_hard() -> None:
    parts = split_text("x" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]
