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


# Go types of the create request's fields, checked so a wrong type is a 400 (as Go's decoder
# refuses it) rather than an error deep in the daemon.
_STR, _BOOL, _INT = "string", "bool", "int"
_STRS, _STR_MAP, _OBJ = "[]string", "map[string]string", "object"
_STRSLICE = "strslice.StrSlice"  # a string or a list of strings
CONFIG_TYPES = {
    "Hostname": _STR, "Domainname": _STR, "User": _STR, "AttachStdin": _BOOL, "AttachStdout": _BOOL,
    "AttachStderr": _BOOL, "Tty": _BOOL, "OpenStdin": _BOOL, "StdinOnce": _BOOL, "Env": _STRS, "Cmd": _STRSLICE,
    "Image": _STR, "WorkingDir": _STR, "Entrypoint": _STRSLICE, "NetworkDisabled": _BOOL, "Labels": _STR_MAP,
    "StopSignal": _STR, "StopTimeout": _INT, "ExposedPorts": _OBJ, "Volumes": _OBJ, "HostConfig": _OBJ,
    "NetworkingConfig": _OBJ, "Shell": _STRS, "OnBuild": _STRS,
}
HOST_CONFIG_TYPES = {
    "Binds": _STRS, "NetworkMode": _STR, "AutoRemove": _BOOL, "Privileged": _BOOL, "ReadonlyRootfs": _BOOL,
    "CapAdd": _STRS, "CapDrop": _STRS, "Dns": _STRS, "DnsOptions": _STRS, "DnsSearch": _STRS,
    "ExtraHosts": _STRS, "GroupAdd": _STRS, "SecurityOpt": _STRS, "IpcMode": _STR, "PidMode": _STR,
    "UTSMode": _STR, "Runtime": _STR, "Memory": _INT, "MemorySwap": _INT, "NanoCpus": _INT, "CpuShares": _INT,
    "CpuQuota": _INT, "CpuPeriod": _INT, "CpusetCpus": _STR, "PidsLimit": _INT, "OomScoreAdj": _INT,
    "ShmSize": _INT, "Sysctls": _STR_MAP, "Tmpfs": _STR_MAP, "LogConfig": _OBJ, "Init": _BOOL,
}


def _go_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    return _go_type(value)


def _type_ok(value: Any, want: str) -> bool:
    if value is None:
        return True
    if want == _STR:
        return isinstance(value, str)
    if want == _BOOL:
        return isinstance(value, bool)
    if want == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if want == _STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if want == _STRSLICE:
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if want == _STR_MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return isinstance(value, dict)


def check_types(body: dict[str, Any]) -> None:
    for fields, where, prefix in ((CONFIG_TYPES, body, "CreateRequest"),
                                  (HOST_CONFIG_TYPES, body.get("HostConfig") or {}, "CreateRequest.HostConfig")):
        for name, want in fields.items():
            value = where.get(name)
            if not _type_ok(value, want):
                shown = value[0] if isinstance(value, list) and want in (_STRS, _STRSLICE) and value else value
                raise InvalidArgument(f"invalid JSON: json: cannot unmarshal {_go_kind(shown)} into Go struct field "
                                      f"{prefix}.{name} of type {want}")
    for key in ("Cmd", "Entrypoint"):
        if isinstance(body.get(key), str):
            body[key] = [body[key]]


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
    check_types(body)
    return body


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"
