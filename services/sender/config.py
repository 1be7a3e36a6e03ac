"""Sender settings: the Graph API, pacing, retries, exactly-once leases and the fallback template."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wapipe.settings import GraphSettings


class SenderSettings(GraphSettings):
    sender_host: str = Field(default="127.0.0.1", description="interface of /healthz /readyz /metrics; 0.0.0.0 in "
                             "containers")
    sender_metrics_port: int = 9104  # /healthz /readyz /metrics (prefixed: one .env serves every service)
    sender_consumer_group: str = "wapipe-sender"  # statuses: the same name + "-status"
    graph_timeout_s: float = Field(default=8.0, gt=0)
    graph_max_connections: int = Field(default=32, ge=1, description="Graph API requests in flight per replica "
                                       "(size it as calls/s x Graph API latency; the rest queue)")
    number_rate: float = Field(default=80.0, gt=0, description="messages/s per phone number (Meta: 80)")
    number_burst: float = Field(default=80.0, ge=1)
    pair_interval_s: float = Field(default=6.0, gt=0, description="1 message per this many s per customer")
    pair_burst: float = Field(default=10.0, ge=1, description="messages a customer may get at once")
    send_attempts: int = Field(default=6, ge=1, description="Graph API attempts per message part")
    backoff_base_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    pair_backoff_base_s: float = Field(default=4.0, gt=0, description="131056: wait base**n seconds")
    claim_lease_s: int = Field(default=60, ge=1, description="a send claim expires after this (crash mid-send)")
    doubt_grace_s: float = Field(default=15.0, ge=0, description="after a crash mid-send, wait this long for "
                                 "Meta's status webhook before sending again")
    sent_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    sender_max_in_flight: int = Field(default=256, ge=1)
    sender_max_attempts: int = Field(default=5, ge=1, description="runtime attempts per record before the DLQ")
    mark_as_read: bool = True
    typing_indicator: bool = True
    sender_dry_run: bool = Field(default=False, description="record sends instead of calling the Graph API "
                                 "(replay sandboxes)")
    window_template_name: str | None = None
    window_template_language: str = "es"
    # media replies (image, document, audio, video, sticker)
    sender_media_link_hosts: str = Field(default="", description="comma separated hosts a media link may name "
                                         "(a leading dot admits subdomains); empty = any public https host")
    sender_media_id_ttl_s: int = Field(default=29 * 24 * 3600, ge=60, le=29 * 24 * 3600, description="how long "
                                       "an uploaded media id is reused for the same bytes (Meta keeps 30 days)")
    sender_media_store: Literal["folder", "s3"] = Field(default="folder", description="where object-store keys "
                                                        "of media replies are read: the media stage's store")
    sender_media_dir: str = ".wapipe/media"
    sender_media_s3_bucket: str = "wapipe-media"
    sender_media_s3_endpoint_url: str = Field(default="", description="MinIO or another S3-compatible server")
    sender_media_s3_region: str = "us-east-1"
