"""One container's record and how it is kept on disk (config.v2.json + hostconfig.json).

The JSON shape is ours (not Docker's config.v2.json); both files are written atomically, so a
daemon killed at any instant finds either the old or the new record.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from sampan.daemon.containers import state as st
from sampan.shim.wire import write_atomic

CONFIG_NAME = "config.v2.json"
HOSTCONFIG_NAME = "hostconfig.json"
ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass
class State:
    status: str = st.CREATED
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    oom_killed: bool = False
    health: dict[str, Any] | None = None  # Docker's Health (Status, FailingStreak, Log); see health.py

    def to_wire(self) -> dict[str, Any]:
        """Docker's ContainerState (Health only for a container that has had a health check)."""
        wire: dict[str, Any] = {
            "Status": self.status, "Running": self.status in (st.RUNNING, st.PAUSED),
            "Paused": self.status == st.PAUSED, "Restarting": self.status == st.RESTARTING,
            "OOMKilled": self.oom_killed, "Dead": self.status == st.DEAD, "Pid": self.pid,
            "ExitCode": self.exit_code, "Error": self.error, "StartedAt": self.started_at,
            "FinishedAt": self.finished_at,
        }
        if self.health is not None:
            h = self.health
            wire["Health"] = {"Status": h.get("Status", ""), "FailingStreak": h.get("FailingStreak", 0),
                              "Log": list(h.get("Log") or [])}
        return wire


@dataclass
class ContainerRecord:
    id: str
    name: str  # without the leading slash
    created: str
    created_ns: int
    image_id: str
    image_name: str  # Config.Image as the client gave it
    path: str
    args: list[str]
    config: dict[str, Any]
    host_config: dict[str, Any]
    image_config: dict[str, Any]
    driver: str
    platform: str = "linux"
    runtime: str = ""
    state: State = field(default_factory=State)
    restart_count: int = 0
    manually_stopped: bool = False  # by stop/kill: restart policies leave it alone
    dir: str = ""  # DATA_ROOT/containers/<id>; not persisted
    mount_point: str = ""  # the bundle's rootfs; not persisted

    @property
    def log_path(self) -> str:
        return os.path.join(self.dir, f"{self.id}-json.log")

    @property
    def hosts_path(self) -> str:
        return os.path.join(self.dir, "hosts")

    @property
    def hostname_path(self) -> str:
        return os.path.join(self.dir, "hostname")

    @property
    def resolv_conf_path(self) -> str:
        return os.path.join(self.dir, "resolv.conf")

    @property
    def tty(self) -> bool:
        return bool(self.config.get("Tty"))

    def save(self) -> None:
        data = asdict(self)
        host_config = data.pop("host_config")
        data.pop("dir")
        data.pop("mount_point")
        write_atomic(os.path.join(self.dir, HOSTCONFIG_NAME), json.dumps(host_config).encode())
        write_atomic(os.path.join(self.dir, CONFIG_NAME), json.dumps(data).encode())

    @classmethod
    def load(cls, directory: str) -> ContainerRecord:
        with open(os.path.join(directory, CONFIG_NAME), "rb") as f:
            data = json.load(f)
        with open(os.path.join(directory, HOSTCONFIG_NAME), "rb") as f:
            data["host_config"] = json.load(f)
        data["state"] = State(**data["state"])
        return cls(dir=directory, **data)
