"""One handler per runtime command: turn parsed flags into calls, print results."""

from __future__ import annotations

import os
import sys

from sampan.errdefs import InvalidArgument

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:  # annotations only: typing costs start-up time on every command
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[str, dict[str, Any], list[str]], int]


def _create_opts(opts: dict[str, Any], detach: bool) -> Any:
    from sampan.runtime.create import CreateOptions

    return CreateOptions(
        bundle=opts.get("bundle") or ".", pid_file=opts.get("pid_file"), console_socket=opts.get("console_socket"),
        no_pivot=bool(opts.get("no_pivot")), no_new_keyring=bool(opts.get("no_new_keyring")),
        preserve_fds=int(opts.get("preserve_fds") or 0), detach=detach,
    )


def _load(root: str, cid: str) -> Any:
    from sampan.runtime.state import Container

    return Container.load(root, cid)


def cmd_create(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.cgroupfs import MigrationPrimer

    primer = MigrationPrimer()  # first: its kernel wait overlaps all that follows (see there)
    from sampan.runtime.create import create

    create(root, pos[0], _create_opts(opts, detach=True), primer=primer)
    return 0


def cmd_run(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.cgroupfs import MigrationPrimer

    primer = MigrationPrimer()  # first: its kernel wait overlaps all that follows (see there)
    from sampan.runtime.run import run

    return run(root, pos[0], _create_opts(opts, detach=bool(opts.get("detach"))), keep=bool(opts.get("keep")),
               primer=primer)


def cmd_start(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.start import start

    start(_load(root, pos[0]))
    return 0


def cmd_state(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.manage import state_json

    sys.stdout.write(state_json(_load(root, pos[0])))  # no newline, like runc
    return 0


def cmd_list(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.manage import format_table, list_containers

    rows = list_containers(root)
    fmt = opts.get("format") or "table"
    if opts.get("quiet"):
        sys.stdout.write("".join(r["id"] + "\n" for r in rows))
    elif fmt == "json":
        import json

        sys.stdout.write(json.dumps(rows or None, separators=(",", ":")) + "\n")
    elif fmt == "table":
        sys.stdout.write(format_table(rows))
    else:
        raise InvalidArgument(f"invalid format option {fmt!r}")
    return 0


def cmd_kill(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.manage import kill, parse_signal

    sig = parse_signal(pos[1] if len(pos) > 1 else "SIGTERM")
    kill(_load(root, pos[0]), sig, bool(opts.get("all")))
    return 0


def cmd_delete(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.errdefs import NotFound
    from sampan.runtime.manage import delete

    try:
        c = _load(root, pos[0])
    except NotFound:
        if opts.get("force"):
            return 0
        raise
    delete(c, bool(opts.get("force")))
    return 0


def cmd_exec(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.cgroupfs import MigrationPrimer

    primer = MigrationPrimer()  # first: its kernel wait overlaps all that follows (see there)
    try:
        return _exec(root, opts, pos, primer)
    finally:
        primer.wait()


def _exec(root: str, opts: dict[str, Any], pos: list[str], primer: Any) -> int:
    from sampan.runtime.config_state import config_of
    from sampan.runtime.exec import ExecOptions, exec_process

    c = _load(root, pos[0])
    cfg = config_of(c)
    if cfg is None:
        raise InvalidArgument(f"container {c.id} has no usable config")
    try:
        gids = tuple(int(g) for g in opts.get("gids", []))
    except ValueError:
        raise InvalidArgument("invalid additional-gids value")
    env = tuple(opts.get("env", []))
    for e in env:
        if "=" not in e:
            raise InvalidArgument(f"invalid --env {e!r}: expected KEY=value")
    eo = ExecOptions(
        process_file=opts.get("process"), args=tuple(pos[1:]), tty=bool(opts.get("tty")),
        console_socket=opts.get("console_socket"), detach=bool(opts.get("detach")), pid_file=opts.get("pid_file"),
        env=env, cwd=opts.get("cwd"), user=opts.get("user"), additional_gids=gids,
        caps=tuple(opts.get("cap", [])), no_new_privs=bool(opts.get("no_new_privs")),
        preserve_fds=int(opts.get("preserve_fds") or 0), ignore_paused=bool(opts.get("ignore_paused")),
    )
    return exec_process(c, cfg, eo, primer)


def cmd_ps(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.manage import ps

    sys.stdout.write(ps(_load(root, pos[0]), opts.get("format") or "table", pos[1:]))
    return 0


def cmd_pause(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.manage import pause

    pause(_load(root, pos[0]))
    return 0


def cmd_resume(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.manage import resume

    resume(_load(root, pos[0]))
    return 0


def cmd_spec(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.spec import write_spec

    write_spec(opts.get("bundle") or os.getcwd(), bool(opts.get("rootless")))
    return 0


def cmd_features(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    import json

    from sampan.runtime.spec import features

    sys.stdout.write(json.dumps(features(), indent=4) + "\n")
    return 0


def cmd_update(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.update import resources_from, update

    update(_load(root, pos[0]), resources_from(opts))
    return 0


def cmd_events(root: str, opts: dict[str, Any], pos: list[str]) -> int:
    from sampan.runtime.events import events, parse_interval

    events(_load(root, pos[0]), bool(opts.get("stats")), parse_interval(opts.get("interval") or "5s"))
    return 0


HANDLERS: dict[str, Handler] = {
    "create": cmd_create, "run": cmd_run, "start": cmd_start, "state": cmd_state, "list": cmd_list,
    "kill": cmd_kill, "delete": cmd_delete, "exec": cmd_exec, "ps": cmd_ps, "pause": cmd_pause,
    "resume": cmd_resume, "spec": cmd_spec, "features": cmd_features, "update": cmd_update,
    "events": cmd_events,
}
