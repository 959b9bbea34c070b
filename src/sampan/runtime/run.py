"""`run`: create + start, then (unless detached) wait for the container and delete it.

The runtime is the subreaper of what it forks, so the container init (a grandchild) becomes
its child and its exit status can be collected; signals sent to the runtime are forwarded.
"""

from __future__ import annotations

import os

from sampan.runtime.cgroupfs import MigrationPrimer
from sampan.runtime.create import CreateOptions, create
from sampan.runtime.start import start
from sampan.runtime.state import Container
from sampan.runtime.waitexit import wait_exit


def run(root: str, cid: str, opts: CreateOptions, keep: bool = False, primer: MigrationPrimer | None = None) -> int:
    """Exit code of the container (128+signal if killed); with keep, it stays (stopped) for delete."""
    from sampan.runtime.config import load_bundle
    from sampan.runtime.manage import delete

    if primer is None:
        primer = MigrationPrimer()
    peer = None
    try:
        cfg = load_bundle(os.path.abspath(opts.bundle))
        if not opts.detach and not opts.console_socket and cfg.process is not None and cfg.process.terminal:
            from sampan.runtime.ttyproxy import socket_pair

            theirs, peer = socket_pair()
            opts = opts._replace(console=theirs)
    except BaseException:
        primer.wait()  # no thread may outlive us
        raise
    try:
        c = create(root, cid, opts, cfg, primer)
    finally:
        if opts.console is not None:
            opts.console.close()
    master = -1
    try:
        if peer is not None:
            from sampan.runtime.console import recv_master

            master = recv_master(peer)
            peer.close()
        start(c)
    except BaseException:
        delete(Container.load(root, cid), force=True)
        raise
    if opts.detach:
        return 0
    if master >= 0:
        from sampan.runtime.ttyproxy import proxy

        proxy(master)
        os.close(master)
    code = wait_exit(c.state.pid)
    if not keep:
        delete(c, force=True)  # c holds the state create wrote: no second read of state.json
    return code

