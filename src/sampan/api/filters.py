"""The `filters` query parameter: JSON on the wire, `dict[str, list[str]]` in code.

Docker sends `{"key": {"value": true}}`; older clients send `{"key": ["value"]}`. Both decode to
the same mapping, and encoding produces the current form so any daemon understands it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sampan.errdefs import InvalidArgument

Filters = dict[str, list[str]]


def decode_filters(text: str) -> Filters:
    """Parse a `filters` query value; an empty value means no filters."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        raise InvalidArgument("invalid filter")
    if not isinstance(raw, dict):
        raise InvalidArgument("invalid filter")
    out: Filters = {}
    for key, values in raw.items():
        if isinstance(values, dict):
            out[str(key)] = [str(v) for v in values]
        elif isinstance(values, list) and all(isinstance(v, str) for v in values):
            out[str(key)] = list(values)
        else:
            raise InvalidArgument("invalid filter")
    return out


def encode_filters(filters: Mapping[str, Sequence[str]]) -> str:
    """The wire form Docker's own client sends (`{"key":{"value":true}}`)."""
    return json.dumps({k: {v: True for v in vs} for k, vs in filters.items() if vs},
                      separators=(",", ":"), sort_keys=True)
