import os

import pytest

from argos_core import settings
from argos_core.errors import ConfigurationError
from argos_core.tokens import TokenSigner


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv(settings.DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(settings.SECRET_KEY_ENV, raising=False)
    return tmp_path


def test_database_url_comes_from_flag_then_environment_then_local_file(monkeypatch, tmp_path):
    default = settings.resolve_database_url(None)
    assert default == f"sqlite:///{tmp_path / 'argos' / 'argos.db'}"
    monkeypatch.setenv(settings.DATABASE_URL_ENV, "mysql+pymysql://u:p@db/argos")
    assert settings.resolve_database_url(None) == "mysql+pymysql://u:p@db/argos"
    assert settings.resolve_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_embedded_mode_keeps_one_private_secret_key(tmp_path):
    first = settings.resolve_secret_key("sqlite:///x.db")
    assert first == settings.resolve_secret_key("sqlite:///x.db")
    TokenSigner(first)  # long enough to sign with
    key_file = tmp_path / "argos" / "secret.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_mysql_needs_an_explicit_secret_key(monkeypatch):
    assert settings.resolve_secret_key("mysql+pymysql://u@db/argos") is None
    monkeypatch.setenv(settings.SECRET_KEY_ENV, "s" * 40)
    assert settings.resolve_secret_key("mysql+pymysql://u@db/argos") == "s" * 40
    with pytest.raises(ConfigurationError):
        TokenSigner("too-short")
    assert os.environ[settings.SECRET_KEY_ENV] == "s" * 40
