"""The pull progress renderer, TTY and not, fed with docker-shaped message streams."""

from __future__ import annotations

import io

import pytest

from sampan.cli.progress import ProgressRenderer, StreamError, go_duration, progress_text
from tests.unit.cli.terminal import screen
from tests.unit.client import samples


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def render(messages: list[dict[str, object]], tty: bool, width: int = 200) -> str:
    out = FakeTerminal() if tty else io.StringIO()
    ProgressRenderer(out, tty=tty, width=width).render_all(messages)
    return out.getvalue()


def test_plain_output_has_only_status_changes() -> None:
    out = render(samples.pull_stream(exists=("b3c1d2e4f5a6",)), tty=False)
    assert out.splitlines() == [
        "latest: Pulling from library/busybox",
        "a46fbb00284b: Pulling fs layer",
        "b3c1d2e4f5a6: Already exists",
        "a46fbb00284b: Verifying Checksum",
        "a46fbb00284b: Download complete",
        "a46fbb00284b: Pull complete",
        f"Digest: {samples.BUSYBOX_DIGEST}",
        "Status: Downloaded newer image for busybox:latest",
    ]


def test_terminal_rewrites_one_line_per_layer() -> None:
    raw = render(samples.pull_stream(), tty=True)
    assert "\x1b[2K" in raw and "\x1b[1A" in raw
    assert screen(raw) == [
        "latest: Pulling from library/busybox",
        "a46fbb00284b: Pull complete",
        "b3c1d2e4f5a6: Pull complete",
        f"Digest: {samples.BUSYBOX_DIGEST}",
        "Status: Downloaded newer image for busybox:latest",
        "",
    ]


def test_terminal_shows_bar_mid_download() -> None:
    msgs = samples.pull_stream()[:4]  # first layer half downloaded
    lines = screen(render(msgs, tty=True))
    assert lines[1] == (
        "a46fbb00284b: Downloading [=======================>                           ]      1MB/2.1MB"
    )
    assert lines[2] == "b3c1d2e4f5a6: Pulling fs layer"


def test_exact_bytes_match_docker() -> None:
    msgs = [{"status": "Pulling from library/busybox", "id": "latest"},
            {"status": "Pulling fs layer", "progressDetail": {}, "id": "aa"},
            {"status": "Pull complete", "progressDetail": {}, "id": "aa"},
            {"status": "Digest: sha256:x"}]
    assert render(msgs, tty=True) == (
        "latest: Pulling from library/busybox\n"
        "\n\x1b[1A\x1b[2K\raa: Pulling fs layer \r\x1b[1B"
        "\x1b[1A\x1b[2K\raa: Pull complete \r\x1b[1B"
        "Digest: sha256:x\n"
    )


def test_narrow_terminal_drops_the_bar() -> None:
    msg = {"status": "Downloading", "progressDetail": {"current": 500, "total": 1000}, "id": "aa"}
    assert screen(render([msg], tty=True, width=80))[0] == "aa: Downloading     500B/1kB"


def test_error_in_stream_raises() -> None:
    msgs = [{"status": "Pulling from library/x", "id": "latest"},
            {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}]
    with pytest.raises(StreamError, match="manifest unknown"):
        render(msgs, tty=False)


def test_aux_messages_are_collected_not_printed() -> None:
    out = io.StringIO()
    r = ProgressRenderer(out, tty=False)
    r.feed({"aux": {"ID": "sha256:x"}})
    assert r.aux == [{"ID": "sha256:x"}] and out.getvalue() == ""


def test_progress_text_rules() -> None:
    assert progress_text({}, 200) == ""
    assert progress_text({"current": 1500}, 200) == "   1.5kB"
    assert progress_text({"current": 3000, "total": 2000}, 80) == "     3kB"
    assert progress_text({"current": 5, "total": 10, "units": "items"}, 80) == "5/10 items"
    left = progress_text({"current": 500, "total": 1000, "start": 100}, 80, now=110)
    assert left == "    500B/1kB 10s"
    assert go_duration(0) == "0s" and go_duration(90) == "1m30s" and go_duration(7205) == "2h0m5s"
