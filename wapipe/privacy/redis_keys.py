"""Which Redis keys belong to one customer, what they hold, and their deletion.

Every service names its per-customer keys after the conversation key (`window:`, `shadow:`, `flood:`,
`pending:`, `consent:`, `ctx:`, `ai:covered:`, `llm:conv_cost:`, `pace:pair:`, `notifier:handoff:`, ...) or after a
message id of the customer (`dedupe:{tenant}:{wamid}`, `ai:memo:{wamid}`, `apichat:{wamid}`), so one SCAN finds
them by name, whatever service wrote them, without this module knowing each format. An identifier counts only as
whole `:`-separated segments, so `…:5730012` never matches `…:57300123`. Two kinds of key name neither and point
at the customer through their value, and are looked up by value: `REFERENCES`. Sorted-set indexes list
conversations as members: `INDEXES`.

The identity map's cache names the tenant and the id apart (`identity:{tenant}:{kind}:{id}`,
`wapipe/state/identity.py`): its keys are named exactly, for each id of the customer. Tenant-wide keys (the answer
cache, daily spend, pacing of the number, alert claims) hold nothing of one customer and are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX
from wapipe.state.identity import cache_key as identity_key

# key prefix -> how its value points at the customer ("value": the value is a conversation key; "sent": the value
# is "sent:<wamid>" of a message sent to them, services/sender/claims.py)
REFERENCES = {f"{KEY_PREFIX}notifier:ref:": "value", f"{KEY_PREFIX}console:ref:": "value",
              f"{KEY_PREFIX}send:": "sent"}
SEND_TRY = f"{KEY_PREFIX}sendtry:"  # the in-doubt twin of a send claim, same send id
INDEXES = (f"{KEY_PREFIX}shadow:index", f"{KEY_PREFIX}console:index")  # wapipe/state/shadow.py, the console
CONSOLE_TENANT_INDEX = f"{KEY_PREFIX}console:index:"  # + tenant: one shop's part of the console's index
SCAN_COUNT = 1000


@dataclass(frozen=True)
class CustomerKeys:
    keys: tuple[str, ...]  # whole keys of the customer
    index_entries: tuple[tuple[str, str], ...]  # (index key, member) to remove from a shared index


def _names(key: str, ident: str) -> bool:
    """True when `ident` appears in `key` as whole `:`-separated segments."""
    start = key.find(ident)
    while start >= 0:
        end = start + len(ident)
        if (start == 0 or key[start - 1] == ":") and (end == len(key) or key[end] == ":"):
            return True
        start = key.find(ident, start + 1)
    return False


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


async def find(redis: aioredis.Redis, conversations: Iterable[str], message_ids: Iterable[str],
               identity_keys: Iterable[str] = ()) -> CustomerKeys:
    convs, mids = tuple(conversations), frozenset(m for m in message_ids if m)
    idents = (*convs, *mids)
    named = frozenset(identity_keys)
    found: list[str] = []
    candidates: list[tuple[str, str]] = []  # (key, kind) to look up by value
    async for raw in redis.scan_iter(match=f"{KEY_PREFIX}*", count=SCAN_COUNT):
        key = _text(raw) or ""
        if key in INDEXES or key.startswith(CONSOLE_TENANT_INDEX):
            continue
        if key in named or any(_names(key, i) for i in idents):
            found.append(key)
            continue
        kind = next((k for prefix, k in REFERENCES.items() if key.startswith(prefix)), None)
        if kind is not None:
            candidates.append((key, kind))
    if candidates:
        values = await redis.mget([k for k, _ in candidates])
        sent = {f"sent:{m}" for m in mids}
        for (key, kind), raw in zip(candidates, values, strict=True):
            value = _text(raw)
            if (kind == "value" and value in convs) or (kind == "sent" and value in sent):
                found.append(key)
                if kind == "sent":
                    found.append(SEND_TRY + key[len(f"{KEY_PREFIX}send:"):])
    entries = []
    for index in INDEXES:
        pipe = redis.pipeline(transaction=False)
        for c in convs:
            pipe.zscore(index, c)
        scores = await pipe.execute() if convs else []
        entries += [(index, c) for c, s in zip(convs, scores, strict=True) if s is not None]
    pipe = redis.pipeline(transaction=False)  # the console's per-tenant index (`console:index:{tenant}`)
    for c in convs:
        pipe.zscore(f"{CONSOLE_TENANT_INDEX}{c.split(':', 1)[0]}", c)
    scores = await pipe.execute() if convs else []
    entries += [(f"{CONSOLE_TENANT_INDEX}{c.split(':', 1)[0]}", c)
                for c, s in zip(convs, scores, strict=True) if s is not None]
    return CustomerKeys(tuple(dict.fromkeys(found)), tuple(entries))


async def dump(redis: aioredis.Redis, found: CustomerKeys) -> list[dict[str, Any]]:
    """Each key with its type, remaining TTL (seconds, None: no expiry) and value, JSON-ready."""
    out: list[dict[str, Any]] = []
    for key in found.keys:
        kind = _text(await redis.type(key)) or "none"
        if kind == "none":  # expired between the scan and now
            continue
        ttl = int(await redis.ttl(key))
        out.append({"key": key, "type": kind, "ttl_s": ttl if ttl >= 0 else None,
                    "value": await _value(redis, key, kind)})
    for index, member in found.index_entries:
        out.append({"key": index, "type": "zset member", "ttl_s": None,
                    "value": {"member": member, "score": await redis.zscore(index, member)}})
    return out


async def _value(redis: aioredis.Redis, key: str, kind: str) -> Any:
    if kind == "string":
        return _decoded(await redis.get(key))
    if kind == "list":
        return [_decoded(v) for v in await redis.lrange(key, 0, -1)]
    if kind == "zset":
        pairs: list[Any] = list(await redis.zrange(key, 0, -1, withscores=True))
        return [[_text(m), score] for m, score in pairs]
    if kind == "set":
        return sorted(_text(m) or "" for m in await redis.smembers(key))
    if kind == "hash":
        return {_text(k): _decoded(v) for k, v in (await redis.hgetall(key)).items()}
    return f"<{kind}>"


def _decoded(raw: bytes | str | None) -> Any:
    text = _text(raw)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


async def delete(redis: aioredis.Redis, found: CustomerKeys) -> int:
    """Delete the keys and remove the index entries; how many keys and entries existed."""
    removed = 0
    for start in range(0, len(found.keys), 500):
        removed += int(await redis.delete(*found.keys[start:start + 500]))
    for index, member in found.index_entries:
        removed += int(await redis.zrem(index, member))
    return removed


def identity_cache_keys(tenant: str, ids: Iterable[str]) -> list[str]:
    """The identity map's cache keys of these ids, whichever kind each is."""
    return [identity_key(tenant, kind, i) for i in ids for kind in ("wa_id", "user_id")]
