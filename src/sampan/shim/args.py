"""sampan-shim's command line: `--name value` options and flags, parsed without argparse.

argparse (and the gettext/re it pulls in) would stay in every shim's memory for a parse done
once; the grammar is small enough to read by hand. ShimClient.spawn builds the same argv.
"""

from __future__ import annotations

import os

USAGE = """usage: sampan-shim --id ID --bundle DIR --state-dir DIR [options]

  --id ID               container id (as the runtime knows it)
  --bundle DIR          OCI bundle holding config.json
  --state-dir DIR       the shim's own directory: shim.sock, shim.pid, init.pid, exit.json
  --runtime PATH        OCI runtime with runc's command line (default: runc)
  --runtime-root DIR    the runtime's --root
  --log-path FILE       json-file log of the container's output (none: output only attached)
  --log-max-size BYTES  rotate the log at this size (default: never)
  --log-max-file N      keep N log files with rotation (default: 1)
  --tty                 the container has a terminal (must match process.terminal)
  --stdin               keep the container's stdin open for attach clients
  --timeout SECONDS     limit for each runtime command (default: 30)
  --foreground          do not detach (debugging); readiness is printed on stdout
"""

_VALUED = {"--id": "id", "--bundle": "bundle", "--state-dir": "state_dir", "--runtime": "runtime",
           "--runtime-root": "runtime_root", "--log-path": "log_path", "--log-max-size": "log_max_size",
           "--log-max-file": "log_max_file", "--timeout": "timeout"}
_FLAGS = {"--tty": "tty", "--stdin": "stdin", "--foreground": "foreground"}
_PATHS = ("bundle", "state_dir", "runtime_root", "log_path")


class UsageError(ValueError):
    pass


class Options:
    """What one shim was asked to run."""

    def __init__(self) -> None:
        self.id = ""
        self.bundle = ""
        self.state_dir = ""
        self.runtime = "runc"
        self.runtime_root: str | None = None
        self.log_path: str | None = None
        self.log_max_size = -1
        self.log_max_file = 1
        self.tty = False
        self.stdin = False
        self.timeout = 30.0
        self.foreground = False

    def path(self, name: str) -> str:
        """A file in the state directory."""
        return os.path.join(self.state_dir, name)


def parse(argv: list[str]) -> Options:
    opts = Options()
    raw: dict[str, str] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        name, eq, inline = word.partition("=")
        if name in _VALUED:
            if eq:
                raw[_VALUED[name]] = inline
            elif i + 1 < len(argv):
                i += 1
                raw[_VALUED[name]] = argv[i]
            else:
                raise UsageError(f"option {name} needs a value")
        elif word in _FLAGS:
            setattr(opts, _FLAGS[word], True)
        elif word in ("-h", "--help"):
            raise UsageError("")
        else:
            raise UsageError(f"unknown argument {word!r}")
        i += 1
    for key in ("id", "bundle", "state_dir"):
        if not raw.get(key):
            raise UsageError(f"--{key.replace('_', '-')} is required")
    for key, value in raw.items():
        if key in ("log_max_size", "log_max_file"):
            setattr(opts, key, _int(key, value))
        elif key == "timeout":
            try:
                opts.timeout = float(value)
            except ValueError:
                raise UsageError(f"--timeout: not a number: {value!r}") from None
        elif key in _PATHS:
            setattr(opts, key, os.path.abspath(value))
        else:
            setattr(opts, key, value)
    if opts.log_max_file < 1:
        raise UsageError("--log-max-file must be at least 1")
    return opts


def _int(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--{key.replace('_', '-')}: not an integer: {value!r}") from None


def to_argv(opts: Options) -> list[str]:
    """The command line that parses back into `opts` (used by the client to spawn a shim)."""
    argv = ["--id", opts.id, "--bundle", opts.bundle, "--state-dir", opts.state_dir, "--runtime", opts.runtime]
    if opts.runtime_root:
        argv += ["--runtime-root", opts.runtime_root]
    if opts.log_path:
        argv += ["--log-path", opts.log_path]
    if opts.log_max_size > 0:
        argv += ["--log-max-size", str(opts.log_max_size)]
    if opts.log_max_file != 1:
        argv += ["--log-max-file", str(opts.log_max_file)]
    if opts.timeout != 30.0:
        argv += ["--timeout", str(opts.timeout)]
    for flag, attr in _FLAGS.items():
        if getattr(opts, attr):
            argv.append(flag)
    return argv
