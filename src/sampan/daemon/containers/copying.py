"""`docker cp`: stat, read and write paths inside a container's rootfs (the archive routes).

Paths are resolved inside the rootfs with chroot semantics (`secure_join`), so a symlink in
the container never leads to the host. Mounts made inside the container (binds, tmpfs) are not
visible here; like `docker cp` of a stopped container, this sees the container's layers.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sampan.errdefs import InvalidArgument, NotFound
from sampan.linux.safepath import secure_join

_GO_DIR, _GO_SYMLINK = 1 << 31, 1 << 27


def _host_path(rootfs: str, path: str) -> str:
    """The host path of `path`, its last component not followed (it may be a symlink)."""
    clean = posixpath.normpath("/" + path)
    parent, name = posixpath.split(clean)
    base = secure_join(rootfs, parent)
    return os.path.join(base, name) if name else base


def path_stat(rootfs: str, path: str, cid: str) -> dict[str, Any]:
    host = _host_path(rootfs, path)
    try:
        st = os.lstat(host)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {cid}") from None
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        mode |= _GO_DIR
    link = ""
    if stat.S_ISLNK(st.st_mode):
        mode |= _GO_SYMLINK
        link = os.readlink(host)
    mtime = datetime.fromtimestamp(st.st_mtime, tz=UTC).isoformat().replace("+00:00", "Z")
    return {"name": posixpath.basename(posixpath.normpath("/" + path)) or "/", "size": st.st_size, "mode": mode,
            "mtime": mtime, "linkTarget": link}


def write_tar(rootfs: str, path: str, cid: str, out: BinaryIO) -> None:
    """A tar of `path` named by its base name (its contents for a path ending in `/.`)."""
    host = _host_path(rootfs, path)
    if not os.path.lexists(host):
        raise NotFound(f"Could not find the file {path} in container {cid}")
    contents_only = path.endswith("/.")
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        if contents_only and os.path.isdir(host):
            for name in sorted(os.listdir(host)):
                tf.add(os.path.join(host, name), arcname=name)
        else:
            tf.add(host, arcname=posixpath.basename(posixpath.normpath("/" + path)) or ".")


def extract_tar(rootfs: str, path: str, cid: str, stream: BinaryIO) -> None:
    """Unpack a tar into the directory `path` of the container, path-safely."""
    from sampan.archive import apply_layer

    host = secure_join(rootfs, path)
    if not os.path.exists(host):
        raise NotFound(f"Could not find the file {path} in container {cid}")
    if not os.path.isdir(host):
        raise InvalidArgument(f"extraction point is not a directory: {path}")
    apply_layer(stream, host, compression="", whiteouts="native")
