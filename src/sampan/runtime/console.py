"""Terminals: a pty from the container's own devpts, master sent over --console-socket.

The master end goes to whoever listens on the console socket (one SCM_RIGHTS message, as
runc sends it); the slave becomes the process's controlling terminal and stdio, and is
bound over /dev/console.
"""

from __future__ import annotations

import array
import fcntl
import os
import socket
import struct
import termios

TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431


def open_pty(ptmx: str) -> tuple[int, int]:
    """Open a new pty on the devpts behind `ptmx`; returns (master fd, pts number)."""
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
        number = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"))[0]
    except OSError:
        os.close(master)
        raise
    return master, number


def set_size(fd: int, height: int, width: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def connect(socket_path: str) -> socket.socket:
    """Connect to --console-socket in the runtime, before namespaces hide the path."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except OSError:
        sock.close()
        raise
    return sock


def send_master(sock: socket.socket, master: int) -> None:
    """Pass the master fd with SCM_RIGHTS (one message, named like runc names it)."""
    sock.sendmsg([b"/dev/ptmx"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [master]))])
    sock.close()


def become_controlling(slave_path: str) -> None:
    """Make the pty slave our controlling terminal and our stdin/stdout/stderr."""
    fd = os.open(slave_path, os.O_RDWR)
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)


def recv_master(conn: socket.socket) -> int:
    """The receiving side (tests, shims): one fd from a console-socket connection."""
    fds = array.array("i")
    _msg, ancdata, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not fds:
        raise OSError("no file descriptor received on the console socket")
    return fds[0]
