"""Logging for the shim without paying for `logging` until there is something to say.

`import logging` costs about 0.8 MiB per shim; a healthy shim never logs. The shim's stderr is
its state directory's shim.log, where logging's last-resort handler writes warnings.
"""

from __future__ import annotations


def warning(msg: str, *args: object) -> None:
    import logging

    logging.getLogger("sampan.shim").warning(msg, *args)


def error(msg: str, *args: object) -> None:
    import logging

    logging.getLogger("sampan.shim").error(msg, *args)
