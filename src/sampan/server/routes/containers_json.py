"""Decode a create request body with the error wording of Go's encoding/json, as dockerd
answers it (clients and scripts match on these messages)."""

from __future__ import annotations

import json
from typing import Any

from sampan.errdefs import InvalidArgument

_CONTEXT = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
}


def go_json_error(text: str, exc: json.JSONDecodeError) -> str:
    if exc.msg == "Extra data":
        return "unexpected content after JSON"
    if exc.pos >= len(text.rstrip()):
        return "invalid JSON: unexpected EOF"
    context = _CONTEXT.get(exc.msg)
    if context is None:
        return f"invalid JSON: {exc.msg}"
    ch = text[exc.pos]
    if context == "after object key:value pair" and _in_array(text, exc.pos):
        context = "after array element"
    return f"invalid JSON: invalid character {_quote(ch)} {context}"


def _quote(ch: str) -> str:
    return {"'": "'\\''", "\"": "'\"'"}.get(ch, f"'{ch}'")


def _in_array(text: str, pos: int) -> bool:
    depth: list[str] = []
    in_str = esc = False
    for ch in text[:pos]:
        if in_str:
            esc, in_str = (False, True) if esc else (ch == "\\", ch != '"')
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth.append(ch)
        elif ch in "]}" and depth:
            depth.pop()
    return bool(depth) and depth[-1] == "["


def decode_create_body(data: bytes) -> dict[str, Any]:
    text = data.decode("utf-8", "replace")
    if not text.strip():
        raise InvalidArgument("invalid JSON: got EOF while reading request body")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(go_json_error(text, exc)) from None
    if body is None:
        raise InvalidArgument("config cannot be empty in order to create a container")
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: json: cannot unmarshal " + _go_type(body)
                              + " into Go value of type container.CreateRequest")
    return body


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"
