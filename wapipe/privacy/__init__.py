"""One customer's data: everything kept about them (export) and its erasure (Colombia's Ley 1581, GDPR 15/17).

    subject = resolve_subject(tenants, "demo", "573001234567")      # BadSubject for bad input
    privacy = Privacy(store, redis)
    doc = await privacy.export(subject, actor="operator:laura")    # JSON-ready dict
    counts = await privacy.erase(subject, actor="operator:laura")  # idempotent, audited without the content

Used by `wapipe privacy export|erase` and the operator API (`/privacy/{tenant}/{user}`).
"""

from wapipe.privacy.media import MediaIndex, NoMedia, StoredMedia
from wapipe.privacy.service import Privacy
from wapipe.privacy.subject import BadSubject, Subject, resolve_subject

__all__ = ["BadSubject", "MediaIndex", "NoMedia", "Privacy", "StoredMedia", "Subject", "resolve_subject"]
