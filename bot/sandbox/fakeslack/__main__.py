"""Run the fake Slack on its own: ``python -m bot.sandbox.fakeslack --port 8900 --user U1:ann``."""

from __future__ import annotations

import contextlib
import threading

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.fakeslack.manifest import PROJECT_MANIFEST, AppManifest


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.sandbox.fakeslack``: run the fake on its own (e.g. for a dev bot or a bench).

    Prints the ``SLACK_API_URL`` to use, then serves until interrupted.
    """
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="A local fake of the Slack Web API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="xoxb-fake")
    parser.add_argument("--app-token", default="xapp-1-A0BOT-1-fake",
                        help="the app-level token Socket Mode accepts (incident-bot socket)")
    parser.add_argument("--user", action="append", default=[], metavar="ID:NAME")
    parser.add_argument("--channel", action="append", default=[], metavar="NAME")
    parser.add_argument("--manifest", default=str(PROJECT_MANIFEST),
                        help="the app's manifest.yml: its scopes and Messages tab")
    args = parser.parse_args(argv)
    fake = FakeSlack(bot_token=args.token, port=args.port,
                     manifest=AppManifest.load(args.manifest))
    fake.app_token = args.app_token
    fake.start()
    users = []
    for spec in args.user:
        user_id, _, name = spec.partition(":")
        fake.add_user(user_id, name or user_id.lower())
        users.append(user_id)
    for name in args.channel:
        fake.add_channel(name, members=users)
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
