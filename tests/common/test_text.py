from bot.common.text import clean, escape, mentioned_users, neutralize, readable


def test_neutralize_disarms_broadcasts_but_keeps_mentions_and_links() -> None:
    text = "<!channel> <!here|here> <!subteam^S1|@oncall> <@U1|ann> <#C1|ops> <https://x.io|x>"
    assert neutralize(text) == "@channel here @oncall <@U1|ann> <#C1|ops> <https://x.io|x>"


def test_escape_makes_raw_text_inert() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert mentioned_users(escape("<@U1>")) == []


def test_clean_strips_control_characters_and_caps() -> None:
    assert clean("  a\x00b\x1bc\u202e  ") == "abc"
    assert clean("x" * 10, limit=5) == "xxxx…"


def test_readable() -> None:
    names = {"U1": "ann"}.get
    text = "<@U1> saw <#C9|ops> fail: <https://x.io/a|dashboard> &lt;b&gt; <!here>"
    assert readable(text, lambda u: names(u) or u) == \
        "@ann saw #ops fail: dashboard (https://x.io/a) <b> @here"


def test_nothing_recombines_into_a_mention_or_broadcast() -> None:
    assert neutralize("<<!channel>!channel>") == "&lt;@channel!channel&gt;"
    assert neutralize("<@U1<!here>>") == "&lt;@U1@here&gt;"
    assert mentioned_users(neutralize("<@U1<!here>>")) == []
