"""Split long Slack text to fit Slack's limits without breaking what people read.

Slack rejects a section whose text exceeds 3,000 characters, a message of more than 50
blocks, and (``msg_blocks_too_long``) a message whose blocks add up to much more than
12,000 characters. Long text is therefore cut at line boundaries; a line longer than a
block is cut between words; a word longer than a block (a huge URL) is cut between
characters as a last resort, but never inside a ``<…>`` mention or link or an ``&…;``
entity, which Slack would show broken.
"""

from __future__ import annotations

import re

SECTION_LIMIT = 3000
MESSAGE_BLOCKS = 50
#: What Slack accepts in practice for the blocks of one message (it reports
#: ``msg_blocks_too_long`` a little above 13,000 characters).
MESSAGE_CHARS = 12_000

#: A "word": a run of mentions/links (spaces allowed inside), entities and other non-space
#: characters; then the space after it.
_WORD = re.compile(r"(?:<[^<>\n]*>|[^\s<]|<)+\s*")
#: The pieces a word may be cut between as a last resort.
_ATOM = re.compile(r"<[^<>\n]*>|&#?\w+;|.", re.S)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Cut ``text`` into non-blank chunks of at most ``limit`` characters, at line ends.

    Lines are never merged or reordered; blank lines at the edge of a chunk are dropped
    (Slack shows the gap between blocks anyway).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        chunk = "\n".join(current).strip("\n")
        if chunk.strip():
            chunks.append(chunk)
        current, size = [], 0

    for line in text.split("\n"):
        line = line.rstrip()
        if len(line) > limit:
            flush()
            pieces = _split_line(line, limit)
            chunks.extend(pieces[:-1])
            line = pieces[-1]
        added = len(line) + (1 if current else 0)
        if current and size + added > limit:
            flush()
            added = len(line)
        current.append(line)
        size += added
    flush()
    return chunks


def _split_line(line: str, limit: int) -> list[str]:
    """A line longer than ``limit``, cut between words (or atoms, for an endless word)."""
    pieces: list[str] = []
    current = line[: len(line) - len(line.lstrip())]  # keep the indentation
    for word in _WORD.findall(line):
        if len(current) + len(word.rstrip()) > limit:
            if current.strip():
                pieces.append(current.rstrip())
            current = ""
            if len(word.rstrip()) > limit:
                head, word = _cut_word(word, limit)
                pieces.extend(head)
        current += word
    if current.strip() or not pieces:
        pieces.append(current.rstrip())
    return pieces


def _cut_word(word: str, limit: int) -> tuple[list[str], str]:
    """Full ``limit``-sized pieces of an overlong word, and the rest."""
    pieces: list[str] = []
    current = ""
    for atom in _ATOM.findall(word):
        if current and len(current) + len(atom) > limit:
            pieces.append(current)
            current = ""
        while len(atom) > limit:  # a single link longer than a block: nothing better to do
            pieces.append(atom[:limit])
            atom = atom[limit:]
        current += atom
    return pieces, current


def pack(chunks: list[str], max_blocks: int = MESSAGE_BLOCKS,
         max_chars: int = MESSAGE_CHARS) -> list[list[str]]:
    """Group chunks, in order, into messages of at most ``max_blocks`` and ``max_chars``."""
    messages: list[list[str]] = []
    current: list[str] = []
    size = 0
    for chunk in chunks:
        if current and (len(current) >= max_blocks or size + len(chunk) > max_chars):
            messages.append(current)
            current, size = [], 0
        current.append(chunk)
        size += len(chunk)
    if current:
        messages.append(current)
    return messages


def sections(chunks: list[str]) -> list[dict[str, object]]:
    """Block Kit ``section`` blocks for chunks of mrkdwn."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]
