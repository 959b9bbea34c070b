"""`sampan cp`: copy files between a container and the local filesystem, docker's way.

`CONTAINER:SRC DEST` fetches a tar of SRC (GET .../archive) and unpacks it under DEST with
docker's rules for trailing `/` and `/.`; `SRC CONTAINER:DEST` stats DEST in the container
(HEAD .../archive), tars SRC renamed to fit and uploads it (PUT .../archive). `-` streams a
tar from stdin or to stdout. Tars are streamed, never held in memory.
"""

from __future__ import annotations

import threading

from sampan.cli import container_calls as calls
from sampan.cli import cp_paths as paths
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec
from sampan.cli.format import human_size

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

TO_HEADER = "Copying to container - "
FROM_HEADER = "Copying from container - "


class Progress:
    """docker's progress line on a terminal's stderr (saved cursor, size redrawn every 75 ms)."""

    def __init__(self, cli: Cli, header: str, enabled: bool, source: Callable[[], int] | None = None) -> None:
        from sampan.cli import stdio

        self.cli, self.header, self.total = cli, header, 0
        self.source = source or (lambda: self.total)
        self.live = enabled and stdio.is_terminal(cli.err)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.printed = False

    def __enter__(self) -> Progress:
        if self.live:
            self._thread = threading.Thread(target=self._run, name="cp-progress", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        """Nothing for a copy done within the first tick; then the header and a size kept current."""
        err, last, shown = self.cli.err, -1, False
        while not self._stop.wait(0.075):
            current = self.source()
            if not shown:
                err.write("\033[s\033[?25l" + self.header)
                shown = self.printed = True
            if current != last:
                last = current
                err.write(f"\033[{len(self.header) + 1}G\033[0K{human_size(float(current), 3)}")
                err.flush()

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self.printed:
                self.cli.err.write("\033[?25h\033[u\033[2K")
                self.cli.err.flush()

    def counted(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.total += len(chunk)
            yield chunk


def run_cp(cli: Cli, o: Parsed) -> int:
    source, dest = o.args
    if not source:
        raise StatusError("source can not be empty", 1)
    if not dest:
        raise StatusError("destination can not be empty", 1)
    quiet = bool(o.quiet) if "quiet" in o.given else not cli.out_is_tty()
    src_container, src_path = paths.split_cp_arg(source)
    dst_container, dst_path = paths.split_cp_arg(dest)
    if src_container and dst_container:
        raise StatusError("copying between containers is not supported", 1)
    if src_container:
        return copy_from_container(cli, src_container, src_path, dst_path, follow=o.follow_link, quiet=quiet)
    if dst_container:
        return copy_to_container(cli, dst_container, src_path, dst_path, follow=o.follow_link, quiet=quiet,
                                 copy_uid_gid=o.archive)
    raise StatusError("must specify at least one container source", 1)


def copy_from_container(cli: Cli, container: str, src_path: str, dst_path: str, *, follow: bool,
                        quiet: bool) -> int:
    from sampan.cli import cp_tar
    from sampan.cli.container_misc import validate_output_path

    if dst_path != "-":
        dst_path = paths.resolve_local_path(dst_path)
    problem = validate_output_path(dst_path)
    if problem:
        raise StatusError(problem, 1)
    client = cli.client()
    rebase = ""
    if follow:
        src_path, rebase = _follow_link(client, container, src_path)
    resp, st = calls.get_archive(client, container, src_path)
    try:
        if dst_path == "-":
            from sampan.cli import stdio

            write = stdio.binary_writer(cli.out)
            while chunk := resp.read1():
                write(chunk)
            return 0
        src = paths.CopyInfo(src_path, True, bool(int(st.get("mode") or 0) & paths.GO_MODE_DIR), rebase)
        renames = [paths.Rename(paths.split_path_dir_entry(src_path)[1], rebase)] if rebase else []
        dst = paths.destination_info(dst_path)
        dst_dir, rename = paths.prepare_copy(src, dst)
        if rename is not None:
            renames.append(rename)
        stream = cp_tar.CountingReader(resp.read1)
        with Progress(cli, FROM_HEADER, not quiet, lambda: stream.total):
            copied = cp_tar.extract(stream, dst_dir, renames)
    finally:
        resp.close()
    if not quiet:
        cli.err.write(f"Successfully copied {human_size(float(copied), 3)} to {dst_path}\n")
    return 0


def _follow_link(client: Any, container: str, src_path: str) -> tuple[str, str]:
    """-L: a symlink source is replaced by its target, the entries keeping the link's name."""
    from sampan import errdefs

    try:
        st = calls.stat_path(client, container, src_path)
    except errdefs.SampanError:
        return src_path, ""
    if not int(st.get("mode") or 0) & paths.GO_MODE_SYMLINK:
        return src_path, ""
    target = str(st.get("linkTarget") or "")
    if not target.startswith("/"):
        target = paths.go_join(paths.split_path_dir_entry(src_path)[0], target)
    return paths.rebase_name(src_path, target)


def _destination(client: Any, container: str, dst_path: str) -> paths.CopyInfo:
    """What DEST is in the container (a missing one may still work: its parent is checked there)."""
    from sampan import errdefs

    info = paths.CopyInfo(dst_path)
    try:
        st = calls.stat_path(client, container, dst_path)
        mode = int(st.get("mode") or 0)
        if mode & paths.GO_MODE_SYMLINK:
            target = str(st.get("linkTarget") or "")
            if not target.startswith("/"):
                target = paths.go_join(paths.split_path_dir_entry(dst_path)[0], target)
            info.path = target
            mode = int(calls.stat_path(client, container, target).get("mode") or 0)
    except errdefs.SampanError:
        return info
    problem = paths.check_output_mode(mode)
    if problem:
        raise StatusError(f'destination "{container}:{dst_path}" must be a directory or a regular file: '
                          f"{problem}", 1)
    info.exists, info.is_dir = True, bool(mode & paths.GO_MODE_DIR)
    return info


def copy_to_container(cli: Cli, container: str, src_path: str, dst_path: str, *, follow: bool, quiet: bool,
                      copy_uid_gid: bool) -> int:
    from sampan.cli import cp_tar

    if src_path != "-":
        src_path = paths.resolve_local_path(src_path)
    client = cli.client()
    dst = _destination(client, container, dst_path)
    chunks: Iterable[bytes]
    if src_path == "-":
        if not dst.is_dir:
            raise StatusError(f'destination "{container}:{dst_path}" must be a directory', 1)
        target = dst.path
        chunks = _stdin_chunks(cli)
    else:
        src = paths.source_info(src_path, follow)
        target, rename = paths.prepare_copy(src, dst)
        renames = [paths.Rename(paths.split_path_dir_entry(src.path)[1], src.rebase_name)] if src.rebase_name else []
        chunks = cp_tar.tar_chunks(src, renames + ([rename] if rename else []))
    with Progress(cli, TO_HEADER, not quiet) as progress:
        calls.put_archive(client, container, target, progress.counted(chunks), copy_uid_gid=copy_uid_gid)
    if not quiet:
        copied = progress.total if src_path != "-" else 0
        cli.err.write(f"Successfully copied {human_size(float(copied), 3)} to {container}:{dst.path}\n")
    return 0


def _stdin_chunks(cli: Cli) -> Iterator[bytes]:
    source = getattr(cli.inp, "buffer", cli.inp)
    while chunk := source.read(1 << 16):
        yield chunk if isinstance(chunk, bytes) else chunk.encode()


CP = Spec("[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tsampan cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
          "Copy files/folders between a container and the local filesystem", [
              Flag("archive", "a", "bool", "Archive mode (copy all uid/gid information)"),
              Flag("follow-link", "L", "bool", "Always follow symbol link in SRC_PATH"),
              Flag("quiet", "q", "bool", "Suppress progress output during copy. Progress output is automatically "
                   "suppressed if no terminal is attached"),
          ], run_cp, min_args=2, max_args=2,
          long="Copy files/folders between a container and the local filesystem\n\n"
               "Use '-' as the source to read a tar archive from stdin\n"
               "and extract it to a directory destination in a container.\n"
               "Use '-' as the destination to stream a tar archive of a\n"
               "container source to stdout.")
