"""Settings become the guard, limits and store the media stage runs with."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from services.media.build import build_guard, build_limits, build_object_store
from services.media.config import MediaSettings
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.s3 import S3ObjectStore


def test_dev_admits_the_simulator_production_only_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = build_guard(MediaSettings(_env_file=None))  # type: ignore[call-arg]
    assert dev.host_allowed("127.0.0.1") and dev.allow_private and dev.allow_http
    assert dev.host_allowed("lookaside.fbsbx.com") and dev.host_allowed("scontent.xx.fbcdn.net")
    prod = build_guard(MediaSettings(_env_file=None, env="production",  # type: ignore[call-arg]
                                     graph_api_url="https://graph.facebook.com",
                                     meta_access_token=secrets.token_hex(24), media_transcriber="none"))
    assert not prod.allow_private and not prod.allow_http and not prod.host_allowed("127.0.0.1")
    assert prod.host_allowed("graph.facebook.com")


def test_limits_and_allow_list_come_from_settings() -> None:
    limits = build_limits(MediaSettings(_env_file=None, media_max_audio_bytes=1000,  # type: ignore[call-arg]
                                        media_allowed_mime_types="audio/ogg, application/pdf"))
    assert limits.cap_for("audio/ogg") == 1000 and limits.allowed("application/pdf")
    assert not limits.allowed("image/png")
    assert build_limits(MediaSettings(_env_file=None)).allowed("image/png")  # type: ignore[call-arg]


def test_the_store_backend_is_chosen_by_settings(tmp_path: Path) -> None:
    folder = build_object_store(MediaSettings(_env_file=None, media_dir=str(tmp_path)))  # type: ignore[call-arg]
    assert isinstance(folder, FolderObjectStore) and folder.root == tmp_path
    s3 = build_object_store(MediaSettings(_env_file=None, media_store="s3", media_s3_bucket="b",  # type: ignore[call-arg]
                                          media_s3_endpoint_url="http://127.0.0.1:9"))
    assert isinstance(s3, S3ObjectStore) and s3.bucket == "b"


def test_the_transcriber_is_chosen_by_settings(tmp_path: Path) -> None:
    from services.media.build import build_transcriber
    from services.media.understand.openai_transcriber import OpenAITranscriber
    from services.media.understand.whisper import LocalWhisper

    assert build_transcriber(MediaSettings(_env_file=None, media_transcriber="none")) is None  # type: ignore[call-arg]
    remote = build_transcriber(MediaSettings(_env_file=None, media_transcriber="openai",  # type: ignore[call-arg]
                                             media_transcription_model="whisper-large-v3"))
    assert isinstance(remote, OpenAITranscriber) and remote.name == "openai-compatible/whisper-large-v3"
    local = build_transcriber(MediaSettings(_env_file=None, media_whisper_model_dir=str(tmp_path)))  # type: ignore[call-arg]
    assert isinstance(local, LocalWhisper) and local.model_dir == tmp_path  # not loaded until used


async def test_the_vision_model_is_used_only_when_configured() -> None:
    from services.media.build import build_describer
    from services.media.understand.vision import OpenAIDescriber

    assert build_describer(MediaSettings(_env_file=None)) is None  # type: ignore[call-arg]
    s = MediaSettings(_env_file=None, media_vision="openai", media_vision_model="gpt-4.1-mini")  # type: ignore[call-arg]
    describer = build_describer(s)
    assert isinstance(describer, OpenAIDescriber) and describer.model == "gpt-4.1-mini"
    assert s.providers() == {"openai"}  # no key of its own: the model key is required
    await describer.aclose()
