"""Foreground `run` of a terminal container without --console-socket: the runtime itself holds
the pty master and copies between it and its own stdio (the host terminal in raw mode), as
runc does. Window size follows the host terminal (SIGWINCH)."""

from __future__ import annotations

import os
import select
import signal
import socket


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """(end for the container init, end we receive the master on)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return a, b


def copy_size(src: int, master: int) -> None:
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(master, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def proxy(master: int) -> None:
    """Copy stdin -> master and master -> stdout until the pty's last slave closes."""
    import termios
    import tty

    stdin, stdout = 0, 1
    saved = None
    if os.isatty(stdin):
        saved = termios.tcgetattr(stdin)
        tty.setraw(stdin)
        copy_size(stdin, master)
    old = signal.signal(signal.SIGWINCH, lambda *_: copy_size(stdin, master))
    watch = [master, stdin]
    try:
        while True:
            ready, _, _ = select.select(watch, [], [])
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave is closed, the container's session is over
                    return
                if not data:
                    return
                os.write(stdout, data)
            if stdin in ready:
                data = os.read(stdin, 65536)
                if not data:
                    watch = [master]
                else:
                    os.write(master, data)
    finally:
        signal.signal(signal.SIGWINCH, old)
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
