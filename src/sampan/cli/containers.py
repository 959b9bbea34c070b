"""Container lifecycle commands: start, stop, kill, restart, rm, wait, container prune.

Each takes several containers, prints each name as it was given once done, reports the
failures after (`Error response from daemon: No such container: x`) and exits 1 if any failed.
"""

from __future__ import annotations

from sampan import errdefs
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec, parse_filters
from sampan.cli.format import human_size

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from collections.abc import Callable


def daemon_error(exc: errdefs.SampanError) -> str:
    from sampan.client.errors import is_local

    if is_local(exc):
        raise exc
    return f"Error response from daemon: {exc}"


def for_each(cli: Cli, names: list[str], action: Callable[[str], object], *,
             print_names: bool = True) -> list[str]:
    """Run `action` per name; print the name on success; return the error lines."""
    errors = []
    for name in names:
        try:
            result = action(name)
        except errdefs.SampanError as e:
            errors.append(daemon_error(e))
            continue
        cli.write(f"{name}\n" if print_names else f"{result}\n")
    return errors


def _finish(errors: list[str]) -> int:
    if errors:
        raise StatusError("\n".join(errors), 1)
    return 0


def run_stop(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    timeout = o.timeout if "timeout" in o.given else None
    return _finish(for_each(cli, o.args, lambda n: client.stop(n, timeout=timeout, signal=o.signal)))


def run_restart(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    timeout = o.timeout if "timeout" in o.given else None
    return _finish(for_each(cli, o.args, lambda n: client.restart(n, timeout=timeout, signal=o.signal)))


def run_kill(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    return _finish(for_each(cli, o.args, lambda n: client.kill(n, o.signal)))


def run_rm(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    errors = []
    for name in o.args:
        if not name.strip("/"):
            errors.append("Container name cannot be empty")
            continue
        try:
            client.remove_container(name, force=o.force, volumes=o.volumes, link=o.link)
        except errdefs.NotFound as e:
            if o.force:  # docker 28: reported, but not a failure
                cli.err.write(daemon_error(e) + "\n")
            else:
                errors.append(daemon_error(e))
            continue
        except errdefs.SampanError as e:
            errors.append(daemon_error(e))
            continue
        cli.write(f"{name}\n")
    return _finish(errors)


def run_wait(cli: Cli, o: Parsed) -> int:
    client = cli.client()

    def wait(name: str) -> int:
        result = client.wait(name)
        error = result.get("Error") or {}
        if error.get("Message"):
            raise errdefs.System(str(error["Message"]))
        return int(result.get("StatusCode", 0))

    return _finish(for_each(cli, o.args, wait, print_names=False))


def run_start(cli: Cli, o: Parsed) -> int:
    if o.attach or o.interactive:
        if len(o.args) > 1:
            raise StatusError("you cannot start and attach multiple containers at once", 1)
        return _start_attached(cli, o)
    client = cli.client()
    failed = []
    for name in o.args:
        try:
            client.start(name)
        except errdefs.SampanError as e:
            cli.err.write(daemon_error(e) + "\n")
            failed.append(name)
            continue
        cli.write(f"{name}\n")
    if failed:
        raise StatusError(f"Error: failed to start containers: {', '.join(failed)}", 1)
    return 0


def _start_attached(cli: Cli, o: Parsed) -> int:
    from sampan.cli import stdio
    from sampan.cli.attach import Session, Waiter
    from sampan.cli.run import start_status

    client = cli.client()
    info = client.inspect_container(o.args[0])
    config = info.get("Config") or {}
    container = str(info.get("Id") or o.args[0])
    tty = bool(config.get("Tty"))
    stdin = bool(o.interactive) and bool(config.get("OpenStdin"))
    if tty and stdin and not stdio.is_terminal(cli.inp):
        raise StatusError("the input device is not a TTY", 1)
    session = Session(cli, container, tty=tty, stdin=stdin, stdout=True, stderr=True,
                      detach_keys=o.detach_keys)
    session.attach()
    running = bool((info.get("State") or {}).get("Running"))
    waiter = Waiter(client.clone(), container, "next-exit" if not running else "not-running")

    def start() -> None:
        if running:
            return
        try:
            client.start(container)
        except errdefs.SampanError as e:
            message = daemon_error(e)
            cli.err.write(message + "\n")
            raise StatusError("", start_status(message)) from None

    if session.run(start):
        return 0
    return waiter.status()


PRUNE_WARNING = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"


def run_prune(cli: Cli, o: Parsed) -> int:
    from sampan.cli.image_ops import confirm

    if not o.force and not confirm(cli, PRUNE_WARNING):
        return 0
    report = cli.client().prune_containers(parse_filters(o.filter) or None)
    deleted = report.get("ContainersDeleted") or []
    if deleted:
        cli.write("Deleted Containers:\n" + "".join(f"{c}\n" for c in deleted) + "\n")
    cli.write(f"Total reclaimed space: {human_size(float(report.get('SpaceReclaimed') or 0))}\n")
    return 0


_TIMEOUT = Flag("timeout", "t", "int", "Seconds to wait before killing the container")
_SIGNAL = Flag("signal", "s", "string", "Signal to send to the container")

START = Spec("[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers", [
    Flag("attach", "a", "bool", "Attach STDOUT/STDERR and forward signals"),
    Flag("detach-keys", "", "string", "Override the key sequence for detaching a container"),
    Flag("interactive", "i", "bool", "Attach container's STDIN"),
], run_start, min_args=1)
STOP = Spec("[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
            [_SIGNAL, _TIMEOUT], run_stop, min_args=1)
RESTART = Spec("[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
               [_SIGNAL, _TIMEOUT], run_restart, min_args=1)
KILL = Spec("[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
            [_SIGNAL], run_kill, min_args=1)
RM = Spec("[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", [
    Flag("force", "f", "bool", "Force the removal of a running container (uses SIGKILL)"),
    Flag("link", "l", "bool", "Remove the specified link"),
    Flag("volumes", "v", "bool", "Remove anonymous volumes associated with the container"),
], run_rm, min_args=1)
WAIT = Spec("CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes",
            [], run_wait, min_args=1)
PRUNE = Spec("[OPTIONS]", "Remove all stopped containers", [
    Flag("filter", "", "filter", 'Provide filter values (e.g. "until=<timestamp>")'),
    Flag("force", "f", "bool", "Do not prompt for confirmation"),
], run_prune, max_args=0)
