"""Block Kit pieces every feature builds with: plain text objects and modals."""

from __future__ import annotations

from typing import Any


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def modal(callback_id: str, title: str, blocks: list[dict[str, Any]], *,
          submit: str | None = None, close: str = "Cancel",
          private_metadata: str | None = None) -> dict[str, Any]:
    """A modal view; ``submit`` is omitted for one that only informs."""
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": plain(title),
                            "close": plain(close), "blocks": blocks}
    if submit:
        view["submit"] = plain(submit)
    if private_metadata is not None:
        view["private_metadata"] = private_metadata
    return view
