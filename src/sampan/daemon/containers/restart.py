"""Restart policies (no, always, unless-stopped, on-failure[:N]) and Docker's back-off.

A container a user stopped or killed is not restarted; the delay doubles from 100 ms up to a
minute and starts over once a run lasted ten seconds, as dockerd's restart manager does.
"""

from __future__ import annotations

from typing import Any

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
