"""Build the container's filesystem view inside its new mount namespace.

Order (as runc): propagation of `/`, bind the rootfs onto itself, the config's mounts
(targets resolved with secure_join so symlinks cannot point out of the rootfs), device nodes
and /dev links, then pivot_root (or MS_MOVE + chroot with --no-pivot), then the finishing
touches that need the new root: read-only root, readonly and masked paths.
"""

from __future__ import annotations

import os
import stat

from sampan.errdefs import System
from sampan.linux import syscalls as s
from sampan.linux.safepath import secure_join
from sampan.runtime.config import Config, Device, Mount

DEFAULT_DEVICES = (
    Device("/dev/null", "c", 1, 3, 0o666, 0, 0),
    Device("/dev/zero", "c", 1, 5, 0o666, 0, 0),
    Device("/dev/full", "c", 1, 7, 0o666, 0, 0),
    Device("/dev/tty", "c", 5, 0, 0o666, 0, 0),
    Device("/dev/random", "c", 1, 8, 0o666, 0, 0),
    Device("/dev/urandom", "c", 1, 9, 0o666, 0, 0),
)
DEV_LINKS = (("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
             ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"))
_LOCKED = s.MS_NOSUID | s.MS_NODEV | s.MS_NOEXEC | s.MS_RDONLY | s.MS_NOATIME | s.MS_NODIRATIME | s.MS_RELATIME
_ST_FLAGS = ((os.ST_RDONLY, s.MS_RDONLY), (os.ST_NOSUID, s.MS_NOSUID), (os.ST_NODEV, s.MS_NODEV),
             (os.ST_NOEXEC, s.MS_NOEXEC), (os.ST_NOATIME, s.MS_NOATIME),
             (os.ST_NODIRATIME, s.MS_NODIRATIME), (os.ST_RELATIME, s.MS_RELATIME))


def mount_flags_of(path: str) -> int:
    """Flags of the mount at path, to keep the locked ones when remounting in a user namespace."""
    try:
        f = os.statvfs(path).f_flag
    except OSError:
        return 0
    out = 0
    for st_bit, ms_bit in _ST_FLAGS:
        if f & st_bit:
            out |= ms_bit
    return out


class RootfsBuilder:
    def __init__(self, sc: s.Syscalls, cfg: Config, cgroup_paths: dict[str, str] | None = None) -> None:
        self.sc = sc
        self.cfg = cfg
        self.root = cfg.root_path
        self.cgroup_paths = cgroup_paths or {}  # host dirs of the container's cgroups

    # --- before pivot ------------------------------------------------------------------------
    def prepare(self) -> None:
        prop = self.cfg.linux.rootfs_propagation or (s.MS_SLAVE | s.MS_REC)
        self.sc.mount(None, "/", None, prop)
        if prop & s.MS_SHARED:
            self._make_parent_private()
        self.sc.mount(self.root, self.root, "bind", s.MS_BIND | s.MS_REC)
        for m in self.cfg.mounts:
            self.mount(m)
        if self.needs_dev_setup():
            self.create_devices()
            self.dev_links()

    def _make_parent_private(self) -> None:
        """pivot_root refuses a shared parent mount; find the rootfs' mount point and make it private."""
        best = "/"
        try:
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    mp = line.split()[4]
                    if (self.root == mp or self.root.startswith(mp.rstrip("/") + "/")) and len(mp) > len(best):
                        best = mp
        except OSError:
            pass
        self.sc.mount(None, best, None, s.MS_PRIVATE)

    def needs_dev_setup(self) -> bool:
        return not any(m.destination == "/dev" and m.parsed.is_bind for m in self.cfg.mounts)

    def target(self, dest: str) -> str:
        return secure_join(self.root, dest)

    def mount(self, m: Mount) -> None:
        dest = self.target(m.destination)
        flags = m.parsed.flags
        try:
            if m.parsed.is_bind:
                self._bind(m, dest)
            elif m.type == "cgroup":
                self._cgroup(m, dest)
            else:
                try:
                    before: int | None = os.stat(dest).st_mode & 0o7777
                except FileNotFoundError:
                    before = None
                    os.makedirs(dest, 0o755, exist_ok=True)
                self.sc.mount(m.source or m.type, dest, m.type, flags & ~s.MS_REMOUNT, m.parsed.data or None)
                if m.type == "tmpfs" and before is not None and not flags & s.MS_RDONLY:
                    os.chmod(dest, before)  # runc keeps the mode of the directory it mounted over
            for prop in m.parsed.propagation:
                self.sc.mount(None, dest, None, prop)
        except OSError as e:
            raise System(f"error mounting {m.source!r} to rootfs at {m.destination!r}: {e.strerror or e}")

    def _bind(self, m: Mount, dest: str) -> None:
        try:
            st = os.stat(m.source)
        except FileNotFoundError:
            raise OSError(2, f"bind mount source {m.source} does not exist")
        if stat.S_ISDIR(st.st_mode):
            os.makedirs(dest, 0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dest), 0o755, exist_ok=True)
            if not os.path.exists(dest):
                os.close(os.open(dest, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
        flags = m.parsed.flags
        self.sc.mount(m.source, dest, "bind", flags & (s.MS_BIND | s.MS_REC))
        extra = flags & ~(s.MS_BIND | s.MS_REC | s.MS_REMOUNT)
        if extra:
            self.remount(dest, extra | s.MS_BIND)

    def remount(self, dest: str, flags: int) -> None:
        """Remount a bind mount with flags, keeping flags the kernel locked (user namespaces)."""
        try:
            self.sc.mount(None, dest, None, flags | s.MS_REMOUNT)
        except OSError as e:
            if e.errno != 1:
                raise
            self.sc.mount(None, dest, None, flags | s.MS_REMOUNT | (mount_flags_of(dest) & _LOCKED))

    def _cgroup(self, m: Mount, dest: str) -> None:
        """A tmpfs (left writable, as runc does) with a bind mount per host hierarchy showing our cgroup."""
        from sampan.runtime.cgroupfs import host_hierarchies, own_cgroup_paths

        os.makedirs(dest, 0o755, exist_ok=True)
        flags = m.parsed.flags
        self.sc.mount("tmpfs", dest, "tmpfs", flags & ~s.MS_RDONLY, "mode=755")
        own = own_cgroup_paths()
        cgroupns = self.cfg.linux.namespace("cgroup") is not None
        for name, mountpoint, key in host_hierarchies():
            sub = os.path.join(dest, name)
            os.makedirs(sub, 0o755, exist_ok=True)
            if cgroupns:  # a fresh mount shows the namespace's root: our own cgroup
                fstype = "cgroup" if key else "cgroup2"
                self.sc.mount(fstype, sub, fstype, flags & ~(s.MS_BIND | s.MS_REC | s.MS_REMOUNT), key or None)
                continue
            src = next((p for p in self.cgroup_paths.values()
                        if (p == mountpoint or p.startswith(mountpoint + "/")) and os.path.isdir(p)),
                       os.path.join(mountpoint, own.get(key, "/").lstrip("/")))
            self.sc.mount(src, sub, "bind", s.MS_BIND | s.MS_REC)
            self.remount(sub, s.MS_BIND | (flags & (s.MS_RDONLY | s.MS_NOSUID | s.MS_NODEV | s.MS_NOEXEC)))

    def create_devices(self) -> None:
        old = os.umask(0)
        try:
            seen = set()
            for dev in (*self.cfg.linux.devices, *DEFAULT_DEVICES):
                if dev.path in seen:
                    continue
                seen.add(dev.path)
                self.create_device(dev)
        finally:
            os.umask(old)

    def create_device(self, dev: Device) -> None:
        dest = self.target(dev.path)
        os.makedirs(os.path.dirname(dest), 0o755, exist_ok=True)
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[dev.type]
        mode = dev.file_mode if dev.file_mode is not None else 0o666
        if os.path.lexists(dest):
            os.unlink(dest)
        try:
            self.sc.mknod(dest, kind | (mode & 0o7777), os.makedev(dev.major, dev.minor))
            self.sc.chown(dest, dev.uid or 0, dev.gid or 0)
        except PermissionError:
            # no CAP_MKNOD (user namespace): bind the host's node instead, as runc does
            os.close(os.open(dest, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o000))
            self.sc.mount(dev.path, dest, "bind", s.MS_BIND)
        except OSError as e:
            raise System(f"create device {dev.path}: {e.strerror or e}")

    def dev_links(self) -> None:
        links = [*DEV_LINKS]
        if os.path.exists("/proc/kcore"):
            links.append(("/proc/kcore", "/dev/core"))
        for target, link in links:
            path = self.target(link)
            if not os.path.lexists(path):
                os.symlink(target, path)
        ptmx = self.target("/dev/ptmx")
        if os.path.lexists(ptmx):
            os.unlink(ptmx)
        os.symlink("pts/ptmx", ptmx)

    # --- pivot -------------------------------------------------------------------------------
    def pivot(self, no_pivot: bool) -> None:
        if no_pivot:
            os.chdir(self.root)
            self.sc.mount(self.root, "/", None, s.MS_MOVE)
            self.sc.chroot(".")
            os.chdir("/")
            return
        old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
        new_root = os.open(self.root, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fchdir(new_root)
            self.sc.pivot_root(".", ".")
            os.fchdir(old_root)
            self.sc.mount(None, ".", None, s.MS_SLAVE | s.MS_REC)
            self.sc.umount2(".", s.MNT_DETACH)
            os.chdir("/")
        finally:
            os.close(old_root)
            os.close(new_root)

    # --- after pivot -------------------------------------------------------------------------
    def finalize(self) -> None:
        for m in self.cfg.mounts:
            if m.destination == "/dev" and m.parsed.flags & s.MS_RDONLY and not m.parsed.is_bind:
                self.sc.mount(None, "/dev", None, s.MS_REMOUNT | m.parsed.flags)
        if self.cfg.readonly_root:
            self.remount("/", s.MS_BIND | s.MS_RDONLY)

    def readonly_path(self, path: str) -> None:
        if not os.path.exists(path):
            return
        self.sc.mount(path, path, None, s.MS_BIND | s.MS_REC)
        self.remount(path, s.MS_BIND | s.MS_RDONLY | s.MS_REC)

    def mask_path(self, path: str) -> None:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISDIR(st.st_mode):
            self.sc.mount("tmpfs", path, "tmpfs", s.MS_RDONLY)
        else:
            self.sc.mount("/dev/null", path, None, s.MS_BIND)

