"""Docker's real-time signal names become numbers; everything else passes through."""

from __future__ import annotations

import signal

import pytest

from sampan.daemon.containers.signals import check_stop_signal, normalize, stop_signal
from sampan.errdefs import InvalidArgument


@pytest.mark.parametrize(("text", "want"), [
    ("RTMIN+3", str(int(signal.SIGRTMIN) + 3)), ("sigrtmax-1", str(int(signal.SIGRTMAX) - 1)),
    ("RTMIN", "RTMIN"), ("RTMIN+16", "RTMIN+16"), ("RTMAX+1", "RTMAX+1"), ("KILL", "KILL"), ("9", "9"),
])
def test_normalize(text: str, want: str) -> None:
    assert normalize(text) == want


def test_stop_signal_falls_back_to_the_containers() -> None:
    assert stop_signal("", {"StopSignal": "SIGRTMIN+1"}) == str(int(signal.SIGRTMIN) + 1)
    assert stop_signal("USR1", {"StopSignal": "SIGQUIT"}) == "USR1"
    assert stop_signal(None, {}) is None


def test_a_bad_stop_signal_is_refused() -> None:
    check_stop_signal({"StopSignal": "SIGRTMIN+2"})
    check_stop_signal({})
    with pytest.raises(InvalidArgument, match="Invalid signal: SIGNOPE"):
        check_stop_signal({"StopSignal": "SIGNOPE"})
