"""`sampan logs`: the container's log, split into stdout and stderr unless it has a TTY.

`--since`/`--until` accept what docker's timetypes.GetTimestamp accepts (a Go duration
like `10m` meaning that long ago, RFC 3339 times and dates, or unix seconds) and are sent
as the docker client library sends them (`sampan.api.timestamps`).
"""

from __future__ import annotations

from sampan.cli import stdio
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec


def get_timestamp(value: str, flag: str = "since") -> str:
    """The query value docker's client sends for what was typed after --since/--until."""
    from sampan.api.timestamps import TimestampError
    from sampan.api.timestamps import get_timestamp as convert

    try:
        return convert(value)
    except TimestampError as exc:
        raise StatusError(f'invalid value for "{flag}": {exc}', 1) from None


def run_logs(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    info = client.inspect_container(o.args[0])
    tty = bool((info.get("Config") or {}).get("Tty"))
    since = get_timestamp(o.since) if o.since else None
    until = get_timestamp(o.until, "until") if o.until else None
    resp = client.logs(o.args[0], follow=o.follow, since=since, until=until, timestamps=o.timestamps,
                       tail=o.tail or "all")
    out, err = stdio.binary_writer(cli.out), stdio.binary_writer(cli.err)
    demux = None if tty else stdio.Demuxer()
    try:
        while data := resp.read1():
            if demux is None:
                out(data)
                continue
            for stream, payload in demux.feed(data):
                (err if stream in (stdio.STDERR, stdio.SYSTEMERR) else out)(payload)
    finally:
        resp.close()
    return 0


LOGS = Spec("[OPTIONS] CONTAINER", "Fetch the logs of a container", [
    Flag("details", "", "bool", "Show extra details provided to logs"),
    Flag("follow", "f", "bool", "Follow log output"),
    Flag("since", "", "string",
         'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    Flag("tail", "n", "string", 'Number of lines to show from the end of the logs', default="all"),
    Flag("timestamps", "t", "bool", "Show timestamps"),
    Flag("until", "", "string",
         'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
], run_logs, min_args=1, max_args=1)
