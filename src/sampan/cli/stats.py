"""`sampan stats`: docker's live table of CPU, memory, network, block I/O and PIDs per container.

One thread per container reads the daemon's stats stream into a `Sample`; the main thread
redraws the table every 500 ms (cursor home, erase to end of each line and below, as docker
does) or prints it once with `--no-stream`. The numbers are docker's: CPU % from the deltas of
the container's and the host's CPU time, memory without the inactive file cache.
"""

from __future__ import annotations

import json
import threading
import time

from sampan import errdefs
from sampan.cli import container_calls as calls
from sampan.cli import format as fmtlib
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import TABLE_FORMAT_HELP, Flag, Parsed, Spec
from sampan.cli.formatter import render, resolve

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

    from sampan.client.api import APIClient

DEFAULT_TABLE = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"
                 "{{.BlockIO}}\t{{.PIDs}}")
HEADERS = {
    "Container": "CONTAINER", "Name": "NAME", "ID": "CONTAINER ID", "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}
JSON_FIELDS = ("BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs")
REFRESH = 0.5  # seconds between redraws
FIRST_SAMPLE_TIMEOUT = 2.0  # docker zeroes a row that got nothing for this long
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


# -- docker's arithmetic -------------------------------------------------------------------

def bytes_size(size: float) -> str:
    """go-units BytesSize: binary units, `%.4g`."""
    i = 0
    while size >= 1024.0 and i < len(_BINARY_UNITS) - 1:
        size /= 1024.0
        i += 1
    return f"{size:.4g}{_BINARY_UNITS[i]}"


def cpu_percent(pre: dict[str, Any], cur: dict[str, Any]) -> float:
    """Container CPU time over host CPU time between two samples, times the CPUs, in percent."""
    cpu_delta = float((cur.get("cpu_usage") or {}).get("total_usage") or 0) - float(
        (pre.get("cpu_usage") or {}).get("total_usage") or 0)
    system_delta = float(cur.get("system_cpu_usage") or 0) - float(pre.get("system_cpu_usage") or 0)
    online = float(cur.get("online_cpus") or 0)
    if online == 0.0:
        online = float(len((cur.get("cpu_usage") or {}).get("percpu_usage") or []))
    if system_delta > 0.0 and cpu_delta > 0.0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def memory_usage(mem: dict[str, Any]) -> float:
    """Usage minus the inactive file cache (total_inactive_file on v1, inactive_file on v2)."""
    usage = int(mem.get("usage") or 0)
    stats = mem.get("stats") or {}
    v1 = stats.get("total_inactive_file")
    if v1 is not None and int(v1) < usage:
        return float(usage - int(v1))
    v2 = int(stats.get("inactive_file") or 0)
    if v2 < usage:
        return float(usage - v2)
    return float(usage)


def block_io(blkio: dict[str, Any]) -> tuple[float, float]:
    read = write = 0
    for entry in blkio.get("io_service_bytes_recursive") or []:
        op = str(entry.get("op") or "")
        if op[:1] in ("r", "R"):
            read += int(entry.get("value") or 0)
        elif op[:1] in ("w", "W"):
            write += int(entry.get("value") or 0)
    return float(read), float(write)


def network_io(networks: dict[str, Any] | None) -> tuple[float, float]:
    rx = sum(float(n.get("rx_bytes") or 0) for n in (networks or {}).values())
    tx = sum(float(n.get("tx_bytes") or 0) for n in (networks or {}).values())
    return rx, tx


def percent(value: float) -> str:
    return f"{value:.2f}%"


# -- one container's numbers ---------------------------------------------------------------

class Sample:
    """docker's StatsEntry: the latest numbers of one container, or invalid (shown as `--`)."""

    def __init__(self, container: str) -> None:
        self.container = container
        self.name = self.id = ""
        self.cpu = self.memory = self.memory_limit = self.memory_percent = 0.0
        self.net_rx = self.net_tx = self.block_read = self.block_write = 0.0
        self.pids = 0
        self.invalid = False
        self.error: str | None = None

    def update(self, v: dict[str, Any]) -> None:
        mem = v.get("memory_stats") or {}
        self.name, self.id = str(v.get("name") or ""), str(v.get("id") or "")
        self.cpu = cpu_percent(v.get("precpu_stats") or {}, v.get("cpu_stats") or {})
        self.memory = memory_usage(mem)
        self.memory_limit = float(mem.get("limit") or 0)
        self.memory_percent = self.memory / self.memory_limit * 100.0 if self.memory_limit else 0.0
        self.net_rx, self.net_tx = network_io(v.get("networks"))
        self.block_read, self.block_write = block_io(v.get("blkio_stats") or {})
        self.pids = int((v.get("pids_stats") or {}).get("current") or 0)
        self.invalid, self.error = False, None

    def fail(self, error: str, *, reset: bool = False) -> None:
        if reset:
            self.cpu = self.memory = self.memory_limit = self.memory_percent = 0.0
            self.net_rx = self.net_tx = self.block_read = self.block_write = 0.0
            self.pids = 0
        self.invalid, self.error = True, error


class StatsRow:
    """One line of `stats`; methods are docker's formatter fields (.CPUPerc, .MemUsage, ...)."""

    go_type = "*container.statsContext"

    def __init__(self, s: Sample, *, trunc: bool) -> None:
        self.s, self.trunc = s, trunc

    def Container(self) -> str:
        return self.s.container

    def Name(self) -> str:
        return self.s.name[1:] if len(self.s.name) > 1 else "--"

    def ID(self) -> str:
        return fmtlib.trunc_id(self.s.id) if self.trunc else self.s.id

    def CPUPerc(self) -> str:
        return "--" if self.s.invalid else percent(self.s.cpu)

    def MemUsage(self) -> str:
        if self.s.invalid:
            return "-- / --"
        return f"{bytes_size(self.s.memory)} / {bytes_size(self.s.memory_limit)}"

    def MemPerc(self) -> str:
        return "--" if self.s.invalid else percent(self.s.memory_percent)

    def NetIO(self) -> str:
        if self.s.invalid:
            return "--"
        return f"{fmtlib.human_size(self.s.net_rx, 3)} / {fmtlib.human_size(self.s.net_tx, 3)}"

    def BlockIO(self) -> str:
        if self.s.invalid:
            return "--"
        return f"{fmtlib.human_size(self.s.block_read, 3)} / {fmtlib.human_size(self.s.block_write, 3)}"

    def PIDs(self) -> str:
        return "--" if self.s.invalid else str(self.s.pids)

    def to_template_json(self) -> dict[str, str]:
        return {name: getattr(self, name)() for name in JSON_FIELDS}


# -- collection ----------------------------------------------------------------------------

class Collector:
    """A thread reading one container's stats into its Sample; `first` is set once it has one."""

    def __init__(self, client: APIClient, sample: Sample, *, stream: bool, lock: threading.Lock) -> None:
        self.client, self.sample, self.stream, self.lock = client, sample, stream, lock
        self.first = threading.Event()
        self.done = False
        self.thread = threading.Thread(target=self._run, name=f"stats-{sample.container}", daemon=True)

    def start(self) -> Collector:
        self.thread.start()
        return self

    def _run(self) -> None:
        from sampan.cli.containers import daemon_error

        try:
            resp = calls.stats(self.client, self.sample.container, stream=self.stream)
            for line in resp.iter_lines():
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                with self.lock:
                    self.sample.update(doc)
                self.first.set()
                if not self.stream:
                    break
            resp.close()
            if self.stream:
                with self.lock:
                    self.sample.fail("EOF")
        except errdefs.SampanError as e:
            try:
                message = daemon_error(e)
            except errdefs.SampanError:
                message = str(e)
            with self.lock:
                self.sample.fail(message)
        except OSError as e:
            with self.lock:
                self.sample.fail(str(e))
        finally:
            self.done = True
            self.first.set()
            self.client.close()

    def wait_first(self, deadline: float) -> None:
        if not self.first.wait(max(0.0, deadline - time.monotonic())):
            with self.lock:
                self.sample.fail("timeout waiting for stats", reset=True)


class Watch:
    """The containers on screen: named ones, or all running (`-a`: all) kept up to date."""

    def __init__(self, cli: Cli, o: Parsed) -> None:
        self.cli, self.client = cli, cli.client()
        self.stream, self.all, self.named = not o.no_stream, bool(o.all), list(o.args)
        self.lock = threading.Lock()
        self.collectors: dict[str, Collector] = {}

    def _add(self, container: str) -> Collector | None:
        if container in self.collectors:
            return None
        c = Collector(self.client.clone(), Sample(container), stream=self.stream, lock=self.lock)
        self.collectors[container] = c
        return c.start()

    def begin(self) -> None:
        """Start a collector per container and wait (2 s at most) for each first sample."""
        names = self.named or self._listed()
        started = [c for c in (self._add(n) for n in names) if c is not None]
        deadline = time.monotonic() + FIRST_SAMPLE_TIMEOUT
        for c in started:
            c.wait_first(deadline)
        if self.named:
            errors = [c.sample.error for c in self.collectors.values() if c.sample.error]
            if errors:
                raise StatusError("\n".join(errors), 1)

    def _listed(self) -> list[str]:
        return [str(c.get("Id", ""))[:12] for c in self.client.containers(all=self.all)]

    def refresh(self) -> None:
        """Without names: follow containers that start (created with -a) and drop those gone."""
        if self.named:
            return
        try:
            current = self._listed()
        except errdefs.SampanError:
            return
        for name in current:
            self._add(name)
        for name in [n for n in self.collectors if n not in current]:
            del self.collectors[name]

    def rows(self, trunc: bool) -> list[StatsRow]:
        with self.lock:
            return [StatsRow(_copy(c.sample), trunc=trunc) for c in self.collectors.values()]


def _copy(s: Sample) -> Sample:
    out = Sample(s.container)
    out.__dict__.update(s.__dict__)
    return out


def redraw(text: str) -> str:
    """docker's live frame: cursor home, each line erased to its end, everything below erased."""
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    return "\033[H" + "".join(line + "\033[K\n" for line in lines) + "\033[J"


def run_stats(cli: Cli, o: Parsed) -> int:
    fmt = o.format or str(cli.config().get("statsFormat") or "")
    fmt = resolve(fmt, DEFAULT_TABLE)
    watch = Watch(cli, o)
    watch.begin()
    while True:
        text = render(fmt, watch.rows(not o.no_trunc), HEADERS)
        if o.no_stream:
            cli.write(text)
            return 0
        cli.write(redraw(text))
        cli.out.flush()
        if watch.named and not watch.collectors:
            return 0
        time.sleep(REFRESH)
        watch.refresh()


STATS = Spec("[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics", [
    Flag("all", "a", "bool", "Show all containers (default shows just running)"),
    Flag("format", "", "string", TABLE_FORMAT_HELP),
    Flag("no-stream", "", "bool", "Disable streaming stats and only pull the first result"),
    Flag("no-trunc", "", "bool", "Do not truncate output"),
], run_stats)
