"""``incident-bot``: serve, socket, web, migrate, demo (and the per-feature commands)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from bot import logs
from bot.due import cli as due_cli
from bot.postmortem import cli as postmortem_cli
from bot.settings import Settings, SettingsError, load
from storage.spool import SpoolInUse

log = logging.getLogger("sitrep")

Command = tuple[str, str, Callable[[argparse.ArgumentParser], None],
                Callable[[Settings, argparse.Namespace], int]]
#: Subcommands that features own: (name, help, add_arguments, run), each in its feature's
#: ``cli.py``.
FEATURE_COMMANDS: list[Command] = [postmortem_cli.COMMAND, due_cli.COMMAND]


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from storage.db import Database

    Database(settings.database_url, settings.pool).migrate()
    print("database schema is up to date")
    return 0


def _stopped(finished: bool) -> int:
    """Exit 0 after a clean stop; if the grace ran out, exit now rather than wait."""
    from bot import lifecycle

    if not finished:
        lifecycle.exit_now(lifecycle.EXIT_CUT_SHORT)
    return 0


def cmd_serve(settings: Settings, _: argparse.Namespace) -> int:
    from bot import lifecycle
    from bot.server import Server
    from bot.web.serve import WebServer

    settings.require_slack()
    if settings.web_port:
        settings.require_web()
    running = lifecycle.start(settings)
    try:
        server = Server(running.app, running.deps.db, host=settings.host, port=settings.port,
                        metrics=running.metrics is None, health=running.deps.slack_health,
                        inbox=running.deps.inbox)
        web = None
        if settings.web_port:
            web = WebServer(running.deps, settings.host, settings.web_port).start()
            log.info("web view on %s (GET /incidents)", web.url)
    except BaseException:
        lifecycle.shutdown(running, lambda: None)
        raise
    log.info("Sitrep listening on %s (POST /slack/events, GET /healthz%s)", server.url,
             "" if running.metrics else ", GET /metrics")

    def stop_intake() -> None:
        server.stop()
        if web is not None:
            web.stop()

    lifecycle.run_until_stopped(server.serve_forever)
    return _stopped(lifecycle.shutdown(running, stop_intake))


def cmd_web(settings: Settings, _: argparse.Namespace) -> int:
    """The web view alone (for Socket Mode deployments): migrate, serve, stop on SIGTERM."""
    from bot import lifecycle
    from bot.deps import Deps
    from bot.web.serve import DEFAULT_PORT, WebServer

    settings.require_web()
    deps = Deps.from_settings(settings)
    deps.db.migrate()
    web = WebServer(deps, settings.host, settings.web_port or DEFAULT_PORT)
    log.info("Sitrep web view on %s (GET /incidents)", web.url)
    lifecycle.run_until_stopped(web.serve_forever)
    web.stop()
    deps.after_ack.shutdown(wait=False)
    deps.db.dispose()
    log.info("stopped")
    return 0


def socket_mode_handler(app: Any, app_token: str, api_url: str | None = None) -> Any:
    """The Socket Mode connection (``connect()``, ``close()``) for ``app``: ``bot.socket_mode``."""
    from bot.socket_mode import SocketModeConnection

    return SocketModeConnection(app, app_token, api_url=api_url)


def cmd_socket(settings: Settings, _: argparse.Namespace,
               handler: Callable[[Any, str], Any] | None = None) -> int:
    from bot import lifecycle
    from bot.socket_mode import AppTokenRefused

    settings.require_slack(socket=True)
    running = lifecycle.start(settings)
    if handler is None:
        connection = socket_mode_handler(running.app, settings.app_token or "", settings.api_url)
    else:
        connection = handler(running.app, settings.app_token or "")
    try:
        connection.connect()
    except AppTokenRefused as exc:
        lifecycle.shutdown(running, lambda: None)
        print(f"incident-bot: Slack refused SLACK_APP_TOKEN ({exc.error}): it must be an "
              "app-level token (xapp-…) with connections:write", file=sys.stderr)
        return 2
    except BaseException:
        lifecycle.shutdown(running, connection.close)
        raise
    log.info("Sitrep connected to Slack in Socket Mode")
    lifecycle.run_until_stopped(threading.Event().wait)
    return _stopped(lifecycle.shutdown(running, connection.close))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.demo import run_demo

    if not args.web:
        return run_demo(database_url=args.database_url)
    from bot.web.serve import WebServer

    try:  # bound before the story plays, so a taken port fails at once
        web = WebServer(None, "127.0.0.1", args.port)
    except OSError as exc:
        print(f"incident-bot: cannot serve the web view on 127.0.0.1:{args.port} "
              f"({exc.strerror or exc}); choose another with --port", file=sys.stderr)
        return 2
    return run_demo(database_url=args.database_url, web=web)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="incident-bot", description="Sitrep incident bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP mode on PORT (POST /slack/events, GET /healthz)")
    sub.add_parser("socket", help="Socket Mode with SLACK_APP_TOKEN")
    sub.add_parser("web", help="the web view alone on WEB_PORT (default 3001)")
    sub.add_parser("migrate", help="upgrade the database schema")
    demo = sub.add_parser("demo", help="zero-config demo against a local fake Slack")
    demo.add_argument("--database-url", default=None,
                      help="database for the demo (default: a fresh temporary SQLite file)")
    demo.add_argument("--web", action="store_true",
                      help="then keep the sandbox running and serve its web view on loopback "
                           "(WEB_AUTH=none) until Ctrl-C")
    demo.add_argument("--port", type=int, default=3001,
                      help="the web view's loopback port with --web (default 3001, as "
                           "incident-bot web's; 0: any free port)")
    for name, help_text, add_args, _ in FEATURE_COMMANDS:
        add_args(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)

    if args.command == "demo":
        logs.configure("WARNING")
        return cmd_demo(Settings(), args)
    try:
        settings = load()
    except SettingsError as exc:
        print(f"incident-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format,
                   secrets=(settings.bot_token, settings.app_token, settings.signing_secret))
    commands = {"serve": cmd_serve, "socket": cmd_socket, "migrate": cmd_migrate,
                "web": cmd_web}
    commands.update({name: run for name, _, _, run in FEATURE_COMMANDS})
    run = commands[args.command]
    try:
        return run(settings, args)
    except (SettingsError, SpoolInUse) as exc:
        print(f"incident-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from storage.db import is_unavailable

        if not is_unavailable(exc):
            raise
        print(f"incident-bot: the database is unreachable ({unreachable_reason(exc)}); "
              "nothing was started. Check DATABASE_URL and that the database is up.",
              file=sys.stderr)
        return EXIT_DATABASE_UNREACHABLE


#: Exit status when the database cannot be reached at start (the supervisor restarts us).
EXIT_DATABASE_UNREACHABLE = 3


def unreachable_reason(exc: BaseException) -> str:
    """The driver's own first line (``connection refused``), without SQLAlchemy's SQL dump."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


if __name__ == "__main__":
    sys.exit(main())
