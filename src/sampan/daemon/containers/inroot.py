"""Open a path inside a root directory with openat2(RESOLVE_IN_ROOT): the kernel resolves every
component (symlinks, "..") as if the root were "/", and fails instead of racing if a
component is renamed away meanwhile. Used by the copy helper to pin bind-mount targets.
"""

from __future__ import annotations

import errno
import os
import posixpath

from sampan.linux.openat2 import Openat2
from sampan.linux.safepath import secure_join


class InRoot:
    """openat2 through libc's syscall(); `available` is False on kernels before 5.6."""

    def __init__(self) -> None:
        self._openat2 = Openat2()
        self.available = True
        root = os.open("/", os.O_PATH | os.O_CLOEXEC)
        try:
            os.close(self.open(root, "."))
        except OSError as e:
            if e.errno != errno.ENOSYS:
                raise
            self.available = False
        finally:
            os.close(root)

    def open(self, root_fd: int, path: str, flags: int = os.O_PATH | os.O_CLOEXEC) -> int:
        return self._openat2.open_in_root(root_fd, path, flags)

    def make_target(self, root_fd: int, rootfs: str, path: str, is_dir: bool) -> int:
        """An O_PATH fd of `path` inside the root, created first if missing (its parents as
        directories, itself as a directory or an empty file), for a bind mount onto it.
        Symlinks are first followed in scope (so a dangling one gets its target made inside
        the root, as dockerd does); openat2 then pins what it names, inside the root."""
        resolved = os.path.relpath(secure_join(rootfs, path), os.path.abspath(rootfs))
        return self._make(root_fd, "" if resolved == "." else resolved, is_dir)

    def _make(self, root_fd: int, path: str, is_dir: bool) -> int:
        try:
            return self.open(root_fd, path)
        except FileNotFoundError:
            pass
        parent, name = posixpath.split(path)
        if not name:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", path)
        parent_fd = self._make(root_fd, parent, True)
        try:
            if is_dir:
                try:
                    os.mkdir(name, 0o755, dir_fd=parent_fd)
                except FileExistsError:
                    pass
            else:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o755, dir_fd=parent_fd)
                os.close(fd)
            return self.open(root_fd, path)
        finally:
            os.close(parent_fd)
