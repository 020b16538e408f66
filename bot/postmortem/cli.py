"""``incident-bot postmortem INC-42 [--format md|html] [-o FILE] [--team T]``.

Writes the postmortem from the database alone (no Slack call: names come from Sitrep's
cache of profiles), with the same templates and ``TEMPLATES_DIR`` as the bot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("incident", help="the incident, e.g. INC-42 (or 42)")
    parser.add_argument("--format", choices=("md", "html"), default="md",
                        help="Markdown (default) or a standalone HTML page")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="write to this file instead of standard output")
    parser.add_argument("--team", default=None,
                        help="workspace id (needed only when the database has several)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so that ``incident-bot --help`` does not load the whole postmortem stack.
    from bot.common.clock import SystemClock
    from bot.common.errors import OperatorError, UserError
    from bot.incidents import rules as incidents
    from bot.postmortem import compile as postmortem
    from bot.postmortem.templates import Templates
    from storage.db import Database, is_unavailable

    db = Database(settings.database_url, settings.pool)
    try:
        team = args.team or postmortem.only_team(db)
        incident = incidents.by_ref(db, team, args.incident)
        pm = postmortem.compile_incident(db, incident.id, settings.timezone,
                                         now=SystemClock().now())
        rendered = postmortem.render(pm, Templates(settings.templates_dir), args.format)
    except UserError as exc:
        print(f"incident-bot postmortem: {exc.message}", file=sys.stderr)
        return 1
    except OperatorError as exc:
        print(f"incident-bot postmortem: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        print("incident-bot postmortem: the database is unavailable; try again in a moment",
              file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if rendered.error:
        print(f"incident-bot postmortem: warning: your template {rendered.template} in "
              f"TEMPLATES_DIR failed ({rendered.error}); used the built-in one",
              file=sys.stderr)
    if args.output:
        args.output.write_text(rendered.text, encoding="utf-8")
        print(f"wrote {pm.ref} postmortem to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(rendered.text)
    for item in postmortem.missing(pm):
        print(f"still missing: {item.what}", file=sys.stderr)
    return 0


#: ``incident-bot postmortem``: (name, help, add_arguments, run), listed by ``bot.cli``.
COMMAND = ("postmortem", "write an incident's postmortem as Markdown or HTML",
                                add_arguments, run)
