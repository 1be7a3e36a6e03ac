"""The OperatorTokenStore contract, against every backend that keeps tokens (SQLite always, Cassandra when reachable).

Its own backend fixture: tokens are a port of the database backends, not of every ConversationStore."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import unique
from wapipe.access import hash_token, new_token
from wapipe.store import OperatorToken, Store, open_store

NOW = datetime.now(UTC).replace(microsecond=654321)


@pytest.fixture(params=["sqlite", "cassandra"])
async def tokens(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/tokens.db", purge_interval=0)
        await store.migrate()
    else:  # migrated once per session by the fixture
        store = open_store(str(request.getfixturevalue("cassandra_url")))
    try:
        yield store
    finally:
        await store.close()


def _token(name: str, tenants: set[str], at: datetime = NOW) -> tuple[str, OperatorToken]:
    return new_token(name, tenants, now=at)


async def test_a_token_is_found_by_the_hash_of_its_secret_only(tokens: Store) -> None:
    plain, record = _token(unique("ana"), {"100000000000001", "100000000000002"})
    await tokens.add_operator_token(record)
    await tokens.add_operator_token(record)  # idempotent

    found = await tokens.operator_token(hash_token(plain))
    assert found == record and found.revoked_at is None
    assert found.tenants == frozenset({"100000000000001", "100000000000002"})
    assert await tokens.operator_token(hash_token(plain + "x")) is None
    assert await tokens.operator_token(plain) is None  # the secret itself is never a key
    assert [t for t in await tokens.operator_tokens() if t.token_id == record.token_id] == [record]


async def test_every_tenant_and_listing_oldest_first(tokens: Store) -> None:
    name = unique("ops")
    made = [_token(name, {"*"} if i == 0 else {f"10000000000000{i}"}, NOW + timedelta(seconds=i))[1]
            for i in range(3)]
    for record in reversed(made):
        await tokens.add_operator_token(record)
    mine = [t for t in await tokens.operator_tokens() if t.name == name]
    assert mine == made
    assert mine[0].tenants == frozenset({"*"})


async def test_revoked_tokens_stay_listed_and_keep_their_first_revocation(tokens: Store) -> None:
    plain, record = _token(unique("luis"), {"100000000000001"})
    await tokens.add_operator_token(record)
    at = NOW + timedelta(minutes=5)

    revoked = await tokens.revoke_operator_token(record.token_id, at)
    assert revoked is not None and revoked.revoked_at == at and revoked.token_hash == record.token_hash
    again = await tokens.revoke_operator_token(record.token_id, at + timedelta(hours=1))
    assert again is not None and again.revoked_at == at
    found = await tokens.operator_token(hash_token(plain))
    assert found is not None and found.revoked_at == at
    listed = [t for t in await tokens.operator_tokens() if t.token_id == record.token_id]
    assert [t.revoked_at for t in listed] == [at]
    assert await tokens.revoke_operator_token("000000000000", at) is None


async def test_tokens_do_not_expire_with_the_conversation_retention(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/short.db", retention=timedelta(seconds=1), purge_interval=0)
    plain, record = _token("maria", {"100000000000001"}, datetime.now(UTC) - timedelta(days=400))
    await store.add_operator_token(record)
    assert await store.purge() == 0  # type: ignore[attr-defined]
    assert await store.operator_token(hash_token(plain)) == record
    await store.close()
