"""Errors the CLI itself reports: a message for stderr and docker's exit status."""

from __future__ import annotations


class StatusError(Exception):
    """Print `message` (if any) to stderr and exit with `status`."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
