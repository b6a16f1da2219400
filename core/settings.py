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
    max_photos_per_report: int = 3
    max_photo_bytes: int = 10 * 1024 * 1024
    idempotency_ttl_hours: int = 48
    access_token_ttl_days: int = 90
    db_pool_size: int = 10
    default_page_size: int = 50
    max_page_size: int = 500

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
            raise ValueError("CIVICLOOP_SECRET_KEY must be set to a real secret in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
