"""SIGHUP makes sampand read daemon.json again: debug and runtimes change, a `daemon reload`
event is published, and a broken file leaves the running configuration alone."""

from __future__ import annotations

import json
import signal
import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.containers.conftest import cleanup_daemon, start_daemon
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root


def _reload_events(proc: DaemonProcess) -> list[dict[str, Any]]:
    filters = quote(json.dumps({"type": ["daemon"]}))
    status, _, body = proc.request("GET", f"/events?since=0&until={time.time():.9f}&filters={filters}")
    assert status == 200, body
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_sighup_reloads_debug_and_runtimes_and_publishes_the_event() -> None:
    proc = start_daemon("reload")
    try:
        assert proc.json("GET", "/info")[1]["Debug"] is False
        with open(proc.config_file, "w") as f:
            json.dump({"debug": True, "runtimes": {"extra": {"path": "/bin/true"}}, "max-concurrent-downloads": 9}, f)
        proc.signal(signal.SIGHUP)
        _wait_for(lambda: len(_reload_events(proc)) == 1)
        (event,) = _reload_events(proc)
        assert (event["Type"], event["Action"]) == ("daemon", "reload")
        info = proc.json("GET", "/info")[1]
        assert event["Actor"]["ID"] == info["ID"] and event["Actor"]["Attributes"]["debug"] == "true"
        assert info["Debug"] is True and "extra" in info["Runtimes"]
        assert "max-concurrent-downloads cannot change while sampand runs" in proc.log()

        with open(proc.config_file, "w") as f:
            f.write("{not json")
        proc.signal(signal.SIGHUP)
        _wait_for(lambda: "Error reconfiguring the daemon" in proc.log())
        assert len(_reload_events(proc)) == 1 and proc.json("GET", "/info")[1]["Debug"] is True
    finally:
        cleanup_daemon(proc)
