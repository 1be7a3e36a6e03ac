"""The simulator's rate buckets, driven by a clock the test moves: exact positions, no dependence on speed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import ManualClock
from wapipe_tools.simulator.app import create_app
from wapipe_tools.simulator.state import SimState

PNID = "100000000000001"
AUTH = {"Authorization": "Bearer dev-access-token"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_number_bucket_allows_its_burst_then_refills_at_its_rate(clock: ManualClock) -> None:
    state = SimState(number_rate=4, number_burst=5, clock=clock)
    assert [state.take_number(PNID) for _ in range(6)] == [True] * 5 + [False]
    clock.advance(0.125)
    assert not state.take_number(PNID)  # half a token: not yet
    clock.advance(0.125)
    assert [state.take_number(PNID) for _ in range(2)] == [True, False]
    clock.advance(60)  # a long pause refills up to the burst, not beyond
    assert [state.take_number(PNID) for _ in range(6)] == [True] * 5 + [False]
    assert state.take_number("100000000000002")  # every number has its own bucket


def test_pair_bucket_allows_a_small_burst_then_one_per_interval(clock: ManualClock) -> None:
    state = SimState(pair_burst=3, pair_interval_s=8, clock=clock)
    assert [state.take_pair(PNID, "573001112233") for _ in range(4)] == [True, True, True, False]
    clock.advance(7.5)
    assert not state.take_pair(PNID, "573001112233")
    assert state.take_pair(PNID, "573009998877")  # another customer is not limited by the first
    clock.advance(0.5)
    assert [state.take_pair(PNID, "573001112233") for _ in range(2)] == [True, False]


@pytest.fixture
def graph(clock: ManualClock) -> Iterator[TestClient]:
    state = SimState(ingress_url=None, status_webhooks=False, clock=clock)
    with TestClient(create_app(state)) as client:
        yield client


def _send(client: TestClient, to: str) -> int | None:
    body = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hola"}}
    code: int | None = client.post(f"/v25.0/{PNID}/messages", json=body, headers=AUTH).json().get(
        "error", {}).get("code")
    return code


def test_graph_endpoint_answers_130429_beyond_the_number_throughput(graph: TestClient, clock: ManualClock) -> None:
    graph.post("/_sim/limits", json={"number_rate": 4, "number_burst": 5, "enforce_window": False}).raise_for_status()
    assert [_send(graph, f"57300{i:07d}") for i in range(8)] == [None] * 5 + [130429] * 3
    clock.advance(0.5)
    assert [_send(graph, f"57301{i:07d}") for i in range(3)] == [None, None, 130429]


def test_graph_endpoint_answers_131056_beyond_the_pair_rate(graph: TestClient, clock: ManualClock) -> None:
    graph.post("/_sim/limits", json={"pair_burst": 3, "pair_interval_s": 8}).raise_for_status()
    graph.post("/_sim/window", json={"to": "573001112233"}).raise_for_status()
    assert [_send(graph, "573001112233") for _ in range(5)] == [None, None, None, 131056, 131056]
    clock.advance(8)
    assert [_send(graph, "573001112233") for _ in range(2)] == [None, 131056]
