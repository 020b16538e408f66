"""Slack text split at line ends, within Slack's limits, never inside a word or mention."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.common.splitting import atoms, cut, pack, sections, split_text
from bot.sandbox.fakeslack import block_errors
from bot.slack.limits import MESSAGE_BLOCK_CHARS as MESSAGE_CHARS
from bot.slack.limits import MESSAGE_BLOCKS
from bot.slack.limits import SECTION_TEXT as SECTION_LIMIT

TOKEN = re.compile(r"<[^<>]*>")


def test_short_text_is_one_chunk() -> None:
    assert split_text("one\ntwo", SECTION_LIMIT) == ["one\ntwo"]
    assert split_text("\n\n  \n", SECTION_LIMIT) == []


def test_exactly_at_the_limit_is_one_chunk_one_more_is_two() -> None:
    line = "x" * 99
    text = "\n".join([line] * 30)  # 30 * 99 + 29 newlines = 2999
    assert len(text) == 2999
    assert split_text(text + "y", SECTION_LIMIT) == [text + "y"]  # 3000: still fits
    chunks = split_text(text + "\nz", SECTION_LIMIT)  # 3001
    assert chunks == ["\n".join([line] * 30), "z"]


def test_cuts_at_line_ends_and_keeps_every_line_in_order() -> None:
    lines = [f"• `10:{i % 60:02d}` *someone*: entry number {i} " + "word " * (i % 40)
             for i in range(400)]
    chunks = split_text("\n".join(lines), SECTION_LIMIT)
    assert len(chunks) > 5
    assert all(len(c) <= SECTION_LIMIT for c in chunks)
    assert [line.rstrip() for line in lines] == "\n".join(chunks).split("\n")


def test_a_long_line_is_cut_between_words_and_never_inside_a_mention() -> None:
    mention = "<https://example.com/a?b=1&amp;c=2|the status page with spaces>"
    line = " ".join(f"word{i} {mention} <@U0ALICE|alice>" for i in range(200))
    chunks = split_text(line, limit=500)
    assert all(len(c) <= 500 for c in chunks)
    words = [w for c in chunks for w in TOKEN.sub("TOKEN", c).split()]
    assert words == TOKEN.sub("TOKEN", line).split()
    for chunk in chunks:
        assert chunk.count("<") == chunk.count(">") == len(TOKEN.findall(chunk))


def test_an_endless_word_is_cut_but_not_inside_an_entity_or_mention() -> None:
    word = ("a&amp;b<@U0BOB>" * 100)
    chunks = split_text(word, limit=64)
    assert "".join(chunks) == word
    for chunk in chunks:
        assert len(chunk) <= 64
        assert not re.search(r"&[a-z]*$", chunk) and not re.match(r"^[a-z]*;", chunk)
        assert chunk.count("<") == chunk.count(">")


def test_indentation_of_a_long_line_is_kept() -> None:
    chunks = split_text("  " + "word " * 100, limit=50)
    assert chunks[0].startswith("  word")


def test_pack_respects_blocks_and_characters() -> None:
    chunks = ["x" * 2900] * 9 + ["y"] * 120
    messages = pack(chunks, MESSAGE_BLOCKS, MESSAGE_CHARS)
    assert [c for m in messages for c in m] == chunks
    for message in messages:
        assert len(message) <= MESSAGE_BLOCKS
        assert sum(map(len, message)) <= MESSAGE_CHARS
        assert block_errors(sections(message)) == []
    assert pack([], MESSAGE_BLOCKS, MESSAGE_CHARS) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(["<@U0ALICE>", "<#C0INC|inc-1>", "<https://x.io/a b|a link>", "&amp;",
                     "&lt;", "\n", "\n\n", " ", "  "]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>&"),
            min_size=1, max_size=40),
    st.text(alphabet="ab", min_size=200, max_size=400),
), max_size=200), st.integers(min_value=30, max_value=400))
def test_property_within_limit_lossless_and_tokens_whole(parts: list[str], limit: int) -> None:
    text = "".join(parts)
    chunks = split_text(text, limit)
    for chunk in chunks:
        assert 0 < len(chunk) <= limit and chunk.strip()
        assert chunk.count("<") == chunk.count(">") == len(TOKEN.findall(chunk))
    squash = re.compile(r"\s+")
    assert squash.sub("", "".join(chunks)) == squash.sub("", text)


def test_cut_keeps_whole_characters_entities_and_mentions() -> None:
    assert cut("short", 10) == "short"
    assert cut("Checkout &amp; login", 12) == "Checkout…"
    assert cut("ab<@U0ALICE|alice>cd", 10) == "ab…"
    flags = "🇫🇷🇩🇪🇮🇹"
    assert cut(flags, 5) == "🇫🇷🇩🇪…"
    family = "a👨\u200d👩\u200d👧b"
    assert cut(family, 4) == "a…"
    assert cut("e\u0301" * 5, 4) == "e\u0301…"
    assert list(atoms("x&lt;y")) == ["x", "&lt;", "y"]
