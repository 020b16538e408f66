"""Channel references: ids are used as they are, names are looked up (``bot.slack.channels``)."""

from __future__ import annotations

from bot.slack.channels import looks_like_id


def test_channel_ids_and_names_are_told_apart() -> None:
    assert all(looks_like_id(ref) for ref in ("C024BE91L", "C0123456789", "G0ABCDEF1"))
    assert not any(looks_like_id(ref) for ref in ("general", "#incidents", "c024be91l",
                                                  "inc-1-db", "C", ""))
