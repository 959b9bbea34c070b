"""json.loads and compact json.dumps through the C accelerator (_json), without importing json.

Why: `import json` imports re, and re imports enum: about 3 ms of every runtime command, which
only ever needs the C scanner and encoder. Anything the fast path does not handle exactly like
json (an error, a byte order mark, non-UTF-8 bytes, no _json) is handed to the json module, so
results and error messages are json's own.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    import _json as _c
except ImportError:  # not CPython: json itself
    _c = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"


class _DecoderContext:
    """The attributes the C scanner reads from a json.JSONDecoder (its defaults)."""

    def __init__(self) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
        self.memo: dict[str, str] = {}


def _not_serializable(o: Any) -> Any:
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _skip(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WHITESPACE:
        i += 1
    return i


def loads(data: str | bytes) -> Any:
    """json.loads(data)."""
    if _c is not None:
        try:
            text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            if isinstance(text, str) and not text.startswith("\ufeff") and "\x00" not in text[:4]:
                scan: Callable[[str, int], tuple[Any, int]] = _c.make_scanner(_DecoderContext())  # type: ignore[arg-type]
                obj, end = scan(text, _skip(text, 0))
                if _skip(text, end) == len(text):
                    return obj
        except (ValueError, StopIteration):
            pass
    import json  # the slow path raises json's own errors

    return json.loads(data)


def dumps(obj: Any) -> str:
    """json.dumps(obj): ASCII, ", " and ": " separators, no indent."""
    if _c is not None:
        try:
            encode = _c.make_encoder({}, _not_serializable, _c.encode_basestring_ascii, None, ": ", ", ",
                                     False, False, True)
            return "".join(encode(obj, 0))
        except (TypeError, ValueError, RecursionError):
            pass
    import json

    return json.dumps(obj)


def dumps_indented(obj: Any, indent: int = 2) -> str:
    """json.dumps(obj, indent=indent) for dicts with str keys, lists and scalars (what `state`
    prints); anything else goes to the json module."""
    try:
        return _indented(obj, " " * indent, "")
    except _NotPlain:
        import json

        return json.dumps(obj, indent=indent)


class _NotPlain(Exception):
    pass


def _indented(obj: Any, step: str, pad: str) -> str:
    inner = pad + step
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        if not all(isinstance(k, str) for k in obj):
            raise _NotPlain
        items = ",\n".join(f"{inner}{dumps(k)}: {_indented(v, step, inner)}" for k, v in obj.items())
        return "{\n" + items + "\n" + pad + "}"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        return "[\n" + ",\n".join(inner + _indented(v, step, inner) for v in obj) + "\n" + pad + "]"
    if isinstance(obj, (str, int, float)) or obj is None:
        return dumps(obj)
    raise _NotPlain

