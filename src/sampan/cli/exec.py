"""`sampan exec`: run a command in a running container, as `docker exec`.

The flow is docker's: inspect the container first (so "No such container" wins), check the
terminal, create the exec, then either start it detached or hijack its stream and pump it with
the attach session's machinery; the exit status is the exec's own, read from its inspect.
"""

from __future__ import annotations

from sampan.cli import stdio
from sampan.cli.attach import Session
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec
from sampan.cli.opts_values import OptError

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any


class ExecSession(Session):
    """An attach session whose stream is an exec's start and whose tty is the exec's."""

    def __init__(self, cli: Cli, exec_id: str, *, tty: bool, stdin: bool, detach_keys: str,
                 console_size: list[int] | None) -> None:
        super().__init__(cli, exec_id, tty=tty, stdin=stdin, detach_keys=detach_keys, sig_proxy=False)
        self.console_size = console_size

    def attach(self) -> None:
        body: dict[str, Any] = {"Detach": False, "Tty": self.tty}
        if self.console_size:
            body["ConsoleSize"] = self.console_size
        self.conn = self.cli.client().hijack("POST", f"/exec/{self.container}/start", body=body)

    def resize(self) -> None:
        size = stdio.terminal_size(self.cli.out)
        if size is None or size == (0, 0):
            return
        try:
            self.side_client().request_json("POST", f"/exec/{self.container}/resize",
                                            {"h": size[0], "w": size[1]})
        except Exception:  # as docker: a failed resize never ends the session
            pass


def exec_body(cli: Cli, o: Parsed) -> dict[str, Any]:
    """The ExecConfig docker's parseExec builds from the flags."""
    from sampan.cli import opts_values as ov

    env: list[str] = []
    for path in o.env_file:
        env.extend(ov.read_kv_file(path, lookup=True))
    env.extend(ov.env_value(e) for e in o.env)
    body: dict[str, Any] = {
        "User": o.user, "Privileged": bool(o.privileged), "Tty": bool(o.tty), "AttachStdin": False,
        "AttachStderr": False, "AttachStdout": False, "Detach": bool(o.detach),
        "DetachKeys": o.detach_keys or str(cli.config().get("detachKeys") or ""), "Env": env or None,
        "WorkingDir": o.workdir, "Cmd": list(o.args[1:]),
    }
    if not o.detach:
        body.update(AttachStdout=True, AttachStderr=True, AttachStdin=bool(o.interactive))
    if o.tty:  # docker sends [0, 0] when its output is not a terminal
        size = stdio.terminal_size(cli.out) or (0, 0)
        body["ConsoleSize"] = [size[0], size[1]]
    return body


def run_exec(cli: Cli, o: Parsed) -> int:
    from urllib.parse import quote

    try:
        body = exec_body(cli, o)
    except OptError as e:
        raise StatusError(f"sampan: {e}\n\nRun 'sampan exec --help' for more information", 125) from None
    client = cli.client()
    container = o.args[0]
    client.inspect_container(container)  # "No such container" before anything else, as docker
    if not o.detach and o.tty and o.interactive and not stdio.is_terminal(cli.inp):
        raise StatusError("the input device is not a TTY", 1)
    created = client.request_json("POST", f"/containers/{quote(container)}/exec", body=body)
    exec_id = str((created or {}).get("Id") or "")
    if not exec_id:
        raise StatusError("exec ID empty", 1)
    if o.detach:
        start: dict[str, Any] = {"Detach": True, "Tty": body["Tty"]}
        if body.get("ConsoleSize"):
            start["ConsoleSize"] = body["ConsoleSize"]
        client.request_json("POST", f"/exec/{exec_id}/start", body=start)
        return 0
    session = ExecSession(cli, exec_id, tty=bool(o.tty), stdin=bool(body["AttachStdin"]),
                          detach_keys=str(body["DetachKeys"]), console_size=body.get("ConsoleSize"))
    session.attach()
    if session.run(session.resize if o.tty else None):
        raise StatusError("read escape sequence", 1)  # docker's exec reports a detach this way
    info = client.clone().request_json("GET", f"/exec/{exec_id}/json") or {}
    return int(info.get("ExitCode") or 0)


EXEC = Spec(
    "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "Execute a command in a running container",
    [
        Flag("detach", "d", "bool", "Detached mode: run command in the background"),
        Flag("detach-keys", "", "string", "Override the key sequence for detaching a container"),
        Flag("env", "e", "list", "Set environment variables"),
        Flag("env-file", "", "list", "Read in a file of environment variables"),
        Flag("interactive", "i", "bool", "Keep STDIN open even if not attached"),
        Flag("privileged", "", "bool", "Give extended privileges to the command"),
        Flag("tty", "t", "bool", "Allocate a pseudo-TTY"),
        Flag("user", "u", "string", 'Username or UID (format: "<name|uid>[:<group|gid>]")'),
        Flag("workdir", "w", "string", "Working directory inside the container"),
    ],
    run_exec,
    min_args=2,
    interspersed=False,
)
