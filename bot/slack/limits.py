"""Slack's limits on what Sitrep sends, in one place, and how text is made to fit them.

Every renderer (the incident card, task DMs, timeline pages, postmortem messages, lists and
modals) fits its text with these numbers, so a long summary or a long list can never make
Slack refuse a message (``invalid_blocks``, ``msg_too_long``) and freeze what it shows. Text
is fitted *after* it is escaped for mrkdwn (escaping lengthens it), and cut at whole
characters, never inside an entity or a mention (``bot/common/splitting.py``). What is cut
here is only cut in Slack: the database and the postmortem keep the full text.

The fake Slack (``bot/sandbox/fakeslack/blockkit.py``) checks the same limits independently,
from slack_sdk's Block Kit models and Slack's documentation.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.common.splitting import cut

# https://api.slack.com/reference/block-kit/blocks#section
SECTION_TEXT = 3000  #: a section's text
SECTION_FIELDS = 10  #: fields in one section
FIELD_TEXT = 2000  #: each field's text
# https://api.slack.com/reference/block-kit/blocks#header
HEADER_TEXT = 150  #: a header's plain text
# https://api.slack.com/reference/block-kit/blocks ("up to 50 blocks in each message, and up
# to 100 blocks in modals or Home tabs")
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
#: What Slack accepts in practice for the blocks of one message: it answers
#: ``msg_blocks_too_long`` a little above 13,000 characters (not documented as a number).
MESSAGE_BLOCK_CHARS = 12_000
# https://api.slack.com/reference/surfaces/views
VIEW_TITLE = 24  #: a modal's title (and its submit and close buttons)
PRIVATE_METADATA = 3000  #: a view's private_metadata
# https://api.slack.com/reference/block-kit/composition-objects#option
OPTION_TEXT = 75  #: an option's text
OPTION_VALUE = 150  #: an option's value
# https://api.slack.com/reference/block-kit/block-elements#button
BUTTON_TEXT = 75  #: a button's text
BUTTON_VALUE = 2000  #: a button's value
# https://api.slack.com/methods/chat.postMessage#truncating ("Slack will truncate messages
# containing more than 40,000 characters"; the same for chat.postEphemeral and response URLs,
# https://api.slack.com/changelog/2018-04-truncating-really-long-messages)
MESSAGE_TEXT = 40_000
#: ``chat.update`` answers ``msg_too_long`` for far less: https://api.slack.com/methods/chat.update
#: lists the error without a number; the chat.postMessage page asks for "4,000 characters"
#: at most, and updates above that are refused in practice.
UPDATE_TEXT = 4000
#: What Sitrep keeps its own replies and lists under (chat.postMessage: "For best results,
#: limit the number of characters in the text field to 4,000 characters").
READABLE_TEXT = 4000
#: Room kept for the "… and N more" line of a list that did not fit.
MORE_LINE = 200


def fit(text: str, limit: int) -> str:
    """``text`` if it fits ``limit``, else cut at a whole character and ending with ``…``."""
    return cut(text, limit)


def fit_lines(lines: Sequence[str], limit: int = READABLE_TEXT) -> tuple[list[str], int]:
    """The leading ``lines`` that fit in ``limit`` characters (joined by newlines), and how
    many were left out. When some are left out, ``MORE_LINE`` characters stay free for the
    caller's "… and N more" line."""
    if sum(len(line) + 1 for line in lines) - 1 <= limit:
        return list(lines), 0
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - MORE_LINE:
            break
        kept.append(line)
        size += len(line) + 1
    return kept, len(lines) - len(kept)


def and_more(count: int, what: str = "more", hint: str = "") -> str:
    """``… and 12 more`` (with ``hint``, e.g. where to see them all)."""
    return f"… and {count} {what}" + (f" {hint}" if hint else "")
