"""since/until: what the docker client sends for durations and times, what dockerd parses."""

from __future__ import annotations

import calendar
import time

import pytest

from sampan.api.timestamps import TimestampError, event_time, get_timestamp, go_duration_nanos, parse_timestamp

NOW = 1_800_000_000.25


@pytest.mark.parametrize(("text", "nanos"), [
    ("0", 0), ("10m", 600 * 10**9), ("1h30m", 5400 * 10**9), ("1.5s", 1_500_000_000), ("-2s", -2 * 10**9),
    ("250ms", 250_000_000), ("3us", 3000), ("10", None), ("abc", None), ("", None), ("5x", None),
])
def test_go_durations(text: str, nanos: int | None) -> None:
    assert go_duration_nanos(text) == nanos


def test_durations_become_whole_seconds_before_now() -> None:
    assert get_timestamp("10m", NOW) == str(int(NOW) - 600)
    assert get_timestamp("1h", NOW) == str(int(NOW) - 3600)


def test_rfc3339_times_and_dates() -> None:
    assert get_timestamp("2026-11-28T07:40:00.123456789Z", NOW) == "1795851600.123456789"
    assert get_timestamp("2026-11-28T07:40:00+01:00", NOW) == "1795848000.000000000"
    assert get_timestamp("2026-11-28T07:40Z", NOW) == "1795851600.000000000"
    local = time.mktime((2026, 11, 28, 7, 40, 0, 0, 0, -1))
    assert get_timestamp("2026-11-28T07:40:00", NOW) == f"{int(local)}.000000000"
    assert get_timestamp("2026-11-28Z", NOW) == f"{calendar.timegm((2026, 11, 28, 0, 0, 0))}.000000000"


def test_unix_seconds_pass_through() -> None:
    assert get_timestamp("1700000000", NOW) == "1700000000"
    assert get_timestamp("1700000000.5", NOW) == "1700000000.5"


def test_bad_values_say_so() -> None:
    with pytest.raises(TimestampError, match='failed to parse value as time or duration: "yesterday"'):
        get_timestamp("yesterday", NOW)
    with pytest.raises(TimestampError):
        get_timestamp("2026-13-45", NOW)


def test_daemon_parses_seconds_and_fraction() -> None:
    assert parse_timestamp("1700000000") == 1_700_000_000 * 10**9
    assert parse_timestamp("1700000000.5") == 1_700_000_000_500_000_000
    assert parse_timestamp("1700000000.123456789123") == 1_700_000_000_123_456_789
    with pytest.raises(TimestampError):
        parse_timestamp("17e9")


def test_event_time_accepts_every_form() -> None:
    assert event_time("") is None
    assert event_time("1700000000.000000001") == 1_700_000_000_000_000_001
    assert event_time("10m", NOW) == (int(NOW) - 600) * 10**9
    assert event_time("2026-11-28T07:40:00Z", NOW) == 1795851600 * 10**9
