"""Text reads as it was typed, in every output (issue 11, item 6).

Slack sends slash-command text with ``&``, ``<`` and ``>`` as entities; Sitrep decodes them
once, stores the text as typed, and escapes it for each output: Slack mrkdwn, plain text,
the channel name, the Markdown file, the HTML page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.sandbox.sandbox import Sandbox
from tests.incidents.test_slack import in_channel, start, stored

TITLE = "Checkout & login fail for <EU> users"


def test_a_title_with_ampersand_and_angle_brackets_reads_as_typed_everywhere(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = sandbox
    sent = sb.sim.command_body(f"start sev2 {TITLE}")
    assert "Checkout+%26amp%3B+login+fail+for+%26lt%3BEU%26gt%3B+users" in sent  # as Slack
    channel = start(sb, f"sev2 {TITLE}")
    (incident,) = stored(sb)
    assert incident.title == TITLE

    # The channel's name, the card's plain-text header and the mrkdwn announcement.
    assert channel["name"] == "inc-1-checkout-login-fail-for-eu-users"
    card = sb.fake.calls_to("chat.postMessage")[0].args
    assert card["blocks"][0]["text"] == {"type": "plain_text", "text": f"INC-1: {TITLE}"}
    assert card["text"].startswith("INC-1: Checkout &amp; login fail for &lt;EU&gt; users")
    announced = [r["text"] for r in sb.fake.responses if r.get("response_type") == "in_channel"]
    assert "Checkout &amp; login fail for &lt;EU&gt; users" in announced[0]

    # A fact and a note typed the same way, and the postmortem built from them.
    # (a link arrives in Slack's markup, its own ``&`` escaped inside it)
    in_channel(sb, channel["id"], "impact carts & wishlists <EU> down; see "
                                  "<https://status.example/a?b=1&amp;c=2|status>")
    in_channel(sb, channel["id"], "note 5 < 7 & 7 > 5")
    assert stored(sb)[0].impact == ("carts & wishlists <EU> down; see "
                                    "<https://status.example/a?b=1&amp;c=2|status>")
    noted = sb.fake.responses[-1]["text"]
    assert noted.endswith(": 5 &lt; 7 &amp; 7 &gt; 5")
    in_channel(sb, channel["id"], "postmortem publish")
    sb.fake.wait_for(lambda: sb.fake.uploads)
    markdown = next(iter(sb.fake.uploads.values())).decode()
    assert "# INC-1 Postmortem: Checkout & login fail for \\<EU> users" in markdown
    assert ("**Impact:** carts & wishlists \\<EU> down; see status "
            "(https://status.example/a?b=1&c=2)") in markdown
    assert "5 < 7 & 7 > 5" in markdown and "&amp;" not in markdown
    posted = str(sb.fake.calls_to("chat.postMessage")[-1].args["blocks"])
    assert "Checkout &amp; login fail for &lt;EU&gt; users" in posted

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", sb.settings.database_url)
    monkeypatch.delenv("TEMPLATES_DIR", raising=False)
    target = tmp_path / "inc-1.html"
    assert main(["postmortem", "INC-1", "--format", "html", "-o", str(target)]) == 0
    html = target.read_text()
    assert "<h1>INC-1 Postmortem: Checkout &amp; login fail for &lt;EU&gt; users</h1>" in html
    assert "&amp;amp;" not in html and "&amp;lt;" not in html


def test_literal_entities_and_cuts_stay_whole(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb, "sev3 Cache &amp; friends")["id"]  # typed literally: "&amp;"
    assert stored(sb)[0].title == "Cache &amp; friends"
    header = sb.fake.calls_to("chat.postMessage")[0].args["blocks"][0]["text"]["text"]
    assert header == "INC-1: Cache &amp; friends"
    # A summary whose escaped form passes the card's limit is cut between whole entities.
    in_channel(sb, channel, "summary " + "&" * 2999)
    section = sb.fake.calls_to("chat.update")[-1].args["blocks"][2]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("&amp;…")
    assert section.removeprefix("*Summary*\n").removesuffix("…") == "&amp;" * 597
