from bot.common.text import (
    clean,
    escape,
    from_slack,
    mentioned_users,
    mrkdwn,
    readable,
    to_slack,
)


def test_from_slack_decodes_entities_once_and_keeps_references() -> None:
    wire = ("Checkout &amp; login fail for &lt;EU&gt; users, see <@U1|ann> in <#C1|ops> "
            "<https://x.io/a?b=1&amp;c=2|the graph> &amp;lt; <!here>")
    stored = from_slack(wire)
    assert stored == ("Checkout & login fail for <EU> users, see <@U1|ann> in <#C1|ops> "
                      "<https://x.io/a?b=1&amp;c=2|the graph> &lt; <!here>")
    assert to_slack(stored) == wire
    assert from_slack("no entities <@U1>") == "no entities <@U1>"


def test_mrkdwn_escapes_text_keeps_mentions_and_links_and_disarms_broadcasts() -> None:
    stored = ("a & b <EU> <@U1|ann> <#C1|ops> <https://x.io|x> <!channel> <!here|here> "
              "<!subteam^S1|@oncall> <!date^1392734382^{date}|Feb 18>")
    assert mrkdwn(stored) == ("a &amp; b &lt;EU&gt; <@U1|ann> <#C1|ops> <https://x.io|x> "
                              "@channel here @oncall Feb 18")


def test_escape_makes_raw_text_inert() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert mentioned_users(escape("<@U1>")) == []


def test_clean_strips_control_characters_and_caps_at_whole_atoms() -> None:
    assert clean("  a\x00b\x1bc\u202e  ") == "abc"
    assert clean("x" * 10, limit=5) == "xxxx…"
    assert clean("ab <@U0ALICE> cd", limit=8) == "ab…"
    assert clean("keep <!here> as typed") == "keep <!here> as typed"


def test_readable() -> None:
    names = {"U1": "ann"}.get
    stored = from_slack("<@U1> saw <#C9|ops> fail: <https://x.io/a?b=1&amp;c=2|dash &amp; board> "
                        "&lt;b&gt; &amp;amp; <!here>")
    assert readable(stored, lambda u: names(u) or u) == \
        "@ann saw #ops fail: dash & board (https://x.io/a?b=1&c=2) <b> &amp; @here"
    assert readable("<EU> stays") == "<EU> stays"


def test_nothing_recombines_into_a_mention_or_broadcast() -> None:
    # What a person types around a reference stays literal text on output.
    assert mrkdwn(from_slack("&lt;<!channel>!channel&gt;")) == "&lt;@channel!channel&gt;"
    assert mrkdwn(from_slack("&lt;@U1<!here>&gt;")) == "&lt;@U1@here&gt;"
    assert mrkdwn(from_slack("&lt;@U<!here|1>&gt;")) == "&lt;@U1&gt;"
    assert mentioned_users(mrkdwn(from_slack("&lt;@U<!here|1>&gt;"))) == []
