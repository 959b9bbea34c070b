"""`start`: open the exec fifo, which releases the init blocked on its other end, then run the
poststart hooks. Kept apart from create so `start` loads no config or ctypes code at all."""

from __future__ import annotations

import os
import select

from sampan.errdefs import Conflict, System
from sampan.runtime.state import Container


def start(c: Container) -> None:
    status = c.status()
    if status == "stopped":
        raise Conflict("cannot start a container that has stopped")
    if status != "created":
        raise Conflict("cannot start an already running container")
    release(c)
    st = c.state
    if (st.spec.get("hooks") or {}).get("poststart"):
        from sampan.runtime.config_state import config_of
        from sampan.runtime.hooks import hook_state, run_hooks_warn

        cfg = config_of(c)
        if cfg is not None:
            run_hooks_warn("poststart", cfg.hooks_of("poststart"),
                           hook_state(c.id, "running", st.pid, st.bundle, st.annotations))


def release(c: Container) -> None:
    """Open the exec fifo; the init, blocked opening its write end, writes a byte and execs."""
    try:
        fd = os.open(c.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Conflict("cannot start an already running container")
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready and os.read(fd, 1):
                break
            if not c.alive():
                raise System("cannot start a container that has stopped")
    finally:
        os.close(fd)
        try:
            os.unlink(c.fifo)
        except FileNotFoundError:
            pass
