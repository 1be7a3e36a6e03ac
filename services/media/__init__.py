"""The media stage: download what customers send (voice notes, photos, documents), store it, understand it."""
