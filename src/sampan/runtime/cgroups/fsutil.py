"""Small file helpers for cgroupfs: every write error names the file and the value."""

from __future__ import annotations

import errno
import os
import sys

from sampan import errdefs


def write(path: str, value: str | int) -> None:
    """Write one value to an existing control file (O_TRUNC is a no-op on cgroupfs, helps fakes)."""
    text = str(value)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    except OSError as exc:
        raise _error(path, text, exc) from exc
    try:
        os.write(fd, text.encode())
    except OSError as exc:
        raise _error(path, text, exc) from exc
    finally:
        os.close(fd)


def _error(path: str, text: str, exc: OSError) -> errdefs.SampanError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    message = f"failed to write {text!r} to {path}: {reason}"
    if exc.errno in (errno.EINVAL, errno.ERANGE):
        return errdefs.InvalidArgument(message)
    return errdefs.System(message)


def read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as f:
        return f.read().strip()


def read_or(path: str, default: str = "") -> str:
    try:
        return read(path)
    except OSError:
        return default


def read_int(path: str) -> int | None:
    """An integer file's value; None when the file is missing or says "max"."""
    text = read_or(path)
    if not text or text == "max":
        return None
    try:
        return int(text.split()[0])
    except ValueError:
        return None


def read_keyed(path: str) -> dict[str, int]:
    """A flat keyed file ("key value" per line) such as memory.stat or cpu.stat."""
    out: dict[str, int] = {}
    for line in read_or(path).splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def exists(path: str) -> bool:
    return os.path.exists(path)


def debug(logger: str, msg: str, *args: object) -> None:
    """A debug log line, without importing logging (start-up time): unless something imported
    and configured logging already (`--debug` does), a debug line would go nowhere anyway."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(logger).debug(msg, *args)
