"""Record: an immutable typed value class, cheap to define (no code generation at import).

typing.NamedTuple and dataclasses generate code with exec() for every class, about 0.2 ms
each; the runtime defines some fifteen such types and imports them on every `create`, so
they are defined this way instead. Type checkers see a frozen dataclass (PEP 681).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Self, dataclass_transform
else:
    def dataclass_transform(**_: object) -> object:
        return lambda cls: cls


@dataclass_transform(frozen_default=True)
class Record:
    """Fields are the class's annotations, in order; class attributes are their defaults."""

    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 (inspect is a slow import)
        cls._fields = tuple(name for name in own if not name.startswith("_"))

    def _init(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, got {len(args)}")
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in fields or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values[name] = value
        for name in fields:
            if name in values:
                object.__setattr__(self, name, values[name])
            elif not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")

    if not TYPE_CHECKING:  # type checkers synthesize a typed __init__ per class instead
        __init__ = _init

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _replace(self, **changes: Any) -> Self:
        values = {name: changes.pop(name, getattr(self, name)) for name in self._fields}
        if changes:
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(changes)}")
        return type(self)(**values)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"
