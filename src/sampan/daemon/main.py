"""`sampand`: load the configuration, take the pidfile, open the services, serve the API.

Imports are deferred until after argument parsing so `sampand --version` and configuration
errors answer fast; asyncio and the services are loaded only when the daemon really starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from sampan.daemon.config import DaemonConfig, load_config
from sampan.errdefs import Conflict, SampanError

log = logging.getLogger("sampand")

SHUTDOWN_GRACE = 3.0


class PidFile:
    """A pidfile held with an exclusive lock for the daemon's lifetime."""

    def __init__(self, path: str) -> None:
        import fcntl

        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Conflict(f"pid file found, ensure sampand is not running or delete {path}")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)


def setup_logging(config: DaemonConfig) -> None:
    logging.basicConfig(
        level=config.logging_level, stream=sys.stderr,
        format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )


async def serve(config: DaemonConfig, load_again: Callable[[], DaemonConfig] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop the API and close the services; SIGHUP reloads
    the configuration through `load_again`."""
    import asyncio
    import signal

    from sampan.daemon.containers.service import ContainerService
    from sampan.daemon.containers.settings import ContainerSettings, builtin_runtimes
    from sampan.daemon.events import EventBus
    from sampan.daemon.images.service import ImageService
    from sampan.daemon.reload import Reloader, log_level_applier
    from sampan.daemon.system import SystemService
    from sampan.server.app import Backends, build_app
    from sampan.server.serve import APIServer

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    events = EventBus()
    images = ImageService.open(
        config.data_root,
        insecure_registries=config.insecure_registries,
        storage_driver=config.storage_driver,
        max_concurrent_downloads=config.max_concurrent_downloads,
        events=events,
    )
    try:
        runtimes = {**builtin_runtimes(config.exec_root), **dict(config.runtimes)}
        settings = ContainerSettings(data_root=config.data_root, exec_root=config.exec_root,
                                     runtimes=runtimes, default_runtime=config.default_runtime)
        settings.runtime_for("")  # an unknown default runtime stops the daemon here
        containers = await asyncio.to_thread(ContainerService.open, settings, images, events)
        images.set_container_users(containers.image_users)
        snapshots = getattr(images, "snapshots", None)
        system = SystemService(config, image_count=images.image_count,
                               driver_name=lambda: str(getattr(snapshots, "driver_name", "")),
                               container_counts=containers.counts)
        server = APIServer(build_app(Backends(system=system, images=images, containers=containers, events=events)))
        reloader = Reloader(config, load_again or (lambda: config), [
            log_level_applier,
            lambda new: _set_runtimes(settings.runtimes, new),
            lambda new: setattr(system, "config", new),
        ], events, system.id)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, reloader.reload))
        try:
            for host in config.hosts:
                await server.listen(host)
            log.info("sampand ready (pid %d, data root %s)", os.getpid(), config.data_root)
            await stop.wait()
            log.info("shutting down")
        finally:
            await server.stop(SHUTDOWN_GRACE)
    finally:
        images.close()


def _set_runtimes(runtimes: dict[str, str], config: DaemonConfig) -> None:
    """The built-in runtimes and the configured ones, updated in place (the container service
    holds this dict)."""
    from sampan.daemon.containers.settings import builtin_runtimes

    wanted = {**builtin_runtimes(config.exec_root), **dict(config.runtimes)}
    for name in set(runtimes) - set(wanted):
        del runtimes[name]
    runtimes.update(wanted)


def run(config: DaemonConfig, load_again: Callable[[], DaemonConfig] | None = None) -> int:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    os.makedirs(config.data_root, mode=0o711, exist_ok=True)
    os.makedirs(config.exec_root, mode=0o700, exist_ok=True)
    pidfile = PidFile(config.pidfile_path)
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="sampand-worker")
    loop = asyncio.new_event_loop()
    loop.set_default_executor(executor)
    try:
        loop.run_until_complete(serve(config, load_again))
    finally:
        loop.close()
        executor.shutdown(wait=False, cancel_futures=True)
        pidfile.release()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = load_config(argv)
    except SampanError as exc:
        print(f"sampand: {exc}", file=sys.stderr)
        return 1
    setup_logging(config)
    try:
        code = run(config, lambda: load_config(argv))
    except SampanError as exc:
        log.error("%s", exc)
        code = 1
    except OSError as exc:
        log.error("failed to start daemon: %s", exc)
        code = 1
    except Exception:
        log.exception("sampand failed")
        code = 1
    logging.shutdown()
    # A worker thread stuck in a blocking call must not hold the process after a clean stop.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
