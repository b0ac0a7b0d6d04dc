"""Tests for aurorasoc.core.config."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from aurorasoc.core.config import Settings, get_settings, reset_settings


class TestDefaults:
    def test_embedded_defaults_need_no_environment(self, monkeypatch):
        monkeypatch.delenv("AURORA_DATA_DIR")
        monkeypatch.delenv("AURORA_MODE")
        settings = Settings()
        assert settings.mode == "real"
        assert settings.data_dir == Path("~/.aurorasoc").expanduser()
        assert settings.database_url == f"sqlite+aiosqlite:///{settings.data_dir / 'aurorasoc.db'}"
        assert settings.mqtt.port == 8883
        assert settings.ratelimit.requests == 300
        assert settings.agents.configured is False

    def test_database_url_follows_data_dir(self, tmp_path, monkeypatch):
        monkeypatch.setenv("AURORA_DATA_DIR", str(tmp_path / "x"))
        assert Settings().database_url.endswith(f"{tmp_path}/x/aurorasoc.db")


class TestEnvironment:
    def test_documented_names_map_to_groups(self, monkeypatch):
        monkeypatch.setenv("MQTT_PORT", "1883")
        monkeypatch.setenv("AURORA_RATE_LIMIT_REQUESTS", "7")
        monkeypatch.setenv("AURORA_OIDC_ROLE_MAP", '{"soc-admins": "admin"}')
        monkeypatch.setenv("AURORA_LOG_LEVEL", "debug")
        settings = Settings()
        assert settings.mqtt.port == 1883
        assert settings.ratelimit.requests == 7
        assert settings.oidc.role_map == {"soc-admins": "admin"}
        assert settings.observability.log_level == "DEBUG"

    def test_dotenv_file_is_read(self, tmp_path, monkeypatch):
        monkeypatch.delenv("AURORA_MODE")
        (tmp_path / ".env").write_text("AURORA_MODE=dry_run\nMQTT_ENABLED=true\n")
        settings = Settings()
        assert settings.mode == "dry_run"
        assert settings.mqtt.enabled is True

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("AURORA_MODE", "chaos"),
            ("MQTT_PORT", "70000"),
            ("AURORA_DATABASE_URL", "mysql://x"),
            ("JWT_SECRET_KEY", "short"),
            ("FEDERATION_SITE_TIER", "tertiary"),
        ],
    )
    def test_invalid_values_stop_startup_with_a_clear_error(self, monkeypatch, name, value):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError):
            Settings()

    def test_get_settings_is_cached_until_reset(self, monkeypatch):
        first = get_settings()
        monkeypatch.setenv("AURORA_MODE", "dummy")
        assert get_settings() is first
        reset_settings()
        assert get_settings().mode == "dummy"


class TestRedacted:
    def test_secrets_and_url_passwords_are_masked(self, monkeypatch):
        monkeypatch.setenv("AURORA_DATABASE_URL", "postgresql+asyncpg://aurora:hunter2@db/aurora")
        monkeypatch.setenv("AURORA_LLM_API_KEY", "sk-live-secret")
        shown = Settings().redacted()
        text = str(shown)
        assert "hunter2" not in text and "sk-live-secret" not in text
        assert "test-secret-key" not in text
        assert shown["database_url"] == "postgresql+asyncpg://aurora:****@db/aurora"
