"""OCI mount options -> mount(2) flags, propagation changes and filesystem data.

Same vocabulary as runc (and mount(8)): flag words set or clear MS_* bits, propagation words
become a separate mount call after the first, anything unknown is filesystem data.
"""

from __future__ import annotations

from sampan.linux import syscalls as s
from sampan.runtime.record import Record

# word -> (clear?, flag)
FLAGS: dict[str, tuple[bool, int]] = {
    "acl": (False, 0), "async": (True, s.MS_SYNCHRONOUS), "atime": (True, s.MS_NOATIME),
    "bind": (False, s.MS_BIND), "defaults": (False, 0), "dev": (True, s.MS_NODEV),
    "diratime": (True, s.MS_NODIRATIME), "dirsync": (False, s.MS_DIRSYNC), "exec": (True, s.MS_NOEXEC),
    "iversion": (False, 0), "lazytime": (False, s.MS_LAZYTIME), "loud": (True, s.MS_SILENT),
    "mand": (False, s.MS_MANDLOCK), "noacl": (False, 0), "noatime": (False, s.MS_NOATIME),
    "nodev": (False, s.MS_NODEV), "nodiratime": (False, s.MS_NODIRATIME),
    "noexec": (False, s.MS_NOEXEC), "noiversion": (False, 0), "nolazytime": (True, s.MS_LAZYTIME),
    "nomand": (True, s.MS_MANDLOCK), "norelatime": (True, s.MS_RELATIME),
    "nostrictatime": (True, s.MS_STRICTATIME), "nosuid": (False, s.MS_NOSUID),
    "nosymfollow": (False, s.MS_NOSYMFOLLOW), "rbind": (False, s.MS_BIND | s.MS_REC),
    "relatime": (False, s.MS_RELATIME), "remount": (False, s.MS_REMOUNT), "ro": (False, s.MS_RDONLY),
    "rw": (True, s.MS_RDONLY), "silent": (False, s.MS_SILENT), "strictatime": (False, s.MS_STRICTATIME),
    "suid": (True, s.MS_NOSUID), "symfollow": (True, s.MS_NOSYMFOLLOW), "sync": (False, s.MS_SYNCHRONOUS),
}

PROPAGATION: dict[str, int] = {
    "private": s.MS_PRIVATE, "rprivate": s.MS_PRIVATE | s.MS_REC,
    "shared": s.MS_SHARED, "rshared": s.MS_SHARED | s.MS_REC,
    "slave": s.MS_SLAVE, "rslave": s.MS_SLAVE | s.MS_REC,
    "unbindable": s.MS_UNBINDABLE, "runbindable": s.MS_UNBINDABLE | s.MS_REC,
}


class MountOptions(Record):
    flags: int
    propagation: tuple[int, ...]
    data: str

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & s.MS_BIND)


def parse_options(options: tuple[str, ...] | list[str]) -> MountOptions:
    flags = 0
    propagation: list[int] = []
    data: list[str] = []
    for word in options:
        if word in FLAGS:
            clear, bit = FLAGS[word]
            flags = flags & ~bit if clear else flags | bit
        elif word in PROPAGATION:
            propagation.append(PROPAGATION[word])
        else:
            data.append(word)
    return MountOptions(flags, tuple(propagation), ",".join(data))
