"""`sampan run` and `sampan create`: docker's flags to a create request, pull when missing, attach.

Exit statuses are docker's: 125 when the daemon refuses (or a flag is wrong), 126 when the
command cannot be invoked, 127 when it is not found, otherwise the container's own.
"""

from __future__ import annotations

from sampan import errdefs
from sampan.cli.container_opts import CONTAINER_FLAGS, RUN_ONLY_FLAGS, CreateRequest, build
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Parsed, Spec
from sampan.cli.opts_values import OptError

FLAG_STATUS = 125


def report(cli: Cli, command: str, message: str, *, with_help: bool = True) -> None:
    """docker 28's reportError: `sampan: <message>` and a pointer to --help."""
    text = message
    if with_help:
        text += f"\n\nRun 'sampan {command} --help' for more information"
    cli.err.write(f"sampan: {text}\n")


def daemon_message(exc: Exception) -> str:
    from sampan.client.errors import is_local

    if isinstance(exc, errdefs.SampanError) and not is_local(exc):
        return f"Error response from daemon: {exc}"
    return str(exc)


def start_status(message: str) -> int:
    """docker's toStatusError: runc's wording decides between 127, 126 and 125."""
    if ("executable file not found" in message or "no such file or directory" in message
            or "system cannot find the file specified" in message):
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125


def _request(cli: Cli, o: Parsed, command: str, *, detach: bool) -> CreateRequest:
    console = (0, 0)
    if o.tty and not detach:
        from sampan.cli.stdio import terminal_size

        console = terminal_size(cli.out) or (0, 0)
    if o.pull not in ("missing", "always", "never"):
        report(cli, command, f'invalid pull option: \'{o.pull}\': must be one of "always", "missing" or '
                             '"never"', with_help=True)
        raise StatusError("", FLAG_STATUS)
    if o.cidfile:
        import os

        if os.path.exists(o.cidfile):
            report(cli, command, f"container ID file found, make sure the other container isn't running or "
                                 f"delete {o.cidfile}")
            raise StatusError("", FLAG_STATUS)
    try:
        return build(o, detach=detach, console_size=console)
    except OptError as e:
        report(cli, command, str(e), with_help=True)
        raise StatusError("", FLAG_STATUS) from None


def pull_image(cli: Cli, image: str, platform: str, *, quiet: bool) -> None:
    """Pull like `docker run` does: progress to stderr, errors are the caller's."""
    import io

    from sampan.cli.progress import ProgressRenderer, StreamError
    from sampan.client.auth import credentials_for, registry_auth_header
    from sampan.oci import reference

    ref = reference.parse(image)
    config = cli.config()
    auth = registry_auth_header(ref.domain, config) if credentials_for(ref.domain, config) else None
    out = io.StringIO() if quiet else cli.err
    tty = False
    if not quiet:
        try:
            tty = bool(cli.err.isatty())
        except (AttributeError, ValueError):
            tty = False
    renderer = ProgressRenderer(out, tty=tty)
    try:
        for msg in cli.client().pull(ref.name, ref.digest or ref.tag or "", platform=platform or None,
                                     registry_auth=auth):
            renderer.feed(msg)
    except StreamError as e:
        from sampan.client.errors import LocalError

        raise LocalError(e.message) from None


def create(cli: Cli, req: CreateRequest, *, pull: str, quiet: bool) -> str:
    """Create the container, pulling its image first when missing (or always); returns the id."""
    client = cli.client()
    if pull == "always":
        pull_image(cli, req.image, req.platform, quiet=quiet)
    try:
        created = client.create_container(req.body, name=req.name, platform=req.platform)
    except errdefs.NotFound as e:
        if pull == "never" or "No such image" not in str(e):
            raise
        from sampan.oci import reference

        try:
            shown = reference.parse(req.image).familiar()
        except errdefs.InvalidArgument:
            raise e from None
        cli.err.write(f"Unable to find image '{shown}' locally\n")
        pull_image(cli, req.image, req.platform, quiet=quiet)
        created = client.create_container(req.body, name=req.name, platform=req.platform)
    for warning in created.get("Warnings") or []:
        cli.err.write(f"WARNING: {warning}\n")
    container_id = str(created["Id"])
    cidfile = req.host_config.get("ContainerIDFile")
    if cidfile:
        with open(cidfile, "w") as f:
            f.write(container_id)
    return container_id


def run_create(cli: Cli, o: Parsed) -> int:
    req = _request(cli, o, "create", detach=False)
    container_id = create(cli, req, pull=o.pull, quiet=o.quiet)  # errors: docker's plain form, exit 1
    cli.write(container_id + "\n")
    return 0


def run_run(cli: Cli, o: Parsed) -> int:
    from sampan.cli import stdio

    detach = bool(o.detach)
    req = _request(cli, o, "run", detach=detach)
    if o.tty and o.interactive and not detach and not stdio.is_terminal(cli.inp):
        raise StatusError("the input device is not a TTY", 1)
    try:
        container_id = create(cli, req, pull=o.pull, quiet=o.quiet)
    except errdefs.SampanError as e:
        report(cli, "run", daemon_message(e), with_help=True)
        raise StatusError("", FLAG_STATUS) from None
    config = req.body
    if detach:
        _start_or_fail(cli, container_id, auto_remove=False)
        cli.write(container_id + "\n")
        return 0
    return _run_attached(cli, o, container_id, config)


def _start_or_fail(cli: Cli, container_id: str, *, auto_remove: bool) -> None:
    try:
        cli.client().start(container_id)
    except errdefs.SampanError as e:
        message = daemon_message(e)
        report(cli, "run", message)
        if auto_remove:
            try:
                cli.client().clone().remove_container(container_id, force=True)
            except errdefs.SampanError:
                pass
        raise StatusError("", start_status(message)) from None


def _run_attached(cli: Cli, o: Parsed, container_id: str, config: dict[str, object]) -> int:
    from sampan.cli.attach import Session, Waiter

    attach_any = bool(config["AttachStdin"] or config["AttachStdout"] or config["AttachStderr"])
    session = Session(cli, container_id, tty=bool(config["Tty"]), stdin=bool(config["AttachStdin"]),
                      stdout=bool(config["AttachStdout"]), stderr=bool(config["AttachStderr"]),
                      detach_keys=o.detach_keys, sig_proxy=o.sig_proxy)
    auto_remove = bool(o.rm)
    if attach_any:
        session.attach()
    waiter = Waiter(cli.client().clone(), container_id, "removed" if auto_remove else "next-exit")
    if not attach_any:
        _start_or_fail(cli, container_id, auto_remove=auto_remove)
        cli.write(container_id + "\n")
        return waiter.status()

    def start() -> None:
        _start_or_fail(cli, container_id, auto_remove=auto_remove)

    if session.run(start):
        return 0
    return waiter.status()


_FLAGS = sorted(CONTAINER_FLAGS + RUN_ONLY_FLAGS, key=lambda f: f.long)

RUN = Spec("[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
           _FLAGS, run_run, min_args=1, interspersed=False)

CREATE = Spec("[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", CONTAINER_FLAGS, run_create,
              min_args=1, interspersed=False)
