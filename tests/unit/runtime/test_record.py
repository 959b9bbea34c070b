"""Record: the runtime's cheap immutable value type."""

from __future__ import annotations

from typing import Any

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
    p: Any = Point(1)  # Any: these misuses are what a type checker would reject
    point: Any = Point
    with pytest.raises(AttributeError, match="immutable"):
        p.x = 2
    with pytest.raises(TypeError, match="missing field 'x'"):
        point()
    with pytest.raises(TypeError, match="unexpected or repeated field 'z'"):
        point(1, z=2)
    with pytest.raises(TypeError, match="takes 3 fields"):
        point(1, 2, (), 4)
    with pytest.raises(TypeError, match="unknown fields"):
        p._replace(z=1)
