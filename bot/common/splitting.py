"""Split or cut long text to fit Slack's limits without breaking what people read.

The limits themselves are Slack's and live in ``bot/slack/limits.py``; this module only knows
how to cut. Long text is cut at line boundaries; a line longer than a block is cut between
words; a word longer than a block (a huge URL) is cut between characters as a last resort.
Wherever it is cut, a cut falls between whole *atoms*: never inside a ``<…>`` mention or
link or an ``&…;`` entity (which Slack would show broken), and never inside a character as
people see it (an accent and its letter, an emoji and its skin tone or ``ZWJ`` partners, the
two halves of a flag).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

#: A "word": a run of mentions/links (spaces allowed inside), entities and other non-space
#: characters; then the space after it.
_WORD = re.compile(r"(?:<[^<>\n]*>|[^\s<]|<)+\s*")
#: Pieces that must stay whole: a ``<…>`` token, an entity, or one code point (joined into
#: whole characters by :func:`atoms`).
_TOKEN_OR_CHAR = re.compile(r"<[^<>\n]*>|&#?\w+;|.", re.S)
_ZWJ = "\u200d"
_REGIONAL = range(0x1F1E6, 0x1F200)


def _extends(prev: str, ch: str) -> bool:
    """Whether code point ``ch`` belongs to the character that ``prev`` ends."""
    if ch == _ZWJ or prev.endswith(_ZWJ):
        return True
    if unicodedata.category(ch) in ("Mn", "Mc", "Me") or 0xFE00 <= ord(ch) <= 0xFE0F:
        return True  # combining marks and variation selectors
    if 0x1F3FB <= ord(ch) <= 0x1F3FF or 0xE0020 <= ord(ch) <= 0xE007F:
        return True  # emoji skin tones, tag sequences
    if ord(ch) in _REGIONAL and prev and ord(prev[-1]) in _REGIONAL:
        # Flags are pairs of regional indicators: join the second of each pair.
        return sum(ord(c) in _REGIONAL for c in prev) % 2 == 1
    return False


def atoms(text: str) -> Iterator[str]:
    """``text`` in pieces that a cut may fall between (tokens, entities, whole characters)."""
    current = ""
    for piece in _TOKEN_OR_CHAR.findall(text):
        if current and len(piece) == 1 and _extends(current, piece):
            current += piece
            continue
        if current:
            yield current
        current = piece
    if current:
        yield current


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` if it fits in ``limit`` characters, else its start (whole atoms) + ``ellipsis``."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room < 0:
        raise ValueError("limit is shorter than the ellipsis")
    kept: list[str] = []
    size = 0
    for atom in atoms(text):
        if size + len(atom) > room:
            break
        kept.append(atom)
        size += len(atom)
    return "".join(kept).rstrip() + ellipsis


def split_text(text: str, limit: int) -> list[str]:
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
    for atom in atoms(word):
        if current and len(current) + len(atom) > limit:
            pieces.append(current)
            current = ""
        while len(atom) > limit:  # a single link longer than a block: nothing better to do
            pieces.append(atom[:limit])
            atom = atom[limit:]
        current += atom
    return pieces, current


def pack(chunks: list[str], max_blocks: int, max_chars: int) -> list[list[str]]:
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
