"""Wiring: settings + Redis + store + Graph client -> the sender's handler, and the worker that runs it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import httpx
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.events import TemplateRef
from schemas.topics import STATUS, read_by
from services.sender.claims import SendClaims
from services.sender.config import SenderSettings
from services.sender.delivery import Delivery, RetryPolicy
from services.sender.graph import GraphPort, HttpGraph
from services.sender.handlers import Sender
from services.sender.media import MediaResolver, UploadPort
from services.sender.media_adapters import GraphForwarder, MediaIds, link_guard
from services.sender.metrics import SenderMetrics
from services.sender.pacing import Pacer
from services.sender.ports import SendPolicy, StaticPolicies, TenantPolicies
from services.sender.recording import RecordingGraph
from wapipe.apichat import ApiChatReply, push_reply
from wapipe.media.download import new_client
from wapipe.objectstore.factory import open_object_store
from wapipe.objectstore.port import ObjectStore
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.state.answers import Answers
from wapipe.state.consent import Consent
from wapipe.state.templates import TemplateStates
from wapipe.state.window import ServiceWindow
from wapipe.store import ConsentStore, ContextCache, ConversationStore


class SenderStore(ConversationStore, ConsentStore, Protocol):
    """The store the sender is wired with: turns (through the context cache), traces, and consent to read."""


def settings_policies(s: SenderSettings) -> StaticPolicies:
    template = TemplateRef(name=s.window_template_name, language=s.window_template_language) \
        if s.window_template_name else None
    return StaticPolicies(SendPolicy(mark_as_read=s.mark_as_read, typing=s.typing_indicator,
                                     window_template=template))


def build_objects(s: SenderSettings) -> ObjectStore:
    return open_object_store(s.sender_media_store, folder=s.sender_media_dir, bucket=s.sender_media_s3_bucket,
                             endpoint_url=s.sender_media_s3_endpoint_url or None, region=s.sender_media_s3_region)


def build_media(s: SenderSettings, *, redis: aioredis.Redis, graph: GraphPort, objects: ObjectStore | None,
                http: httpx.AsyncClient | None) -> MediaResolver:
    """Links through the guard; object-store keys and forwarded customer media uploaded through `graph`."""
    forwarder = GraphForwarder(http, graph_api_url=s.graph_api_url, version=s.graph_api_version,
                               access_token=s.meta_access_token.get_secret_value(), production=s.production) \
        if http is not None else None
    return MediaResolver(guard=link_guard(s.sender_media_link_hosts.split(",")),
                         ids=MediaIds(redis, s.sender_media_id_ttl_s),
                         uploader=graph if isinstance(graph, UploadPort) else None, objects=objects,
                         forwarder=forwarder)


def build_sender(s: SenderSettings, *, redis: aioredis.Redis, store: SenderStore, graph: GraphPort,
                 registry: CollectorRegistry, policies: TenantPolicies | None = None,
                 media: MediaResolver | None = None) -> Sender:
    metrics = SenderMetrics(registry)
    retry = RetryPolicy(attempts=s.send_attempts, backoff_base_s=s.backoff_base_s, backoff_max_s=s.backoff_max_s,
                        pair_backoff_base_s=s.pair_backoff_base_s)
    delivery = Delivery(graph, SendClaims(redis, lease_s=s.claim_lease_s, sent_ttl_s=s.sent_ttl_s),
                        Pacer(redis, number_rate=s.number_rate, number_burst=s.number_burst,
                              pair_interval_s=s.pair_interval_s, pair_burst=s.pair_burst), metrics, retry,
                        doubt_grace_s=s.doubt_grace_s)

    async def api_replies(correlation_id: str, reply: ApiChatReply) -> None:
        await push_reply(redis, correlation_id, reply)

    return Sender(delivery=delivery, window=ServiceWindow(redis), policies=policies or settings_policies(s),
                  store=store, turns=ContextCache(redis, store), api_replies=api_replies, metrics=metrics,
                  answers=Answers(redis), consent=Consent(redis, store), templates=TemplateStates(redis),
                  media=media)


@dataclass
class SenderApp:
    """Two workers: replies, and statuses on their own group, so a reply waiting for Meta's confirmation of an
    in-doubt send is never queued behind itself (the runtime orders records of one key across topics)."""

    worker: Worker
    status_worker: Worker
    sender: Sender
    graph: HttpGraph
    objects: ObjectStore
    downloads: httpx.AsyncClient  # forwarded media (a customer's, relayed to the internal numbers)

    async def aclose(self) -> None:
        await self.graph.aclose()
        await self.downloads.aclose()
        await self.objects.aclose()


def build_app(s: SenderSettings, *, redis: aioredis.Redis, store: SenderStore, producer: Producer,
              registry: CollectorRegistry, group_id: str = "wapipe-sender",
              policies: TenantPolicies | None = None) -> SenderApp:
    graph = HttpGraph(s.graph_api_url, s.graph_api_version, s.meta_access_token.get_secret_value(),
                      timeout_s=s.graph_timeout_s, max_connections=s.graph_max_connections)
    # Dry run (replay sandboxes): decide, persist turns and traces, but record the Graph API calls instead.
    port: GraphPort = RecordingGraph() if s.sender_dry_run else graph
    objects = build_objects(s)
    downloads = new_client(60.0)
    media = build_media(s, redis=redis, graph=port, objects=objects, http=downloads)
    sender = build_sender(s, redis=redis, store=store, graph=port, registry=registry, policies=policies,
                          media=media)
    replies = tuple(t for t in read_by("sender") if t != STATUS)  # statuses get their own worker and group
    cfg = WorkerConfig(bootstrap=s.kafka(), group_id=group_id, topics=replies,
                       topic_prefix=s.topic_prefix, service="sender", max_in_flight=s.sender_max_in_flight,
                       max_attempts=s.sender_max_attempts,
                       batch_wait_s=s.kafka_batch_wait_ms / 1000)
    worker = Worker(cfg, sender.handle, producer=producer, registry=registry)
    status_cfg = replace(cfg, group_id=f"{group_id}-status", topics=(STATUS,), service="sender-status")
    status_worker = Worker(status_cfg, sender.handle, producer=producer, registry=registry)
    return SenderApp(worker, status_worker, sender, graph, objects, downloads)
