"""Health checks: Config.Healthcheck probes run inside running containers, as dockerd runs them.

One scheduler thread serves every monitored container (a heap of due times); each probe runs
in a short-lived thread of its own, so a slow probe delays nobody else, and a container never
has two probes at once. The state (`State.Health`: Status, FailingStreak, the last five
results) lives on the record in memory and is written with the record's next save, as
dockerd keeps it; a change of status publishes `health_status: <status>`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sampan.daemon.containers import state as st
from sampan.daemon.containers.record import ContainerRecord
from sampan.errdefs import InvalidArgument
from sampan.shim.wire import rfc3339nano

log = logging.getLogger(__name__)

STARTING, HEALTHY, UNHEALTHY, NONE = "starting", "healthy", "unhealthy", "none"
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_START_INTERVAL = 5.0
DEFAULT_RETRIES = 3
MAX_OUTPUT = 4096
MAX_LOG = 5
MINIMUM_DURATION = 1_000_000  # ns


@dataclass(frozen=True)
class HealthConfig:
    """A container's Healthcheck with dockerd's defaults filled in (durations in seconds)."""

    command: list[str]
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    start_period: float = 0.0
    start_interval: float = DEFAULT_START_INTERVAL
    retries: int = DEFAULT_RETRIES

    @classmethod
    def of(cls, config: dict[str, Any]) -> HealthConfig | None:
        """None when there is no probe: no Test, ["NONE"], or a kind dockerd does not know."""
        hc = config.get("Healthcheck") or {}
        test = [str(t) for t in hc.get("Test") or []]
        if not test or test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
            return None
        command = test[1:]
        if test[0] == "CMD-SHELL":
            command = [*(config.get("Shell") or ["/bin/sh", "-c"]), *command]

        def secs(key: str, default: float) -> float:
            nanos = int(hc.get(key) or 0)
            return nanos / 1e9 if nanos > 0 else default

        retries = int(hc.get("Retries") or 0)
        return cls(command, secs("Interval", DEFAULT_INTERVAL), secs("Timeout", DEFAULT_TIMEOUT),
                   secs("StartPeriod", 0.0), secs("StartInterval", DEFAULT_START_INTERVAL),
                   retries if retries > 0 else DEFAULT_RETRIES)

    def next_delay(self, since_start: float, status: str) -> float:
        """Seconds to the next probe: the interval, but a probe right when the start period
        ends, and StartInterval while still starting inside it."""
        if since_start >= self.start_period:
            return self.interval
        remaining = self.start_period - since_start
        if remaining < self.interval:
            return remaining
        return self.start_interval if status == STARTING else self.interval


@dataclass
class ProbeResult:
    start: float  # seconds since the epoch
    end: float
    exit_code: int
    output: str

    def to_wire(self) -> dict[str, Any]:
        return {"Start": rfc3339nano(int(self.start * 1e9)), "End": rfc3339nano(int(self.end * 1e9)),
                "ExitCode": self.exit_code, "Output": self.output}


def bounded_output(raw: bytes, limit: int = MAX_OUTPUT) -> str:
    """The first `limit` bytes, with "..." when more came (dockerd's limitedBuffer)."""
    text = raw[:limit].decode(errors="replace")
    return text + "..." if len(raw) > limit else text


def timeout_text(timeout: float) -> str:
    """Go's time.Duration text (what dockerd prints): 200ms, 30s, 1.5s, 1m30s, 1h0m0s."""
    nanos = round(timeout * 1e9)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size or unit == "ns":
                return f"{nanos / size:.9g}{unit}"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    secs = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    return f"{minutes}m{secs}" if minutes else secs


def validate(config: dict[str, Any]) -> None:
    """dockerd's checks of a posted Healthcheck: durations 0 or at least 1ms, Retries not negative."""
    hc = config.get("Healthcheck")
    if not isinstance(hc, dict):
        return
    for key in ("Interval", "Timeout", "StartPeriod", "StartInterval"):
        value = hc.get(key) or 0
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidArgument(f"invalid value for Healthcheck.{key}: {value!r}: want nanoseconds")
        if value != 0 and value < MINIMUM_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
    if int(hc.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")


def new_health() -> dict[str, Any]:
    return {"Status": STARTING, "FailingStreak": 0, "Log": []}


def apply_result(health: dict[str, Any], result: ProbeResult, cfg: HealthConfig, started_at: float) -> str:
    """Record one probe in `health` (Docker's State.Health); returns the new status.

    Failures while starting and inside the start period do not count.
    """
    log_entries = list(health.get("Log") or [])
    log_entries.append(result.to_wire())
    health["Log"] = log_entries[-MAX_LOG:]
    if result.exit_code == 0:
        health["FailingStreak"] = 0
        health["Status"] = HEALTHY
    elif not (health.get("Status") == STARTING and result.start - started_at < cfg.start_period):
        health["FailingStreak"] = int(health.get("FailingStreak") or 0) + 1
        if health["FailingStreak"] >= cfg.retries:
            health["Status"] = UNHEALTHY
    return str(health["Status"])


class ProbeTimeout(Exception):
    """The probe ran past its timeout and was killed; `output` is what it wrote until then."""

    def __init__(self, output: bytes = b"") -> None:
        super().__init__("probe timed out")
        self.output = output


# (container, argv, timeout seconds) -> (exit code, output); raises ProbeTimeout
Prober = Callable[[ContainerRecord, list[str], float], tuple[int, bytes]]
Publisher = Callable[[ContainerRecord, str], None]


def run_probe(prober: Prober, rec: ContainerRecord, cfg: HealthConfig, clock: Callable[[], float]) -> ProbeResult:
    start = clock()
    try:
        code, raw = prober(rec, cfg.command, cfg.timeout)
        output = bounded_output(raw)
    except ProbeTimeout as exc:
        code = -1
        output = f"Health check exceeded timeout ({timeout_text(cfg.timeout)})"
        if exc.output:
            output += ": " + bounded_output(exc.output)
    except Exception as exc:  # the probe could not even run: a failure, as in dockerd
        log.warning("health check of %s: %s", rec.id[:12], exc)
        code, output = -1, str(exc)
    return ProbeResult(start, clock(), code, output)


@dataclass
class _Watch:
    rec: ContainerRecord
    cfg: HealthConfig
    generation: int
    started_at: float


class HealthMonitor:
    """Probes every watched container on its schedule; `watch` at each start, `unwatch` at exit."""

    def __init__(self, prober: Prober, publish: Publisher, *, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._prober = prober
        self._publish = publish
        self._clock = clock
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str, int]] = []  # (due, tie-break, container id, generation)
        self._watches: dict[str, _Watch] = {}
        self._generations = itertools.count(1)
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, rec: ContainerRecord) -> None:
        """(Re)start monitoring a container that just started: status "starting", streak 0."""
        cfg = HealthConfig.of(rec.config)
        if cfg is None:
            self.unwatch(rec.id)
            return
        from sampan.daemon.containers.views import parse_time

        health = rec.state.health if rec.state.health is not None else new_health()
        health.update(Status=STARTING, FailingStreak=0)
        rec.state.health = health
        started = parse_time(rec.state.started_at) or self._clock()
        with self._cond:
            if self._closed:
                return
            w = _Watch(rec, cfg, next(self._generations), started)
            self._watches[rec.id] = w
            self._schedule(w, cfg.next_delay(self._clock() - started, STARTING))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="health-checks", daemon=True)
                self._thread.start()

    def unwatch(self, cid: str) -> None:
        with self._cond:
            self._watches.pop(cid, None)

    def watching(self, cid: str) -> bool:
        with self._cond:
            return cid in self._watches

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._watches.clear()
            self._cond.notify_all()

    def _schedule(self, w: _Watch, delay: float) -> None:
        heapq.heappush(self._heap, (self._monotonic() + max(delay, 0.0), next(self._order), w.rec.id, w.generation))
        self._cond.notify_all()

    def _loop(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _, cid, generation = self._heap[0]
                wait = due - self._monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                w = self._watches.get(cid)
                if w is None or w.generation != generation:
                    continue
                threading.Thread(target=self._probe, args=(w,), name=f"health-{cid[:12]}", daemon=True).start()

    def _current(self, w: _Watch) -> bool:
        return self._watches.get(w.rec.id) is w

    def _probe(self, w: _Watch) -> None:
        rec = w.rec
        if rec.state.status == st.PAUSED:  # no probes while frozen; look again an interval later
            with self._cond:
                if self._current(w):
                    self._schedule(w, w.cfg.interval)
            return
        if rec.state.status != st.RUNNING:
            with self._cond:
                if self._current(w):
                    del self._watches[rec.id]
            return
        result = run_probe(self._prober, rec, w.cfg, self._clock)
        with self._cond:
            if not self._current(w) or rec.state.health is None:
                return  # stopped or restarted while probing: the result belongs to no one
            old = str(rec.state.health.get("Status"))
            new = apply_result(rec.state.health, result, w.cfg, w.started_at)
            self._schedule(w, w.cfg.next_delay(self._clock() - w.started_at, new))
        if new != old:
            try:
                self._publish(rec, new)
            except Exception:
                log.warning("cannot publish the health status of %s", rec.id[:12], exc_info=True)


def exec_prober(execs: Any) -> Prober:
    """A Prober running the command through the container's shim with the container's user and
    working directory, as dockerd's probe exec does."""
    def probe(rec: ContainerRecord, argv: list[str], timeout: float) -> tuple[int, bytes]:
        result = execs.run(rec.id, argv, timeout=timeout, user=str(rec.config.get("User") or ""),
                           working_dir=str(rec.config.get("WorkingDir") or ""), limit=MAX_OUTPUT + 1)
        if result.timed_out:
            raise ProbeTimeout(bytes(result.output))
        return int(result.exit_code), bytes(result.output)
    return probe


def health_filter_value(rec: ContainerRecord) -> str:
    """The container's value for `ps --filter health=`: none without a probe."""
    if HealthConfig.of(rec.config) is None or rec.state.health is None:
        return NONE
    return str(rec.state.health.get("Status") or NONE)
