"""Settings: every variable validated when read, one-line errors naming it, the README's table."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from samvad import cli
from samvad.settings import (
    SETTINGS,
    Parser,
    Setting,
    Settings,
    SettingsError,
    _count,
    _fraction,
    _path,
    _port,
    _positive,
    _postgres_url,
    _redis_url,
    _seconds,
    _staff_ids,
    _text,
    _url,
    _urls,
    settings_table,
)

README = Path(__file__).resolve().parents[1] / "README.md"
TABLE_HEADER = "| variable | default | meaning |"

# What each kind of parser must refuse.
BAD_VALUES: dict[Parser, tuple[str, ...]] = {
    _fraction: ("high", "1.5", "-0.1", "nan"),
    _positive: ("soon", "0", "-3", "nan", "inf"),
    _count: ("many", "0", "-2", "1.5", "²"),
    _seconds: ("soon", "-0.5", "nan", "inf"),
    _port: ("http", "0", "65536", "-1", "²"),
    _url: ("localhost:5005", "ftp://x.example", "127.0.0.1", "http://"),
    _urls: (
        "localhost:5005",
        "http://rasa:5005,ftp://x.example",
        ",",
        "http://rasa:5005, http://rasa:5005/",
    ),
    _staff_ids: ("alice", "12,bob", "1.5", "--5", "¹²"),
    _postgres_url: (
        "127.0.0.1:5432",
        "mysql://u@db/samvad",
        "postgresql://db:5432/samvad",
        "postgresql://u@db:5432/",
        "postgresql://u:secret@db/samvad",
        "postgresql://u@db:99999/samvad",
        "postgresql://u@:5432/samvad",
    ),
    _redis_url: (
        "127.0.0.1:6379",
        "http://cache:6379/1",
        "redis://cache:6379/one",
        "redis://:secret@cache:6379/1",
        "redis://cache:port/1",
        "redis:///1",
    ),
}
CHOICE_BAD_VALUES = ("fastest", "verbose")
NOT_VALIDATED: frozenset[Parser] = frozenset({_text, _path})


def is_choice(setting: Setting) -> bool:
    return setting.parse.__qualname__.startswith("_choice.")


def bad_values(setting: Setting) -> tuple[str, ...]:
    return CHOICE_BAD_VALUES if is_choice(setting) else BAD_VALUES[setting.parse]


VALIDATED = [s for s in SETTINGS if s.parse not in NOT_VALIDATED]
BAD_CASES = [
    pytest.param(s.variable, bad, id=f"{s.variable}={bad}")
    for s in VALIDATED
    for bad in bad_values(s)
]

# A good value for every variable, and the field value it must give.
GOOD: dict[str, tuple[str, Any]] = {
    "SAMVAD_KNOWLEDGE_DIR": ("/srv/knowledge", Path("/srv/knowledge")),
    "SAMVAD_INDEX_DIR": ("/srv/index", Path("/srv/index")),
    "SAMVAD_DATA_DIR": ("~/samvad-var", Path("~/samvad-var").expanduser()),
    "SAMVAD_MODEL": ("/models/e5", "/models/e5"),
    "SAMVAD_MODEL_CACHE": ("/cache/models", Path("/cache/models")),
    "SAMVAD_MODEL_ADAPTER": ("E5-Small-MR-EN", "e5-small-mr-en"),
    "SAMVAD_PRECISION": ("BFloat16", "bfloat16"),
    "SAMVAD_SEARCH_MODE": ("Hybrid", "hybrid"),
    "SAMVAD_DECISION": ("Calibrated", "calibrated"),
    "SAMVAD_ABSTAIN_BELOW": ("0.7", 0.7),
    "SAMVAD_AGREEMENT_BELOW": ("0", 0.0),
    "SAMVAD_CONFIRM_BELOW": ("0.9", 0.9),
    "SAMVAD_CONFIRM_AGREEMENT_BELOW": ("1", 1.0),
    "SAMVAD_HELPLINE_MR": ("हेल्पलाइन: १८००", "हेल्पलाइन: १८००"),
    "SAMVAD_HELPLINE_EN": ("Helpline: 1800", "Helpline: 1800"),
    "SAMVAD_RETENTION_DAYS": ("30", 30),
    "SAMVAD_RASA_TOKEN": ("s3cret", "s3cret"),
    "SAMVAD_AUDIT_RETENTION_DAYS": ("730", 730),
    "SAMVAD_TRACKER_DB": ("/srv/rasa/tracker.db", Path("/srv/rasa/tracker.db")),
    "SAMVAD_USER_SALT": ("user-salt-value", "user-salt-value"),
    "SAMVAD_STORES": ("Shared", "shared"),
    "SAMVAD_POSTGRES_URL": (
        "postgresql://rasa@db.city:5432/chat",
        "postgresql://rasa@db.city:5432/chat",
    ),
    "SAMVAD_POSTGRES_PASSWORD_FILE": ("/etc/samvad/pg", Path("/etc/samvad/pg")),
    "SAMVAD_REDIS_URL": ("redis://cache.city:6379/2", "redis://cache.city:6379/2"),
    "SAMVAD_REDIS_PASSWORD_FILE": ("/etc/samvad/redis", Path("/etc/samvad/redis")),
    "TELEGRAM_BOT_TOKEN": ("123456:token-value", "123456:token-value"),
    "SAMVAD_TELEGRAM_BASE_URL": ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/bot"),
    "SAMVAD_WEBHOOK_URL": ("https://bot.example/hook", "https://bot.example/hook"),
    "SAMVAD_WEBHOOK_SECRET": ("webhook-secret-value", "webhook-secret-value"),
    "SAMVAD_WEBHOOK_LISTEN": ("0.0.0.0", "0.0.0.0"),
    "SAMVAD_WEBHOOK_PORT": ("65535", 65535),
    "SAMVAD_RASA_URL": (
        "http://rasa:5005/, http://rasa2:5005",
        ("http://rasa:5005", "http://rasa2:5005"),
    ),
    "SAMVAD_RASA_TIMEOUT": ("2.5", 2.5),
    "SAMVAD_RASA_PORT": ("1", 1),
    "SAMVAD_ACTIONS_PORT": ("5056", 5056),
    "SAMVAD_FLOOD_MESSAGES": ("1", 1),
    "SAMVAD_FLOOD_SECONDS": ("0.5", 0.5),
    "SAMVAD_CONCURRENT_UPDATES": ("8", 8),
    "SAMVAD_TYPING_DELAY": ("0", 0.0),
    "SAMVAD_SENDER_SALT": ("sender-salt-value", "sender-salt-value"),
    "SAMVAD_STAFF_IDS": (" 123; -456 ,789,", frozenset({123, -456, 789})),
    "SAMVAD_STAFF_CHECK_SECONDS": ("60", 60.0),
    "SAMVAD_LOG_LEVEL": ("debug", "DEBUG"),
    "SAMVAD_READY_FILE": ("/tmp/samvad.ready", Path("/tmp/samvad.ready")),
}
SECRETS = (
    "SAMVAD_RASA_TOKEN",
    "TELEGRAM_BOT_TOKEN",
    "SAMVAD_WEBHOOK_SECRET",
    "SAMVAD_USER_SALT",
    "SAMVAD_SENDER_SALT",
)


def test_every_validating_parser_has_bad_values_to_try() -> None:
    unknown = [s.variable for s in VALIDATED if not is_choice(s) and s.parse not in BAD_VALUES]
    assert unknown == []


def test_only_free_text_and_folders_go_unvalidated() -> None:
    defaults = Settings()
    for setting in SETTINGS:
        if setting.parse in NOT_VALIDATED:
            assert isinstance(getattr(defaults, setting.field), str | Path | None)


def test_the_table_and_the_settings_fields_match_one_to_one() -> None:
    variables = [s.variable for s in SETTINGS]
    assert len(set(variables)) == len(variables)
    assert sorted(s.field for s in SETTINGS) == sorted(f.name for f in fields(Settings))


@pytest.mark.parametrize(("variable", "bad"), BAD_CASES)
def test_a_bad_value_stops_start_up_naming_the_variable(variable: str, bad: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: bad})
    message = str(raised.value)
    assert variable in message and "\n" not in message


def test_good_values_are_parsed() -> None:
    settings = Settings.from_env({variable: raw for variable, (raw, _) in GOOD.items()})
    assert sorted(GOOD) == sorted(s.variable for s in SETTINGS)
    for setting in SETTINGS:
        assert getattr(settings, setting.field) == GOOD[setting.variable][1], setting.variable
    assert settings.webhook
    assert (
        settings.helpline("mr") == "हेल्पलाइन: १८००" and settings.helpline("en") == "Helpline: 1800"
    )


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_value_means_the_default(blank: str) -> None:
    assert Settings.from_env({s.variable: blank for s in SETTINGS}) == Settings()
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    "env",
    [
        {"SAMVAD_WEBHOOK_URL": "https://bot.example/hook"},
        {"SAMVAD_WEBHOOK_SECRET": "webhook-secret-value"},
    ],
    ids=["url-without-secret", "secret-without-url"],
)
def test_a_webhook_needs_both_its_address_and_its_secret(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="SAMVAD_WEBHOOK_URL and SAMVAD_WEBHOOK_SECRET"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("confirm", "abstain", "named"),
    [
        ("SAMVAD_CONFIRM_BELOW", "SAMVAD_ABSTAIN_BELOW", "SAMVAD_CONFIRM_BELOW"),
        ("SAMVAD_CONFIRM_AGREEMENT_BELOW", "SAMVAD_AGREEMENT_BELOW", "CONFIRM_AGREEMENT"),
    ],
    ids=["confidence", "agreement"],
)
def test_the_offer_threshold_may_not_be_below_the_refusal_threshold(
    confirm: str, abstain: str, named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({confirm: "0.3", abstain: "0.4"})
    assert Settings.from_env({confirm: "0.4", abstain: "0.4"})  # equal is allowed


def test_repr_never_shows_the_token_secret_or_salts() -> None:
    env = {variable: GOOD[variable][0] for variable in (*SECRETS, "SAMVAD_WEBHOOK_URL")}
    settings = Settings.from_env(env)
    shown = repr(settings)
    for variable in SECRETS:
        assert GOOD[variable][0] not in shown
    assert shown.count("<set>") == len(SECRETS)
    assert "token=None" in repr(Settings())


def test_the_readme_settings_table_is_the_generated_one() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADER)
    end = lines.index("", start)
    assert "\n".join(lines[start:end]) == settings_table()


def test_samvad_help_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert [s.variable for s in SETTINGS if s.variable not in shown] == []
