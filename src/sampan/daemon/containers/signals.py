"""Docker's real-time signal names (RTMIN+n, RTMAX-n), which Python's signal module lacks,
turned into numbers before the usual parsing; every other name or number passes unchanged."""

from __future__ import annotations

import re
import signal

_RT = re.compile(r"(?:SIG)?RT(MIN|MAX)(?:([+-])(\d+))?")


def normalize(text: str) -> str:
    """`RTMIN+3` -> "37" (on Linux); Docker accepts RTMIN+1..15 and RTMAX-14..-1."""
    m = _RT.fullmatch(text.strip().upper())
    if m is None or m.group(2) is None:
        return text
    base, sign, n = m.group(1), m.group(2), int(m.group(3))
    if (base == "MIN" and sign == "+" and 1 <= n <= 15) or (base == "MAX" and sign == "-" and 1 <= n <= 14):
        number = int(signal.SIGRTMIN) + n if base == "MIN" else int(signal.SIGRTMAX) - n
        return str(number)
    return text


def stop_signal(asked: str | None, config: dict[str, object]) -> str | None:
    """The signal a stop sends: the one asked for, else the container's StopSignal (None: SIGTERM)."""
    return normalize(asked or str(config.get("StopSignal") or "")) or None


def check_stop_signal(config: dict[str, object]) -> None:
    """dockerd refuses a container whose StopSignal it cannot parse (400 `Invalid signal: X`)."""
    from sampan.shim.protocol import parse_signal

    if config.get("StopSignal"):
        parse_signal(normalize(str(config["StopSignal"])))


def check_for_stop(signal: str, context: str) -> None:
    """dockerd wraps a bad stop/restart signal into a 500 naming the container (`context`)."""
    from sampan.errdefs import InvalidArgument, System
    from sampan.shim.protocol import parse_signal

    try:
        parse_signal(normalize(signal))
    except InvalidArgument as exc:
        raise System(context + str(exc)) from None
