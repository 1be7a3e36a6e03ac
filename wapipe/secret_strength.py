"""Is a secret real? Outside dev mode every secret setting must pass `weakness`, so a value copied from
`.env.example`, a placeholder left in a template or a short hand-typed token stops the process at start-up.

The checks are deliberately simple and explainable: a known development value, a placeholder word, fewer than
`MIN_LENGTH` characters, fewer than `MIN_DISTINCT` different characters, or one short piece repeated. They cannot
prove a secret random; they refuse what is certainly not.
"""

from __future__ import annotations

# Every secret value `.env.example`, the code's defaults and the dev k8s overlay ship (a test keeps them in step).
DEV_VALUES = frozenset({
    "dev-app-secret-not-for-production",
    "dev-verify-token",
    "dev-access-token",
    "dev-openai-key",
    "dev-admin-token",
    "dev-console-session-secret",
    "dev-console-password",
    "dev-api-chat-key",
    '{"orders_api_token": "dev-orders-token"}',  # WAPIPE_AI_TOOL_SECRETS (the simulator's orders API)
})
MIN_LENGTH = 32
# A random 32-character hex string (a Meta app secret) has about 14 different characters; 8 is never missed.
MIN_DISTINCT = 8
_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "replaceme", "replace-me", "placeholder", "example",
                      "your-", "your_")
# Prefixes only: as substrings they would refuse one real random token in a few thousand.
_PLACEHOLDER_PREFIXES = ("dev-", "test-", "xxx")


def weakness(value: str, *, length_exempt: bool = False) -> str | None:
    """Why `value` cannot be a production secret, or None when it may be one. `length_exempt`: a credential its
    provider generates (Strimzi's 12-character KafkaUser passwords), checked only for dev and placeholder values.
    The reason never contains the value."""
    v = value.strip()
    folded = v.lower()
    if folded in DEV_VALUES:
        return "a development value (from .env.example)"
    if not v:
        return "empty"
    if any(w in folded for w in _PLACEHOLDER_WORDS) or folded.startswith(_PLACEHOLDER_PREFIXES):
        return "a placeholder"
    if length_exempt:
        return None
    if len(v) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    if len(set(v)) < MIN_DISTINCT or _repeats(v):
        return f"too little variety (fewer than {MIN_DISTINCT} different characters, or one piece repeated)"
    return None


def _repeats(v: str) -> bool:
    """True when `v` is one shorter string repeated ("abcdabcd...")."""
    return (v + v).find(v, 1) < len(v)
