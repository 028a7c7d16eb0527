"""Every ORDERHUB_* setting is parsed when read: a value orderhub cannot use is refused by name."""

from __future__ import annotations

from dataclasses import fields

import pytest

from orderhub.settings import _PARSERS, SettingError, Settings, unknown_variables


def test_every_setting_has_a_parser() -> None:
    assert {spec.name for spec in fields(Settings)} - {"extra"} == set(_PARSERS)


def test_defaults_and_good_values() -> None:
    assert Settings.from_env({}) == Settings()
    settings = Settings.from_env(
        {
            "ORDERHUB_PORT": " 9000 ",
            "ORDERHUB_SQLITE_SYNCHRONOUS": "extra",
            "ORDERHUB_LOG_LEVEL": "warning",
            "ORDERHUB_FULFIL_INLINE": "off",
            "ORDERHUB_WORKER_POLL_SECONDS": "0.05",
            "ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "2",
            "ORDERHUB_FINAL_ANSWER_BUDGET_SECONDS": "0",
            "ORDERHUB_DATABASE_URL": "postgresql://orderhub:secret@db.internal:5432/orderhub",
            "ORDERHUB_HUB_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.0/24",
            "ORDERHUB_PUBLIC_URL": "https://orders.example.com/",
            "ORDERHUB_DEMO_INVENTORY_SIZE": "0",
        }
    )
    assert settings.port == 9000
    assert settings.sqlite_synchronous == "EXTRA"
    assert settings.log_level == "WARNING"
    assert settings.fulfil_inline is False
    assert settings.worker_poll_seconds == 0.05
    assert settings.db_write_timeout_seconds == 2.0
    assert settings.final_answer_budget_seconds == 0.0
    assert settings.database_url.startswith("postgresql://")
    assert settings.demo_inventory_size == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ORDERHUB_SQLITE_SYNCHRONOUS", "bogus", "must be one of FULL, EXTRA, NORMAL (got 'bogus')"),
        ("ORDERHUB_SQLITE_SYNCHRONOUS", "OFF", "must be one of FULL, EXTRA, NORMAL (got 'OFF')"),
        ("ORDERHUB_LOG_LEVEL", "bogus", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'bogus')"),
        ("ORDERHUB_PORT", "abc", "must be a whole number from 1 to 65535 (got 'abc')"),
        ("ORDERHUB_PORT", "0", "must be a whole number from 1 to 65535 (got '0')"),
        ("ORDERHUB_PORT", "65536", "must be a whole number from 1 to 65535 (got '65536')"),
        ("ORDERHUB_PORT", "80.5", "must be a whole number from 1 to 65535 (got '80.5')"),
        ("ORDERHUB_DB_WRITERS", "0", "must be a whole number of at least 1 (got '0')"),
        ("ORDERHUB_MAX_BODY_BYTES", "-1", "must be a whole number of at least 1 (got '-1')"),
        ("ORDERHUB_MAX_BODY_BYTES", "1_000", "must be a whole number of at least 1 (got '1_000')"),
        ("ORDERHUB_FULFIL_INLINE", "maybe", "must be true or false (or 1/0, yes/no, on/off) (got 'maybe')"),
        ("ORDERHUB_WORKER_POLL_SECONDS", "nan", "must be a number of seconds greater than 0 (got 'nan')"),
        ("ORDERHUB_WORKER_POLL_SECONDS", "inf", "must be a number of seconds greater than 0 (got 'inf')"),
        ("ORDERHUB_DB_WRITE_TIMEOUT_SECONDS", "0", "must be a number of seconds greater than 0 (got '0')"),
        ("ORDERHUB_FINAL_ANSWER_BUDGET_SECONDS", "-1", "must be a number of seconds of at least 0 (got '-1')"),
        ("ORDERHUB_DATABASE_URL", "/path/file.db", "must be a database URL"),
        ("ORDERHUB_DATABASE_URL", "", "must be a database URL"),
        ("ORDERHUB_DATABASE_URL", "mysql://db/orderhub", "must be a database URL"),
        ("ORDERHUB_HUB_ALLOWED_NETWORKS", "10.0.0.0/33", "must be empty or comma-separated CIDR blocks"),
        ("ORDERHUB_PUBLIC_URL", "orders.example.com", "must be empty or an http:// or https:// URL"),
        ("ORDERHUB_HOST", "", "must be a host name or IP address"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_the_value_and_what_is_allowed(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingError) as refused:
        Settings.from_env({variable: value})
    assert str(refused.value).startswith(f"{variable} {message}")
    assert repr(value) in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("postgresql://u:pw@127.0.0.1:54x2/db", "postgresql://***@127.0.0.1:54x2/db"),
        ("postgresql://u:pw@[::1:5432/db", "postgresql://***@[::1:5432/db"),
        ("postgresql://u:pw@host:0/db", "postgresql://***@host:0/db"),
        ("postgresql://u:pw@host:65536/db", "postgresql://***@host:65536/db"),
        ("postgresql://u@host:/db", "postgresql://***@host:/db"),
    ],
)
def test_a_database_url_whose_port_is_no_port_is_refused_without_its_credentials(value: str, shown: str) -> None:
    with pytest.raises(SettingError) as refused:
        Settings.from_env({"ORDERHUB_DATABASE_URL": value})
    assert str(refused.value).startswith("ORDERHUB_DATABASE_URL must be a database URL whose host is followed by")
    assert str(refused.value).endswith(f"(got {shown!r})")


def test_postgres_urls_as_platforms_hand_them_out_are_postgresql() -> None:
    for given, used in [
        ("postgres://u:pw@db:5432/orderhub", "postgresql://u:pw@db:5432/orderhub"),
        ("postgres+psycopg://u@db/orderhub", "postgresql+psycopg://u@db/orderhub"),
        (" postgresql://u@[::1]:5432/orderhub ", "postgresql://u@[::1]:5432/orderhub"),
    ]:
        assert Settings.from_env({"ORDERHUB_DATABASE_URL": given}).database_url == used


def test_the_db_option_is_checked_as_the_variable_is() -> None:
    with pytest.raises(SettingError, match=r"^--db must be a database URL.*\(got '/path/file.db'\)$"):
        Settings.from_env({}, database_url="/path/file.db")
    assert Settings.from_env({}, database_url="sqlite:///./x.db").database_url == "sqlite:///./x.db"


def test_only_variables_that_are_no_setting_are_named_with_the_nearest_setting() -> None:
    environ = {
        "ORDERHUB_PORT": "9000",
        "ORDERHUB_DB_WRITE_TIMEOUT": "5",
        "ORDERHUB_TEST_POSTGRES": "postgresql://127.0.0.1/test",
        "ORDERHUB_ZZZ": "1",
        "PATH": "/usr/bin",
    }
    assert unknown_variables(environ) == [
        "ORDERHUB_DB_WRITE_TIMEOUT is not an orderhub setting"
        " (did you mean ORDERHUB_DB_WRITE_TIMEOUT_SECONDS?): ignored",
        "ORDERHUB_ZZZ is not an orderhub setting: ignored",
    ]
    every_setting = {f"ORDERHUB_{name.upper()}": "" for name in _PARSERS}
    assert unknown_variables(every_setting) == []


@pytest.mark.parametrize("value", ["short-token", "a token with spaces in it", "tøken-with-non-ascii-0123"])
def test_a_refused_metrics_token_is_not_shown(value: str) -> None:
    with pytest.raises(SettingError) as refused:
        Settings.from_env({"ORDERHUB_METRICS_TOKEN": value})
    assert str(refused.value) == (
        "ORDERHUB_METRICS_TOKEN must be empty or 16 to 256 visible ASCII characters without spaces (got '***')"
    )
    assert Settings.from_env({"ORDERHUB_METRICS_TOKEN": "scrape-token-0123456789"}).metrics_token
