"""The hosts a reader could be sent to by a text the model wrote, and whether the tenant allows them.

WhatsApp turns bare domains into links, so a link is every domain-shaped token, not only `http(s)://` or `www.`
ones: `pagos-la80.shop/pse`, `HTTPS://EVIL.COM`, `https://la80.co@evil.com` (the host is what follows the `@`),
`ｅｖｉｌ．ｃｏｍ` (full-width forms fold to ASCII, as a browser folds them), `la80.cо` with a Cyrillic `о`
(compared as punycode, `la80.xn--c-1tb`, so it never equals `la80.co`). Trailing punctuation is not part of a host.
An e-mail address is not a link (the contact check in `guard.py` judges it), but the userinfo form followed by a
path or preceded by a scheme is.

A host is allowed when it equals an allowed host or is a subdomain of one (`www.la80.co` under `la80.co`); never by
substring (`pagos-la80.shop`, `la80.co.pagos.xyz` are not `la80.co`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# A domain: labels of letters, digits and hyphens, then a top-level label of two or more letters (any script) or
# punycode, so "1.800.000", "9.30" and "p.m." never qualify. A match starts at a label's start.
_DOMAIN = re.compile(r"(?<![\w-])(?:[^\W_][\w-]*\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)(?![\w-])", re.I)
# After a scheme, whatever the host is (an IP address too): the authority up to the path or a punctuation mark.
_SCHEME_AUTHORITY = re.compile(r"[a-z][a-z0-9+.-]*://([^\s/?#\\<>\"'`,;()!¡¿*{}|^]*)", re.I)
_AFTER_HOST = re.compile(r"[/?#:]")


def _fold(text: str) -> str:
    """Full-width and other compatibility forms to ASCII; the ideographic full stop browsers read as a dot."""
    return unicodedata.normalize("NFKC", text).replace("\u3002", ".")


def canonical_host(host: str) -> str:
    """Lower case, trailing dot dropped, non-ASCII labels as punycode; a name IDNA refuses stays as folded."""
    h = _fold(host).lower().strip().rstrip(".")
    try:
        return h.encode("idna").decode("ascii")
    except UnicodeError:
        return h


def _token_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The whitespace-delimited text before `start` and after `end` within the same token."""
    left = text.rfind(" ", 0, start) + 1
    right = next((i for i in range(end, len(text)) if text[i].isspace()), len(text))
    return text[left:start], text[end:right]


def _is_email_domain(text: str, start: int, end: int) -> bool:
    """`ana@gmail.com`: the domain of an address (no scheme before it, no path, query or port after it)."""
    before, after = _token_around(text, start, end)
    return before.endswith("@") and "://" not in before and not _AFTER_HOST.match(after)


def link_hosts(text: str) -> list[str]:
    """Every host a reader of `text` could be sent to, canonical (`canonical_host`), in order, with repeats."""
    folded = " ".join(_fold(text).split())
    hosts: list[str] = []
    for m in _SCHEME_AUTHORITY.finditer(folded):
        authority = m.group(1).rpartition("@")[2]  # userinfo ends at the last "@"
        host = authority[1:].partition("]")[0] if authority.startswith("[") else authority.partition(":")[0]
        if host:
            hosts.append(canonical_host(host))
    for m in _DOMAIN.finditer(folded):
        if folded.startswith("@", m.end()):  # the user part of `user@host`, not a host
            continue
        if _is_email_domain(folded, m.start(), m.end()):
            continue
        hosts.append(canonical_host(m.group(0)))
    return hosts


def allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """Exactly an allowed host, or a subdomain of one; both sides canonical."""
    return any(host == a or host.endswith("." + a) for a in allowed_hosts)
