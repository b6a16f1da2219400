"""The notification settings, a plain pydantic model the composition root fills from ``core.settings``.

Kept separate so the worker, the CLI and the tests can build one without the whole application
settings, and so ``core`` does not need to know what a VAPID key is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr


class NotificationSettings(BaseModel):
    secret_key: SecretStr
    public_base_url: str = "http://localhost:8000"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_from: str = "civicloop <noreply@civicloop.localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    vapid_private_key_file: Path = Path(".civicloop/vapid_private.pem")
    vapid_subject: str = "mailto:noreply@civicloop.localhost"
    satisfaction_delay_seconds: int = Field(default=3 * 24 * 3600, ge=0)
    satisfaction_link_days: int = Field(default=60, ge=1)
    worker_batch_size: int = Field(default=200, ge=1, le=5000)
    worker_poll_seconds: float = Field(default=2.0, gt=0)
    worker_schedule_seconds: float = Field(default=30.0, ge=0)
    digest_interval_seconds: float = Field(default=24 * 3600, gt=0)
    delivery_lease_seconds: int = Field(default=60, ge=1)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    network_allowlist: list[str] = Field(
        default_factory=list,
        description="hosts or CIDRs an operator allows despite the SSRF guard (e.g. a test push service)",
    )

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> NotificationSettings:
        """Take every field the application settings define (same names, ``notification_`` optional)."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            for candidate in (name, f"notifications_{name}"):
                if hasattr(settings, candidate):
                    values[name] = getattr(settings, candidate)
                    break
        if "vapid_private_key_file" not in values and hasattr(settings, "local_db_dir"):
            values["vapid_private_key_file"] = Path(settings.local_db_dir) / "vapid_private.pem"
        values.update(overrides)
        return cls.model_validate(values)
