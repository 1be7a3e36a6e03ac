"""Builds the media stage's parts from its settings: the one place settings become adapters."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from services.media.config import MediaSettings
from services.media.understand.ocr import TesseractReader
from services.media.understand.openai_transcriber import OpenAITranscriber
from services.media.understand.types import Describer, Transcriber
from services.media.understand.understand import MediaUnderstanding
from services.media.understand.vision import OpenAIDescriber
from services.media.understand.whisper import LocalWhisper
from services.media.understand.whisper_model import packaged_model
from wapipe.media.download import MediaDownloader
from wapipe.media.limits import META_TYPES, MediaLimits
from wapipe.net.guard import OutboundGuard
from wapipe.objectstore.factory import open_object_store
from wapipe.objectstore.port import ObjectStore


def build_guard(settings: MediaSettings) -> OutboundGuard:
    """Meta's hosts plus the Graph API's own; loopback/private addresses and plain http only outside production
    (the simulator on 127.0.0.1 in dev)."""
    hosts = settings.allowed_hosts()
    graph_host = urlsplit(settings.graph_api_url).hostname
    if graph_host:
        hosts.append(graph_host.lower())
    return OutboundGuard(hosts, allow_private=not settings.production, allow_http=not settings.production)


def build_limits(settings: MediaSettings) -> MediaLimits:
    return MediaLimits(audio_bytes=settings.media_max_audio_bytes, image_bytes=settings.media_max_image_bytes,
                       video_bytes=settings.media_max_video_bytes,
                       document_bytes=settings.media_max_document_bytes,
                       mime_types=settings.allowed_mime_types() or META_TYPES)


def build_downloader(settings: MediaSettings, client: httpx.AsyncClient) -> MediaDownloader:
    return MediaDownloader(client, graph_url=settings.graph_api_url, version=settings.graph_api_version,
                           access_token=settings.meta_access_token.get_secret_value(), guard=build_guard(settings),
                           limits=build_limits(settings), attempts=settings.media_download_attempts,
                           attempt_timeout_s=4 * settings.media_download_timeout_s)


def build_object_store(settings: MediaSettings) -> ObjectStore:
    return open_object_store(settings.media_store, folder=settings.media_dir, bucket=settings.media_s3_bucket,
                             endpoint_url=settings.media_s3_endpoint_url or None, region=settings.media_s3_region,
                             retention=timedelta(days=settings.media_retention_days))


def build_transcriber(settings: MediaSettings) -> Transcriber | None:
    """The configured transcriber; the embedded one assembles the packaged model on first use of a machine."""
    if settings.media_transcriber == "none":
        return None
    if settings.media_transcriber == "openai":
        key = settings.media_transcription_api_key or settings.openai_api_key
        return OpenAITranscriber(settings.media_transcription_base_url or settings.openai_base_url,
                                 key.get_secret_value(), settings.media_transcription_model,
                                 timeout_s=settings.media_transcription_timeout_s)
    model_dir = settings.media_whisper_model_dir or packaged_model(settings.media_models_dir)
    return LocalWhisper(model_dir, compute_type=settings.media_whisper_compute_type,
                        cpu_threads=settings.media_whisper_cpu_threads)


def build_describer(settings: MediaSettings) -> Describer | None:
    """The vision model that describes photos and stickers, when one is configured (OCR reads their text anyway)."""
    if settings.media_vision == "none":
        return None
    key = settings.media_vision_api_key or settings.openai_api_key
    return OpenAIDescriber(settings.media_vision_base_url or settings.openai_base_url, key.get_secret_value(),
                           settings.media_vision_model, timeout_s=settings.media_vision_timeout_s)


def build_understanding(settings: MediaSettings) -> MediaUnderstanding:
    return MediaUnderstanding(transcriber=build_transcriber(settings),
                              reader=TesseractReader(settings.media_ocr_languages,
                                                     timeout_s=settings.media_ocr_timeout_s),
                              describer=build_describer(settings),
                              document_max_chars=settings.media_document_max_chars)
