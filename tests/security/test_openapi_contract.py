"""schemathesis against the ingress and the notifier operator API, served by uvicorn on real sockets with the real
broker, Redis and store behind them: no 5xx, and every status code, content type and body is the documented one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.ingress.app import create_app
from services.notifier.app import build_app
from services.notifier.config import NotifierSettings
from tests.security.conftest import API_KEY, ThreadedServer, ingress_settings
from wapipe.redis import connect
from wapipe.runtime.producer import Producer
from wapipe.store import open_store
from wapipe.tenants import TenantRegistry

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ADMIN = "security-suite-admin-token-0c4d9e"
TENANTS = Path(__file__).resolve().parents[2] / "config" / "tenants"


def exercise(doc: dict[str, Any], base_url: str, headers: dict[str, str], max_examples: int) -> int:
    """Every operation of `doc`, valid and invalid inputs, each response checked against the document."""
    schema = schemathesis.openapi.from_dict(doc)
    calls = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation schemathesis cannot read is a broken document
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=max_examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode))
            def prop(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=15)

            try:
                prop()
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, no body): the positive run covered the operation.
                assert mode is GenerationMode.NEGATIVE
    return calls


@pytest.fixture
def ingress_server(kafka_bootstrap: str, topic_prefix: str, redis_url: str,
                   tmp_path: Path) -> Iterator[ThreadedServer]:
    @asynccontextmanager
    async def factory() -> AsyncIterator[FastAPI]:
        yield create_app(ingress_settings(kafka_bootstrap, topic_prefix, redis_url, api_chat_wait_s=0.2,
                                          store_url=f"sqlite:///{tmp_path}/ingress.db"),  # its identity map
                         registry=CollectorRegistry())

    server = ThreadedServer(factory).start()
    yield server
    server.stop()


@pytest.fixture
def notifier_server(kafka_bootstrap: str, topic_prefix: str, redis_url: str,
                    tmp_path: Path) -> Iterator[ThreadedServer]:
    s = NotifierSettings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap,
                         topic_prefix=topic_prefix, redis_url=redis_url, admin_token=SecretStr(ADMIN),
                         tenants_dir=str(TENANTS))

    @asynccontextmanager
    async def factory() -> AsyncIterator[FastAPI]:
        redis = connect(redis_url)
        store = open_store(f"sqlite:///{tmp_path}/sec.db")
        await store.migrate()
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix, delivery_timeout_s=5)
        app = build_app(s, redis=redis, store=store, producer=producer, tenants=TenantRegistry(TENANTS),
                        registry=CollectorRegistry())
        try:
            yield app.api
        finally:
            await app.dlq.close()
            producer.close(2)
            await store.close()
            await redis.aclose()

    server = ThreadedServer(factory).start()
    yield server
    server.stop()


def test_ingress_answers_match_its_openapi_document(ingress_server: ThreadedServer) -> None:
    assert ingress_server.app is not None
    doc = ingress_server.app.openapi()
    calls = exercise(doc, ingress_server.url, {"Authorization": f"Bearer {API_KEY}"}, max_examples=15)
    assert calls >= len(doc["paths"])  # every operation was exercised


def test_notifier_operator_api_answers_match_its_openapi_document(notifier_server: ThreadedServer) -> None:
    # The operator API serves no /openapi.json (nothing unauthenticated); its document is taken from the app.
    assert notifier_server.app is not None
    doc = notifier_server.app.openapi()
    calls = exercise(doc, notifier_server.url, {"Authorization": f"Bearer {ADMIN}"}, max_examples=15)
    assert calls >= len(doc["paths"])
