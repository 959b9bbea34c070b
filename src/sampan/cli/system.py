"""`sampan version` and `sampan info`: client and server sections, or `--format` over them."""

from __future__ import annotations

import platform
import time

from sampan.cli.context import Cli
from sampan.cli.flags import Flag, Parsed, Spec
from sampan.cli.format import tabwrite

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

# docker's version template, run by our template engine and aligned by the tabwriter.
VERSION_TEMPLATE = """{{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Python version:\t{{.GoVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .Server}}{{with .Server}}

Server:{{if .Platform.Name}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Python version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
  {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}"""


class GoStruct(dict):
    """A JSON object that also answers to Go field names (`.APIVersion` for `ApiVersion`)."""

    ALIASES = {"APIVersion": "ApiVersion"}

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return dict.get(self, self.ALIASES.get(key, key), default)


def go_build_time(ts: float) -> str:
    """Go's "Mon Jan _2 15:04:05 2006" layout (what docker shows as Built)."""
    return time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(ts))


def reformat_date(text: str) -> str:
    """The daemon's RFC 3339 BuildTime in Go's ANSIC layout, as docker shows it."""
    from sampan.cli.format import parse_rfc3339

    ts = parse_rfc3339(text)
    if ts is None:
        return text
    utc = text.endswith("Z") or text.endswith("+00:00")
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(ts) if utc else time.localtime(ts))


def server_version(raw: dict[str, Any]) -> GoStruct:
    server = GoStruct(raw)
    if server.get("BuildTime"):
        server["BuildTime"] = reformat_date(str(server["BuildTime"]))
    for component in server.get("Components") or []:
        details = component.get("Details") if isinstance(component, dict) else None
        if isinstance(details, dict) and details.get("BuildTime"):
            details["BuildTime"] = reformat_date(str(details["BuildTime"]))
    return server


def client_version(cli: Cli, api_version: str) -> GoStruct:
    import os

    from sampan import __version__
    from sampan.client.api import MAX_API_VERSION

    machine = platform.machine()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return GoStruct({
        "Platform": {"Name": "sampan"},
        "Version": __version__,
        "ApiVersion": api_version,
        "DefaultAPIVersion": MAX_API_VERSION,
        "GitCommit": "dev",
        "GoVersion": "python" + platform.python_version(),
        "Os": "linux",
        "Arch": arch,
        "BuildTime": go_build_time(os.path.getmtime(__file__)),
        "Context": "default",
    })


def run_version(cli: Cli, o: Parsed) -> int:
    from sampan.cli.formatter import prepare
    from sampan.cli.template import Template
    from sampan.client.api import MAX_API_VERSION

    client = cli.client()
    server: Any = None
    failure: Exception | None = None
    try:
        server = server_version(client.version())
        api_version = client.api_version
    except Exception as e:  # docker prints the client part, then the error
        failure, api_version = e, MAX_API_VERSION
    data = GoStruct({"Client": client_version(cli, api_version), "Server": server})
    if o.format:
        fmt = "{{json .}}" if o.format == "json" else prepare(o.format)
        cli.write(Template(fmt).execute(data) + "\n")
    else:
        text = Template(VERSION_TEMPLATE).execute(data)
        cli.write(tabwrite(text, minwidth=20, padding=1) + "\n")
    if failure is not None:
        raise failure
    return 0


def _line(label: str, value: Any, indent: int = 1) -> str:
    return f"{' ' * indent}{label}: {value}\n"


def client_info_text(cli: Cli) -> str:
    from sampan import __version__

    return (f"Client:\n Version:    {__version__}\n Context:    default\n"
            f" Debug Mode: {str(cli.debug).lower()}\n\nServer:\n")


def info_text(cli: Cli, info: dict[str, Any]) -> str:
    out = [client_info_text(cli)]
    out += [_line("Containers", info.get("Containers", 0)),
            _line("Running", info.get("ContainersRunning", 0), 2),
            _line("Paused", info.get("ContainersPaused", 0), 2),
            _line("Stopped", info.get("ContainersStopped", 0), 2),
            _line("Images", info.get("Images", 0)),
            _line("Server Version", info.get("ServerVersion", "")),
            _line("Storage Driver", info.get("Driver", ""))]
    for pair in info.get("DriverStatus") or []:
        if isinstance(pair, list) and len(pair) == 2:
            out.append(_line(pair[0], pair[1], 2))
    simple = [("Logging Driver", "LoggingDriver"), ("Cgroup Driver", "CgroupDriver"),
              ("Cgroup Version", "CgroupVersion")]
    out += [_line(label, info[key]) for label, key in simple if info.get(key)]
    runtimes = info.get("Runtimes") or {}
    if runtimes:
        out.append(_line("Runtimes", " ".join(sorted(runtimes))))
        out.append(_line("Default Runtime", info.get("DefaultRuntime", "")))
    more = [("Kernel Version", "KernelVersion"), ("Operating System", "OperatingSystem"),
            ("OSType", "OSType"), ("Architecture", "Architecture"), ("CPUs", "NCPU")]
    out += [_line(label, info[key]) for label, key in more if info.get(key) not in (None, "")]
    if info.get("MemTotal"):
        out.append(_line("Total Memory", binary_size(float(info["MemTotal"]))))
    out += [_line("Name", info.get("Name", "")), _line("ID", info.get("ID", "")),
            _line("Docker Root Dir", info.get("DockerRootDir", "")),
            _line("Debug Mode", str(bool(info.get("Debug"))).lower()),
            _line("Experimental", str(bool(info.get("ExperimentalBuild"))).lower())]
    registry = info.get("RegistryConfig") or {}
    insecure = list(registry.get("InsecureRegistryCIDRs") or [])
    insecure += [name for name, idx in (registry.get("IndexConfigs") or {}).items()
                 if isinstance(idx, dict) and not idx.get("Secure", True)]
    if insecure:
        out.append(" Insecure Registries:\n" + "".join(f"  {r}\n" for r in insecure))
    out.append(_line("Live Restore Enabled", str(bool(info.get("LiveRestoreEnabled"))).lower()))
    out.append("\n")
    for warning in info.get("Warnings") or []:
        out.append(f"{warning}\n")
    return "".join(out)


def binary_size(size: float) -> str:
    """go-units BytesSize: binary units with 4 significant digits (`3.844GiB`)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.4g}{units[i]}"


def run_info(cli: Cli, o: Parsed) -> int:
    from sampan.client.errors import ConnectionFailed

    try:
        info = cli.client().info()
    except ConnectionFailed:
        if not o.format:  # docker shows the client half, then the error
            cli.write(client_info_text(cli))
        raise
    if o.format:
        from sampan import __version__
        from sampan.cli.formatter import prepare
        from sampan.cli.template import Template

        data = dict(info, ClientInfo={"Version": __version__, "Context": "default", "Debug": cli.debug})
        fmt = "{{json .}}" if o.format == "json" else prepare(o.format)
        cli.write(Template(fmt).execute(data) + "\n")
        return 0
    cli.write(info_text(cli, info))
    return 0


FORMAT_HELP = ("Format output using a custom template:\n"
               "'json':             Print in JSON format\n"
               "'TEMPLATE':         Print output using the given Go template.")

VERSION = Spec("[OPTIONS]", "Show the sampan version information",
               [Flag("format", "f", "string", FORMAT_HELP)], run_version, max_args=0)
INFO = Spec("[OPTIONS]", "Display system-wide information",
            [Flag("format", "f", "string", FORMAT_HELP)], run_info, max_args=0)
