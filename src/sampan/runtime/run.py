"""`run`: create + start, then (unless detached) wait for the container and delete it.

The runtime is the subreaper of what it forks, so the container init (a grandchild) becomes
its child and its exit status can be collected; signals sent to the runtime are forwarded.
"""

from __future__ import annotations

import os
import signal

from sampan.runtime.create import FORWARDED, CreateOptions, create, start
from sampan.runtime.state import Container


def wait_exit(pid: int) -> int:
    """Wait for pid (reaping other orphans on the way), forwarding signals; shell-style code."""
    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    old = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        while True:
            try:
                got, status = os.waitpid(-1, 0)
            except ChildProcessError:
                return 255
            if got == pid:
                code = os.waitstatus_to_exitcode(status)
                return 128 - code if code < 0 else code
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def run(root: str, cid: str, opts: CreateOptions) -> int:
    from sampan.runtime.manage import delete

    c = create(root, cid, opts)
    try:
        start(c)
    except BaseException:
        delete(Container.load(root, cid), force=True)
        raise
    if opts.detach:
        return 0
    code = wait_exit(c.state.pid)
    delete(Container.load(root, cid), force=True)
    return code
