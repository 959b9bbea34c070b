"""WWW-Authenticate parsing (RFC 7235): which scheme a registry wants and its parameters.

Registries answer 401 with e.g. `Bearer realm="https://auth/token",service="reg",
scope="repository:a/b:pull"`; quoted values may hold commas and escaped quotes, and one
header may carry several challenges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/:")


@dataclass
class Challenge:
    scheme: str  # lower-case: "bearer", "basic", ...
    params: dict[str, str] = field(default_factory=dict)  # keys lower-case

    def get(self, key: str) -> str:
        return self.params.get(key, "")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self, chars: str = " \t") -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TOKEN_CHARS:
            self.pos += 1
        return self.text[start:self.pos]

    def token68(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ", \t":
            self.pos += 1
        return self.text[start:self.pos]

    def quoted(self) -> str:
        self.pos += 1  # opening quote
        out: list[str] = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif c == '"':
                break
            else:
                out.append(c)
        return "".join(out)


def parse_challenges(headers: list[str] | str) -> list[Challenge]:
    """All challenges in one or more WWW-Authenticate header values."""
    values = [headers] if isinstance(headers, str) else headers
    out: list[Challenge] = []
    for value in values:
        out.extend(_parse_one(value))
    return out


def _parse_one(value: str) -> list[Challenge]:
    s = _Scanner(value)
    out: list[Challenge] = []
    current: Challenge | None = None
    while s.pos < len(value):
        s.skip(" \t,")
        if s.pos >= len(value):
            break
        name = s.token()
        if not name:
            s.pos += 1  # junk character: skip it rather than loop forever
            continue
        s.skip()
        if s.peek() == "=" and current is not None and not _is_token68_tail(value, s.pos):
            s.pos += 1
            s.skip()
            val = s.quoted() if s.peek() == '"' else s.token()
            current.params[name.lower()] = val
            continue
        # A new challenge: scheme name, optionally followed by a token68 (e.g. Basic abc==)
        current = Challenge(scheme=name.lower())
        out.append(current)
        s.skip()
        nxt = s.pos
        probe = s.token()
        s.skip()
        if probe and s.peek() == "=" and not _is_token68_tail(value, s.pos):
            s.pos = nxt  # it was a parameter name; parse it on the next turn
        elif probe:
            s.pos = nxt
            current.params[""] = s.token68()
        else:
            s.pos = nxt
    return out


def _is_token68_tail(text: str, eq_pos: int) -> bool:
    """`abc==` is a token68 (padding), not a parameter: the `=` runs to the end or a comma."""
    j = eq_pos
    while j < len(text) and text[j] == "=":
        j += 1
    rest = text[j:].lstrip(" \t")
    return j - eq_pos >= 2 or (j > eq_pos and (not rest or rest.startswith(",")))
