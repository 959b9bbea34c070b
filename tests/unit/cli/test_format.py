"""go-units sizes and durations, the tabwriter, short IDs and the formatter context."""

from __future__ import annotations

import pytest

from sampan.cli import format as f
from sampan.cli.formatter import prepare, render, resolve


@pytest.mark.parametrize(
    ("size", "precision", "want"),
    [
        (0, 3, "0B"), (999, 3, "999B"), (1000, 3, "1kB"), (4_261_550, 3, "4.26MB"),
        (12_345_678, 3, "12.3MB"), (12_345_678, 4, "12.35MB"), (1_234_567, 4, "1.235MB"),
        (999_999, 3, "1e+03kB"), (5.5e9, 3, "5.5GB"), (1e30, 3, "1e+06YB"), (100_000, 3, "100kB"),
    ],
)
def test_human_size(size: float, precision: int, want: str) -> None:
    assert f.human_size(size, precision) == want


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (-5, "Less than a second"), (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"),
        (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"),
        (3600, "About an hour"), (5399, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"), (13 * 86400, "13 days"), (14 * 86400, "2 weeks"), (59 * 86400, "8 weeks"),
        (60 * 86400, "2 months"), (729 * 86400, "24 months"), (730 * 86400, "2 years"),
        (3650 * 86400, "10 years"),
    ],
)
def test_human_duration(seconds: float, want: str) -> None:
    assert f.human_duration(seconds) == want


def test_since() -> None:
    assert f.since(1000, now=1000 + 7200) == "2 hours ago"


def test_trunc_and_ellipsis() -> None:
    assert f.trunc_id("sha256:" + "ab" * 32) == "abababababab"
    assert f.trunc_id("<missing>") == "<missing>"
    assert f.ellipsis("abcdef", 4) == "abc…"
    assert f.ellipsis("abc", 4) == "abc"


def test_rfc3339_parse_and_times() -> None:
    assert f.parse_rfc3339("1970-01-01T00:01:40.123456789Z") == pytest.approx(100.123456)
    assert f.parse_rfc3339("garbage") is None
    assert f.go_time_string(0).startswith(("1970-01-01", "1969-12-31"))
    assert f.rfc3339(0)[:4] in ("1970", "1969")


def test_tabwrite_like_go() -> None:
    text = "REPOSITORY\tTAG\tIMAGE ID\tSIZE\nbusybox\tlatest\tabc\t1MB\nlocalhost:5000/team/app\tv1\tdef\t2MB\n"
    assert f.tabwrite(text) == (
        "REPOSITORY                TAG       IMAGE ID   SIZE\n"
        "busybox                   latest    abc        1MB\n"
        "localhost:5000/team/app   v1        def        2MB\n"
    )


def test_tabwrite_trailing_empty_cell_is_padded_and_blocks_are_separate() -> None:
    assert f.tabwrite("a\tb\t\n") == "a         b         \n"
    # a line without tabs ends the column block: widths restart after it
    out = f.tabwrite("long-long-cell\tx\nplain\nab\tc", minwidth=0, padding=1)
    assert out == "long-long-cell x\nplain\nab c"


def test_resolve_and_prepare() -> None:
    assert resolve("", "table D") == "table D"
    assert resolve("table", "table D") == "table D"
    assert resolve("json", "table D") == "{{json .}}"
    assert resolve("{{.X}}", "table D", quiet=True) == "{{.ID}}"
    assert prepare("table {{.A}}\\t{{.B}}\\n") == "{{.A}}\t{{.B}}\n"


def test_render_table_and_raw() -> None:
    rows = [{"A": "1", "B": "two"}, {"A": "333", "B": "4"}]
    headers = {"A": "COL A", "B": "COL B"}
    assert render("table {{.A}}\t{{.B}}", rows, headers) == "COL A     COL B\n1         two\n333       4\n"
    assert render("{{.A}}-{{.B}}", rows, headers) == "1-two\n333-4\n"
    assert render("table {{.A}}", [], headers) == "COL A\n"
