"""docker cp's path rules (moby's archive copy semantics), as pure decisions where possible.

A source path ending in `/.` copies a directory's contents; a destination ending in `/` (or
`/.`) asserts a directory. What the tar's entries are renamed to and where it is extracted
follow from the source and destination `CopyInfo`s (`prepare_copy`); the error texts are
docker's ("no such directory", "cannot copy directory", "not a directory").
"""

from __future__ import annotations

import os
import posixpath
import stat

from sampan.cli.errors import StatusError

GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_DEVICE = 1 << 26
GO_MODE_IRREGULAR = 1 << 19
GO_MODE_CHAR_DEVICE = 1 << 21

ERR_NOT_DIRECTORY = "not a directory"
ERR_DIR_NOT_EXISTS = "no such directory"
ERR_CANNOT_COPY_DIR = "cannot copy directory"
_MAX_DEST_SYMLINKS = 10


class CopyInfo:
    """What one side of a copy is: its path, whether it exists and is a directory, its rebase name.

    (Plain classes, not dataclasses: importing dataclasses costs `sampan cp` ~10 ms.)"""

    __slots__ = ("exists", "is_dir", "path", "rebase_name")

    def __init__(self, path: str, exists: bool = False, is_dir: bool = False, rebase_name: str = "") -> None:
        self.path, self.exists, self.is_dir, self.rebase_name = path, exists, is_dir, rebase_name

    def _key(self) -> tuple[str, bool, bool, str]:
        return (self.path, self.exists, self.is_dir, self.rebase_name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CopyInfo) and self._key() == other._key()

    def __repr__(self) -> str:
        return f"CopyInfo{self._key()!r}"


class Rename:
    """Tar entries whose first path component is `old` get `new` instead ("." means every entry)."""

    __slots__ = ("new", "old")

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rename) and (self.old, self.new) == (other.old, other.new)

    def __hash__(self) -> int:
        return hash((self.old, self.new))

    def __repr__(self) -> str:
        return f"Rename({self.old!r}, {self.new!r})"

    def apply(self, name: str) -> str:
        if self.old in ("", "/"):
            return self.new + "/" + name.lstrip("/") if name.strip("/.") else self.new + "/"
        if self.old == ".":
            rest = name[1:] if name == "." or name.startswith("./") else "/" + name
            return self.new + rest
        if name == self.old or name.startswith(self.old + "/"):
            return self.new + name[len(self.old) :]
        return name


# -- Go's path/filepath on "/" ------------------------------------------------------------

def go_clean(path: str) -> str:
    """filepath.Clean: "" is ".", "//a/" is "/a"."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def go_base(path: str) -> str:
    """filepath.Base: trailing slashes dropped, "" is ".", all slashes is "/"."""
    if not path:
        return "."
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rsplit("/", 1)[-1]


def go_dir(path: str) -> str:
    return go_clean(path[: path.rfind("/") + 1]) if "/" in path else "."


def go_join(*parts: str) -> str:
    joined = "/".join(p for p in parts if p)
    return go_clean(joined) if joined else ""


# -- moby's archive path helpers ----------------------------------------------------------

def has_trailing_separator(path: str) -> bool:
    return path.endswith("/")


def specifies_current_dir(path: str) -> bool:
    return go_base(path) == "."


def asserts_directory(path: str) -> bool:
    return has_trailing_separator(path) or specifies_current_dir(path)


def preserve_trailing_dot_or_separator(cleaned: str, original: str) -> str:
    """Put back the `/.` or `/` that cleaning a path dropped: they change what is copied."""
    if not specifies_current_dir(cleaned) and specifies_current_dir(original):
        if not has_trailing_separator(cleaned):
            cleaned += "/"
        cleaned += "."
    if not has_trailing_separator(cleaned) and has_trailing_separator(original):
        cleaned += "/"
    return cleaned


def split_path_dir_entry(path: str) -> tuple[str, str]:
    """(parent, base) of a path, `/.` kept as the base "."."""
    cleaned = go_clean(path)
    if specifies_current_dir(path):
        cleaned += "/."
    return go_dir(cleaned), go_base(cleaned)


def rebase_name(path: str, resolved: str) -> tuple[str, str]:
    """A resolved (symlink-followed) path with `path`'s trailing `/.` or `/`, and the name the
    archive's entry must take back when resolving changed the last component."""
    if specifies_current_dir(path) and not specifies_current_dir(resolved):
        resolved += "/."
    if has_trailing_separator(path) and not has_trailing_separator(resolved):
        resolved += "/"
    return resolved, go_base(path) if go_base(path) != go_base(resolved) else ""


def split_cp_arg(arg: str) -> tuple[str, str]:
    """(container, path): `c:/p` names a container; `/abs` and `./x:y` are local paths."""
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


def resolve_local_path(path: str) -> str:
    return preserve_trailing_dot_or_separator(go_clean(os.path.abspath(path)), path)


def prepare_copy(src: CopyInfo, dst: CopyInfo) -> tuple[str, Rename | None]:
    """Where to extract the source's tar and how to rename its entries (PrepareArchiveCopy)."""
    dst_dir, dst_base = split_path_dir_entry(dst.path)
    _, src_base = split_path_dir_entry(src.path)
    if src.rebase_name:
        src_base = src.rebase_name
    if dst.exists and dst.is_dir:
        return dst.path, None
    if dst.exists and src.is_dir:
        raise StatusError(ERR_CANNOT_COPY_DIR, 1)
    if not dst.exists and not src.is_dir and asserts_directory(dst.path):
        raise StatusError(ERR_DIR_NOT_EXISTS, 1)
    return dst_dir, Rename(src_base, dst_base)


# -- the local side -----------------------------------------------------------------------

def os_error(op: str, path: str, e: OSError) -> StatusError:
    """Go's *PathError text: `lstat /x: no such file or directory`."""
    reason = (e.strerror or str(e)).lower()
    return StatusError(f"{op} {path}: {reason}", 1)


def eval_symlinks(path: str) -> str:
    """filepath.EvalSymlinks of an absolute path: the real path; an error if any part is missing."""
    try:
        return os.path.realpath(path or ".", strict=True)
    except OSError as e:
        raise os_error("lstat", e.filename or path, e) from None


def source_info(path: str, follow_link: bool) -> CopyInfo:
    """CopyInfoSourcePath: the last component is followed only with -L."""
    if follow_link:
        resolved, rebase = rebase_name(path, eval_symlinks(path))
    else:
        parent, base = path[: path.rfind("/") + 1], path[path.rfind("/") + 1 :]
        real_parent = eval_symlinks(parent) if parent else "."
        resolved = real_parent.rstrip("/") + "/" + base
        rebase = go_base(path) if has_trailing_separator(path) and go_base(path) != go_base(resolved) else ""
    try:
        st = os.lstat(resolved)
    except OSError as e:
        raise os_error("lstat", resolved, e) from None
    return CopyInfo(resolved, True, stat.S_ISDIR(st.st_mode), rebase)


def destination_info(path: str) -> CopyInfo:
    """CopyInfoDestinationPath: symlinks at the end are followed; a missing path needs its parent."""
    original = path
    try:
        st: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise os_error("lstat", path, e) from None
    hops = 0
    while st is not None and stat.S_ISLNK(st.st_mode):
        hops += 1
        if hops > _MAX_DEST_SYMLINKS + 1:
            raise StatusError(f"too many symlinks in {original}", 1)
        target = os.readlink(path)
        path = target if target.startswith("/") else go_join(split_path_dir_entry(path)[0], target)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
    if st is not None:
        return CopyInfo(path, True, stat.S_ISDIR(st.st_mode))
    parent = split_path_dir_entry(path)[0]
    try:
        pst = os.stat(parent)
    except OSError as e:
        raise os_error("stat", parent, e) from None
    if not stat.S_ISDIR(pst.st_mode):
        raise StatusError(ERR_NOT_DIRECTORY, 1)
    return CopyInfo(path)


def check_output_mode(go_mode: int) -> str:
    """ValidateOutputPathFileMode for a container's PathStat mode ("" when fine)."""
    if go_mode & GO_MODE_DEVICE:
        return "got a device"
    if go_mode & GO_MODE_IRREGULAR:
        return "got an irregular file"
    return ""
