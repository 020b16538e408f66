"""Block Kit limits the fake enforces, so a message Slack would refuse fails in tests too.

:func:`block_errors` answers with Slack's own ``[ERROR] ... [json-pointer:...]`` messages;
``args.py`` applies it to chat messages and ``views.py`` to modals and Home tabs.
"""

from __future__ import annotations

from typing import Any


def check_text(obj: Any, ptr: str, limit: int, errors: list[str], plain: bool = False) -> None:
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        errors.append(f"[ERROR] must be a valid {' or '.join(kinds)} object [json-pointer:{ptr}]")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"[ERROR] must be more than 0 characters [json-pointer:{ptr}/text]")
    elif len(text) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{ptr}/text]")


def check_len(value: Any, ptr: str, limit: int, errors: list[str]) -> None:
    if value is not None and len(str(value)) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{ptr}]")


def _check_element(el: Any, ptr: str, errors: list[str]) -> None:
    if not isinstance(el, dict) or not isinstance(el.get("type"), str):
        errors.append(f"[ERROR] missing required field: type [json-pointer:{ptr}]")
        return
    check_len(el.get("action_id"), f"{ptr}/action_id", 255, errors)
    if el["type"] == "button":
        check_text(el.get("text"), f"{ptr}/text", 75, errors, plain=True)
        check_len(el.get("value"), f"{ptr}/value", 2000, errors)
        check_len(el.get("url"), f"{ptr}/url", 3000, errors)


def block_errors(blocks: Any, max_blocks: int = 50, ptr: str = "/blocks") -> list[str]:
    """Return Slack-style ``[ERROR] ...`` messages for Block Kit limits that Slack enforces."""
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
            check_len(block_id, f"{p}/block_id", 255, errors)
            if str(block_id) in seen:
                errors.append(f"[ERROR] duplicate block_id [json-pointer:{p}/block_id]")
            seen.add(str(block_id))
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{p}]")
            if "text" in block:
                check_text(block["text"], f"{p}/text", 3000, errors)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(
                        f"[ERROR] no more than 10 items allowed [json-pointer:{p}/fields]"
                    )
                else:
                    for j, fld in enumerate(fields):
                        check_text(fld, f"{p}/fields/{j}", 2000, errors)
            if "accessory" in block:
                _check_element(block["accessory"], f"{p}/accessory", errors)
        elif kind == "header":
            check_text(block.get("text"), f"{p}/text", 150, errors, plain=True)
        elif kind in ("context", "actions"):
            elements = block.get("elements")
            limit = 10 if kind == "context" else 25
            if not isinstance(elements, list) or not elements or len(elements) > limit:
                errors.append(
                    f"[ERROR] must contain 1 to {limit} items [json-pointer:{p}/elements]"
                )
            elif kind == "actions":
                for j, el in enumerate(elements):
                    _check_element(el, f"{p}/elements/{j}", errors)
    return errors
