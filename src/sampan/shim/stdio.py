"""The container's stdio as the shim owns it: three pipes, or a pty master from the runtime.

Pipes: the shim makes them and passes the container's ends as the runtime `create` process's
fds 0/1/2, which the container's init inherits (runc's pass-through mode). Terminal: the shim
listens on a console socket; the runtime sends the pty master over it with SCM_RIGHTS (runc's
--console-socket contract) and the shim reads and writes the master.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import termios

PIPE_SIZE = 1 << 20
READ_SIZE = 256 << 10

# Output stream names as the log and the attach framing know them.
STDOUT = "stdout"
STDERR = "stderr"


class PipeStdio:
    """stdin (optional), stdout and stderr pipes; `child_fds` go to the runtime create process."""

    tty = False

    def __init__(self, stdin: bool) -> None:
        if stdin:
            self._stdin_r, stdin_w = os.pipe()
            self.stdin_fd: int | None = stdin_w
        else:
            self._stdin_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            self.stdin_fd = None
        out_r, self._out_w = os.pipe()
        err_r, self._err_w = os.pipe()
        for fd in (out_r, err_r):
            _grow_pipe(fd)
        self.outputs: dict[int, str] = {out_r: STDOUT, err_r: STDERR}

    def child_fds(self) -> tuple[int, int, int]:
        return (self._stdin_r, self._out_w, self._err_w)

    def _close_child_fds(self) -> None:
        if self._stdin_r >= 0:
            for fd in self.child_fds():
                _close(fd)
            self._stdin_r = self._out_w = self._err_w = -1

    def take_outputs(self) -> dict[int, str]:
        """Hand the output fds over (their new owner closes them)."""
        outputs, self.outputs = self.outputs, {}
        return outputs

    def console_path(self) -> str | None:
        return None

    def after_create(self, timeout: float) -> None:
        """The container holds its ends now; closing ours lets EOF reach each side."""
        self._close_child_fds()
        for fd in self.outputs:
            os.set_blocking(fd, False)
        if self.stdin_fd is not None:
            os.set_blocking(self.stdin_fd, False)

    def resize(self, height: int, width: int) -> None:
        raise ValueError("the container has no terminal")

    def close(self) -> None:
        self._close_child_fds()
        for fd in self.outputs:
            _close(fd)
        self.outputs = {}
        if self.stdin_fd is not None:
            _close(self.stdin_fd)
            self.stdin_fd = None


class ConsoleStdio:
    """A console socket to receive the pty master on; the master is then stdin and stdout."""

    tty = True

    def __init__(self, socket_path: str) -> None:
        self._path = socket_path
        try:
            os.unlink(socket_path)
        except FileNotFoundError:
            pass
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(socket_path)
        os.chmod(socket_path, 0o600)
        self._listener.listen(1)
        self._null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self.master: int = -1
        self._winsize_fd = -1
        self.stdin_fd: int | None = None
        self.outputs: dict[int, str] = {}

    def child_fds(self) -> tuple[int, int, int]:
        return (self._null, self._null, self._null)

    def console_path(self) -> str | None:
        return self._path

    def after_create(self, timeout: float) -> None:
        """Take the pty master the runtime sent during `create`."""
        _close(self._null)
        self._null = -1
        self._listener.settimeout(timeout)
        try:
            conn, _ = self._listener.accept()
        finally:
            self._listener.close()
            unlink_quietly(self._path)
        with conn:
            conn.settimeout(timeout)
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
        if not fds:
            raise OSError("the runtime sent no pty master over the console socket")
        self.master = fds[0]
        os.set_blocking(self.master, False)
        self.stdin_fd = os.dup(self.master)  # its own fd, so the loop can watch it for writing
        self.outputs = {self.master: STDOUT}

    def take_outputs(self) -> dict[int, str]:
        """Hand the master over as the output fd; a dup stays here for resizing."""
        outputs, self.outputs = self.outputs, {}
        if self.master >= 0:
            self._winsize_fd = os.dup(self.master)
            self.master = -1
        return outputs

    def resize(self, height: int, width: int) -> None:
        fd = self._winsize_fd if self._winsize_fd >= 0 else self.master
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def close(self) -> None:
        if self._null >= 0:
            _close(self._null)
            self._null = -1
        if self.stdin_fd is not None:
            _close(self.stdin_fd)
            self.stdin_fd = None
        for fd in (self.master, self._winsize_fd):
            if fd >= 0:
                _close(fd)
        self.master = self._winsize_fd = -1
        if self._listener.fileno() >= 0:
            self._listener.close()
            unlink_quietly(self._path)


def _grow_pipe(fd: int) -> None:
    """Bigger output pipes: fewer wake-ups per megabyte for a chatty container."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:  # over /proc/sys/fs/pipe-max-size for this user: keep the default
        pass


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def unlink_quietly(path: str) -> None:
    """Remove a file the shim made; already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
