"""Pieces every module of the fake Slack shares: errors, replies, argument coercion, the table.

A handler raises :class:`SlackError` to answer ``{"ok": false, "error": ...}``; :data:`Reply`
is what the HTTP layer (``server.py``) sends back; the small coercions read form-encoded
arguments as leniently as Slack does. :func:`answers` marks the Web API method a family's
handler answers, and :func:`method_table` collects the marks, so that adding a family of
methods never means editing a central list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

JSON_TYPE = "application/json; charset=utf-8"
Reply = tuple[int, bytes, str, dict[str, str]]  # status, body, content type, extra headers


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass
class Failure:
    """A failure queued by ``fail()`` for one method (or ``"*"``)."""

    error: str
    remaining: int  # -1 = until clear_failures()
    retry_after: int
    when: Callable[[dict[str, Any]], bool] | None = None  # only calls whose args match


class SlackError(Exception):
    """A Slack ``{"ok": false, "error": ...}`` answer raised inside a method handler."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def invalid_arguments(*messages: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def ts_num(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def text_reply(status: int, text: str) -> Reply:
    return status, text.encode(), "text/plain; charset=utf-8", {}


Handler = Callable[[dict[str, Any]], dict[str, Any]]
_H = TypeVar("_H", bound=Callable[..., dict[str, Any]])
_SLACK_METHOD = "slack_method"  # attribute :func:`answers` sets on a handler


def answers(method: str) -> Callable[[_H], _H]:
    """Mark a family's handler as the answer to the Web API ``method`` (``"chat.update"``)."""

    def mark(handler: _H) -> _H:
        setattr(handler, _SLACK_METHOD, method)
        return handler

    return mark


def method_table(fake: object) -> dict[str, Handler]:
    """Web API method → ``fake``'s bound handler, for every handler marked with :func:`answers`.

    Two unrelated classes answering the same method is a mistake, raised as ``TypeError``.
    """
    table: dict[str, Handler] = {}
    owners: dict[str, type] = {}
    for cls in reversed(type(fake).__mro__):
        for attr, value in vars(cls).items():
            method = getattr(value, _SLACK_METHOD, None)
            if method is None:
                continue
            if method in owners and not issubclass(cls, owners[method]):
                raise TypeError(
                    f"{method} is answered by both {owners[method].__name__} and {cls.__name__}"
                )
            owners[method] = cls
            table[method] = getattr(fake, attr)
    return table
