"""Settings: defaults < newswatch.toml < NEWSWATCH_* environment < command-line flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.config import ConfigError, load_settings


def test_defaults_work_offline(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_DB", raising=False)
    settings = load_settings()
    assert settings.db == Path("data/newswatch.duckdb")
    assert settings.timezone == "Asia/Almaty"
    # no ./seeds here: the seeds shipped with newswatch are used
    assert (settings.resolved_seeds_dir() / "watchlist.toml").is_file()
    assert settings.resolved_watchlist().name == "watchlist.toml"


def test_file_then_environment_then_flags(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    Path("newswatch.toml").write_text('db = "from-file.duckdb"\ntimezone = "UTC"\n')
    assert load_settings().db == Path("from-file.duckdb")
    monkeypatch.setenv("NEWSWATCH_DB", "from-env.duckdb")
    settings = load_settings()
    assert settings.db == Path("from-env.duckdb") and settings.timezone == "UTC"
    assert load_settings(db=Path("from-flag.duckdb")).db == Path("from-flag.duckdb")


def test_a_password_in_a_file_is_refused(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('smtp_password = "hunter2"\n')
    with pytest.raises(ConfigError, match="NEWSWATCH_SMTP_PASSWORD") as info:
        load_settings(config)
    assert "hunter2" not in str(info.value)


def test_the_password_comes_from_the_environment_and_is_not_shown(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_SMTP_PASSWORD", "hunter2")
    settings = load_settings()
    assert settings.smtp_password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize("content, message", [
    ('timezone = "Mars/Olympus"\n', "unknown time zone"),
    ("db = \n", "not valid TOML"),
    ('no_such_setting = 1\n', "no_such_setting"),
])
def test_bad_configuration_is_a_clear_error(tmp_path, content, message):
    config = tmp_path / "c.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_a_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no configuration file"):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize("variable, value, message", [
    ("NEWSWATCH_MAX_CONNECTIONS", "0", "max_connections (NEWSWATCH_MAX_CONNECTIONS): must be "
                                       "at least 1 (got '0')"),
    ("NEWSWATCH_URL_BATCH_SIZE", "0", "url_batch_size (NEWSWATCH_URL_BATCH_SIZE): must be at "
                                      "least 1"),
    ("NEWSWATCH_FETCH_RETRIES", "-3", "fetch_retries (NEWSWATCH_FETCH_RETRIES): must be at "
                                      "least 0"),
    ("NEWSWATCH_READ_TIMEOUT", "0", "read_timeout (NEWSWATCH_READ_TIMEOUT): must be more than 0"),
    ("NEWSWATCH_ALLOWED_NETWORKS", "intranet", "'intranet' is not a network: write "
                                               "10.0.0.0/8 or 127.0.0.1/32"),
    ("NEWSWATCH_SMTP_PORT", "70000", "smtp_port (NEWSWATCH_SMTP_PORT): must be at most 65535"),
])
def test_settings_out_of_range_are_one_clear_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert message in str(info.value)
    assert "\n" not in str(info.value) and "pydantic" not in str(info.value)


@pytest.mark.parametrize("value", ["127.0.0.1/32, 10.0.0.0/8", '["127.0.0.1/32", "10.0.0.0/8"]'])
def test_lists_in_the_environment_are_json_or_commas(monkeypatch, value):
    monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", value)
    monkeypatch.setenv("NEWSWATCH_MAIL_TO", "ann@example.org,bo@example.org")
    settings = load_settings()
    assert settings.allowed_networks == ["127.0.0.1/32", "10.0.0.0/8"]
    assert settings.mail_to == ["ann@example.org", "bo@example.org"]


def test_a_misspelt_setting_is_named_but_its_value_not_shown(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('smtp_pasword = "hunter2"\n')
    with pytest.raises(ConfigError, match="smtp_pasword .*not a setting") as info:
        load_settings(config)
    assert "hunter2" not in str(info.value)


def test_date_languages_are_dateparser_s_codes(monkeypatch):
    from newswatch.extractors.date_languages import DEFAULT_DATE_LANGUAGES

    assert load_settings().date_languages == list(DEFAULT_DATE_LANGUAGES)
    monkeypatch.setenv("NEWSWATCH_DATE_LANGUAGES", "ru, kk")
    assert load_settings().date_languages == ["ru", "kk"]
    monkeypatch.setenv("NEWSWATCH_DATE_LANGUAGES", "[]")            # all of them
    assert load_settings().date_languages == []
    monkeypatch.setenv("NEWSWATCH_DATE_LANGUAGES", "ru,tg")         # Tajik: not dateparser's
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "dateparser does not know 'tg'" in str(info.value)
