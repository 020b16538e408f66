"""A bare Bolt app whose listeners only ack, served exactly like Sitrep (the baseline).

Run: ``python -m tests.bench._bare_bolt <port> <signing-secret>``.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.server import Server
from storage.db import Database


def bare_app(secret: str) -> App:
    client = WebClient(token="xoxb-fake", base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=secret, client=client,
              process_before_response=True, token_verification_enabled=False,
              listener_executor=ThreadPoolExecutor(max_workers=16))

    @app.command("/incident")
    def ack_only(ack: Ack) -> None:
        ack()

    @app.event("reaction_added")
    def reaction(ack: Ack) -> None:
        ack()

    @app.event("message")
    def message(ack: Ack) -> None:
        ack()

    return app


if __name__ == "__main__":
    port, secret = int(sys.argv[1]), sys.argv[2]
    Server(bare_app(secret), Database("sqlite://"), host="127.0.0.1", port=port,
           threads=16).serve_forever()
