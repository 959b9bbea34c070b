"""POST /containers/{id}/update: resources and restart policy of a container (to be filled in)."""

from __future__ import annotations

from typing import Any

from sampan.server.router import Router


def add_routes(router: Router, containers: Any) -> None:
    """Register the update route."""
