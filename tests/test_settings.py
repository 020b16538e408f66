import subprocess
import sys

import pytest

from bot.settings import SettingsError, load


def test_defaults() -> None:
    s = load({})
    assert s.database_url.startswith("sqlite:///") and s.channel_prefix == "inc"
    assert str(s.timezone) == "UTC" and s.timeline_emoji == "pushpin" and s.port == 3000
    assert s.api_url == "https://slack.com/api/"
    assert (s.host, s.metrics_port, s.log_format) == ("0.0.0.0", None, "text")


def test_host_port_metrics_port_and_log_format() -> None:
    s = load({"HOST": "127.0.0.1", "PORT": "8080", "METRICS_PORT": "9464",
              "LOG_FORMAT": "JSON"})
    assert (s.host, s.port, s.metrics_port, s.log_format) == ("127.0.0.1", 8080, 9464, "json")
    assert load({"HOST": "::"}).host == "::"
    assert load({"HOST": "sitrep.internal"}).host == "sitrep.internal"


@pytest.mark.parametrize("env, name", [
    ({"INCIDENT_TIMEZONE": "Mars/Olympus"}, "INCIDENT_TIMEZONE"),
    ({"PORT": "eighty"}, "PORT"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
    ({"INCIDENT_CHANNEL_PREFIX": "INC!"}, "INCIDENT_CHANNEL_PREFIX"),
    ({"DB_POOL_TIMEOUT": "-1"}, "DB_POOL_TIMEOUT"),
    ({"SLACK_BOT_TOKEN": "nope"}, "SLACK_BOT_TOKEN"),
    ({"REMINDER_CRON": "daily"}, "REMINDER_CRON"),
    ({"HOST": "0.0.0.0:3000"}, "HOST"),
    ({"HOST": "two words"}, "HOST"),
    ({"PORT": "70000"}, "PORT"),
    ({"METRICS_PORT": "0"}, "METRICS_PORT"),
    ({"METRICS_PORT": "3000"}, "METRICS_PORT"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
])
def test_malformed_settings_name_themselves(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load(env)


def test_cli_exits_2_with_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "INCIDENT_TIMEZONE": "Nowhere/Land"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "INCIDENT_TIMEZONE" in result.stderr
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env={"PATH": "/bin"},
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2 and "SLACK_BOT_TOKEN" in result.stderr


def test_channel_message_retention_days() -> None:
    assert load({}).channel_message_retention_days == 30
    assert load({"CHANNEL_MESSAGE_RETENTION_DAYS": "7"}).channel_message_retention_days == 7
    for bad in ("0", "-1", "a week"):
        with pytest.raises(SettingsError, match="CHANNEL_MESSAGE_RETENTION_DAYS"):
            load({"CHANNEL_MESSAGE_RETENTION_DAYS": bad})
