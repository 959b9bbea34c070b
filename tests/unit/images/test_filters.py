"""Image filters: Docker's keys, glob semantics, timestamps and labels."""

from __future__ import annotations

import pytest

from sampan.daemon.images import filters as flt
from sampan.daemon.images.views import format_unix, rfc3339_nano, unix_seconds
from sampan.errdefs import InvalidArgument


def test_unknown_filter_key() -> None:
    with pytest.raises(InvalidArgument, match="invalid filter 'x'"):
        flt.validate({"x": ["1"]}, flt.LIST_KEYS)


@pytest.mark.parametrize(("pattern", "ref", "name", "want"), [
    ("busybox", "busybox:latest", "busybox", True),
    ("busy*", "busybox:latest", "busybox", True),
    ("busybox:lat*", "busybox:latest", "busybox", True),
    ("*/app:1*", "me/app:1.2", "me/app", True),
    ("*", "me/app:1.2", "me/app", False),  # Go's path.Match: * stops at /
    ("busybox", "busybox@sha256:" + "a" * 64, "busybox", True),  # digests match by name too
    ("busybox:*", "busybox@sha256:" + "a" * 64, "busybox", False),
    ("b[a-u]sybox", "busybox:1", "busybox", True),
    ("b[^u]sybox", "busybox:1", "busybox", False),
])
def test_reference_glob(pattern: str, ref: str, name: str, want: bool) -> None:
    assert flt.reference_matches(pattern, ref, name) is want


def test_labels() -> None:
    labels = {"a": "1", "b": "2"}
    assert flt.match_labels({"label": ["a"]}, labels)
    assert flt.match_labels({"label": ["a=1", "b=2"]}, labels)
    assert not flt.match_labels({"label": ["a=2"]}, labels)
    assert not flt.match_labels({"label!": ["a"]}, labels, "label!")
    assert flt.match_labels({"label!": ["c"]}, labels, "label!")


def test_bool_values() -> None:
    assert flt.get_bool({"dangling": ["true"]}, "dangling", False) is True
    assert flt.get_bool({}, "dangling", True) is True
    with pytest.raises(InvalidArgument):
        flt.get_bool({"dangling": ["maybe"]}, "dangling", False)


def test_timestamps() -> None:
    assert flt.parse_timestamp("10m", now=1000.0) == 400.0
    assert flt.parse_timestamp("1h30m", now=10000.0) == 10000.0 - 5400
    assert flt.parse_timestamp("1700000000") == 1700000000.0
    assert flt.parse_timestamp("2024-01-01T00:00:00Z") == 1704067200.0
    assert flt.parse_timestamp("2024-01-01") == 1704067200.0
    with pytest.raises(InvalidArgument):
        flt.parse_timestamp("yesterday")


def test_time_formats() -> None:
    assert rfc3339_nano("2024-01-01T00:00:00.000000000Z") == "2024-01-01T00:00:00Z"
    assert rfc3339_nano("2024-01-01T00:00:00.1234567891Z") == "2024-01-01T00:00:00.123456789Z"
    assert rfc3339_nano("2024-01-01T02:00:00.50+02:00") == "2024-01-01T02:00:00.5+02:00"
    assert unix_seconds("2024-01-01T02:00:00+02:00") == 1704067200
    assert unix_seconds("") == 0
    assert format_unix(None) == "0001-01-01T00:00:00Z"
    assert format_unix(1704067200.5) == "2024-01-01T00:00:00.5Z"
