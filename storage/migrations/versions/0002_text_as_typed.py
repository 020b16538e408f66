"""text as typed: decode Slack's entities in stored user text

Until this revision, text from slash commands and messages was stored in Slack's wire
markup (``&amp;``, ``&lt;``, ``&gt;``; form input was escaped to match). From now on it is
stored as the person typed it, with Slack's references (``<@U…>``, ``<#C…>``, ``<!here>``,
``<https://…|…>``) kept verbatim, and escaped for each output (``bot/common/text.py``).

This revision converts what is already stored the same way: outside references, the three
entities are decoded once; references are left as they are. Only rows holding an ``&`` can
change, so only those are read. Timeline entries of kind ``message`` already hold plain
readable text and are left alone, as are published postmortem versions (rendered output).

The decoding is copied here rather than imported: a migration must keep doing what it did
when it was written, and ``storage/`` imports nothing of ``bot/``.

Revision ID: 0002_text_as_typed
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""
import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002_text_as_typed'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WIRE_TOKEN = re.compile(r"<[^<>]*>")
_REFERENCE = re.compile(
    r"<(?:[@#][A-Z0-9]+|![^<>|]*|(?:https?|mailto):[^<>|]*)(?:\|[^<>]*)?>"
)

#: (table, key columns, text columns, extra WHERE clause)
TEXTS: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    ("incidents", ("id",), ("title", "description", "summary", "impact", "root_cause",
                            "resolution", "detection", "escalation", "misleading"), ""),
    ("timeline_entries", ("id",), ("text",), "kind <> 'message'"),
    ("channel_messages", ("channel_id", "ts"), ("text",), ""),
    ("tasks", ("id",), ("text", "drop_reason"), ""),
    ("improvements", ("id",), ("text",), ""),
]
BATCH = 500


def _decode(wire: str) -> str:
    """Slack's wire text as typed (entities decoded between references)."""
    def unescape(part: str) -> str:
        return part.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    out, pos = [], 0
    for match in _WIRE_TOKEN.finditer(wire):
        out += [unescape(wire[pos:match.start()]), match.group(0)]
        pos = match.end()
    out.append(unescape(wire[pos:]))
    return "".join(out)


def _encode(stored: str) -> str:
    """The inverse, for a downgrade."""
    def escape(part: str) -> str:
        return part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out, pos = [], 0
    for match in _REFERENCE.finditer(stored):
        out += [escape(stored[pos:match.start()]), match.group(0)]
        pos = match.end()
    out.append(escape(stored[pos:]))
    return "".join(out)


def _convert(change: Callable[[str], str], only_with: tuple[str, ...]) -> None:
    conn = op.get_bind()
    for table, keys, columns, where in TEXTS:
        wanted = " OR ".join(f"{c} LIKE '%{ch}%'" for c in columns for ch in only_with)
        clause = f"({wanted})" + (f" AND {where}" if where else "")
        select = sa.text(f"SELECT {', '.join(keys + columns)} FROM {table} WHERE {clause} "
                         f"ORDER BY {', '.join(keys)}")
        rows = conn.execute(select).fetchall()
        update = sa.text(f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in columns)} "
                         f"WHERE {' AND '.join(f'{k} = :k_{k}' for k in keys)}")
        batch: list[dict[str, object]] = []
        for row in rows:
            values = dict(zip(keys + columns, row, strict=True))
            new = {c: change(values[c]) if values[c] else values[c] for c in columns}
            if all(new[c] == values[c] for c in columns):
                continue
            batch.append({**new, **{f"k_{k}": values[k] for k in keys}})
            if len(batch) >= BATCH:
                conn.execute(update, batch)
                batch = []
        if batch:
            conn.execute(update, batch)


def upgrade() -> None:
    _convert(_decode, ("&",))


def downgrade() -> None:
    _convert(_encode, ("&", "<", ">"))
