"""SIGHUP: read the configuration again and apply what can change while the daemon runs.

As dockerd: a configuration that does not load is logged and the running one is kept; a
successful reload publishes a `daemon reload` event carrying the settings now in force.
Settings that need a restart (roots, hosts, storage driver, ...) keep their old values and
the log says so.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import Callable

from sampan.daemon.config import DaemonConfig
from sampan.daemon.events import DAEMON, EventBus
from sampan.errdefs import SampanError

log = logging.getLogger("sampand")

# DaemonConfig fields a reload applies; every other field needs a restart.
RELOADABLE = ("debug", "log_level", "runtimes")
_NEVER_COMPARED = ("config_file",)

Applier = Callable[[DaemonConfig], None]


def reload_attributes(config: DaemonConfig, name: str) -> dict[str, str]:
    """The event's attributes: the reloadable settings and a few others, by daemon.json names."""
    return {
        "debug": "true" if config.debug else "false",
        "log-level": config.log_level,
        "default-runtime": config.default_runtime,
        "runtimes": " ".join(sorted(n for n, _ in config.runtimes)),
        "insecure-registries": json.dumps(list(config.insecure_registries)),
        "max-concurrent-downloads": str(config.max_concurrent_downloads),
        "live-restore": "true",  # containers always outlive the daemon here
        "name": name,
    }


def log_level_applier(config: DaemonConfig) -> None:
    logging.getLogger().setLevel(config.logging_level)


class Reloader:
    def __init__(self, current: DaemonConfig, load: Callable[[], DaemonConfig], appliers: list[Applier],
                 events: EventBus, daemon_id: str, hostname: str | None = None) -> None:
        self.current = current
        self._load = load
        self._appliers = appliers
        self._events = events
        self._daemon_id = daemon_id
        self._hostname = hostname if hostname is not None else socket.gethostname()

    def reload(self) -> DaemonConfig | None:
        """The configuration now in force, or None when the new one was refused."""
        try:
            loaded = self._load()
        except SampanError as exc:
            log.error("Error reconfiguring the daemon: %s", exc)
            return None
        for f in dataclasses.fields(DaemonConfig):
            if f.name in RELOADABLE or f.name in _NEVER_COMPARED:
                continue
            if getattr(loaded, f.name) != getattr(self.current, f.name):
                log.warning("reload: %s cannot change while sampand runs; restart it to apply %r",
                            f.name.replace("_", "-"), getattr(loaded, f.name))
        merged = dataclasses.replace(self.current, **{name: getattr(loaded, name) for name in RELOADABLE})
        for apply in self._appliers:
            apply(merged)
        self.current = merged
        self._events.publish(DAEMON, "reload", self._daemon_id, reload_attributes(merged, self._hostname))
        log.info("configuration reloaded")
        return merged
