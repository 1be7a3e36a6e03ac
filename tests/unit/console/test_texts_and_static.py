"""Both languages say everything; the pages load nothing from another host; the vendored htmx is the file its
notes name."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from services.console.texts import WORDS, language

CONSOLE = Path(__file__).resolve().parents[3] / "services" / "console"


def test_every_word_exists_in_spanish_and_english() -> None:
    assert set(WORDS["es"]) == set(WORDS["en"])
    assert all(v.strip() for lang in WORDS.values() for v in lang.values())


def test_the_query_wins_then_the_cookie_then_the_default() -> None:
    assert language("en", "es", "es") == "en"
    assert language(None, "en", "es") == "en"
    assert language("fr", None, "es") == "es"
    assert language(None, None, "en") == "en"


def test_every_word_a_template_uses_exists() -> None:
    used = set()
    for page in (CONSOLE / "templates").glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_]+)", page.read_text()))
    assert used and used <= set(WORDS["es"])


def test_the_pages_load_nothing_from_another_host() -> None:
    for page in [*(CONSOLE / "templates").glob("*.html"), CONSOLE / "static" / "console.js",
                 CONSOLE / "static" / "console.css"]:
        text = page.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), page.name
        assert "url(http" not in text and "@import" not in text, page.name


def test_the_vendored_htmx_is_the_one_its_notes_name_with_its_licence() -> None:
    static = CONSOLE / "static"
    digest = hashlib.sha256((static / "htmx.min.js").read_bytes()).hexdigest()
    assert digest in (static / "VENDORED.md").read_text()
    assert "Zero-Clause BSD" in (static / "LICENSE-htmx.txt").read_text()
