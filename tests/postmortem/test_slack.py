"""``/incident postmortem [publish]`` and the resolve prompt, end to end through the fake Slack."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.postmortem.slack import MAX_MESSAGES, REST_IN_FILE
from bot.sandbox.sandbox import Sandbox
from bot.slack.limits import MESSAGE_BLOCK_CHARS as MESSAGE_CHARS
from bot.slack.limits import MESSAGE_BLOCKS
from bot.slack.limits import SECTION_TEXT as SECTION_LIMIT
from storage import postmortem as repo
from storage import timeline
from storage.models import Incident, PostmortemVersion
from tests.postmortem.fixtures import NOW

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def sb(transport: str, database_url: str) -> Iterator[Sandbox]:
    """A sandbox showing times in Paris, its clock fixed at ``NOW``."""
    with Sandbox(database_url, clock=FixedClock(NOW), migrate=False, transport=transport,
                 timezone=PARIS) as box:
        yield box


def start(sb: Sandbox, title: str = "sev2 Checkout is failing") -> str:
    """Open an incident from #general; returns its channel id (once the last reply is in)."""

    def opened() -> int:
        return sum("is open" in r.get("text", "") for r in list(sb.fake.responses))

    before = opened()
    assert sb.sim.command(f"start {title}", channel=sb.general).status == 200
    assert sb.fake.wait_for(lambda: opened() > before), "start never finished"
    return sb.fake.calls_to("pins.add")[-1].args["channel"]


def run(sb: Sandbox, channel: str, text: str, user: str = "U0LEAD") -> dict[str, Any]:
    """``/incident <text>`` in ``channel``; returns the reply (ephemeral or in channel)."""
    n = len(sb.fake.responses)
    assert sb.sim.command(text, user=user, channel=channel).status == 200
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > n), f"no reply to {text!r}"
    return sb.fake.responses[-1]


def prompts(sb: Sandbox, channel: str) -> list[dict[str, Any]]:
    return [p for p in posts(sb, channel) if p["text"].startswith(":memo: *INC-")]


def resolve(sb: Sandbox, channel: str, text: str = "resolve") -> dict[str, Any]:
    """Resolve, and wait for the postmortem prompt that follows the reply."""
    before = len(prompts(sb, channel))
    run(sb, channel, text)
    assert sb.fake.wait_for(lambda: len(prompts(sb, channel)) > before), "no prompt"
    return prompts(sb, channel)[-1]


def incident(sb: Sandbox) -> Incident:
    with sb.db.session() as s:
        return s.scalars(select(Incident).order_by(Incident.id.desc())).first()  # type: ignore[return-value]


def posts(sb: Sandbox, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in sb.fake.calls_to("chat.postMessage") if c.args["channel"] == channel]


def block_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b.get("text", {}).get("text", "") if b["type"] == "section" else
                     " ".join(e["text"] for e in b.get("elements", [])) for b in blocks)


def add_entries(sb: Sandbox, count: int, text: str) -> None:
    inc = incident(sb)
    with sb.db.session() as s:
        for i in range(count):
            timeline.add(s, incident_id=inc.id, kind="note", occurred_at=inc.started_at,
                         now=NOW, actor_user_id="U0BOB", text=text.format(i=i))


def test_preview_is_ephemeral_and_lists_what_is_missing(sb: Sandbox) -> None:
    channel = start(sb)
    run(sb, channel, "impact 30% of checkouts fail")
    posted = len(sb.fake.calls_to("chat.postMessage"))
    reply = run(sb, channel, "postmortem")
    assert reply["response_type"] == "ephemeral"
    text = block_text(reply["blocks"])
    assert "*Still missing from this postmortem:*" in text
    assert "• No root cause yet: `/incident cause &lt;text&gt;`" in text
    assert "The impact is not recorded" not in text
    assert ":memo: *INC-1 Postmortem: Checkout is failing*" in text
    assert "*Impact:* 30% of checkouts fail" in text
    assert "_(times in Europe/Paris, on " in text and "CEST" in text
    assert "`/incident postmortem publish` posts it here" in text
    assert len(sb.fake.calls_to("chat.postMessage")) == posted  # nothing in the channel
    with sb.db.session() as s:
        assert repo.versions(s, incident(sb).id) == []


def test_publish_posts_the_postmortem_and_uploads_markdown(sb: Sandbox) -> None:
    channel = start(sb)
    run(sb, channel, "impact 30% of checkouts fail")
    run(sb, channel, "cause pool exhausted")
    resolve(sb, channel, "resolve rolled back")
    before = len(posts(sb, channel))
    reply = run(sb, channel, "postmortem publish")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Published version 1 of the INC-1 postmortem: 1 message "
                                    "and the Markdown file.")
    assert "Still missing" in reply["text"] and "No summary yet" in reply["text"]
    (message,) = posts(sb, channel)[before:]
    assert message["text"] == "INC-1 postmortem, version 1"
    body = block_text(message["blocks"])
    assert "_Version 1 · published by lee · 2024-05-06 10:30 CEST_" in body
    assert "*Root cause:* pool exhausted" in body

    (get_url,) = sb.fake.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == "inc-1-postmortem-v1.md"
    (complete,) = sb.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == channel
    file_id = complete.args["files"][0]["id"]
    markdown = sb.fake.uploads[file_id].decode()
    assert markdown.startswith("# INC-1 Postmortem: Checkout is failing\n")
    assert "_Version 1, published by lee on 2024-05-06 10:30 CEST._" in markdown
    with sb.db.session() as s:
        (stored,) = repo.versions(s, incident(sb).id)
    assert (stored.version, stored.published_by, stored.markdown) == (1, "U0LEAD", markdown)

    reply = run(sb, channel, "postmortem publish", user="U0ALICE")
    assert reply["text"].startswith("Published version 2 of the INC-1 postmortem (it replaces "
                                    "version 1)")
    assert "_Version 2 · published by alice" in block_text(posts(sb, channel)[-1]["blocks"])
    assert sb.fake.calls_to("files.getUploadURLExternal")[-1].args["filename"] == (
        "inc-1-postmortem-v2.md")
    with sb.db.session() as s:
        assert [v.version for v in repo.versions(s, incident(sb).id)] == [1, 2]


def check_limits(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        blocks = message["blocks"]
        assert len(blocks) <= MESSAGE_BLOCKS
        texts = [b["text"]["text"] for b in blocks]
        assert all(0 < len(t) <= SECTION_LIMIT for t in texts)
        assert sum(map(len, texts)) <= MESSAGE_CHARS
        for t in texts:  # no mention or link cut in two
            assert t.count("<") == t.count(">")


def test_a_long_postmortem_is_split_within_slack_limits(sb: Sandbox) -> None:
    channel = start(sb)
    tail = "the replica lag on every shard of the payments cluster " * 5
    add_entries(sb, 100, "step {i}: asked <@U0ALICE> to check " + tail)
    reply = run(sb, channel, "postmortem publish")
    assert "Published version 1" in reply["text"]
    messages = posts(sb, channel)[1:]  # after the card
    assert 3 <= len(messages) <= MAX_MESSAGES
    check_limits(messages)
    assert [m["text"] for m in messages] == [
        f"INC-1 postmortem, version 1 (part {i} of {len(messages)})"
        for i in range(1, len(messages) + 1)]
    sections = [b["text"]["text"] for m in messages for b in m["blocks"]]
    for i in range(100):  # every entry whole, inside one block: cut at line ends only
        line = f"• `10:30` *bob*: step {i}: asked @alice to check {tail.strip()}"
        assert sum(line in "\n" + text + "\n" for text in sections) == 1, line
    assert "*Corrective and Preventative Measures*" in sections[-1]  # the end is posted too


def test_a_huge_timeline_is_cut_in_slack_and_whole_in_the_file(sb: Sandbox) -> None:
    channel = start(sb)
    add_entries(sb, 400, "entry {i} " + "word " * 400)
    run(sb, channel, "postmortem publish")
    messages = posts(sb, channel)[1:]
    assert 2 <= len(messages) <= MAX_MESSAGES
    check_limits(messages)
    posted = "\n".join(block_text(m["blocks"]) for m in messages)
    assert "entry 0 word" in posted and "entry 399 word" in posted
    assert "entry 200 word" not in posted
    assert re.search(r"_… \d+ more entries: see the Markdown file …_", posted)
    assert "*Corrective and Preventative Measures*" in posted  # the end is posted too
    file_id = sb.fake.calls_to("files.completeUploadExternal")[-1].args["files"][0]["id"]
    markdown = sb.fake.uploads[file_id].decode()
    assert all(f"entry {i} word" in markdown for i in range(400))


def test_posting_stops_at_a_bounded_number_of_messages(
        sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.postmortem.slack.MAX_MESSAGES", 2)
    channel = start(sb)
    add_entries(sb, 60, "entry {i} " + "word " * 300)
    reply = run(sb, channel, "postmortem publish")
    messages = posts(sb, channel)[1:]
    assert len(messages) == 2 and "2 messages and the Markdown file" in reply["text"]
    check_limits(messages)
    assert block_text(messages[-1]["blocks"]) == REST_IN_FILE
    assert len(sb.fake.calls_to("files.completeUploadExternal")) == 1


def test_preview_of_a_long_postmortem_fits_one_message(sb: Sandbox) -> None:
    channel = start(sb)
    add_entries(sb, 100, "step {i} " + "word " * 100)
    reply = run(sb, channel, "postmortem")
    blocks = reply["blocks"]
    assert len(blocks) <= MESSAGE_BLOCKS
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sum(map(len, sections)) <= MESSAGE_CHARS and all(len(t) <= 3000 for t in sections)
    assert "the whole postmortem is too long to show here" in block_text(blocks)


def test_resolving_prompts_for_what_the_postmortem_lacks(sb: Sandbox) -> None:
    channel = start(sb)
    run(sb, channel, "impact 30% of checkouts fail")
    text = resolve(sb, channel, "resolve rolled back the deploy")["text"]
    assert text.startswith(":memo: *INC-1 is resolved: time for the postmortem.*")
    assert "• No root cause yet: `/incident cause &lt;text&gt;`" in text
    assert "• No summary yet: `/incident summary &lt;text&gt;`" in text
    still_empty = text.split("Still empty:")[1].lower()
    assert "impact" not in still_empty and "resolution" not in still_empty
    assert "end time" not in still_empty
    assert "`/incident postmortem publish`" in text

    run(sb, channel, "resolve a better resolution text")  # already resolved: no new prompt
    run(sb, channel, "reopen")
    for fact in ("summary s", "cause c", "detection d"):
        run(sb, channel, fact)
    add_entries(sb, 1, "a note")
    text = resolve(sb, channel, "status resolved")["text"]
    assert len(prompts(sb, channel)) == 2
    assert "No root cause" not in text and "No summary" not in text
    assert "• No corrective tasks or improvements" in text


def test_custom_slack_template_is_used(transport: str, database_url: str, tmp_path: Path) -> None:
    (tmp_path / "postmortem.slack.j2").write_text(
        "CUSTOM {{ pm.ref }}: {{ pm.impact or 'no impact' }} ({{ pm.timeline | length }})\n")
    with Sandbox(database_url, clock=FixedClock(NOW), migrate=False, transport=transport,
                 templates_dir=tmp_path) as sb:
        channel = start(sb)
        run(sb, channel, "impact <!channel> checkout & pay down")
        run(sb, channel, "postmortem publish")
        message = posts(sb, channel)[-1]
        assert block_text(message["blocks"]) == "CUSTOM INC-1: @channel checkout &amp; pay down (2)"
        markdown = list(sb.fake.uploads.values())[-1].decode()
        assert markdown.startswith("# INC-1 Postmortem")  # md.j2 is not overridden


def test_broken_custom_template_still_publishes_ours_and_says_why(
        transport: str, database_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "postmortem.md.j2").write_text("# {{ pm.ref }}\n{% for x in %}\n")
    (tmp_path / "postmortem.slack.j2").write_text("{{ pm.no_such_field }}")
    with Sandbox(database_url, clock=FixedClock(NOW), migrate=False, transport=transport,
                 templates_dir=tmp_path) as sb:
        channel = start(sb)
        reply = run(sb, channel, "postmortem publish")
        assert "Published version 1" in reply["text"]
        assert ":warning: Your template `postmortem.slack.j2` in `TEMPLATES_DIR` failed " \
               "(line 1: " in reply["text"]
        assert ":warning: Your template `postmortem.md.j2` in `TEMPLATES_DIR` failed " \
               "(line 2: " in reply["text"]
        assert ":memo: *INC-1 Postmortem" in block_text(posts(sb, channel)[-1]["blocks"])
        markdown = list(sb.fake.uploads.values())[-1].decode()
        assert "## Issue Summary" in markdown
        preview = run(sb, channel, "postmortem")
        assert "Your template `postmortem.slack.j2`" in block_text(preview["blocks"])
    assert any("custom template" in r.getMessage() for r in caplog.records)


def test_user_text_never_broadcasts_or_runs_as_a_template(sb: Sandbox) -> None:
    channel = start(sb)
    inc = incident(sb)
    with sb.db.session() as s:
        timeline.add(s, incident_id=inc.id, kind="message", occurred_at=inc.started_at,
                     now=NOW, author_user_id="U0CARA", message_channel_id=channel,
                     message_ts="1714770120.000100",
                     text="<!here> <!channel> <!subteam^S1|@oncall> {{ 7*7 }} {% raw %} "
                          "<!everyone> <@U0BOB> <script>")
    run(sb, channel, "cause {{ config }} <!channel>")
    run(sb, channel, "postmortem")
    run(sb, channel, "postmortem publish")
    payloads = [str(c.args) for c in sb.fake.calls] + [str(r) for r in sb.fake.responses]
    for payload in payloads:
        assert not re.search(r"<!(here|channel|everyone|subteam)", payload)
    markdown = list(sb.fake.uploads.values())[-1].decode()
    assert "@here @channel @oncall {{ 7*7 }} {% raw %} @everyone @bob \\<script>" in markdown
    assert "**Root cause:** {{ config }} @channel" in markdown


def test_wrong_arguments_and_wrong_place(sb: Sandbox) -> None:
    channel = start(sb)
    reply = run(sb, channel, "postmortem sideways")
    assert reply["text"].startswith("Usage: `/incident postmortem` to see it")
    reply = run(sb, sb.general, "postmortem")
    assert "works in an incident's channel" in reply["text"]
    with sb.db.session() as s:
        assert s.scalars(select(PostmortemVersion)).all() == []


def test_slack_failure_while_publishing_is_explained(sb: Sandbox) -> None:
    channel = start(sb)
    sb.fake.fail("files.completeUploadExternal", "not_in_channel")
    reply = run(sb, channel, "postmortem publish")
    assert reply["text"] == (
        ":warning: Version 1 of the INC-1 postmortem is saved, but Slack refused to upload the "
        "Markdown file (`not_in_channel`). Run `/incident postmortem publish` again in a moment.")
    reply = run(sb, channel, "postmortem publish")
    assert reply["text"].startswith("Published version 2")


def test_missing_built_in_templates_are_reported_as_such(
        sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Not "Slack did not answer" (jinja2's TemplateNotFound is an OSError): what happened."""
    from bot.postmortem import slack as pm_slack
    from bot.postmortem import templates

    empty = tmp_path / "no-templates"
    empty.mkdir()
    monkeypatch.setattr(templates, "builtin_dir", lambda: empty)
    pm_slack.templates_for.cache_clear()
    try:
        channel = start(sb)
        text = run(sb, channel, "postmortem")["text"]
    finally:
        pm_slack.templates_for.cache_clear()
    assert "did not answer" not in text
    assert text.startswith(":warning: Sitrep is not installed or configured correctly: "
                           "Sitrep's built-in template postmortem.slack.j2 is missing (the "
                           "installation is incomplete: reinstall Sitrep).")
    assert str(empty) not in text  # the path is for the operator's log
    assert f"postmortem.slack.j2 is missing (the installation is incomplete: reinstall " \
           f"Sitrep) (looked in {empty}) (ref " in caplog.text
