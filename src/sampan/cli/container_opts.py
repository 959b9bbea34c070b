"""The flags `run` and `create` share, turned into the create request the docker CLI sends.

The body has the same keys and zero values as docker 28's (its Go structs serialise every
field), so a daemon sees the same request from `sampan run` as from `docker run`; the unit
tests compare the two byte for byte after decoding.
"""

from __future__ import annotations

from sampan.cli import opts_values as ov
from sampan.cli.flags import Flag

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

    from sampan.cli.flags import Parsed

S, L, B, I = "string", "list", "bool", "int"  # noqa: E741

CONTAINER_FLAGS = [
    Flag("add-host", "", L, "Add a custom host-to-IP mapping (host:ip)"),
    Flag("blkio-weight", "", I, "Block IO (relative weight), between 10 and 1000, or 0 to disable",
         type_name="uint16"),
    Flag("device-cgroup-rule", "", L, "Add a rule to the cgroup allowed devices list"),
    Flag("health-cmd", "", S, "Command to run to check health"),
    Flag("health-interval", "", S, "Time between running the check (ms|s|m|h) (default 0s)", type_name="duration"),
    Flag("health-retries", "", I, "Consecutive failures needed to report unhealthy"),
    Flag("health-start-interval", "", S, "Time between running the check during the start period (ms|s|m|h) "
         "(default 0s)", type_name="duration"),
    Flag("health-start-period", "", S, "Start period for the container to initialize before starting "
         "health-retries countdown (ms|s|m|h) (default 0s)", type_name="duration"),
    Flag("health-timeout", "", S, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
         type_name="duration"),
    Flag("ip", "", S, "IPv4 address (e.g., 172.30.100.104)"),
    Flag("ip6", "", S, "IPv6 address (e.g., 2001:db8::33)"),
    Flag("link", "", L, "Add link to another container"),
    Flag("mac-address", "", S, "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    Flag("network-alias", "", L, "Add network-scoped alias for the container"),
    Flag("no-healthcheck", "", B, "Disable any container-specified HEALTHCHECK"),
    Flag("storage-opt", "", L, "Storage driver options for the container"),
    Flag("volume-driver", "", S, "Optional volume driver for the container"),
    Flag("attach", "a", L, "Attach to STDIN, STDOUT or STDERR"),
    Flag("cap-add", "", L, "Add Linux capabilities"),
    Flag("cap-drop", "", L, "Drop Linux capabilities"),
    Flag("cgroup-parent", "", S, "Optional parent cgroup for the container"),
    Flag("cgroupns", "", S, "Cgroup namespace to use (host|private)"),
    Flag("cidfile", "", S, "Write the container ID to the file"),
    Flag("cpu-period", "", I, "Limit CPU CFS (Completely Fair Scheduler) period"),
    Flag("cpu-quota", "", I, "Limit CPU CFS (Completely Fair Scheduler) quota"),
    Flag("cpu-shares", "c", I, "CPU shares (relative weight)"),
    Flag("cpus", "", S, "Number of CPUs", type_name="decimal"),
    Flag("cpuset-cpus", "", S, "CPUs in which to allow execution (0-3, 0,1)"),
    Flag("cpuset-mems", "", S, "MEMs in which to allow execution (0-3, 0,1)"),
    Flag("device", "", L, "Add a host device to the container"),
    Flag("dns", "", L, "Set custom DNS servers"),
    Flag("dns-option", "", L, "Set DNS options"),
    Flag("dns-search", "", L, "Set custom DNS search domains"),
    Flag("domainname", "", S, "Container NIS domain name"),
    Flag("entrypoint", "", S, "Overwrite the default ENTRYPOINT of the image"),
    Flag("env", "e", L, "Set environment variables"),
    Flag("env-file", "", L, "Read in a file of environment variables"),
    Flag("expose", "", L, "Expose a port or a range of ports"),
    Flag("group-add", "", L, "Add additional groups to join"),
    Flag("hostname", "h", S, "Container host name"),
    Flag("init", "", B, "Run an init inside the container that forwards signals and reaps processes"),
    Flag("interactive", "i", B, "Keep STDIN open even if not attached"),
    Flag("ipc", "", S, "IPC mode to use"),
    Flag("label", "l", L, "Set meta data on a container"),
    Flag("label-file", "", L, "Read in a line delimited file of labels"),
    Flag("log-driver", "", S, "Logging driver for the container"),
    Flag("log-opt", "", L, "Log driver options"),
    Flag("memory", "m", S, "Memory limit", type_name="bytes"),
    Flag("memory-reservation", "", S, "Memory soft limit", type_name="bytes"),
    Flag("memory-swap", "", S, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
         type_name="bytes"),
    Flag("memory-swappiness", "", I, "Tune container memory swappiness (0 to 100)", default=-1),
    Flag("mount", "", L, "Attach a filesystem mount to the container", type_name="mount"),
    Flag("name", "", S, "Assign a name to the container"),
    Flag("network", "", S, "Connect a container to a network", dest="network"),
    Flag("net", "", S, "Connect a container to a network", dest="network", hidden=True),
    Flag("oom-kill-disable", "", B, "Disable OOM Killer"),
    Flag("oom-score-adj", "", I, "Tune host's OOM preferences (-1000 to 1000)"),
    Flag("pid", "", S, "PID namespace to use"),
    Flag("pids-limit", "", I, "Tune container pids limit (set -1 for unlimited)"),
    Flag("platform", "", S, "Set platform if server is multi-platform capable"),
    Flag("privileged", "", B, "Give extended privileges to this container"),
    Flag("publish", "p", L, "Publish a container's port(s) to the host"),
    Flag("publish-all", "P", B, "Publish all exposed ports to random ports"),
    Flag("pull", "", S, 'Pull image before running ("always", "missing", "never")', default="missing"),
    Flag("quiet", "q", B, "Suppress the pull output"),
    Flag("read-only", "", B, "Mount the container's root filesystem as read only"),
    Flag("restart", "", S, "Restart policy to apply when a container exits", default="no"),
    Flag("rm", "", B, "Automatically remove the container and its associated anonymous volumes when it exits"),
    Flag("runtime", "", S, "Runtime to use for this container"),
    Flag("security-opt", "", L, "Security Options"),
    Flag("shm-size", "", S, "Size of /dev/shm", type_name="bytes"),
    Flag("stop-signal", "", S, "Signal to stop the container"),
    Flag("stop-timeout", "", I, "Timeout (in seconds) to stop a container"),
    Flag("sysctl", "", L, "Sysctl options", type_name="map"),
    Flag("tmpfs", "", L, "Mount a tmpfs directory"),
    Flag("tty", "t", B, "Allocate a pseudo-TTY"),
    Flag("ulimit", "", L, "Ulimit options", type_name="ulimit"),
    Flag("user", "u", S, "Username or UID (format: <name|uid>[:<group|gid>])"),
    Flag("userns", "", S, "User namespace to use"),
    Flag("uts", "", S, "UTS namespace to use"),
    Flag("volume", "v", L, "Bind mount a volume"),
    Flag("volumes-from", "", L, "Mount volumes from the specified container(s)"),
    Flag("workdir", "w", S, "Working directory inside the container"),
]

RUN_ONLY_FLAGS = [
    Flag("detach", "d", B, "Run container in background and print container ID"),
    Flag("detach-keys", "", S, "Override the key sequence for detaching a container"),
    Flag("sig-proxy", "", B, "Proxy received signals to the process", default=True),
]


class CreateRequest:
    """What `POST /containers/create` gets: query (name, platform) and the JSON body."""

    __slots__ = ("body", "image", "name", "platform")

    def __init__(self, body: dict[str, Any], image: str, name: str, platform: str) -> None:
        self.body, self.image, self.name, self.platform = body, image, name, platform

    @property
    def config(self) -> dict[str, Any]:
        return self.body

    @property
    def host_config(self) -> dict[str, Any]:
        return dict(self.body["HostConfig"])


def _host_config_base() -> dict[str, Any]:
    """HostConfig with every field at the zero value docker 28 sends."""
    out: dict[str, Any] = dict.fromkeys(
        ("BlkioDeviceReadBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteBps", "BlkioDeviceWriteIOps",
         "BlkioWeightDevice", "Devices", "Dns", "DnsOptions", "DnsSearch", "Ulimits"), None)
    for key in out:
        out[key] = []
    out.update(dict.fromkeys(
        ("BlkioWeight", "CpuCount", "CpuPercent", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
         "CpuRealtimeRuntime", "CpuShares", "IOMaximumBandwidth", "IOMaximumIOps", "Memory",
         "MemoryReservation", "MemorySwap", "NanoCpus", "OomScoreAdj", "PidsLimit", "ShmSize"), 0))
    out.update(dict.fromkeys(
        ("Cgroup", "CgroupParent", "CgroupnsMode", "ContainerIDFile", "CpusetCpus", "CpusetMems", "IpcMode",
         "Isolation", "PidMode", "UTSMode", "UsernsMode", "VolumeDriver"), ""))
    out.update(dict.fromkeys(
        ("CapAdd", "CapDrop", "DeviceCgroupRules", "DeviceRequests", "ExtraHosts", "GroupAdd", "Links",
         "MaskedPaths", "ReadonlyPaths", "SecurityOpt", "VolumesFrom", "Binds"), None))
    out.update({
        "AutoRemove": False, "OomKillDisable": False, "Privileged": False, "PublishAllPorts": False,
        "ReadonlyRootfs": False, "MemorySwappiness": -1, "NetworkMode": "default",
        "ConsoleSize": [0, 0], "LogConfig": {"Type": "", "Config": {}},
        "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "PortBindings": {},
    })
    return out


def _endpoint() -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(("Aliases", "DNSNames", "DriverOpts", "IPAMConfig", "Links"), None)
    out.update(dict.fromkeys(("EndpointID", "Gateway", "GlobalIPv6Address", "IPAddress", "IPv6Gateway",
                              "MacAddress", "NetworkID"), ""))
    out.update(dict.fromkeys(("GlobalIPv6PrefixLen", "GwPriority", "IPPrefixLen"), 0))
    return out


def _endpoints(o: Parsed, mode: str) -> dict[str, Any]:
    """docker 28: an entry for the default network, or for any network given endpoint settings."""
    endpoint = _endpoint()
    user_defined = mode not in ("default", "bridge", "host", "none") and not mode.startswith("container:")
    if o.network_alias:
        endpoint["Aliases"] = list(o.network_alias)
    if o.link and user_defined:
        endpoint["Links"] = list(o.link)
    if o.ip or o.ip6:
        endpoint["IPAMConfig"] = {k: v for k, v in (("IPv4Address", o.ip), ("IPv6Address", o.ip6)) if v}
    if o.mac_address:
        endpoint["MacAddress"] = o.mac_address
    if endpoint != _endpoint() or not o.network:
        return {mode: endpoint}
    return {}


def _healthcheck(o: Parsed) -> dict[str, Any] | None:
    names = ("health_cmd", "health_interval", "health_retries", "health_timeout", "health_start_period",
             "health_start_interval")
    given = [n for n in names if n in o.given]
    if o.no_healthcheck:
        if given:
            raise ov.OptError("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not given:
        return None
    health: dict[str, Any] = {}
    if o.health_cmd:
        health["Test"] = ["CMD-SHELL", o.health_cmd]
    for flag, key in (("health_interval", "Interval"), ("health_timeout", "Timeout"),
                      ("health_start_period", "StartPeriod"), ("health_start_interval", "StartInterval")):
        value = getattr(o, flag)
        if value:
            nanos = ov.go_duration_nanos(value)
            if nanos < 0:
                raise ov.OptError(f"--{flag.replace('_', '-')} cannot be negative")
            if nanos:
                health[key] = nanos
    if o.health_retries:
        health["Retries"] = o.health_retries
    return health


def build(o: Parsed, *, detach: bool = False, console_size: tuple[int, int] = (0, 0)) -> CreateRequest:
    """The create request for `run`/`create` options `o` (args: IMAGE [COMMAND [ARG...]])."""
    image, cmd = o.args[0], o.args[1:]
    given = o.given
    attach = [a.lower() for a in o.attach]
    for a in attach:
        if a not in ("stdin", "stdout", "stderr"):
            raise ov.OptError(f"invalid argument \"{a}\" for \"-a, --attach\" flag: valid streams are STDIN, "
                              "STDOUT and STDERR")
    attach_stdin = "stdin" in attach or bool(o.interactive)
    attach_stdout = "stdout" in attach or not attach
    attach_stderr = "stderr" in attach or not attach
    if detach:
        if attach:
            raise ov.OptError("conflicting options: cannot specify both --attach and --detach")
        attach_stdin = attach_stdout = attach_stderr = False
    if o.rm and o.restart not in ("", "no"):
        raise ov.OptError("conflicting options: cannot specify both --restart and --rm")

    env: list[str] = []
    for path in o.env_file:
        env.extend(ov.read_kv_file(path, lookup=True))
    env.extend(ov.env_value(e) for e in o.env)
    label_items: list[str] = []
    for path in o.label_file:
        label_items.extend(ov.read_kv_file(path, lookup=False))
    label_items.extend(o.label)

    binds: list[str] = []
    volumes: dict[str, Any] = {}
    for spec in o.volume:
        if not spec:
            raise ov.OptError("invalid empty volume spec")
        if ":" in spec:
            binds.append(spec)
        else:
            volumes[spec] = {}
    exposed, bindings = ov.parse_ports(o.publish, o.expose)

    entrypoint: list[str] | None = None
    if o.entrypoint:
        entrypoint = [o.entrypoint]
    elif "entrypoint" in given:
        entrypoint = [""]

    hc = _host_config_base()
    hc.update({
        "Binds": binds or None, "AutoRemove": bool(o.rm), "ReadonlyRootfs": bool(o.read_only),
        "Privileged": bool(o.privileged), "PublishAllPorts": bool(o.publish_all),
        "NetworkMode": o.network or "default", "PortBindings": bindings,
        "Devices": [ov.parse_device(d) for d in o.device], "Dns": list(o.dns),
        "DnsOptions": list(o.dns_option), "DnsSearch": list(o.dns_search),
        "ExtraHosts": [ov.parse_extra_host(h) for h in o.add_host] or None,
        "GroupAdd": list(o.group_add) or None, "IpcMode": o.ipc, "PidMode": o.pid, "UTSMode": o.uts,
        "UsernsMode": o.userns, "CgroupnsMode": o.cgroupns, "CgroupParent": o.cgroup_parent,
        "ContainerIDFile": o.cidfile, "VolumesFrom": list(o.volumes_from) or None,
        "SecurityOpt": ov.security_opts(o.security_opt) or None,
        "Ulimits": [ov.parse_ulimit(u) for u in o.ulimit],
        "LogConfig": {"Type": o.log_driver, "Config": ov.kv_map(o.log_opt)},
        "RestartPolicy": ov.parse_restart(o.restart),
        "CpuShares": o.cpu_shares, "CpuPeriod": o.cpu_period, "CpuQuota": o.cpu_quota,
        "CpusetCpus": o.cpuset_cpus, "CpusetMems": o.cpuset_mems, "OomScoreAdj": o.oom_score_adj,
        "OomKillDisable": bool(o.oom_kill_disable), "MemorySwappiness": o.memory_swappiness,
        "PidsLimit": o.pids_limit, "ConsoleSize": list(console_size),
    })
    add, drop = ov.normalize_caps(o.cap_add), ov.normalize_caps(o.cap_drop)  # the daemon settles overlaps
    hc["CapAdd"], hc["CapDrop"] = add or None, drop or None
    for flag, key in (("memory", "Memory"), ("memory_reservation", "MemoryReservation"),
                      ("shm_size", "ShmSize")):
        if getattr(o, flag):
            hc[key] = ov.ram_in_bytes(getattr(o, flag))
    if o.memory_swap:
        hc["MemorySwap"] = -1 if o.memory_swap == "-1" else ov.ram_in_bytes(o.memory_swap)
    if o.cpus:
        hc["NanoCpus"] = ov.nano_cpus(o.cpus)
    if "init" in given:
        hc["Init"] = bool(o.init)
    if o.mount:
        hc["Mounts"] = [ov.parse_mount(m) for m in o.mount]
    if o.tmpfs:
        hc["Tmpfs"] = {path: options for path, _, options in (t.partition(":") for t in o.tmpfs)}
    if o.sysctl:
        hc["Sysctls"] = ov.kv_map(o.sysctl)
    if o.runtime:
        hc["Runtime"] = o.runtime
    hc.update({"Links": list(o.link) or None, "BlkioWeight": o.blkio_weight, "VolumeDriver": o.volume_driver,
               "DeviceCgroupRules": list(o.device_cgroup_rule) or None})
    if o.storage_opt:
        hc["StorageOpt"] = ov.kv_map(o.storage_opt)

    body: dict[str, Any] = {
        "Hostname": o.hostname, "Domainname": o.domainname, "User": o.user,
        "AttachStdin": attach_stdin, "AttachStdout": attach_stdout, "AttachStderr": attach_stderr,
        "Tty": bool(o.tty), "OpenStdin": bool(o.interactive),
        "StdinOnce": bool(o.interactive) and attach_stdin, "Env": env or None, "Cmd": cmd or None,
        "Image": image, "Volumes": volumes, "WorkingDir": o.workdir, "Entrypoint": entrypoint,
        "OnBuild": None, "Labels": ov.kv_map(label_items), "HostConfig": hc,
        "NetworkingConfig": {"EndpointsConfig": _endpoints(o, hc["NetworkMode"])},
    }
    if exposed:
        body["ExposedPorts"] = exposed
    health = _healthcheck(o)
    if health is not None:
        body["Healthcheck"] = health
    if o.stop_signal:
        body["StopSignal"] = o.stop_signal
    if "stop_timeout" in given:
        body["StopTimeout"] = o.stop_timeout
    return CreateRequest(body, image, o.name, o.platform)
