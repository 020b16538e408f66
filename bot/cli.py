"""``incident-bot``: serve, socket, migrate, demo (and the per-feature commands)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable

from bot.postmortem import cli as postmortem_cli
from bot.settings import Settings, SettingsError, load
from bot.tasks import cli as tasks_cli

log = logging.getLogger("sitrep")

Command = tuple[str, str, Callable[[argparse.ArgumentParser], None],
                Callable[[Settings, argparse.Namespace], int]]
#: Subcommands that features own: (name, help, add_arguments, run), each in its feature's
#: ``cli.py``.
FEATURE_COMMANDS: list[Command] = [postmortem_cli.COMMAND, tasks_cli.COMMAND]


def _logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _deps(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.deps import Deps

    deps = Deps.from_settings(settings)
    deps.db.migrate()
    return deps


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from storage.db import Database

    Database(settings.database_url, settings.pool).migrate()
    print("database schema is up to date")
    return 0


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    """Let ``serve`` shut down as on Ctrl-C when the orchestrator sends SIGTERM."""
    raise KeyboardInterrupt


def cmd_serve(settings: Settings, _: argparse.Namespace) -> int:
    from bot.app import build_app
    from bot.background import start_background
    from bot.server import Server

    settings.require_slack()
    deps = _deps(settings)
    app = build_app(deps)
    background = start_background(deps, app.client)
    server = Server(app, deps.db, host="0.0.0.0", port=settings.port,
                    health=deps.slack_health)
    log.info("Sitrep listening on :%d (POST /slack/events, GET /healthz)", server.port)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("shutting down")
    finally:
        background.shutdown()
        server.stop()
    return 0


def cmd_socket(settings: Settings, _: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app
    from bot.background import start_background

    settings.require_slack(socket=True)
    deps = _deps(settings)
    app = build_app(deps)
    background = start_background(deps, app.client)
    try:
        SocketModeHandler(app, settings.app_token).start()
    finally:
        background.shutdown()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.demo import run_demo

    return run_demo(database_url=args.database_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="incident-bot", description="Sitrep incident bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP mode on PORT (POST /slack/events, GET /healthz)")
    sub.add_parser("socket", help="Socket Mode with SLACK_APP_TOKEN")
    sub.add_parser("migrate", help="upgrade the database schema")
    demo = sub.add_parser("demo", help="zero-config demo against a local fake Slack")
    demo.add_argument("--database-url", default=None,
                      help="database for the demo (default: a fresh temporary SQLite file)")
    for name, help_text, add_args, _ in FEATURE_COMMANDS:
        add_args(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)

    if args.command == "demo":
        _logging("WARNING")
        return cmd_demo(Settings(), args)
    try:
        settings = load()
    except SettingsError as exc:
        print(f"incident-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    _logging(settings.log_level)
    commands = {"serve": cmd_serve, "socket": cmd_socket, "migrate": cmd_migrate}
    commands.update({name: run for name, _, _, run in FEATURE_COMMANDS})
    run = commands[args.command]
    try:
        return run(settings, args)
    except SettingsError as exc:
        print(f"incident-bot: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
