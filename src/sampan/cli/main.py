"""`sampan`: docker's command line grammar over the Engine API client.

Global options come before the command (`sampan -H unix:///x images`); the command's module
is imported only when it runs. Exit statuses are docker's: 0, 1 for errors, 125 for flag
errors, 130 on Ctrl-C.
"""

from __future__ import annotations

import sys

from sampan.cli import commands
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import PROG, Flag, Spec, check_arg_count, command_help, flag_usages, parse_args

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import TextIO

GLOBAL_FLAGS = [
    Flag("config", "", "string", "Location of client config files", default="~/.docker"),
    Flag("context", "c", "string", "Name of the context to use (accepted, only the default exists)"),
    Flag("debug", "D", "bool", "Enable debug mode"),
    Flag("host", "H", "list", "Daemon socket to connect to"),
    Flag("log-level", "l", "string", 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
         default="info"),
    Flag("version", "v", "bool", "Print version information and quit"),
]


def _root_spec() -> Spec:
    return Spec("[OPTIONS] COMMAND", "", GLOBAL_FLAGS, lambda *a: 0, interspersed=False)


def version_line() -> str:
    from sampan import __version__

    return f"{PROG} version {__version__}, build dev"


def run(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        stdin: TextIO | None = None) -> int:
    """Run one command line; returns the exit status (never raises for user errors)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        g = parse_args(_root_spec(), "", argv)
    except StatusError as e:
        err.write(e.message + "\n")
        return e.status
    if g.version:
        out.write(version_line() + "\n")
        return 0
    if g.help or not g.args:
        out.write(commands.root_help(flag_usages(GLOBAL_FLAGS)) + "\n")
        return 0
    config = g.config if "config" in g.given else None
    if g.debug or g.log_level == "debug":
        import logging

        logging.basicConfig(level=logging.DEBUG)
    cli = Cli(host=g.host[-1] if g.host else None, config_dir=config, debug=g.debug,
              stdout=out, stderr=err, stdin=stdin)
    try:
        return _dispatch(cli, g.args)
    finally:
        cli.close()


def _dispatch(cli: Cli, words: list[str]) -> int:
    found = commands.lookup(words)
    if found is None:
        if words[0] in commands.GROUPS and (len(words) == 1 or words[1] in ("--help", "-h")):
            cli.err.write(commands.group_help(words[0]).lstrip("\n"))
            return 0
        shown = " ".join(words[:2]) if words[0] in commands.GROUPS else words[0]
        cli.err.write(f"{PROG}: '{shown}' is not a {PROG} command.\nSee '{PROG} --help'\n")
        return 1
    path, module_name, attr = found
    # __import__ rather than importlib: `import importlib` pulls in warnings (~1 ms)
    spec: Spec = getattr(__import__(module_name, fromlist=[attr]), attr)
    rest = words[len(path.split(" ")) :]
    try:
        opts = parse_args(spec, path, rest)
        if opts.help:
            cli.out.write(command_help(spec, path, commands.aliases_of(path)) + "\n")
            return 0
        check_arg_count(spec, path, opts.args)
        status = spec.run(cli, opts)
        return int(status or 0)
    except StatusError as e:
        if e.message:
            cli.err.write(e.message.rstrip("\n") + "\n")
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        return _report(cli, e)


def _report(cli: Cli, exc: Exception) -> int:
    """Print an error the way docker does and pick the exit status."""
    from sampan import errdefs
    from sampan.cli.template_funcs import TemplateError
    from sampan.client.errors import is_local

    if cli.debug:
        import traceback

        traceback.print_exc(file=cli.err)
    if isinstance(exc, TemplateError):
        cli.err.write(f"template parsing error: {exc}\n")
    elif isinstance(exc, errdefs.SampanError) and not is_local(exc):
        cli.err.write(f"Error response from daemon: {exc}\n")
    elif isinstance(exc, errdefs.SampanError):
        cli.err.write(f"{exc}\n")
    else:
        cli.err.write(f"{type(exc).__name__}: {exc}\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    try:
        status = run(sys.argv[1:] if argv is None else argv)
        sys.stdout.flush()
    except BrokenPipeError:
        status = 0
    except KeyboardInterrupt:
        status = 130
    if _stdout_broken():
        # `sampan images | head -1`: stop quietly instead of a traceback at interpreter exit
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


if __name__ == "__main__":
    sys.exit(main())
