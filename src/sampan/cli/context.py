"""What every command gets: the streams, the daemon address, the config dir, a lazy client."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any, TextIO

    from sampan.client.api import APIClient


class Cli:
    """Per-invocation state; nothing global, so tests can run commands in-process."""

    def __init__(self, *, host: str | None = None, config_dir: str | None = None, debug: bool = False,
                 stdout: TextIO | None = None, stderr: TextIO | None = None,
                 stdin: TextIO | None = None) -> None:
        self.host = host
        self.config_dir = config_dir
        self.debug = debug
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.inp = stdin or sys.stdin
        self._client: APIClient | None = None
        self._config: dict[str, Any] | None = None

    def client(self) -> APIClient:
        if self._client is None:
            from sampan.cli.autostart import ensure_daemon
            from sampan.client.api import APIClient

            self._client = APIClient(self.host)
            ensure_daemon(self._client.host, self.err)
        return self._client

    def config(self) -> dict[str, Any]:
        """~/.docker/config.json (or --config DIR), read once."""
        if self._config is None:
            from sampan.client.auth import load_config

            self._config = load_config(self.config_dir)
        return self._config

    def out_is_tty(self) -> bool:
        try:
            return self.out.isatty()
        except (AttributeError, ValueError):
            return False

    def write(self, text: str) -> None:
        self.out.write(text)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
