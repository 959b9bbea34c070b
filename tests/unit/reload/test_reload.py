"""SIGHUP reload: what is applied, what is kept, the event, and a refused configuration."""

from __future__ import annotations

import dataclasses
import logging

from sampan.daemon.config import DaemonConfig
from sampan.daemon.events import EventBus
from sampan.daemon.reload import Reloader, log_level_applier
from sampan.errdefs import InvalidArgument


def test_reload_applies_the_reloadable_settings_and_publishes_the_event() -> None:
    old = DaemonConfig(data_root="/d", exec_root="/e")
    new = dataclasses.replace(old, debug=True, runtimes=(("crun", "/usr/bin/crun"),), data_root="/elsewhere")
    applied: list[DaemonConfig] = []
    bus = EventBus(clock=lambda: 5)
    reloader = Reloader(old, lambda: new, [applied.append], bus, "engine-1", hostname="box")
    got = reloader.reload()
    assert got is not None and got.debug and got.runtimes == (("crun", "/usr/bin/crun"),)
    assert got.data_root == "/d"  # needs a restart: kept
    assert applied == [got] and reloader.current is got
    (event,) = bus.history()
    assert (event.type, event.action, event.actor_id) == ("daemon", "reload", "engine-1")
    assert event.attributes["debug"] == "true" and event.attributes["runtimes"] == "crun"
    assert event.attributes["name"] == "box" and event.attributes["insecure-registries"] == "[]"


def test_a_configuration_that_does_not_load_keeps_the_running_one(caplog: object) -> None:
    old = DaemonConfig()

    def broken() -> DaemonConfig:
        raise InvalidArgument("invalid character 'x' looking for beginning of value")

    bus = EventBus()
    reloader = Reloader(old, broken, [], bus, "engine-1", hostname="box")
    assert reloader.reload() is None and reloader.current is old and bus.history() == []


def test_log_level_follows_debug() -> None:
    root = logging.getLogger()
    before = root.level
    try:
        log_level_applier(DaemonConfig(debug=True))
        assert root.level == logging.DEBUG
        log_level_applier(DaemonConfig(log_level="warn"))
        assert root.level == logging.WARNING
    finally:
        root.setLevel(before)
