"""sampan-shim: one small process per container (like containerd-shim / conmon).

It owns the container's stdio, writes its json-file log, serves attach streams, reaps its init,
records its exit in exit.json and outlives the daemon. `client.ShimClient` is the daemon's side;
docs/shim-protocol.md describes the process model and the control protocol.
"""
