"""Restart policies (no, always, unless-stopped, on-failure[:N]) and Docker's back-off.

A container a user stopped or killed is not restarted; the delay doubles from 100 ms up to a
minute and starts over once a run lasted ten seconds, as dockerd's restart manager does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sampan.daemon.containers import state as st
from sampan.daemon.containers.live import Live
from sampan.daemon.containers.record import ZERO_TIME, ContainerRecord
from sampan.daemon.containers.views import parse_time
from sampan.errdefs import NotFound, NotModified

log = logging.getLogger(__name__)

INITIAL_DELAY = 0.1
MAX_DELAY = 60.0
RESET_AFTER = 10.0


def should_restart(host_config: dict[str, Any], exit_code: int, restart_count: int, manually_stopped: bool) -> bool:
    policy = host_config.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    if manually_stopped or name == "no":
        return False
    if name in ("always", "unless-stopped"):
        return True
    if name == "on-failure":
        retries = int(policy.get("MaximumRetryCount") or 0)
        return exit_code != 0 and (retries == 0 or restart_count < retries)
    return False


def next_delay(previous: float, ran_for: float) -> float:
    if ran_for >= RESET_AFTER or previous <= 0:
        return INITIAL_DELAY
    return min(previous * 2, MAX_DELAY)


def restart_at_boot(host_config: dict[str, Any], exit_code: int, restart_count: int, manually_stopped: bool,
                    started_before: bool) -> bool:
    """Whether a daemon starting up starts this stopped container again, as dockerd's restore does:
    `always` even after a manual stop, `unless-stopped` unless stopped by hand, `on-failure` after a
    failure with retries left; never a container that was never started."""
    if not started_before:
        return False
    policy = host_config.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    if name == "always":
        return True
    if name == "unless-stopped":
        return not manually_stopped
    if name == "on-failure":
        retries = int(policy.get("MaximumRetryCount") or 0)
        return exit_code != 0 and (retries == 0 or restart_count < retries)
    return False


class Starter(Protocol):
    """What the scheduler needs of the lifecycle."""

    def live(self, cid: str) -> Live: ...

    def start(self, rec: ContainerRecord) -> None: ...


class RestartScheduler:
    """Applies the policies: a timer per pending restart, counts and back-off on the records."""

    def __init__(self, lifecycle: Starter, lookup: Callable[[str], ContainerRecord]) -> None:
        self._lifecycle = lifecycle
        self._lookup = lookup

    def after_exit(self, rec: ContainerRecord, live: Live) -> bool:
        """Schedule a restart when the policy asks for one; whether it did."""
        if not should_restart(rec.host_config, rec.state.exit_code, rec.restart_count, rec.manually_stopped):
            return False
        with live.lock:
            if rec.state.status != st.EXITED:
                return True
            ran_for = parse_time(rec.state.finished_at) - parse_time(rec.state.started_at)
            live.restart_delay = next_delay(live.restart_delay, ran_for)
            rec.restart_count += 1  # counted when decided, as dockerd does (inspect shows it while waiting)
            rec.state.status = st.RESTARTING
            rec.save()
        timer = threading.Timer(live.restart_delay, self._restart_now, args=(rec, live))
        timer.daemon = True
        timer.start()
        return True

    def reset(self, rec: ContainerRecord) -> None:
        """A start by the user: RestartCount and the back-off start over, as dockerd resets them."""
        live = self._lifecycle.live(rec.id)
        with live.lock:
            if rec.state.status in (st.EXITED, st.CREATED):
                rec.restart_count = 0
                live.restart_delay = 0.0

    def _restart_now(self, rec: ContainerRecord, live: Live) -> None:
        with live.lock:
            if rec.state.status != st.RESTARTING:
                return  # stopped, killed or removed meanwhile
            try:
                self._lookup(rec.id)
            except NotFound:
                return
            try:
                self._lifecycle.start(rec)
            except Exception as exc:
                log.warning("restarting %s failed: %s", rec.id[:12], exc)
                rec.state.status = st.EXITED
                rec.save()

    def start_at_boot(self, records: list[ContainerRecord], start: Callable[[str], None]) -> None:
        """At daemon start, in a thread: `start` (a user's start) each stopped container whose
        policy asks for it."""
        boot = [r for r in records if r.state.status in (st.EXITED, st.CREATED) and restart_at_boot(
            r.host_config, r.state.exit_code, r.restart_count, r.manually_stopped, r.state.started_at != ZERO_TIME)]
        if boot:
            threading.Thread(target=self._start_all, args=(boot, start), name="restart-policies",
                             daemon=True).start()

    @staticmethod
    def _start_all(records: list[ContainerRecord], start: Callable[[str], None]) -> None:
        for rec in records:
            try:
                start(rec.id)
            except NotModified:
                pass
            except Exception as exc:
                log.warning("cannot start %s for its restart policy: %s", rec.id[:12], exc)
