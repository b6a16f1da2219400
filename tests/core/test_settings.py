"""The one settings model: every documented name reaches the code that uses it, the same way for every
command, and the README's table is the model's."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from api import docs_tables
from api.app import create_app
from core.settings import NotificationSettings, Settings, environment_name, flat_names


def settings_from_environment() -> Settings:
    return Settings(_env_file=None)


def test_a_notification_setting_from_the_environment_reaches_serve_and_the_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``CIVICLOOP_HTTP_TIMEOUT_SECONDS`` once worked for ``civicloop worker run`` only."""
    monkeypatch.setenv("CIVICLOOP_HTTP_TIMEOUT_SECONDS", "3.5")
    monkeypatch.setenv("CIVICLOOP_SMTP_PORT", "2525")
    monkeypatch.setenv("CIVICLOOP_NETWORK_ALLOWLIST", '["push.example.org", "10.0.0.0/8"]')
    monkeypatch.setenv("CIVICLOOP_MEDIA_DIR", str(tmp_path))
    settings = settings_from_environment()
    # civicloop worker run hands settings.notifications to the worker; civicloop serve builds the app.
    assert settings.notifications.http_timeout_seconds == 3.5
    served = create_app(settings).state.notification_settings
    assert served.http_timeout_seconds == 3.5
    assert served.smtp_port == 2525
    assert served.network_allowlist == ["push.example.org", "10.0.0.0/8"]


def test_every_section_setting_is_read_under_its_flat_name(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = NotificationSettings()
    for name in flat_names(NotificationSettings):
        # A value that differs from the default and passes the field's bounds.
        value = getattr(defaults, name)
        if isinstance(value, bool):
            raw = str(not value).lower()
        elif isinstance(value, int | float):
            raw = str(value + 1)
        elif isinstance(value, list):
            raw = '["allowed.example.org"]'
        else:
            raw = "/changed" if isinstance(value, Path) else "changed"
        monkeypatch.setenv(environment_name(name), raw)
    section = settings_from_environment().notifications
    for name in flat_names(NotificationSettings):
        assert getattr(section, name) != getattr(defaults, name), name


def test_a_bad_value_under_a_flat_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLOOP_SMTP_PORT", "70000")
    with pytest.raises(ValueError, match="smtp_port"):
        settings_from_environment()


def test_keywords_take_the_flat_names_and_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLOOP_SMTP_HOST", "from-environment")
    monkeypatch.setenv("CIVICLOOP_SMTP_PORT", "2525")
    settings = Settings(_env_file=None, smtp_host="from-keyword")
    assert settings.notifications.smtp_host == "from-keyword"
    assert settings.notifications.smtp_port == 2525


def test_the_section_signs_with_the_application_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLOOP_SECRET_KEY", "from-environment")
    assert settings_from_environment().notifications.secret_key.get_secret_value() == "from-environment"
    given = Settings(_env_file=None, secret_key=SecretStr("given"))
    assert given.notifications.secret_key.get_secret_value() == "given"


def test_the_env_file_fills_sections_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CIVICLOOP_SMTP_HOST=mail.example.org\nCIVICLOOP_DB_POOL_SIZE=3\n")
    settings = Settings(_env_file=env_file)
    assert settings.notifications.smtp_host == "mail.example.org"
    assert settings.db_pool_size == 3


def test_the_readme_table_is_the_model() -> None:
    readme = docs_tables.README.read_text(encoding="utf-8")
    assert docs_tables.readme_with_settings_table(readme) == readme, "run python -m api.docs_tables"
    names = [row[0] for row in docs_tables.settings_rows()]
    assert len(names) == len(set(names))
    for name in ("CIVICLOOP_HTTP_TIMEOUT_SECONDS", "CIVICLOOP_SECRET_KEY", "DATABASE_URL"):
        assert f"| `{name}` |" in readme


def test_every_setting_has_a_meaning() -> None:
    assert all(meaning for _, _, meaning in docs_tables.settings_rows())
