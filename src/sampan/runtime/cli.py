"""sampan-runtime: runc's command line.

`sampan-runtime [global options] COMMAND [command options] ARGS`. Flags stop at the first
argument (like runc's urfave/cli), so `exec ID ps -ef` passes `-ef` to ps. Each command
imports only what it needs: start-up time is part of every container start. Errors go to
stderr in logrus' format (or JSON with --log-format json) and exit 1, as runc does.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:  # annotations only: typing costs start-up time on every command
    from collections.abc import Callable
    from typing import Any
VERSION = "0.1.0"
DEFAULT_ROOT = "/run/sampan-runtime"

# flag name -> (dest, kind); kind: bool | str | int | list
GLOBAL_FLAGS: dict[str, tuple[str, str]] = {
    "--root": ("root", "str"), "--log": ("log", "str"), "--log-format": ("log_format", "str"),
    "--debug": ("debug", "bool"), "--systemd-cgroup": ("systemd_cgroup", "bool"),
    "--criu": ("criu", "str"), "--rootless": ("rootless", "str"),
    "--version": ("version", "bool"), "-v": ("version", "bool"), "--help": ("help", "bool"), "-h": ("help", "bool"),
}
_CREATE = {
    "--bundle": ("bundle", "str"), "-b": ("bundle", "str"), "--console-socket": ("console_socket", "str"),
    "--pid-file": ("pid_file", "str"), "--no-pivot": ("no_pivot", "bool"),
    "--no-new-keyring": ("no_new_keyring", "bool"), "--preserve-fds": ("preserve_fds", "int"),
}
COMMANDS: dict[str, tuple[dict[str, tuple[str, str]], int, int]] = {
    # name: (flags, min positional args, max positional args (-1: any))
    "create": (_CREATE, 1, 1),
    "run": ({**_CREATE, "--detach": ("detach", "bool"), "-d": ("detach", "bool"), "--keep": ("keep", "bool"),
             "--no-subreaper": ("no_subreaper", "bool")}, 1, 1),
    "start": ({}, 1, 1),
    "state": ({}, 1, 1),
    "list": ({"--format": ("format", "str"), "-f": ("format", "str"), "--quiet": ("quiet", "bool"),
              "-q": ("quiet", "bool")}, 0, 0),
    "kill": ({"--all": ("all", "bool"), "-a": ("all", "bool")}, 1, 2),
    "delete": ({"--force": ("force", "bool"), "-f": ("force", "bool")}, 1, 1),
    "exec": ({"--console-socket": ("console_socket", "str"), "--cwd": ("cwd", "str"),
              "--env": ("env", "list"), "-e": ("env", "list"), "--tty": ("tty", "bool"), "-t": ("tty", "bool"),
              "--user": ("user", "str"), "-u": ("user", "str"), "--additional-gids": ("gids", "list"),
              "-g": ("gids", "list"), "--process": ("process", "str"), "-p": ("process", "str"),
              "--detach": ("detach", "bool"), "-d": ("detach", "bool"), "--pid-file": ("pid_file", "str"),
              "--process-label": ("label", "str"), "--apparmor": ("apparmor", "str"),
              "--no-new-privs": ("no_new_privs", "bool"), "--cap": ("cap", "list"), "-c": ("cap", "list"),
              "--preserve-fds": ("preserve_fds", "int"), "--ignore-paused": ("ignore_paused", "bool"),
              "--cgroup": ("cgroup", "list")}, 1, -1),
    "ps": ({"--format": ("format", "str"), "-f": ("format", "str")}, 1, -1),
    "pause": ({}, 1, 1),
    "resume": ({}, 1, 1),
    "spec": ({"--bundle": ("bundle", "str"), "-b": ("bundle", "str"), "--rootless": ("rootless", "bool")}, 0, 0),
    "features": ({}, 0, 0),
    "update": ({}, 1, 1),  # flags filled from sampan.runtime.update.FLAGS on first use
    "events": ({"--stats": ("stats", "bool"), "--interval": ("interval", "str")}, 1, 1),
}


class UsageError(Exception):
    pass


def parse_flags(argv: list[str], flags: dict[str, tuple[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """Parse leading flags; returns (values by dest, the remaining arguments)."""
    values: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return values, argv[i + 1:]
        if not arg.startswith("-") or arg == "-":
            return values, argv[i:]
        name, eq, inline = arg.partition("=")
        if name not in flags and name.startswith("-") and not name.startswith("--") and f"-{name}" in flags:
            name = f"-{name}"
        if name not in flags:
            raise UsageError(f"flag provided but not defined: {name}")
        dest, kind = flags[name]
        if kind == "bool":
            values[dest] = inline.lower() not in ("false", "0") if eq else True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        else:
            if i + 1 >= len(argv):
                raise UsageError(f"flag needs an argument: {name}")
            value = argv[i + 1]
            i += 2
        if kind == "int":
            try:
                values[dest] = int(value)
            except ValueError:
                raise UsageError(f"invalid value {value!r} for flag {name}")
        elif kind == "list":
            values.setdefault(dest, []).append(value)
        else:
            values[dest] = value
    return values, []


def emit_error(message: str, fmt: str, log_file: str | None) -> None:
    import time

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if fmt == "json":
        import json

        line = json.dumps({"level": "error", "msg": message, "time": now})
    else:
        escaped = message.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        line = f'time="{now}" level=error msg="{escaped}"'
    sys.stderr.write(line + "\n")
    if log_file:
        try:
            with open(log_file, "a") as f:
                f.write(line + "\n")
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    """The program (argv None: exits without interpreter teardown, a few ms per container
    start) or, for tests, a function returning the exit code."""
    if argv is not None:
        return run_cli(argv)
    import gc

    # A short-lived program: reference counting frees what it drops, and collection passes
    # during the imports (and copy-on-write faults from them in forked children) cost ~1-2 ms
    # per container start. Long-running commands (events) turn it back on.
    gc.disable()
    code = run_cli(sys.argv[1:])
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        import os

        os._exit(code)


def run_cli(args: list[str]) -> int:
    log_format, log_file = "text", None
    try:
        g, rest = parse_flags(args, GLOBAL_FLAGS)
        log_format = g.get("log_format", "text")
        log_file = g.get("log")
        if log_format not in ("text", "json"):
            raise UsageError(f"invalid log-format: {log_format}")
        if g.get("version"):
            sys.stdout.write(f"sampan-runtime version {VERSION}\ncommit: sampan-{VERSION}\nspec: 1.0.2-dev\n")
            return 0
        if g.get("help") or not rest:
            sys.stdout.write(usage())
            return 0
        name, cmd_args = rest[0], rest[1:]
        if name not in COMMANDS:
            emit_error(f"No help topic for '{name}'", log_format, log_file)
            return 3
        flags, lo, hi = COMMANDS[name]
        if name == "update":
            from sampan.runtime.update import FLAGS

            flags = FLAGS
        if "-h" in cmd_args[:1] or "--help" in cmd_args[:1]:
            sys.stdout.write(usage())
            return 0
        opts, pos = parse_flags(cmd_args, flags)
        if len(pos) < lo or (hi >= 0 and len(pos) > hi):
            want = f"exactly {lo}" if lo == hi else f"at least {lo}" if hi < 0 else f"between {lo} and {hi}"
            raise UsageError(f'sampan-runtime: "{name}" requires {want} argument(s)')
        if g.get("debug"):  # errors are written by emit_error; logging costs start-up time
            _setup_logging(log_file, log_format)
        root = g.get("root") or DEFAULT_ROOT
        from sampan.runtime.commands import HANDLERS

        handler: Callable[[str, dict[str, Any], list[str]], int] = HANDLERS[name]
        return handler(root, opts, pos)
    except UsageError as e:
        emit_error(str(e), log_format, log_file)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from sampan.errdefs import SampanError

        if isinstance(e, SampanError):
            emit_error(str(e), log_format, log_file)
        elif isinstance(e, OSError):
            emit_error(f"{e.strerror or e}: {e.filename}" if e.filename else str(e), log_format, log_file)
        else:
            import traceback

            emit_error(f"internal error: {e!r}", log_format, log_file)
            traceback.print_exc()
        return 1


def _setup_logging(log_file: str | None, fmt: str) -> None:
    import logging

    class LogrusFormatter(logging.Formatter):
        """runc's log lines: logrus text or JSON."""

        def format(self, record: logging.LogRecord) -> str:
            import json
            import time

            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
            level = record.levelname.lower().replace("warning", "warn")
            msg = record.getMessage()
            if fmt == "json":
                return json.dumps({"level": level, "msg": msg, "time": now})
            escaped = msg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            return f'time="{now}" level={level} msg="{escaped}"'

    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.setFormatter(LogrusFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def usage() -> str:
    cmds = ", ".join(COMMANDS)
    return (
        "NAME:\n   sampan-runtime - an OCI runtime with runc's command line\n\n"
        "USAGE:\n   sampan-runtime [global options] command [command options] [arguments...]\n\n"
        f"COMMANDS:\n   {cmds}\n\n"
        "GLOBAL OPTIONS:\n   --root value        root directory for storage of container state "
        f"(default: \"{DEFAULT_ROOT}\")\n"
        "   --log value         set the log file to write runtime logs to (default: stderr)\n"
        "   --log-format value  set the log format ('text' (default), or 'json')\n"
        "   --debug             enable debug logging\n   --version, -v       print the version\n"
    )


if __name__ == "__main__":
    sys.exit(main())
