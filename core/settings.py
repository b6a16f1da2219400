"""The one settings model, read once at the edge (CLI or app factory) and passed in.

Every setting is declared here once, with its description; the README's table is generated from this
model (``python -m api.docs_tables``) and a test checks it is current. The notifications settings form a
nested section (``settings.notifications``) so the notifications package receives only what it needs,
but operators keep setting them by their documented flat names (``CIVICLOOP_SMTP_HOST``, not
``CIVICLOOP_NOTIFICATIONS__SMTP_HOST``): a flat name of a section's field, in the environment, the
``.env`` file or a keyword argument, goes into its section.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "development-only-secret-change-me"
ENV_PREFIX = "CIVICLOOP_"


def _doc(text: str, *, shown_default: str | None = None) -> dict[str, Any]:
    """A field's description for the README, and the default as the README shows it when the value
    itself would mislead (an absolute path of this checkout, a byte count)."""
    extra: dict[str, Any] = {} if shown_default is None else {"shown_default": shown_default}
    return {"description": text, "json_schema_extra": extra or None}


class NotificationSettings(BaseModel):
    """The notifications section: mail, web push, webhooks and the delivery worker.

    ``secret_key`` is always the application's (``Settings`` copies it in); it is a field so the
    worker, the channels and the tests can build a section on its own.
    """

    secret_key: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_SECRET), exclude=True, description="copied from Settings.secret_key"
    )
    public_base_url: str = Field(
        default="http://localhost:8000",
        **_doc(
            "Used in links in messages (unsubscribe, satisfaction). Set it in production (the address"
            " residents reach, behind the proxy).",
            shown_default="where `civicloop serve` listens (`http://HOST:PORT`, a wildcard host as"
            " `localhost`)",
        ),
    )
    smtp_host: str = Field(
        default="localhost", **_doc("Where e-mail goes (a local SMTP sink in development).")
    )
    smtp_port: int = Field(default=1025, ge=1, le=65535, **_doc("Port of the SMTP server."))
    smtp_from: str = Field(default="civicloop <noreply@civicloop.localhost>", **_doc("Sender of every mail."))
    smtp_username: str | None = Field(default=None, **_doc("SMTP user name (none: no login)."))
    smtp_password: SecretStr | None = Field(default=None, **_doc("SMTP password."))
    smtp_starttls: bool = Field(default=False, **_doc("Upgrade the SMTP connection with STARTTLS."))
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, **_doc("Timeout of one SMTP conversation step."))
    vapid_private_key_file: Path = Field(
        default=PROJECT_DIR / ".civicloop" / "vapid_private.pem",
        **_doc(
            "Web push key; generated on first use. Keep it with the backups, or every push subscription"
            " breaks.",
            shown_default="`.civicloop/vapid_private.pem`",
        ),
    )
    vapid_subject: str = Field(
        default="mailto:noreply@civicloop.localhost",
        **_doc("Contact the push services see (a `mailto:` or `https:` URL)."),
    )
    satisfaction_delay_seconds: int = Field(
        default=3 * 24 * 3600,
        ge=0,
        **_doc('After resolution, when to ask "is it fixed?".', shown_default="3 days (`259200`)"),
    )
    satisfaction_link_days: int = Field(
        default=60, ge=1, **_doc('How long the link of an "is it fixed?" question works.')
    )
    worker_batch_size: int = Field(
        default=200, ge=1, le=5000, **_doc("Outbox events or deliveries one worker claims at a time.")
    )
    worker_poll_seconds: float = Field(
        default=2.0, gt=0, **_doc("How often an idle worker looks for work (it is also woken by NOTIFY).")
    )
    worker_schedule_seconds: float = Field(
        default=30.0,
        ge=0,
        **_doc("How often the worker looks for scheduled work (satisfaction questions, digests)."),
    )
    digest_interval_seconds: float = Field(
        default=24 * 3600,
        gt=0,
        **_doc(
            "Interval of the digest mails of subscriptions that ask for one.", shown_default="1 day (`86400`)"
        ),
    )
    delivery_lease_seconds: int = Field(
        default=60,
        ge=1,
        **_doc(
            "How long a claimed delivery belongs to one worker; a crashed worker's deliveries return then."
        ),
    )
    delivery_max_attempts: int = Field(
        default=8, ge=1, le=50, **_doc("Attempts before a delivery becomes a dead letter.")
    )
    retry_base_seconds: float = Field(default=5.0, gt=0, **_doc("First retry delay; it doubles per attempt."))
    retry_max_seconds: float = Field(default=3600.0, gt=0, **_doc("Longest retry delay."))
    http_timeout_seconds: float = Field(
        default=10.0, gt=0, **_doc("Timeout of one webhook or web push request.")
    )
    network_allowlist: list[str] = Field(
        default_factory=list,
        **_doc(
            "Webhook/push targets allowed despite the SSRF guard (hosts or CIDRs), as JSON:"
            ' `["push.test", "10.0.0.0/8"]`.',
            shown_default="empty",
        ),
    )
    run_worker: bool = Field(
        default=True,
        **_doc(
            "Run the notifications worker (and the clock of phase changes and purges) inside"
            " `civicloop serve`."
        ),
    )
    worker_concurrency: int = Field(
        default=1,
        ge=1,
        le=16,
        **_doc(
            "Delivery loops of the worker inside `civicloop serve` (`civicloop worker run --concurrency N` on"
            " its own)."
        ),
    )
    ready_max_lag_seconds: float = Field(
        default=300.0,
        gt=0,
        **_doc(
            "`/readyz` answers 503 when the oldest unprocessed outbox event or due delivery waited longer."
        ),
    )


SECTIONS: dict[str, type[BaseModel]] = {"notifications": NotificationSettings}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        **_doc("`development`, `test` or `production`; production refuses the placeholder secret."),
    )
    # DATABASE_URL is the conventional name operators expect, so it is read without our prefix.
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        **_doc(
            "SQLAlchemy URL, e.g. `postgresql+psycopg://user:pw@host:5432/civicloop` (`postgresql://` works"
            " too). The database needs PostGIS.",
            shown_default="unset: the local cluster",
        ),
    )
    local_db_dir: Path = Field(
        default=PROJECT_DIR / ".civicloop",
        **_doc("Where the self-provisioned cluster lives.", shown_default="`.civicloop/`"),
    )
    secret_key: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_SECRET),
        **_doc(
            "Signs tokens and links; the same on every process. Required in production.",
            shown_default="a placeholder",
        ),
    )
    media_dir: Path = Field(
        default=PROJECT_DIR / ".civicloop" / "media",
        **_doc("Where uploaded (re-encoded) photos are stored.", shown_default="`.civicloop/media`"),
    )
    duplicate_radius_m: float = Field(
        default=50.0, gt=0, le=5000, **_doc('Radius for "is this a duplicate?" suggestions.')
    )
    max_photo_bytes: int = Field(
        default=10 * 1024 * 1024,
        **_doc("Largest photo accepted (at most 3 per report).", shown_default="10 MiB"),
    )
    idempotency_ttl_hours: int = Field(
        default=48,
        ge=1,
        **_doc(
            "How long an `Idempotency-Key` is remembered (older ones are purged by the clock of"
            " `civicloop serve`)."
        ),
    )
    access_token_ttl_days: int = Field(
        default=90,  # a lost token loses the device's reports
        **_doc("Lifetime of anonymous device tokens."),
    )
    session_token_ttl_days: int = Field(
        default=30,
        ge=1,
        le=365,
        **_doc(
            "Lifetime of a signed-in account's token (sign-out, a password change or reset end it sooner)."
        ),
    )
    db_pool_size: int = Field(
        default=10,
        **_doc(
            "Sizes an API process's connection pools: it holds up to 6 × this + 2 database connections at"
            " its busiest (see Production)."
        ),
    )
    # Retention (geo/retention.py); a jurisdiction may set its own (PUT …/retention).
    contact_retention_days: int = Field(
        default=90,
        ge=0,
        le=36500,
        **_doc(
            "Days after a report closed that the reporter's contact data and device links are kept (a"
            " jurisdiction may set its own; see Production, Retention)."
        ),
    )
    photo_retention_months: int = Field(
        default=12,
        ge=0,
        le=1200,
        **_doc("Months after a report closed that its photos are kept (per jurisdiction too)."),
    )
    # Rate limits (core.throttle), counted per client address (``…_per_address``) or per account.
    rate_limits: bool = Field(
        default=True,
        **_doc(
            "Rate limits on what costs an attacker nothing (429 `too-many-requests` with `Retry-After`),"
            " counted in PostgreSQL across all processes, per client address (an IPv4 address or an IPv6"
            " /64) or per account. Behind a proxy, let uvicorn trust its `X-Forwarded-For`"
            " (`FORWARDED_ALLOW_IPS=<proxy address>`), or every client counts as the proxy."
        ),
    )
    device_registrations_per_address_per_hour: int = Field(
        default=30, ge=1, **_doc("Anonymous device sign-ups from one address per hour.")
    )
    device_writes_per_hour: int = Field(
        default=120,
        ge=1,
        **_doc(
            'Writes (reports, photos, "me too", responses…) of one anonymous device per hour; registered'
            " accounts are not limited."
        ),
    )
    sign_in_failures_per_account: int = Field(
        default=10,
        ge=1,
        **_doc(
            "Failed sign-ins per e-mail address (whether or not it has an account) in the window; then 429"
            " until it ends, also for the right password."
        ),
    )
    sign_in_failures_per_address: int = Field(
        default=50, ge=1, **_doc("Failed sign-ins per client address in the window.")
    )
    sign_in_window_minutes: int = Field(default=15, ge=1, **_doc("The window of the two limits above."))
    open311_requests_per_key_per_hour: int = Field(
        default=600,
        ge=1,
        **_doc(
            "Service requests one Open311 api_key may submit per hour (a leaked key cannot flood the"
            " reports); then 429 with Retry-After in Open311's error format."
        ),
    )
    voting_code_failures_per_address: int = Field(
        default=30,
        ge=1,
        **_doc(
            "Unknown, revoked or misdirected voting codes (a lookup or a cast) per client address in the"
            " window; then 429 until it ends, also for a right code."
        ),
    )
    voting_code_window_minutes: int = Field(
        default=15, ge=1, **_doc("The window of the voting-code limit above.")
    )
    account_mails_per_address_per_hour: int = Field(
        default=10,
        ge=1,
        **_doc("Sign-up confirmations and password-reset mails per client address per hour."),
    )
    account_mails_per_email_per_hour: int = Field(
        default=3, ge=1, **_doc("The same per e-mail address per hour.")
    )

    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = getattr(dotenv_settings, "env_file", None)
        return (
            init_settings,
            env_settings,
            _FlatSectionSource(settings_cls, EnvSettingsSource(_FlatSectionFields)),
            dotenv_settings,
            _FlatSectionSource(settings_cls, DotEnvSettingsSource(_FlatSectionFields, env_file=env_file)),
            file_secret_settings,
        )

    @model_validator(mode="before")
    @classmethod
    def _flat_names_into_sections(cls, data: Any) -> Any:
        """``smtp_host=…`` (a keyword, or ``CIVICLOOP_SMTP_HOST``) sets ``notifications.smtp_host``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for section_name, section_cls in SECTIONS.items():
            flat = {name: data.pop(name) for name in flat_names(section_cls) if name in data}
            if not flat:
                continue
            given = data.get(section_name)
            if isinstance(given, BaseModel):
                given = {name: getattr(given, name) for name in given.model_fields_set}
            data[section_name] = {**(given or {}), **flat}
        return data

    @model_validator(mode="after")
    def _one_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
            raise ValueError("CIVICLOOP_SECRET_KEY must be set to a real secret in production")
        if self.notifications.secret_key != self.secret_key:
            self.notifications = self.notifications.model_copy(update={"secret_key": self.secret_key})
        return self


class _FlatSectionFields(NotificationSettings, BaseSettings):
    """The section's fields as pydantic-settings reads them under their flat names."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")


class _FlatSectionSource(PydanticBaseSettingsSource):
    """Values of a section's fields found under their flat names, handed on flat (the model's
    ``_flat_names_into_sections`` puts them into the section, as it does for keyword arguments)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False  # __call__ does the work

    def __call__(self) -> dict[str, Any]:
        values = self.inner()
        values.pop("secret_key", None)  # the application's own secret_key, copied in
        return values


def flat_names(section_cls: type[BaseModel]) -> list[str]:
    """The fields of a section that are settings of their own (``secret_key`` is the application's)."""
    return [name for name in section_cls.model_fields if name != "secret_key"]


@lru_cache
def get_settings() -> Settings:
    return Settings()


def environment_name(field_name: str) -> str:
    """The documented environment variable of a setting (``smtp_host`` → ``CIVICLOOP_SMTP_HOST``)."""
    if field_name == "database_url":
        return "DATABASE_URL"
    return ENV_PREFIX + field_name.upper()
