"""Record: the runtime's cheap immutable value type."""

from __future__ import annotations

import pytest

from sampan.runtime.record import Record


class Point(Record):
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


def test_fields_defaults_equality() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, ())
    assert p == Point(x=1, y=0) and p != Point(2) and hash(p) == hash(Point(1))
    assert repr(p) == "Point(x=1, y=0, tags=())"
    assert p._replace(y=5) == Point(1, 5) and p.y == 0


def test_immutable_and_checked() -> None:
    p = Point(1)
    with pytest.raises(AttributeError, match="immutable"):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing field 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected or repeated field 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 3 fields"):
        Point(1, 2, (), 4)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unknown fields"):
        p._replace(z=1)
