"""Restart policy decisions and the back-off."""

from __future__ import annotations

from sampan.daemon.containers.restart import INITIAL_DELAY, MAX_DELAY, next_delay, should_restart


def policy(name: str, retries: int = 0) -> dict[str, object]:
    return {"RestartPolicy": {"Name": name, "MaximumRetryCount": retries}}


def test_policies() -> None:
    assert not should_restart({}, 1, 0, False)
    assert not should_restart(policy("no"), 1, 0, False)
    assert should_restart(policy("always"), 0, 5, False)
    assert not should_restart(policy("always"), 0, 5, True)  # stopped by the user
    assert should_restart(policy("unless-stopped"), 0, 0, False)
    assert not should_restart(policy("on-failure"), 0, 0, False)
    assert should_restart(policy("on-failure"), 1, 100, False)
    assert should_restart(policy("on-failure", 2), 1, 1, False)
    assert not should_restart(policy("on-failure", 2), 1, 2, False)


def test_backoff() -> None:
    assert next_delay(0, 0) == INITIAL_DELAY
    assert next_delay(0.4, 1) == 0.8
    assert next_delay(50, 1) == MAX_DELAY
    assert next_delay(50, 11) == INITIAL_DELAY
