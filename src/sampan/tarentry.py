"""A file's lstat as a tar header: the one mapping the layer writer and the copy helper share.

A leaf (standard library only), so the copy helper can use it without loading the archive
package's decompressors.
"""

from __future__ import annotations

import os
import stat
import tarfile


def tar_header(name: str, path: str, st: os.stat_result) -> tarfile.TarInfo | None:
    """The header for `path` (already lstat'ed) stored as `name`; None for a socket, which tar
    cannot carry. Owners by number only (no name lookups); mtime truncated to the second."""
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        info.size = st.st_size
    elif stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(mode):
        info.type = tarfile.FIFOTYPE
    else:
        return None
    return info
