import pytest

from icc_app.settings import Settings, SettingsError, load_settings


def test_missing_secret_is_named(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(Settings, "model_config", {**Settings.model_config, "env_file": None})
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert "SECRET_KEY: is required but not set" in str(exc.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x/y", "must start with sqlite:/// or postgresql://"),
        ("REDIS_URL", "http://localhost", "redis://"),
        ("STORAGE_URL", "s3://", "bucket"),
        ("SMTP_URL", "smtp://", "needs a host"),
        ("ENCRYPTION_KEYS", "not-a-key", "key #1 is not a valid Fernet key"),
        ("TIMEZONE", "Mars/Olympus", "unknown IANA timezone"),
        ("SECRET_KEY", "short", "at least 32 characters"),
    ],
)
def test_malformed_values_fail_with_the_variable_named(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert f"{variable}:" in str(exc.value)
    assert message in str(exc.value)


def test_postgres_scheme_uses_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().database_url == "postgresql+psycopg://u@h/db"


def test_embedded_mode_without_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "")
    settings = load_settings()
    assert settings.embedded_tasks and settings.redis_url is None
