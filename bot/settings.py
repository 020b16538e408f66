"""Settings from the environment (and a ``.env`` file), checked once at start-up.

A missing or malformed setting is a ``SettingsError`` naming it; the CLI prints that one
line and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.common.cron import cron_error
from storage.db import PoolSettings

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATA_DIR = Path("data")
LOG_FORMATS = ("text", "json")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


SEVERITY_NAMES = ("sev1", "sev2", "sev3", "sev4")
DEFAULT_UPDATE_EVERY = {"sev1": dt.timedelta(minutes=30), "sev2": dt.timedelta(hours=1),
                        "sev3": dt.timedelta(hours=4)}
_DURATION = re.compile(r"(\d+)\s*(m|min|h|d)")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400}


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL
    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR}/sitrep.db"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    channel_prefix: str = "inc"
    announce_channel: str | None = None
    timeline_emoji: str = "pushpin"
    host: str = "0.0.0.0"
    port: int = 3000
    metrics_port: int | None = None
    pool: PoolSettings = field(default_factory=PoolSettings)
    templates_dir: Path | None = None
    reminder_cron: str = "0 9 * * mon-fri"
    reminder_lead_days: int = 2
    escalate_after_days: int = 3
    reminder_poll_seconds: int = 30
    log_level: str = "INFO"
    log_format: str = "text"
    slack_timeout: float = 10.0
    #: The inbox: events answered but not yet applied (``storage.spool``); a persistent volume.
    spool_dir: Path = DEFAULT_DATA_DIR / "spool"
    #: Days after an incident's resolution its channel's kept messages are forgotten.
    channel_message_retention_days: int = 30
    #: ``INCIDENT_ROLES``: the roles of an incident; the lead is always the first.
    incident_roles: tuple[str, ...] = ("lead", "comms", "scribe")
    #: ``INCIDENT_RESTRICT``: ``anyone`` in the channel may change anything, or only the
    #: lead and role holders may change severity, status, roles, resolve or reopen.
    incident_restrict: str = "anyone"
    #: ``UPDATE_EVERY``: how long an open incident of each severity may go without a status
    #: update before its channel is nudged; a severity not named is never nudged.
    update_every: Mapping[str, dt.timedelta] = field(
        default_factory=lambda: dict(DEFAULT_UPDATE_EVERY))
    #: ``UPDATES_TO_ORIGIN``: status updates also go to the channel the incident was declared in.
    updates_to_origin: bool = True
    #: ``POSTMORTEM_DUE_DAYS``: working days after resolution before the lead is reminded
    #: that the postmortem is not published.
    postmortem_due_days: int = 5
    #: ``DIGEST_CHANNEL`` (unset: no digest) and ``DIGEST_CRON`` (in ``INCIDENT_TIMEZONE``).
    digest_channel: str | None = None
    digest_cron: str = "0 9 * * mon"
    #: ``WEB_PORT``: the web view's own port (unset: ``serve`` serves no pages; ``web`` uses
    #: 3001). ``WEB_BASE_URL``: its public address, for links from Slack and sign-in.
    web_port: int | None = None
    web_base_url: str | None = None
    #: ``WEB_AUTH``: ``slack`` (Sign in with Slack) or ``none`` (local development only:
    #: refused unless ``HOST`` is a loopback address).
    web_auth: str = "slack"
    #: ``WEB_SECRET_KEY``: signs the web view's session cookies.
    web_secret_key: str | None = None
    #: ``SLACK_CLIENT_ID`` / ``SLACK_CLIENT_SECRET``: the app's OAuth credentials (sign-in).
    client_id: str | None = None
    client_secret: str | None = None
    #: ``API_TOKENS``: SHA-256 hashes (hex) of the JSON API's bearer tokens.
    api_token_hashes: tuple[str, ...] = ()

    def require_slack(self, socket: bool = False) -> None:
        """Fail unless the credentials for serving real Slack are present."""
        needed = {"SLACK_BOT_TOKEN": self.bot_token}
        if socket:
            needed["SLACK_APP_TOKEN"] = self.app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.signing_secret
        for name, value in needed.items():
            if not value:
                raise SettingsError(f"{name} is not set (see README: Setting up in Slack)")


    def require_web(self) -> None:
        """Fail unless the web view can sign people in: with ``WEB_AUTH=slack`` it needs the
        app's OAuth credentials and a fixed key for its session cookies (a random one per
        process would sign everyone out at each restart, and differ between replicas)."""
        if self.web_auth != "slack":
            return
        needed = {"WEB_SECRET_KEY": self.web_secret_key, "SLACK_CLIENT_ID": self.client_id,
                  "SLACK_CLIENT_SECRET": self.client_secret,
                  # Whose workspace may sign in (auth.test) and who was deactivated (users.info).
                  "SLACK_BOT_TOKEN": self.bot_token}
        for name, value in needed.items():
            if not value:
                raise SettingsError(f"{name} is not set: the web view signs people in with "
                                    "Slack (WEB_AUTH=slack; see README: Sign in with Slack)")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0,
         maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, not {value}")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    return _int(env, name, default, minimum=1, maximum=65535)


def _host(env: Mapping[str, str]) -> str:
    """``HOST``: an IP address (``0.0.0.0``, ``127.0.0.1``, ``::``) or a host name."""
    host = env.get("HOST", "").strip() or Settings.host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise SettingsError(f"HOST must be an IP address or a host name like 127.0.0.1, "
                                f"0.0.0.0 or ::, not {host!r}") from None
    return host


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {raw}")
    return value


_ROLE = re.compile(r"[a-z][a-z0-9_-]{0,19}")
#: Names that are not roles: ``/incident role <name>`` would read them as something else.
_NOT_ROLES = frozenset({"roles", "list", "clear", "none"})
#: At most this many roles (the lead included), so each incident card can show them all.
MAX_ROLES = 8


def _roles(env: Mapping[str, str]) -> tuple[str, ...]:
    """``INCIDENT_ROLES``: comma-separated lowercase names; ``lead`` always exists (first)."""
    raw = env.get("INCIDENT_ROLES", "").strip()
    if not raw:
        return Settings.incident_roles
    names = [n.strip().lower() for n in raw.split(",")]
    for name in names:
        if not _ROLE.fullmatch(name) or name in _NOT_ROLES:
            raise SettingsError(
                "INCIDENT_ROLES must be comma-separated role names (a lowercase letter, then up "
                f"to 19 letters, digits, - or _), like lead,comms,scribe; not {name!r}")
    if len(set(names)) != len(names):
        raise SettingsError(f"INCIDENT_ROLES names a role twice: {raw!r}")
    roles = ("lead", *[n for n in names if n != "lead"])
    if len(roles) > MAX_ROLES:
        raise SettingsError(f"INCIDENT_ROLES allows at most {MAX_ROLES} roles (the lead "
                            f"included), not {len(roles)}")
    return roles


def _restrict(env: Mapping[str, str]) -> str:
    value = (env.get("INCIDENT_RESTRICT", "").strip() or "anyone").lower()
    if value not in ("anyone", "roles"):
        raise SettingsError(f"INCIDENT_RESTRICT must be anyone or roles, not {value!r}")
    return value


def _update_every(env: Mapping[str, str]) -> dict[str, dt.timedelta]:
    """``UPDATE_EVERY``: ``sev1=30m,sev2=1h,sev3=4h`` (``off``: no nudges at all)."""
    raw = env.get("UPDATE_EVERY", "").strip().lower()
    if not raw:
        return dict(DEFAULT_UPDATE_EVERY)
    if raw in ("off", "none"):
        return {}
    every: dict[str, dt.timedelta] = {}
    for part in raw.split(","):
        name, _, value = part.strip().partition("=")
        name, value = name.strip(), value.strip()
        match = _DURATION.fullmatch(value)
        if name not in SEVERITY_NAMES or not match or int(match.group(1)) == 0:
            raise SettingsError(
                "UPDATE_EVERY must be severity=interval pairs like sev1=30m,sev2=1h,sev3=4h "
                f"(minutes m, hours h, days d; or off), not {part.strip()!r}")
        if name in every:
            raise SettingsError(f"UPDATE_EVERY names {name} twice: {raw!r}")
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds < 300:
            raise SettingsError(f"UPDATE_EVERY must give each severity at least 5m, not "
                                f"{part.strip()!r}")
        every[name] = dt.timedelta(seconds=seconds)
    return every


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _web_auth(env: Mapping[str, str], host: str) -> str:
    value = (env.get("WEB_AUTH", "").strip() or "slack").lower()
    if value not in ("slack", "none"):
        raise SettingsError(f"WEB_AUTH must be slack or none, not {value!r}")
    if value == "none" and not _loopback(host):
        raise SettingsError("WEB_AUTH=none is for local development only: set HOST to a "
                            f"loopback address like 127.0.0.1, not {host!r}")
    return value


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _base_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("WEB_BASE_URL", "").strip()
    if not raw:
        return None
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", raw):
        raise SettingsError(f"WEB_BASE_URL must be an http(s) URL, not {raw!r}")
    return raw.rstrip("/")


def _secret_key(env: Mapping[str, str]) -> str | None:
    """``WEB_SECRET_KEY``: at least 32 characters (``python -c 'import secrets;
    print(secrets.token_hex(32))'``), since it is all that stands behind a session cookie."""
    key = _opt(env, "WEB_SECRET_KEY")
    if key is not None and len(key) < 32:
        raise SettingsError("WEB_SECRET_KEY must be at least 32 characters (try: python -c "
                            "'import secrets; print(secrets.token_hex(32))')")
    return key


def _api_tokens(env: Mapping[str, str]) -> tuple[str, ...]:
    """``API_TOKENS``: comma-separated SHA-256 hex digests (never the tokens themselves)."""
    raw = env.get("API_TOKENS", "").strip()
    if not raw:
        return ()
    digests = tuple(t.strip().lower() for t in raw.split(",") if t.strip())
    for digest in digests:
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise SettingsError("API_TOKENS must be comma-separated SHA-256 hex digests of the "
                                "tokens (printf %s TOKEN | sha256sum), not the tokens")
    return digests


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def load(env: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Read settings from ``env`` (default: ``os.environ`` plus ``./.env``)."""
    if env is None:
        if dotenv:
            from dotenv import dotenv_values

            file_values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
            env = {**file_values, **os.environ}
        else:
            env = dict(os.environ)

    tz_name = env.get("INCIDENT_TIMEZONE", "").strip() or "UTC"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"INCIDENT_TIMEZONE {tz_name!r} is not a time zone name like Europe/Paris"
        ) from None

    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    if not re.match(r"^https?://[^/\s]+", api_url):
        raise SettingsError(f"SLACK_API_URL must be an http(s) URL, not {api_url!r}")
    if not api_url.endswith("/"):
        api_url += "/"

    database_url = env.get("DATABASE_URL", "").strip() or Settings.database_url
    if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", database_url):
        raise SettingsError(
            "DATABASE_URL must be a sqlite:/// or postgresql:// URL, not "
            f"{database_url.split('://')[0]!r}"
        )

    prefix = env.get("INCIDENT_CHANNEL_PREFIX", "").strip() or "inc"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,20}", prefix):
        raise SettingsError(
            "INCIDENT_CHANNEL_PREFIX must be 1-21 lowercase letters, digits, - or _, "
            f"not {prefix!r}"
        )

    emoji = (env.get("TIMELINE_EMOJI", "").strip() or "pushpin").strip(":")
    if not re.fullmatch(r"[a-z0-9_+'-]+", emoji):
        raise SettingsError(f"TIMELINE_EMOJI must be an emoji name like pushpin, not {emoji!r}")

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        token = _opt(env, name)
        prefix_ok = "xoxb-" if name == "SLACK_BOT_TOKEN" else "xapp-"
        if token and not token.startswith(prefix_ok):
            raise SettingsError(f"{name} must start with {prefix_ok}")

    templates = _opt(env, "TEMPLATES_DIR")
    if templates and not Path(templates).is_dir():
        raise SettingsError(f"TEMPLATES_DIR {templates!r} is not a directory")

    cron = env.get("REMINDER_CRON", "").strip() or Settings.reminder_cron
    if problem := cron_error(cron):
        raise SettingsError(f"REMINDER_CRON must be a five-field crontab line like "
                            f"'0 9 * * mon-fri', not {cron!r} ({problem})")

    digest_cron = env.get("DIGEST_CRON", "").strip() or Settings.digest_cron
    if problem := cron_error(digest_cron):
        raise SettingsError(f"DIGEST_CRON must be a five-field crontab line like "
                            f"'0 9 * * mon', not {digest_cron!r} ({problem})")

    level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    log_format = (env.get("LOG_FORMAT", "").strip() or "text").lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT must be text or json, not {log_format!r}")

    port = _port(env, "PORT", Settings.port)
    host = _host(env)
    web_port = _port(env, "WEB_PORT", 0) or None
    if web_port is not None and web_port == port:
        raise SettingsError(f"WEB_PORT must differ from PORT ({port})")
    metrics_port = _port(env, "METRICS_PORT", 0) or None
    if metrics_port == port:
        raise SettingsError(f"METRICS_PORT must differ from PORT ({port})")

    return Settings(
        bot_token=_opt(env, "SLACK_BOT_TOKEN"),
        signing_secret=_opt(env, "SLACK_SIGNING_SECRET"),
        app_token=_opt(env, "SLACK_APP_TOKEN"),
        api_url=api_url,
        database_url=database_url,
        timezone=tz,
        channel_prefix=prefix,
        announce_channel=_opt(env, "ANNOUNCE_CHANNEL"),
        timeline_emoji=emoji,
        host=host,
        port=port,
        metrics_port=metrics_port,
        pool=PoolSettings(
            size=_int(env, "DB_POOL_SIZE", 5, minimum=1),
            max_overflow=_int(env, "DB_MAX_OVERFLOW", 5),
            timeout=_float(env, "DB_POOL_TIMEOUT", 2.0),
            recycle=_int(env, "DB_POOL_RECYCLE", 1800, minimum=1),
            connect_timeout=_int(env, "DB_CONNECT_TIMEOUT", 2, minimum=1),
        ),
        templates_dir=Path(templates) if templates else None,
        reminder_cron=cron,
        reminder_lead_days=_int(env, "REMINDER_LEAD_DAYS", 2),
        escalate_after_days=_int(env, "ESCALATE_AFTER_DAYS", 3),
        reminder_poll_seconds=_int(env, "REMINDER_POLL_SECONDS", 30, minimum=1),
        log_level=level,
        log_format=log_format,
        slack_timeout=_float(env, "SLACK_TIMEOUT", 10.0),
        spool_dir=Path(_opt(env, "SPOOL_DIR") or Settings.spool_dir),
        channel_message_retention_days=_int(env, "CHANNEL_MESSAGE_RETENTION_DAYS", 30,
                                            minimum=1, maximum=36500),
        incident_roles=_roles(env),
        incident_restrict=_restrict(env),
        update_every=_update_every(env),
        updates_to_origin=_bool(env, "UPDATES_TO_ORIGIN", True),
        postmortem_due_days=_int(env, "POSTMORTEM_DUE_DAYS", 5, minimum=1, maximum=365),
        digest_channel=_opt(env, "DIGEST_CHANNEL"),
        digest_cron=digest_cron,
        web_port=web_port,
        web_base_url=_base_url(env),
        web_auth=_web_auth(env, host),
        web_secret_key=_secret_key(env),
        client_id=_opt(env, "SLACK_CLIENT_ID"),
        client_secret=_opt(env, "SLACK_CLIENT_SECRET"),
        api_token_hashes=_api_tokens(env),
    )
