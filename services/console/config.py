"""Console settings: where it listens, its session secret, sign-in limits, the live feed's consumer group and the
development operator the local stack signs in with."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from wapipe.settings import MediaStoreSettings


class ConsoleSettings(MediaStoreSettings):
    """The object store settings (`WAPIPE_MEDIA_STORE`, `WAPIPE_MEDIA_DIR`, `WAPIPE_MEDIA_S3_*`) are the media
    stage's: the console reads the customers' media it stored, to show them inline (read only)."""

    console_host: str = Field(default="127.0.0.1", description="interface of the console and of /healthz /readyz "
                              "/metrics; 0.0.0.0 in containers")
    console_port: int = Field(default=8082, description="the console's pages (signed-in operators)")
    console_metrics_port: int = Field(default=9107, description="/healthz /readyz /metrics, not the console port")
    console_consumer_group: str = "wapipe-console"
    console_session_secret: SecretStr = SecretStr("dev-console-session-secret")
    console_session_ttl_s: int = Field(default=12 * 3600, ge=60, description="a session's life since sign-in")
    console_login_max_failures: int = Field(default=5, ge=1, description="wrong passwords for one account, or "
                                            "from one address, within the window before the lockout")
    console_login_window_s: int = Field(default=900, ge=1)
    console_lockout_s: int = Field(default=900, ge=1, description="how long a locked account stays locked")
    console_language: Literal["es", "en"] = "es"
    console_dev_operator: str = Field(default="", description="dev only: an admin account created at start-up")
    console_dev_password: SecretStr | None = None
    console_human_active_ttl_s: int = Field(default=12 * 3600, ge=60, description="a take-over's HUMAN_ACTIVE")
    console_max_in_flight: int = Field(default=64, ge=1)
    console_max_attempts: int = Field(default=5, ge=1)

    @property
    def secure_cookies(self) -> bool:
        """`Secure` on the session cookie everywhere but dev (the local stack serves plain http on loopback)."""
        return self.production

    @model_validator(mode="after")
    def _dev_operator_only_in_dev(self) -> ConsoleSettings:
        if self.production and (self.console_dev_operator or self.console_dev_password is not None):
            raise ValueError("WAPIPE_CONSOLE_DEV_OPERATOR / WAPIPE_CONSOLE_DEV_PASSWORD are for the local stack "
                             "only; add operators with `wapipe operators add`")
        return self
