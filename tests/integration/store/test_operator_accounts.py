"""The OperatorAccountStore contract (console accounts and the operators' audit), against every backend that keeps
them: SQLite always, Cassandra when reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import unique
from wapipe.accounts import new_account, verify
from wapipe.store import OperatorEvent, Store, open_store

NOW = datetime.now(UTC).replace(microsecond=123456)


@pytest.fixture(params=["sqlite", "cassandra"])
async def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/accounts.db", purge_interval=0)
        await store.migrate()
    else:  # migrated once per session by the fixture
        store = open_store(str(request.getfixturevalue("cassandra_url")))
    try:
        yield store
    finally:
        await store.close()


async def test_an_account_reads_back_as_written_and_a_write_replaces_it(accounts: Store) -> None:
    name = unique("laura")
    account = new_account(name, "agent", ["100000000000001", "100000000000002"], "una clave bien larga", NOW)
    await accounts.put_operator_account(account)
    found = await accounts.operator_account(name)
    assert found == account
    assert found is not None and verify(found, "una clave bien larga") and not verify(found, "otra clave larga")
    assert "una clave" not in found.password_hash  # only the argon2 hash is kept

    disabled = replace(account, disabled_at=NOW + timedelta(seconds=5))
    await accounts.put_operator_account(disabled)
    await accounts.put_operator_account(disabled)  # idempotent
    assert await accounts.operator_account(name) == disabled
    assert await accounts.operator_account(unique("nobody")) is None


async def test_accounts_are_listed_oldest_first(accounts: Store) -> None:
    first = new_account(unique("b-"), "admin", [], "primera clave larga", NOW - timedelta(minutes=2))
    second = new_account(unique("a-"), "agent", ["100000000000001"], "segunda clave larga", NOW)
    for a in (second, first):
        await accounts.put_operator_account(a)
    listed = [a for a in await accounts.operator_accounts() if a.name in (first.name, second.name)]
    assert listed == [first, second]
    assert listed[0].tenants == frozenset({"*"}) and listed[1].tenants == frozenset({"100000000000001"})


async def test_the_operators_audit_keeps_the_newest_events_oldest_first(accounts: Store) -> None:
    name = unique("op")
    events = [OperatorEvent(NOW + timedelta(seconds=i), name, action, name, f"from 127.0.0.{i}")
              for i, action in enumerate(["sign_in_refused", "signed_in", "signed_out"])]
    for e in events + events[:1]:  # a repeated write is stored once
        await accounts.append_operator_event(e)
    mine = [e for e in await accounts.operator_events(1000) if e.name == name]
    assert mine == events
    newest = await accounts.operator_events(2)
    assert len(newest) == 2 and newest[0].ts <= newest[1].ts
