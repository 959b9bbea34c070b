"""Waiting for a container's process as its parent or subreaper (run, exec), forwarding the
signals we get to it. Apart from run.py so that exec does not load create's modules."""

from __future__ import annotations

import _signal as signal  # the signal module imports enum: ~4 ms of every start
import os

FORWARDED = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1,
             signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT)


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
