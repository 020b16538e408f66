"""``incident-bot remind [--now]``: one pass of all due work, for operators and external cron.

Task reminders, update nudges, postmortem follow-ups and the digest: without ``--now`` the
pass sends what is due, as the scheduler inside ``serve`` would.
With ``--now`` it treats this moment as a reminder slot for everyone (snoozed tasks and
tasks reminded within the hour are skipped), for deployments that prefer cron to the
in-process scheduler.
"""

from __future__ import annotations

import argparse

from bot.settings import Settings, SettingsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--now", action="store_true",
                        help="treat now as a reminder slot for every owner")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.deps import Deps
    from bot.due.slack import run_due
    from bot.slack.client import make_client

    if not settings.bot_token:
        raise SettingsError("SLACK_BOT_TOKEN is not set (see README: Setting up in Slack)")
    deps = Deps.from_settings(settings)
    deps.db.migrate()
    try:
        report = run_due(deps, make_client(settings, deps.slack_health), force=args.now)
    finally:
        deps.db.dispose()
    for line in report.lines():
        print(line)
    return 0


#: ``incident-bot remind``: (name, help, add_arguments, run), listed by ``bot.cli``.
COMMAND = ("remind", "send all due work once: reminders, nudges, follow-ups, digest "
           "(--now: treat now as a reminder slot)",
           add_arguments, run)
