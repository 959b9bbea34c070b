"""OCI device cgroup rules: v1 devices.allow/deny lines, and the devices runc always allows."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from typing import Any

# runc appends these after a spec's own rules so a container always has its basic device nodes
# (null, zero, full, random, urandom, tty, ptmx, /dev/pts/*) and may mknod anything.
DEFAULT_ALLOWED: tuple[dict[str, Any], ...] = (
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
)


def _number(value: Any) -> str:
    return "*" if value is None or value < 0 else str(value)


def rule_line(rule: dict[str, Any]) -> str:
    """The kernel's "type major:minor access" form ("a" alone for every device)."""
    kind = rule.get("type") or "a"
    if kind == "a":
        return "a"
    access = rule.get("access") or "rwm"
    return f"{kind} {_number(rule.get('major'))}:{_number(rule.get('minor'))} {access}"


def v1_rules(rules: list[dict[str, Any]]) -> list[tuple[bool, str]]:
    """(allow, line) pairs in order; a write of "a" resets the cgroup's whole list, as the kernel does."""
    return [(bool(rule.get("allow")), rule_line(rule)) for rule in rules]
