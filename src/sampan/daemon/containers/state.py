"""Container states and the transitions allowed between them: the one table."""

from __future__ import annotations

from sampan.errdefs import Conflict

CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
RESTARTING = "restarting"
REMOVING = "removing"
EXITED = "exited"
DEAD = "dead"

STATES = (CREATED, RUNNING, PAUSED, RESTARTING, REMOVING, EXITED, DEAD)

# from -> the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({RUNNING, EXITED, REMOVING, DEAD}),
    RUNNING: frozenset({PAUSED, EXITED, RESTARTING, DEAD}),
    PAUSED: frozenset({RUNNING, EXITED, DEAD}),
    RESTARTING: frozenset({RUNNING, EXITED, DEAD}),
    EXITED: frozenset({RUNNING, RESTARTING, REMOVING, DEAD}),
    REMOVING: frozenset({DEAD, EXITED, CREATED}),  # back when a removal fails
    DEAD: frozenset({REMOVING}),
}

ACTIVE = frozenset({RUNNING, PAUSED, RESTARTING})  # a shim exists and the init may be alive


def check(current: str, target: str, container_id: str) -> None:
    """Raise Conflict unless `current -> target` is in the table."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"container {container_id} cannot go from {current} to {target}")


def is_active(status: str) -> bool:
    return status in ACTIVE
