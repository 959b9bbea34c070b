"""sampand's HTTP edge: the Docker Engine API over HTTP/1.1 on a unix socket.

- `http`: connections (keep-alive, chunked bodies, streaming replies, hijack).
- `router`: routes, the `/vX.Y` prefix and the one error map (`errors`).
- `request`/`response`: what handlers receive and return.
- `streaming`: blocking jobs that report JSON progress (pull, push, load).
- `routes/<resource>.py`: one module per resource; each declares the backend Protocol it
  needs and an `add_routes(router, backend)`; `app.build_app` wires them to services.
- `serve`: listeners and graceful stop.
"""
