"""Restart policy decisions and dockerd's back-off, without containers."""

from __future__ import annotations

from sampan.daemon.containers.restart import next_delay, restart_at_boot, should_restart


def hc(name: str, retries: int = 0) -> dict[str, object]:
    return {"RestartPolicy": {"Name": name, "MaximumRetryCount": retries}}


def test_should_restart_after_an_exit() -> None:
    assert not should_restart(hc("no"), 1, 0, False)
    assert not should_restart({}, 1, 0, False)
    assert should_restart(hc("always"), 0, 50, False)
    assert not should_restart(hc("always"), 0, 0, True)  # stopped by the user
    assert should_restart(hc("unless-stopped"), 0, 0, False)
    assert not should_restart(hc("unless-stopped"), 1, 0, True)
    assert not should_restart(hc("on-failure"), 0, 0, False)
    assert should_restart(hc("on-failure"), 1, 99, False)  # no maximum
    assert [should_restart(hc("on-failure", 2), 137, n, False) for n in range(3)] == [True, True, False]


def test_back_off_doubles_and_resets() -> None:
    delays = []
    delay = 0.0
    for _ in range(12):
        delay = next_delay(delay, ran_for=0.5)
        delays.append(delay)
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8] and delays[-1] == 60.0
    assert next_delay(6.4, ran_for=10.0) == 0.1


def test_restart_at_boot() -> None:
    assert restart_at_boot(hc("always"), 137, 0, True, True)  # even after a manual stop
    assert not restart_at_boot(hc("always"), 0, 0, False, False)  # never started
    assert restart_at_boot(hc("unless-stopped"), 0, 0, False, True)
    assert not restart_at_boot(hc("unless-stopped"), 0, 0, True, True)
    assert restart_at_boot(hc("on-failure", 3), 1, 2, False, True)
    assert not restart_at_boot(hc("on-failure", 3), 1, 3, False, True)
    assert not restart_at_boot(hc("on-failure"), 0, 0, False, True)
    assert not restart_at_boot(hc("no"), 1, 0, False, True)
