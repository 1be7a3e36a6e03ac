"""Settings of the media stage (`WAPIPE_MEDIA_` names); built in `main()`, never at import time."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from schemas.meta.media import MIB
from wapipe.media.limits import META_MEDIA_HOSTS
from wapipe.settings import GraphSettings, LLMSettings, MediaStoreSettings


class MediaSettings(GraphSettings, LLMSettings, MediaStoreSettings):
    """Download limits and guard, object store, and the transcriber/OCR/document readers."""

    # the consumer (wa.inbound.v1 -> wa.inbound.understood.v1)
    media_host: str = Field(default="127.0.0.1", description="interface of /healthz /readyz /metrics; 0.0.0.0 in "
                            "containers")
    media_metrics_port: int = 9106  # /healthz /readyz /metrics
    media_consumer_group: str = "wapipe-media"
    media_max_in_flight: int = Field(default=64, ge=1, description="conversations handled at once")
    media_max_attempts: int = Field(default=5, ge=1)

    # download
    media_max_audio_bytes: int = Field(default=16 * MIB, ge=1)
    media_max_image_bytes: int = Field(default=16 * MIB, ge=1, description="stickers too")
    media_max_video_bytes: int = Field(default=16 * MIB, ge=1)
    media_max_document_bytes: int = Field(default=100 * MIB, ge=1)
    media_allowed_mime_types: str = Field(default="", description="comma separated; empty = every type Meta takes")
    media_allowed_hosts: str = META_MEDIA_HOSTS
    media_download_timeout_s: float = Field(default=30.0, gt=0)
    media_download_attempts: int = Field(default=3, ge=1)
    # object store: MediaStoreSettings (wapipe.settings), shared with `wapipe privacy`
    # understanding
    media_transcriber: Literal["whisper", "openai", "none"] = "whisper"
    media_whisper_model_dir: str = Field(default="", description="a CTranslate2 Whisper folder; empty = packaged")
    media_models_dir: str = ".wapipe/models"
    media_whisper_preload: bool = Field(default=True, description="load the model at start (false: at the first "
                                        "voice note, for stacks that rarely get one, like the test stacks)")
    media_whisper_compute_type: str = "int8"
    media_whisper_cpu_threads: int = Field(default=0, ge=0, description="0 = CTranslate2's default")
    media_transcription_base_url: str = Field(default="", description="empty = WAPIPE_OPENAI_BASE_URL")
    media_transcription_api_key: SecretStr | None = Field(default=None, description="unset = WAPIPE_OPENAI_API_KEY")
    media_transcription_model: str = "whisper-1"
    media_transcription_timeout_s: float = Field(default=60.0, gt=0)
    media_vision: Literal["none", "openai"] = Field(default="none", description="a vision model describes photos "
                                                     "and stickers (OpenAI-compatible image input); none = OCR only")
    media_vision_base_url: str = Field(default="", description="empty = WAPIPE_OPENAI_BASE_URL")
    media_vision_api_key: SecretStr | None = Field(default=None, description="unset = WAPIPE_OPENAI_API_KEY")
    media_vision_model: str = "gpt-4o-mini"
    media_vision_timeout_s: float = Field(default=20.0, gt=0)
    media_ocr_languages: str = "spa+eng"
    media_ocr_timeout_s: float = Field(default=30.0, gt=0)
    media_document_max_chars: int = Field(default=4000, ge=100)

    def providers(self) -> set[str]:
        """The OpenAI key is used only to transcribe or describe remotely without a key of its own."""
        remote = (self.media_transcriber == "openai" and self.media_transcription_api_key is None
                  or self.media_vision == "openai" and self.media_vision_api_key is None)
        return {"openai"} if remote else set()

    def allowed_hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.media_allowed_hosts.split(",") if h.strip()]

    def allowed_mime_types(self) -> frozenset[str] | None:
        types = {t.strip().lower() for t in self.media_allowed_mime_types.split(",") if t.strip()}
        return frozenset(types) or None
