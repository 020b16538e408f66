"""``incident-bot demo``: a scripted incident against the fake Slack, printed readably.

Zero configuration: a temporary SQLite database, the fake Slack and the real bot on
loopback, driven by real signed HTTP requests. Each capability adds an act to ``ACTS``.

The story happens on a fixed date (``STORY_START``) on a clock that moves a minute with each
thing a person does, so the demo prints the same transcript whatever the day it runs.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.common import text as slacktext
from bot.common.clock import FixedClock
from bot.sandbox.sandbox import PEOPLE, Sandbox

if TYPE_CHECKING:
    from bot.web.serve import WebServer

WIDTH = 78
#: A Wednesday morning in UTC (evening in Auckland), chosen so that the reminder act's jump
#: to the task's due date plus four days stays inside one reminder week for every owner.
STORY_START = dt.datetime(2026, 3, 11, 9, 30, tzinfo=dt.UTC)
#: How far the story's clock moves each time someone types or posts something.
STEP = dt.timedelta(minutes=1)


class Demo:
    """Drives a ``Sandbox`` like a team would, and prints what Slack would show."""

    def __init__(self, sb: Sandbox, out: TextIO) -> None:
        self.sb = sb
        self.out = out
        self._shown: dict[str, int] = {}
        self._scene = 0
        self.incident_channel: str | None = None

    # -- acting ------------------------------------------------------------------------------
    def command(self, user: str, text: str, channel: str | None = None) -> None:
        """``user`` types ``/incident <text>`` in ``channel`` (default: the incident's)."""
        channel = channel or self.incident_channel or self.sb.general
        self.tick()
        self.line(f"{self.name(user)} types: /incident {text}", prefix="»")
        before = len(self.sb.fake.responses)
        reply = self.sb.sim.command(text, user=user, channel=channel)
        body = reply.json() if reply.body else None
        if body and body.get("text"):
            self.private(user, body["text"])
        else:  # the work runs after the ack and always answers: wait for it, however slow
            self.sb.fake.wait_for(lambda: len(self.sb.fake.responses) > before, timeout=30)
        self.settle()
        for response in self.sb.fake.responses[before:]:
            if response.get("response_type") != "in_channel":
                self.private(user, response.get("text", ""))

    def say(self, user: str, text: str, channel: str | None = None,
            thread_ts: str | None = None) -> dict[str, Any]:
        """``user`` posts a message; Slack delivers it to the bot as a ``message`` event."""
        channel = channel or self.incident_channel or self.sb.general
        self.tick()
        message = self.sb.fake.user_message(channel, user, text, thread_ts=thread_ts)
        self.sb.sim.message(message, channel)
        return message

    def tick(self) -> None:
        """Move the story's clock on by one ``STEP`` (it stands still otherwise)."""
        clock = self.sb.deps.clock
        if isinstance(clock, FixedClock):
            clock.advance(seconds=STEP.total_seconds())

    def jump(self, when: dt.datetime) -> None:
        """Move the story's clock to ``when`` (days later, for reminders)."""
        clock = self.sb.deps.clock
        if isinstance(clock, FixedClock):
            clock.set(when)

    def settle(self, quiet: float = 0.3, limit: float = 10.0) -> None:
        """Wait until the bot stops calling Slack (its work runs after the ack)."""
        deadline = time.time() + limit
        seen = (-1, -1)
        while time.time() < deadline:
            now = (len(self.sb.fake.calls), len(self.sb.fake.responses))
            if now == seen:
                return
            seen = now
            time.sleep(quiet)

    # -- showing -----------------------------------------------------------------------------
    def name(self, user_id: str) -> str:
        if user_id == self.sb.fake.bot_user_id:
            return "Sitrep"
        person = PEOPLE.get(user_id)
        return f"@{person[0]}" if person else f"@{user_id}"

    def readable(self, text: str) -> str:
        """Slack mrkdwn as a terminal shows it (entities decoded, mentions as names)."""

        def user(uid: str) -> str:
            return self.name(uid)[1:]

        def channel(cid: str) -> str:
            found = self.sb.fake.channel(cid)
            return found["name"] if found else cid

        return slacktext.readable(slacktext.from_slack(text), user, channel)

    def line(self, text: str, prefix: str = " ") -> None:
        print(f"{prefix} {text}", file=self.out)

    def heading(self, title: str) -> None:
        """A numbered scene heading (acts are numbered in the order they run)."""
        self._scene += 1
        print("\n" + f"== {self._scene}. {title} ".ljust(WIDTH, "="), file=self.out)

    def private(self, user: str, text: str) -> None:
        for i, row in enumerate(self.readable(text).splitlines() or [""]):
            self.line(row, prefix=f"  (only {self.name(user)} sees)" if i == 0 else "   " +
                      " " * len(f"(only {self.name(user)} sees)"))

    def show_channel(self, channel_id: str) -> None:
        """Print the messages posted in ``channel_id`` since it was last shown."""
        found = self.sb.fake.channel(channel_id)
        messages = self.sb.fake.messages(channel_id)
        start = self._shown.get(channel_id, 0)
        self._shown[channel_id] = len(messages)
        if start >= len(messages):
            return
        print(f"\n  #{found['name'] if found else channel_id}", file=self.out)
        for message in messages[start:]:
            author = self.name(message.get("user", "?"))
            when = time.strftime("%H:%M", time.gmtime(float(message["ts"])))
            body = render_message(message)
            rows = self.readable(body).splitlines() or [""]
            indent = "    " if message.get("thread_ts", message["ts"]) != message["ts"] else ""
            print(f"  {indent}[{when}] {author}: {rows[0]}", file=self.out)
            for row in rows[1:]:
                print(f"  {indent}        {row}", file=self.out)


    def show_card(self) -> None:
        """Print the pinned incident card as it reads now (it is updated in place)."""
        channel = self.incident_channel
        pinned = self.sb.fake.pinned(channel) if channel else []
        for message in self.sb.fake.messages(channel or ""):
            if message["ts"] in pinned:
                print("\n  📌 pinned card, as it reads now:", file=self.out)
                for row in self.readable(render_message(message)).splitlines():
                    print(f"     {row}", file=self.out)


def render_message(message: dict[str, Any]) -> str:
    """Block Kit (or plain text) as the lines a person would read."""
    blocks = message.get("blocks")
    if not blocks:
        return message.get("text", "")
    rows: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            rows.append(f"*{slacktext.escape(block['text']['text'])}*")  # plain_text
        elif kind == "section":
            if block.get("text"):
                rows.append(block["text"]["text"])
            for field in block.get("fields", []):
                rows.append("  " + field["text"].replace("\n", ": ", 1))
        elif kind == "context":
            rows.append("  " + " ".join(e.get("text", "") for e in block.get("elements", [])))
        elif kind == "actions":
            labels = [slacktext.escape(e.get("text", {}).get("text", ""))
                      for e in block.get("elements", [])]
            rows.append("  " + " ".join(f"[ {label} ]" for label in labels))
        elif kind == "divider":
            rows.append("  " + "-" * 40)
    return "\n".join(rows)


def act_open(demo: Demo) -> None:
    demo.heading("Lee opens an incident from #general")
    demo.command("U0LEAD", "start sev2 Checkout is failing", channel=demo.sb.general)
    channel = demo.sb.incident_channel(1)
    demo.incident_channel = channel["id"]
    demo.show_channel(demo.sb.general)
    demo.show_channel(channel["id"])


def act_run(demo: Demo) -> None:
    demo.heading("The team works the incident")
    demo.command("U0LEAD", "started -25m")
    demo.command("U0LEAD", "detected 09:20")
    demo.command("U0ALICE", "status identified")
    demo.command("U0ALICE", "impact 30% of checkouts fail with a 502 <!channel>")
    demo.command("U0LEAD", "cause Connection pool exhausted after the 09:02 deploy")
    demo.command("U0LEAD", "lead <@U0ALICE|alice>")
    demo.command("U0ALICE", "stauts monitoring")
    assert demo.incident_channel
    demo.show_channel(demo.incident_channel)


def act_timeline(demo: Demo) -> None:
    """People talk in the channel; a 📌 reaction is all it takes to keep a message."""
    demo.heading("The team pins what mattered; the timeline builds itself")
    channel = demo.incident_channel
    assert channel
    sb = demo.sb
    emoji = sb.settings.timeline_emoji

    def pin(user: str, message: dict[str, Any]) -> None:
        author = demo.name(message.get("user", "?"))
        demo.line(f"{demo.name(user)} reacts :{emoji}: to {author}'s message", prefix="»")
        seen = len(sb.fake.ephemerals)
        assert sb.sim.event(sb.fake.add_reaction(channel, message["ts"], emoji, user)).status \
            == 200
        sb.fake.wait_for(lambda: len(sb.fake.ephemerals) > seen)
        for note in sb.fake.ephemerals[seen:]:
            demo.private(note["user"], note["text"])

    alert = demo.say("U0ALICE", "502s began right after the 09:02 deploy, see "
                                "<https://grafana.example/d/checkout|the checkout dashboard>")
    demo.say("U0BOB", "anyone up for lunch after this?")
    rollback = demo.say("U0LEAD", "Rolling back the 09:02 deploy now")
    done = demo.say("U0ALICE", "rollback done, <@U0LEAD>: error rate back to 0.1%",
                    thread_ts=rollback["ts"])
    demo.show_channel(channel)
    pin("U0LEAD", alert)
    pin("U0BOB", alert)
    pin("U0LEAD", rollback)
    pin("U0CARA", done)
    demo.command("U0ALICE", "note -20m first customer ticket about failed payments")
    demo.command("U0ALICE", "resolve Rolled back the deploy and raised the pool limit")
    demo.command("U0LEAD", "timeline")
    demo.show_channel(channel)
    demo.show_card()


def act_postmortem(demo: Demo) -> None:
    """Fill in what the resolve prompt asked for, review, publish; end on the Markdown."""
    demo.heading("The postmortem is already mostly written")
    assert demo.incident_channel
    demo.command("U0ALICE", "summary Checkouts failed after a deploy exhausted the DB pool")
    demo.command("U0ALICE", "detection Checkout 5xx alert in #alerts")
    demo.command("U0LEAD", "postmortem")
    preview = next((r for r in reversed(demo.sb.fake.responses) if r.get("blocks")), None)
    if preview:
        demo.private("U0LEAD", render_message(preview))
    demo.command("U0LEAD", "postmortem publish")
    demo.show_channel(demo.incident_channel)
    for file_id, info in demo.sb.fake.files.items():
        if info["name"].endswith(".md"):
            demo.heading(f"The published postmortem: {info['name']}")
            print(demo.sb.fake.uploads[file_id].decode(), file=demo.out)


def _show_dm(demo: Demo, user: str, *, only_last: bool = False, note: str = "") -> None:
    """Print ``user``'s DMs from Sitrep (DMs have no channel name to show)."""
    channel = demo.sb.fake.dm_channel_id(user)
    messages = demo.sb.fake.messages(channel) if channel else []
    print(f"\n  DM from Sitrep to {demo.name(user)}{note}:", file=demo.out)
    for message in messages[-1:] if only_last else messages:
        for row in demo.readable(render_message(message)).splitlines():
            print(f"     {row}", file=demo.out)


def _press(demo: Demo, user: str, label: str) -> None:
    """``user`` presses the button ``label`` on their latest DM from Sitrep."""
    channel = demo.sb.fake.dm_channel_id(user) or ""
    message = demo.sb.fake.messages(channel)[-1]
    block = next(b for b in message["blocks"] if b["type"] == "actions")
    button = next(e for e in block["elements"] if e["text"]["text"] == label)
    demo.line(f"{demo.name(user)} presses [ {label} ] in the DM", prefix="»")
    demo.sb.sim.block_action({**button, "block_id": block["block_id"]}, user=user,
                             channel=channel, message=message)
    demo.settle()


def act_tasks(demo: Demo) -> None:
    from sqlalchemy import select

    from bot.common.cron import next_slot
    from bot.tasks.notify import run_reminders
    from bot.tasks.reminders import local_midnight
    from storage.models import Task

    demo.heading("Corrective tasks, their owners' DMs, and reminders")
    demo.command("U0ALICE", "task <@U0BOB|bob> Alert when the DB pool is 80% used due tomorrow")
    demo.command("U0ALICE", "task <@U0CARA|cara> Add a canary stage to checkout deploys")
    demo.command("U0LEAD", "improvement Practise rollbacks in a quarterly game day")
    assert demo.incident_channel
    demo.show_channel(demo.incident_channel)
    _show_dm(demo, "U0BOB")
    demo.command("U0ALICE", "tasks")

    sb = demo.sb
    with sb.db.session() as s:
        task = s.scalars(select(Task).where(Task.owner_user_id == "U0BOB")).one()
    zone = sb.deps.people.get(sb.app.client, "U0BOB").zone(sb.settings.timezone)
    assert task.due_date is not None
    later = next_slot(sb.settings.reminder_cron, zone,
                      local_midnight(task.due_date + dt.timedelta(days=4), zone), inclusive=True)
    assert later is not None
    local = later.astimezone(zone)
    demo.heading(f"{local:%A} {local.day} {local:%b, %H:%M} in Auckland: a reminder pass")
    demo.line(f"(the clock is moved to {later:%Y-%m-%d %H:%M} UTC; in `serve` a pass runs "
              f"every {sb.settings.reminder_poll_seconds} s)")
    demo.jump(later)
    report = run_reminders(sb.deps, sb.app.client)
    demo.line(f"pass: {report}")
    _show_dm(demo, "U0BOB", only_last=True)
    demo.show_channel(demo.incident_channel)
    demo.jump(later + dt.timedelta(minutes=3))
    _press(demo, "U0BOB", "Snooze a day")
    _show_dm(demo, "U0BOB", only_last=True, note=" (updated in place)")
    _press(demo, "U0BOB", "Done")
    _show_dm(demo, "U0BOB", only_last=True, note=" (updated in place)")
    demo.show_channel(demo.incident_channel)
    demo.command("U0BOB", "mytasks", channel=demo.sb.general)


def act_private(demo: Demo) -> None:
    """A security incident: a private channel, announced nowhere, listed only to members."""
    demo.heading("A private incident: #general sees nothing of it")
    sb = demo.sb
    general_before = len(sb.fake.messages(sb.general))
    demo.command("U0LEAD", "start private sev1 Suspicious logins on admin accounts",
                 channel=sb.general)
    channel = sb.incident_channel(2)
    demo.line(f"#{channel['name']} is {'private' if channel['is_private'] else 'public'}; "
              f"members: {', '.join(demo.name(u) for u in sb.fake.members(channel['id']))}")
    demo.command("U0LEAD", "role comms <@U0ALICE|alice>", channel=channel["id"])
    demo.command("U0LEAD", "roles", channel=channel["id"])
    demo.show_channel(channel["id"])
    new_in_general = len(sb.fake.messages(sb.general)) - general_before
    demo.line(f"#general: {new_in_general} new messages about it")
    demo.command("U0BOB", "list", channel=sb.general)
    demo.command("U0ALICE", "list", channel=sb.general)


def _press_in_channel(demo: Demo, user: str, label: str) -> None:
    """``user`` presses the button ``label`` on Sitrep's latest message that has it."""
    channel = demo.incident_channel or ""
    for message in reversed(demo.sb.fake.messages(channel)):
        block = next((b for b in message.get("blocks") or [] if b["type"] == "actions"), None)
        button = next((e for e in (block or {}).get("elements", [])
                       if e["text"]["text"] == label), None)
        if block and button:
            demo.line(f"{demo.name(user)} presses [ {label} ]", prefix="»")
            demo.sb.sim.block_action({**button, "block_id": block.get("block_id", "actions")},
                                     user=user, channel=channel, message=message)
            demo.settle()
            return
    raise AssertionError(f"no [ {label} ] button in the channel")


def act_keep_moving(demo: Demo) -> None:
    """Status updates for the people outside, and a nudge when they are overdue."""
    from bot.due.slack import run_due

    sb = demo.sb
    demo.heading("Keeping everyone informed: status updates and nudges")
    demo.command("U0LEAD", "start sev1 Search returns no results", channel=sb.general)
    channel = sb.incident_channel(3)["id"]
    demo.incident_channel = channel
    demo.show_channel(sb.general)
    demo.show_channel(channel)
    demo.command("U0LEAD", "update investigating Search returns nothing for about 20% of "
                           "queries. Rolling back this morning's index rebuild.")
    demo.show_channel(channel)
    demo.show_channel(sb.general)

    def a_pass(minutes: int) -> None:
        clock = sb.deps.clock
        demo.jump(clock.now() + dt.timedelta(minutes=minutes))
        demo.line(f"({minutes} minutes later, with no update, a pass of due work runs)")
        run_due(sb.deps, sb.app.client)
        demo.settle()
        demo.show_channel(channel)

    a_pass(30)
    _press_in_channel(demo, "U0ALICE", "Snooze 30m")
    demo.line("(the nudge now reads:)")
    demo._shown[channel] -= 1
    demo.show_channel(channel)
    a_pass(15)
    a_pass(16)
    demo.command("U0LEAD", "update monitoring Rollback done; search results are back. "
                           "Watching error rates for an hour.")
    demo.show_channel(channel)
    answered = [m for m in sb.fake.messages(channel) if "nudge answered" in m.get("text", "")]
    for message in answered[-1:]:
        demo.line(f"(the nudge of {time.strftime('%H:%M', time.gmtime(float(message['ts'])))} "
                  f"now reads: {demo.readable(message['text'])})")
    demo.show_channel(sb.general)
    demo.show_card()


#: The story, in order. Later capabilities append their acts.
ACTS: list[Callable[[Demo], None]] = [act_open, act_run, act_timeline, act_tasks,
                                      act_postmortem, act_private, act_keep_moving]


def play(sb: Sandbox, out: TextIO) -> Demo:
    """Play every act of the story on ``sb``, printing the transcript to ``out``."""
    demo = Demo(sb, out)
    for act in ACTS:
        act(demo)
    return demo


def run_demo(database_url: str | None = None, out: TextIO | None = None,
             web: WebServer | None = None) -> int:
    """Play every act and print the transcript; returns an exit status.

    With ``web`` (bound, without an app yet), the sandbox then stays up and ``web`` serves
    its web view with ``WEB_AUTH=none`` until SIGTERM or Ctrl-C.
    """
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="sitrep-demo-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        print("Sitrep demo: a fake Slack and the real bot on loopback, database "
              f"{url.split('://')[0]}.", file=out)
        # The web view's address is known before the story, so Sitrep links to it.
        overrides: dict[str, Any] = {} if web is None else {
            "web_auth": "none", "host": "127.0.0.1", "web_base_url": web.url}
        with Sandbox(url, clock=FixedClock(STORY_START), seed=2026, **overrides) as sb:
            play(sb, out)
            print(f"\nDone: {len(sb.fake.calls)} Slack Web API calls recorded by the fake.",
                  file=out, flush=True)
            if web is not None:
                serve_web(sb, web, out)
    return 0


def serve_web(sb: Sandbox, web: WebServer, out: TextIO) -> None:
    """Serve ``sb``'s web view on ``web`` until SIGTERM or Ctrl-C (the sandbox stays up)."""
    from bot import lifecycle
    from bot.web.app import create_app

    web.serve(create_app(sb.deps))
    print(f"\nThe web view of this story: {web.url}/ (WEB_AUTH=none: no sign-in, loopback "
          "only). Ctrl-C to stop.", file=out, flush=True)
    try:
        lifecycle.run_until_stopped(web.serve_forever)
    finally:
        web.stop()
    print("Stopped.", file=out, flush=True)
