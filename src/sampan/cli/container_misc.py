"""Small container commands: diff, export, pause, unpause, port, rename, top.

Output, errors and exit statuses are docker's: pause/unpause print each name done and report
failures after (exit 1); export refuses to write a tar to a terminal.
"""

from __future__ import annotations

import os
import re

from sampan.cli import container_calls as calls
from sampan.cli.containers import for_each
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec
from sampan.cli.format import tabwrite

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

CHANGE_KINDS = {0: "C", 1: "A", 2: "D"}
TOP_MINWIDTH = 20


def diff_lines(changes: Iterable[dict[str, Any]]) -> str:
    """`C /etc` lines: docker's `{{.Type}} {{.Path}}` over the daemon's change list."""
    return "".join(f"{CHANGE_KINDS.get(int(c.get('Kind', -1)), '?')} {c.get('Path', '')}\n" for c in changes)


def run_diff(cli: Cli, o: Parsed) -> int:
    cli.write(diff_lines(calls.changes(cli.client(), o.args[0])))
    return 0


def top_table(result: dict[str, Any]) -> str:
    """Titles and processes through docker's tabwriter (min width 20, padding 3)."""
    rows = [list(result.get("Titles") or [])] + [list(p) for p in result.get("Processes") or []]
    text = "".join("\t".join(str(cell) for cell in row) + "\n" for row in rows)
    return tabwrite(text, minwidth=TOP_MINWIDTH)


def run_top(cli: Cli, o: Parsed) -> int:
    cli.write(top_table(calls.top(cli.client(), o.args[0], o.args[1:])))
    return 0


def _finish(errors: list[str]) -> int:
    if errors:
        raise StatusError("\n".join(errors), 1)
    return 0


def run_pause(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    return _finish(for_each(cli, o.args, lambda name: calls.pause(client, name)))


def run_unpause(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    return _finish(for_each(cli, o.args, lambda name: calls.unpause(client, name)))


def run_rename(cli: Cli, o: Parsed) -> int:
    from sampan import errdefs
    from sampan.cli.containers import daemon_error

    old, new = o.args[0].strip(), o.args[1].strip()
    if not old or not new:
        raise StatusError("Error: Neither old nor new names may be empty", 1)
    try:
        calls.rename(cli.client(), old, new)
    except errdefs.SampanError as e:
        cli.err.write(daemon_error(e) + "\n")
        raise StatusError(f"Error: failed to rename container named {old}", 1) from None
    return 0


def _natural_key(text: str) -> list[tuple[int, int, str]]:
    """sortorder.NaturalLess: runs of digits compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.findall(r"\d+|\D+", text)]


def join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def port_lines(ports: dict[str, Any] | None, wanted: str, container: str) -> list[str]:
    """docker port's lines for NetworkSettings.Ports, all of them or those of `wanted`."""
    ports = ports or {}
    out: list[str] = []
    if wanted:
        port, _, proto = wanted.partition("/")
        if not port.isdigit() or int(port) > 65535:
            raise StatusError(f'Error: invalid port ({port}): strconv.ParseUint: parsing "{port}": '
                              + ("value out of range" if port.isdigit() else "invalid syntax"), 1)
        frontends = ports.get(f"{port}/{proto or 'tcp'}") or []
        if not frontends:
            raise StatusError(f"Error: No public port '{wanted}' published for {container}", 1)
        out = [join_host_port(str(f.get("HostIp", "")), str(f.get("HostPort", ""))) for f in frontends]
    else:
        for private, frontends in ports.items():
            out.extend(f"{private} -> {join_host_port(str(f.get('HostIp', '')), str(f.get('HostPort', '')))}"
                       for f in frontends or [])
    return sorted(out, key=_natural_key)


def run_port(cli: Cli, o: Parsed) -> int:
    info = cli.client().inspect_container(o.args[0])
    ports = (info.get("NetworkSettings") or {}).get("Ports")
    lines = port_lines(ports, o.args[1] if len(o.args) > 1 else "", o.args[0])
    if lines:
        cli.write("\n".join(lines) + "\n")
    return 0


def validate_output_path(path: str) -> str | None:
    """docker's command.ValidateOutputPath: the error text, or None when `path` is usable."""
    from sampan.cli.ps import go_quote

    directory = os.path.dirname(os.path.normpath(path)) if path else ""
    if directory and directory != "." and not os.path.exists(directory):
        return f"invalid output path: directory {go_quote(directory)} does not exist"
    try:
        st = os.stat(path) if path else None
    except FileNotFoundError:
        st = None
    if st is not None:
        import stat

        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            what = "got a device" if stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode) else "got an irregular file"
            return f"invalid output path: {go_quote(path)} must be a directory or a regular file: {what}"
    return None


def copy_to_file(path: str, chunks: Iterable[bytes]) -> None:
    """docker's CopyToFile: a temp file next to `path`, renamed over it once complete."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".docker_temp_", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def response_chunks(resp: Any) -> Iterable[bytes]:
    while chunk := resp.read1():
        yield chunk


def run_export(cli: Cli, o: Parsed) -> int:
    from sampan.cli import stdio

    if not o.output and stdio.is_terminal(cli.out):
        raise StatusError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1)
    problem = validate_output_path(o.output)
    if problem:
        raise StatusError(f"failed to export container: {problem}", 1)
    resp = calls.export(cli.client(), o.args[0])
    try:
        if o.output:
            copy_to_file(o.output, response_chunks(resp))
        else:
            write = stdio.binary_writer(cli.out)
            for chunk in response_chunks(resp):
                write(chunk)
    finally:
        resp.close()
    return 0


DIFF = Spec("CONTAINER", "Inspect changes to files or directories on a container's filesystem", [],
            run_diff, min_args=1, max_args=1)
EXPORT = Spec("[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive", [
    Flag("output", "o", "string", "Write to a file, instead of STDOUT"),
], run_export, min_args=1, max_args=1)
PAUSE = Spec("CONTAINER [CONTAINER...]", "Pause all processes within one or more containers", [],
             run_pause, min_args=1)
UNPAUSE = Spec("CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers", [],
               run_unpause, min_args=1)
PORT = Spec("CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container", [],
            run_port, min_args=1, max_args=2)
RENAME = Spec("CONTAINER NEW_NAME", "Rename a container", [], run_rename, min_args=2, max_args=2)
TOP = Spec("CONTAINER [ps OPTIONS]", "Display the running processes of a container", [], run_top, min_args=1,
           interspersed=False)
