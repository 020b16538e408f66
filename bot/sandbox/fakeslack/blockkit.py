"""Block Kit and message limits the fake enforces, so what Slack would refuse fails in tests.

Every block is parsed with slack_sdk's Block Kit models (``Block.parse``) and validated with
their ``validate_json()`` (through ``to_dict()``, which runs it on every nested element and
text object too). Those models know most length limits: a section's text (3,000) and
fields (10), a header (150), buttons (text 75, value 2,000, url 3,000), options (text 75,
value 150), ``action_id`` and ``block_id`` (255), context (10) and actions (25) elements,
and a view's title, submit and close (24), ``private_metadata`` (3,000) and blocks (100).
What they do not check is checked by hand below, each with the page it follows.

:func:`block_errors` answers with Slack's own ``[ERROR] … [json-pointer:…]`` messages;
:func:`text_error` says when a message's ``text`` is too long. ``args.py`` applies them to
chat messages, ``views.py`` to modals and Home tabs, ``responses.py`` to response URLs.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# https://api.slack.com/reference/block-kit/blocks: "up to 50 blocks in each message, and up
# to 100 blocks in modals or Home tabs"
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# https://api.slack.com/methods/chat.postMessage#truncating: more than 40,000 characters of
# text is not delivered whole (Slack truncates it; the fake refuses it, so no test passes on
# a message that readers would see cut); the same for chat.postEphemeral and response URLs.
MESSAGE_TEXT = 40_000
# https://api.slack.com/methods/chat.update: msg_too_long ("Message text is too long"), far
# below chat.postMessage's figure: 4,000, the length chat.postMessage's page asks for.
UPDATE_TEXT = 4_000


def check_text(obj: Any, ptr: str, limit: int | None, errors: list[str],
               plain: bool = False) -> None:
    """A text object of the right type, not empty, within ``limit`` characters (``None``:
    the length is left to slack_sdk's models)."""
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        errors.append(f"[ERROR] must be a valid {' or '.join(kinds)} object [json-pointer:{ptr}]")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"[ERROR] must be more than 0 characters [json-pointer:{ptr}/text]")
    elif limit is not None and len(text) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{ptr}/text]")


def check_len(value: Any, ptr: str, limit: int, errors: list[str]) -> None:
    if value is not None and len(str(value)) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{ptr}]")


def _model_errors(block: dict[str, Any], ptr: str) -> list[str]:
    """What slack_sdk's models refuse in one block (an unknown type is refused too)."""
    try:
        parsed = Block.parse(block)
        if parsed is None or type(parsed) is Block:
            # https://api.slack.com/reference/block-kit/blocks: only the listed block types
            return [f"[ERROR] unsupported type: {block.get('type')} [json-pointer:{ptr}/type]"]
        parsed.validate_json()
        parsed.to_dict()  # validates every nested element and text object as well
    except (SlackObjectFormationError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"[ERROR] {exc} [json-pointer:{ptr}]"]
    return []


def _check_options(value: Any, ptr: str, errors: list[str]) -> None:
    """Options anywhere inside an element (selects, checkboxes, radio buttons, overflow
    menus): slack_sdk's models keep options given as dicts unparsed, so unchecked."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_options(item, f"{ptr}/{i}", errors)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in ("options", "initial_options") and isinstance(item, list):
            for j, option in enumerate(item):
                # https://api.slack.com/reference/block-kit/composition-objects#option:
                # text at most 75 characters, value at most 150
                if not isinstance(option, dict):
                    continue
                check_text(option.get("text"), f"{ptr}/{key}/{j}/text", 75, errors)
                check_len(option.get("value"), f"{ptr}/{key}/{j}/value", 150, errors)
        elif key == "initial_option" and isinstance(item, dict):
            check_text(item.get("text"), f"{ptr}/{key}/text", 75, errors)
        elif isinstance(item, dict | list):
            _check_options(item, f"{ptr}/{key}", errors)


def _hand_checks(block: dict[str, Any], p: str, errors: list[str]) -> None:
    """The limits slack_sdk's models leave out."""
    kind = block["type"]
    _check_options({k: v for k, v in block.items() if k != "type"}, p, errors)
    if kind == "section":
        # https://api.slack.com/reference/block-kit/blocks#section: text or fields required
        if "text" not in block and "fields" not in block:
            errors.append(f"[ERROR] must provide text or fields [json-pointer:{p}]")
        if "text" in block:
            # https://api.slack.com/reference/block-kit/composition-objects#text: non-empty
            check_text(block["text"], f"{p}/text", None, errors)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                errors.append(f"[ERROR] must contain 1 to 10 items [json-pointer:{p}/fields]")
            else:
                for j, fld in enumerate(fields):
                    # https://api.slack.com/reference/block-kit/blocks#section: "Maximum
                    # length for the text in each item is 2000 characters"
                    check_text(fld, f"{p}/fields/{j}", 2000, errors)
    elif kind == "header":
        # https://api.slack.com/reference/block-kit/blocks#header: plain_text only
        check_text(block.get("text"), f"{p}/text", None, errors, plain=True)
    elif kind in ("context", "actions"):
        # https://api.slack.com/reference/block-kit/blocks#context and #actions: elements
        # is required, with at least one element
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append(f"[ERROR] must contain at least 1 item [json-pointer:{p}/elements]")
        elif kind == "context":
            for j, el in enumerate(elements):
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    check_text(el, f"{p}/elements/{j}", 3000, errors)


def block_errors(blocks: Any, max_blocks: int = MESSAGE_BLOCKS,
                 ptr: str = "/blocks") -> list[str]:
    """Slack-style ``[ERROR] ...`` messages for everything Slack would refuse in ``blocks``."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{ptr}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{ptr}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{ptr}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{p}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            # https://api.slack.com/reference/block-kit/blocks: block_id unique per message
            if str(block_id) in seen:
                errors.append(f"[ERROR] duplicate block_id [json-pointer:{p}/block_id]")
            seen.add(str(block_id))
        _hand_checks(block, p, errors)
        errors += [e for e in _model_errors(block, p) if e not in errors]
    return errors


def view_errors(view: dict[str, Any]) -> list[str]:
    """Everything Slack would refuse in a modal or Home tab (its blocks included)."""
    errors = block_errors(view.get("blocks", []), VIEW_BLOCKS, "/view/blocks")
    if view.get("type") == "modal":
        # https://api.slack.com/reference/surfaces/views: a modal's title is required
        check_text(view.get("title"), "/view/title", None, errors, plain=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                check_text(view[key], f"/view/{key}", None, errors, plain=True)
    try:
        # https://api.slack.com/reference/surfaces/views: title/submit/close 24,
        # private_metadata 3,000, callback_id 255 (slack_sdk's View model)
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as exc:
        errors.append(f"[ERROR] {exc} [json-pointer:/view]")
    return errors


def text_error(text: Any, limit: int = MESSAGE_TEXT) -> str | None:
    """``msg_too_long`` when a message's ``text`` is longer than ``limit`` characters."""
    if isinstance(text, str) and len(text) > limit:
        return "msg_too_long"
    return None
