"""One settings class, read once at the edge (CLI or app factory) and passed in."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICLOOP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # DATABASE_URL is the conventional name operators expect, so it is read without our prefix.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    local_db_dir: Path = PROJECT_DIR / ".civicloop"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    media_dir: Path = PROJECT_DIR / ".civicloop" / "media"
    duplicate_radius_m: float = Field(default=50.0, gt=0, le=5000)
    max_photo_bytes: int = 10 * 1024 * 1024
    idempotency_ttl_hours: int = Field(default=48, ge=1)
    access_token_ttl_days: int = 90  # anonymous devices (a lost token loses the device's reports)
    session_token_ttl_days: int = Field(default=30, ge=1, le=365)  # signed-in accounts
    db_pool_size: int = 10

    # Notifications (copied by name into notifications.settings.NotificationSettings).
    public_base_url: str = "http://localhost:8000"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_from: str = "civicloop <noreply@civicloop.localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    vapid_private_key_file: Path = PROJECT_DIR / ".civicloop" / "vapid_private.pem"
    vapid_subject: str = "mailto:noreply@civicloop.localhost"
    satisfaction_delay_seconds: int = Field(default=3 * 24 * 3600, ge=0)
    digest_interval_seconds: float = Field(default=24 * 3600, gt=0)
    worker_batch_size: int = Field(default=200, ge=1, le=5000)
    worker_poll_seconds: float = Field(default=2.0, gt=0)
    delivery_lease_seconds: int = Field(default=60, ge=1)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    network_allowlist: list[str] = Field(default_factory=list)
    run_worker: bool = True
    # /readyz answers 503 when the oldest unprocessed outbox event or due delivery waited longer.
    ready_max_lag_seconds: float = Field(default=300.0, gt=0)
    worker_concurrency: int = Field(default=1, ge=1, le=16)
    # Retention (geo/retention.py); a jurisdiction may set its own (PUT …/retention).
    contact_retention_days: int = Field(default=90, ge=0, le=36500)
    photo_retention_months: int = Field(default=12, ge=0, le=1200)
    # Rate limits (core.throttle), counted per client address (``…_per_address``) or per account.
    rate_limits: bool = True
    device_registrations_per_address_per_hour: int = Field(default=30, ge=1)
    device_writes_per_hour: int = Field(default=120, ge=1)
    sign_in_failures_per_account: int = Field(default=10, ge=1)
    sign_in_failures_per_address: int = Field(default=50, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    account_mails_per_address_per_hour: int = Field(default=10, ge=1)
    account_mails_per_email_per_hour: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
            raise ValueError("CIVICLOOP_SECRET_KEY must be set to a real secret in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
