"""Engine API versions: the range this engine speaks and how versions compare.

Versions are dotted numbers compared part by part, as Docker compares them ("1.9" < "1.10").
"""

from __future__ import annotations

MAX_API_VERSION = "1.44"
MIN_API_VERSION = "1.24"
DEFAULT_API_VERSION = MAX_API_VERSION


def _parts(version: str) -> list[int]:
    out = []
    for piece in version.split("."):
        try:
            out.append(int(piece))
        except ValueError:
            out.append(0)
    return out


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` is older than, equal to or newer than `b`; missing parts count as 0."""
    pa, pb = _parts(a), _parts(b)
    width = max(len(pa), len(pb))
    pa += [0] * (width - len(pa))
    pb += [0] * (width - len(pb))
    return (pa > pb) - (pa < pb)


def less_than(a: str, b: str) -> bool:
    return compare(a, b) < 0


def greater_than(a: str, b: str) -> bool:
    return compare(a, b) > 0
