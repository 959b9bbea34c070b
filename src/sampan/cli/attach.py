"""`sampan attach`, and the attached session `run` and `start -a` share.

A session is: attach (hijacked) -> optionally start -> pump stdin/stdout/stderr, keep the
container's TTY sized like ours (at start and on SIGWINCH), forward our signals when
--sig-proxy asks for it -> the exit status from a wait that was sent before the start.
"""

from __future__ import annotations

from sampan.api.detachkeys import DEFAULT as DEFAULT_DETACH_KEYS
from sampan.api.detachkeys import parse_detach_keys
from sampan.cli import stdio
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from sampan.client.api import APIClient

PROXIED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


class Waiter:
    """`POST /wait` on its own connection in a thread: sent before start, read after the output."""

    def __init__(self, client: APIClient, container: str, condition: str) -> None:
        import threading

        self.client = client
        self.container = container
        self.condition = condition
        self.result: dict[str, Any] = {}
        self.error: BaseException | None = None
        self._sent = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wait", daemon=True)
        self._thread.start()
        self._sent.wait(5.0)

    def _run(self) -> None:
        try:
            resp = self.client.wait_response(self.container, self.condition)
            self._sent.set()
            import json

            self.result = dict(json.loads(resp.read() or b"{}"))
        except BaseException as e:
            self.error = e
        finally:
            self._sent.set()
            self.client.close()

    def status(self) -> int:
        """The container's exit code (125 when the wait itself failed, as docker)."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        err = (self.result.get("Error") or {}).get("Message") if self.result.get("Error") else ""
        if err:
            raise StatusError(f"Error waiting for container: {err}", 125)
        return int(self.result.get("StatusCode", 0))


class Session:
    """One attached container: its options and the pieces that run while it is attached."""

    def __init__(self, cli: Cli, container: str, *, tty: bool, stdin: bool, stdout: bool = True,
                 stderr: bool = True, detach_keys: str = "", sig_proxy: bool = True) -> None:
        self.cli, self.container, self.tty = cli, container, tty
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        keys = detach_keys or str(cli.config().get("detachKeys") or "") or DEFAULT_DETACH_KEYS
        try:
            self.detach_bytes = parse_detach_keys(keys)
        except ValueError as e:
            raise StatusError(f"Invalid detach keys ({keys}) provided: {e}", 125) from None
        self.detach_keys = keys
        self.sig_proxy = sig_proxy and not tty
        self.conn: Any = None

    def attach(self) -> None:
        self.conn = self.cli.client().attach(self.container, stdin=self.stdin, stdout=self.stdout,
                                             stderr=self.stderr, detach_keys=self.detach_keys)

    def run(self, before_output: Callable[[], None] | None = None) -> bool:
        """Pump until the stream ends; True when the user detached. `before_output` starts it."""
        assert self.conn is not None
        raw_fd = self._raw_fd()
        raw = stdio.RawTerminal(raw_fd) if raw_fd is not None else None
        restore: list[Callable[[], None]] = []
        try:
            if raw is not None:
                raw.__enter__()
            if before_output is not None:
                before_output()
            if self.tty:
                restore.append(self._monitor_size())
            if self.sig_proxy:
                restore.append(self._proxy_signals())
            pump = None
            if self.stdin:
                pump = stdio.InputPump(self.conn, self.cli.inp, detach_keys=self.detach_bytes)
                pump.start()
            stdio.copy_output(self.conn, tty=self.tty, out=stdio.binary_writer(self.cli.out),
                              err=stdio.binary_writer(self.cli.err))
            return pump is not None and pump.detached.is_set()
        finally:
            for undo in restore:
                undo()
            if raw is not None:
                raw.__exit__(None, None, None)
            self.conn.close()

    def _raw_fd(self) -> int | None:
        if not (self.tty and self.stdin and stdio.is_terminal(self.cli.inp)):
            return None
        return int(self.cli.inp.fileno())

    def resize(self) -> None:
        size = stdio.terminal_size(self.cli.out)
        if size is None or size == (0, 0):
            return
        try:
            self.side_client().resize(self.container, *size)
        except Exception:  # a resize that fails never ends the session, as in docker
            pass

    def side_client(self) -> APIClient:
        """A second connection: the main one may be inside a blocking call."""
        if not hasattr(self, "_side"):
            self._side = self.cli.client().clone()
        return self._side

    def _monitor_size(self) -> Callable[[], None]:
        import signal

        self.resize()
        if stdio.terminal_size(self.cli.out) is None:
            return lambda: None
        old = signal.signal(signal.SIGWINCH, lambda *_: self.resize())

        def restore() -> None:
            signal.signal(signal.SIGWINCH, old)
        return restore

    def _proxy_signals(self) -> Callable[[], None]:
        """Signals we get go to the container (docker's --sig-proxy), not to us."""
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        saved = []

        def forward(signum: int, _frame: object) -> None:
            try:
                self.side_client().kill(self.container, signal.Signals(signum).name)
            except Exception as e:
                self.cli.err.write(f"Error forwarding signal {signum} to {self.container}: {e}\n")

        for name in PROXIED_SIGNALS:
            sig = getattr(signal, name)
            saved.append((sig, signal.signal(sig, forward)))
        def restore() -> None:
            for sig, handler in saved:
                signal.signal(sig, handler)
        return restore


def run_attach(cli: Cli, o: Parsed) -> int:
    name = o.args[0]
    client = cli.client()
    info = client.inspect_container(name)
    state = info.get("State") or {}
    if not state.get("Running"):
        raise StatusError("You cannot attach to a stopped container, start it first", 1)
    if state.get("Paused"):
        raise StatusError("You cannot attach to a paused container, unpause it first", 1)
    config = info.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = bool(config.get("OpenStdin")) and not o.no_stdin
    if tty and stdin and not stdio.is_terminal(cli.inp):
        raise StatusError("the input device is not a TTY", 1)
    session = Session(cli, info.get("Id", name), tty=tty, stdin=stdin, detach_keys=o.detach_keys,
                      sig_proxy=o.sig_proxy)
    session.attach()
    waiter = Waiter(client.clone(), session.container, "not-running")
    if session.run(session.resize if tty else None):
        return 0
    return waiter.status()


ATTACH = Spec(
    "[OPTIONS] CONTAINER",
    "Attach local standard input, output, and error streams to a running container",
    [
        Flag("detach-keys", "", "string", "Override the key sequence for detaching a container"),
        Flag("no-stdin", "", "bool", "Do not attach STDIN"),
        Flag("sig-proxy", "", "bool", "Proxy all received signals to the process", default=True),
    ],
    run_attach,
    min_args=1,
    max_args=1,
)
