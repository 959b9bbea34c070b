"""The one place the HTTP app is assembled from route modules and their backends."""

from __future__ import annotations

from dataclasses import dataclass

from sampan.server.router import Router
from sampan.server.routes import containers, containers_df, containers_update, events, execs, images, system
from sampan.server.routes.containers_ws import add_routes as add_websocket_routes


@dataclass(frozen=True)
class Backends:
    system: system.SystemBackend
    images: images.ImageBackend
    containers: containers.ContainerBackend | None = None
    events: events.EventsBackend | None = None


def build_app(backends: Backends) -> Router:
    router = Router()
    system.add_routes(router, backends.system)
    images.add_routes(router, backends.images)
    if backends.containers is not None:
        containers.add_routes(router, backends.containers)
        add_websocket_routes(router, backends.containers)
        execs.add_routes(router, backends.containers)
        containers_update.add_routes(router, backends.containers)
        if hasattr(backends.images, "disk_usage"):
            containers_df.add_routes(router, backends.images, backends.containers)  # type: ignore[arg-type]
    if backends.events is not None:
        events.add_routes(router, backends.events)
    return router
