"""Exec routes: /containers/{id}/exec and /exec/{id}/start|resize|json (to be filled in)."""

from __future__ import annotations

from typing import Any

from sampan.server.router import Router


def add_routes(router: Router, containers: Any) -> None:
    """Register the exec routes."""
