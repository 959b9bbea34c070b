"""The command table: command path -> (module, spec attribute), with a one-line summary.

Adding a command is one row here and a `Spec` in its module; modules load only when their
command runs, so `sampan --help` and `sampan version` stay fast.
"""

from __future__ import annotations

# (path, module, spec attribute, summary, group); group "" = an alias hidden from help.
TABLE: list[tuple[str, str, str, str, str]] = [
    ("run", "sampan.cli.run", "RUN", "Create and run a new container from an image", "common"),
    ("ps", "sampan.cli.ps", "PS", "List containers", "common"),
    ("pull", "sampan.cli.pull", "PULL", "Download an image from a registry", "common"),
    ("images", "sampan.cli.images", "LS", "List images", "common"),
    ("info", "sampan.cli.system", "INFO", "Display system-wide information", "common"),
    ("version", "sampan.cli.system", "VERSION", "Show the sampan version information", "common"),
    ("history", "sampan.cli.history", "HISTORY", "Show the history of an image", "commands"),
    ("inspect", "sampan.cli.inspect", "INSPECT", "Return low-level information on sampan objects",
     "commands"),
    ("rmi", "sampan.cli.image_ops", "RM", "Remove one or more images", "commands"),
    ("tag", "sampan.cli.image_ops", "TAG", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", "commands"),
    ("attach", "sampan.cli.attach", "ATTACH",
     "Attach local standard input, output, and error streams to a running container", "commands"),
    ("create", "sampan.cli.run", "CREATE", "Create a new container", "commands"),
    ("kill", "sampan.cli.containers", "KILL", "Kill one or more running containers", "commands"),
    ("logs", "sampan.cli.logs", "LOGS", "Fetch the logs of a container", "commands"),
    ("restart", "sampan.cli.containers", "RESTART", "Restart one or more containers", "commands"),
    ("rm", "sampan.cli.containers", "RM", "Remove one or more containers", "commands"),
    ("start", "sampan.cli.containers", "START", "Start one or more stopped containers", "commands"),
    ("stop", "sampan.cli.containers", "STOP", "Stop one or more running containers", "commands"),
    ("wait", "sampan.cli.containers", "WAIT", "Block until one or more containers stop, then print their exit codes",
     "commands"),
    ("container attach", "sampan.cli.attach", "ATTACH",
     "Attach local standard input, output, and error streams to a running container", "container"),
    ("container create", "sampan.cli.run", "CREATE", "Create a new container", "container"),
    ("container inspect", "sampan.cli.inspect", "CONTAINER_INSPECT",
     "Display detailed information on one or more containers", "container"),
    ("container kill", "sampan.cli.containers", "KILL", "Kill one or more running containers", "container"),
    ("container logs", "sampan.cli.logs", "LOGS", "Fetch the logs of a container", "container"),
    ("container ls", "sampan.cli.ps", "PS", "List containers", "container"),
    ("container list", "sampan.cli.ps", "PS", "List containers", ""),
    ("container ps", "sampan.cli.ps", "PS", "List containers", ""),
    ("container prune", "sampan.cli.containers", "PRUNE", "Remove all stopped containers", "container"),
    ("container restart", "sampan.cli.containers", "RESTART", "Restart one or more containers", "container"),
    ("container rm", "sampan.cli.containers", "RM", "Remove one or more containers", "container"),
    ("container remove", "sampan.cli.containers", "RM", "Remove one or more containers", ""),
    ("container run", "sampan.cli.run", "RUN", "Create and run a new container from an image", "container"),
    ("container start", "sampan.cli.containers", "START", "Start one or more stopped containers", "container"),
    ("container stop", "sampan.cli.containers", "STOP", "Stop one or more running containers", "container"),
    ("container wait", "sampan.cli.containers", "WAIT",
     "Block until one or more containers stop, then print their exit codes", "container"),
    ("exec", "sampan.cli.exec", "EXEC", "Execute a command in a running container", "common"),
    ("cp", "sampan.cli.cp", "CP", "Copy files/folders between a container and the local filesystem", "commands"),
    ("diff", "sampan.cli.container_misc", "DIFF",
     "Inspect changes to files or directories on a container's filesystem", "commands"),
    ("events", "sampan.cli.events", "EVENTS", "Get real time events from the server", "commands"),
    ("export", "sampan.cli.container_misc", "EXPORT", "Export a container's filesystem as a tar archive", "commands"),
    ("pause", "sampan.cli.container_misc", "PAUSE", "Pause all processes within one or more containers", "commands"),
    ("port", "sampan.cli.container_misc", "PORT",
     "List port mappings or a specific mapping for the container", "commands"),
    ("rename", "sampan.cli.container_misc", "RENAME", "Rename a container", "commands"),
    ("stats", "sampan.cli.stats", "STATS",
     "Display a live stream of container(s) resource usage statistics", "commands"),
    ("top", "sampan.cli.container_misc", "TOP", "Display the running processes of a container", "commands"),
    ("unpause", "sampan.cli.container_misc", "UNPAUSE",
     "Unpause all processes within one or more containers", "commands"),
    ("update", "sampan.cli.update", "UPDATE", "Update configuration of one or more containers", "commands"),
    ("container exec", "sampan.cli.exec", "EXEC", "Execute a command in a running container", "container"),
    ("container cp", "sampan.cli.cp", "CP",
     "Copy files/folders between a container and the local filesystem", "container"),
    ("container diff", "sampan.cli.container_misc", "DIFF",
     "Inspect changes to files or directories on a container's filesystem", "container"),
    ("container events", "sampan.cli.events", "EVENTS", "Get real time events from the server", "container"),
    ("container export", "sampan.cli.container_misc", "EXPORT",
     "Export a container's filesystem as a tar archive", "container"),
    ("container pause", "sampan.cli.container_misc", "PAUSE",
     "Pause all processes within one or more containers", "container"),
    ("container port", "sampan.cli.container_misc", "PORT",
     "List port mappings or a specific mapping for the container", "container"),
    ("container rename", "sampan.cli.container_misc", "RENAME", "Rename a container", "container"),
    ("container stats", "sampan.cli.stats", "STATS",
     "Display a live stream of container(s) resource usage statistics", "container"),
    ("container top", "sampan.cli.container_misc", "TOP", "Display the running processes of a container", "container"),
    ("container unpause", "sampan.cli.container_misc", "UNPAUSE",
     "Unpause all processes within one or more containers", "container"),
    ("container update", "sampan.cli.update", "UPDATE", "Update configuration of one or more containers", "container"),
    ("system df", "sampan.cli.system_df", "DF", "Show sampan disk usage", "system"),
    ("system events", "sampan.cli.events", "EVENTS", "Get real time events from the server", "system"),
    ("image history", "sampan.cli.history", "HISTORY", "Show the history of an image", "image"),
    ("image inspect", "sampan.cli.inspect", "IMAGE_INSPECT", "Display detailed information on one or more images",
     "image"),
    ("image ls", "sampan.cli.images", "LS", "List images", "image"),
    ("image list", "sampan.cli.images", "LS", "List images", ""),
    ("image prune", "sampan.cli.image_ops", "PRUNE", "Remove unused images", "image"),
    ("image pull", "sampan.cli.pull", "PULL", "Download an image from a registry", "image"),
    ("image rm", "sampan.cli.image_ops", "RM", "Remove one or more images", "image"),
    ("image remove", "sampan.cli.image_ops", "RM", "Remove one or more images", ""),
    ("image tag", "sampan.cli.image_ops", "TAG", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
     "image"),
    ("system info", "sampan.cli.system", "INFO", "Display system-wide information", "system"),
]

# Management commands: `sampan image` alone prints the group's help.
GROUPS: dict[str, str] = {
    "container": "Manage containers",
    "image": "Manage images",
    "system": "Manage sampan",
}


def lookup(words: list[str]) -> tuple[str, str, str] | None:
    """(path, module, attr) for the longest command path that starts `words`."""
    for n in (2, 1):
        path = " ".join(words[:n])
        for row in TABLE:
            if row[0] == path and len(words) >= n:
                return row[0], row[1], row[2]
    return None


def aliases_of(path: str) -> list[str]:
    """Every path naming the same spec, `path` first (docker's "Aliases:" section)."""
    target = next(((m, a) for p, m, a, _, _ in TABLE if p == path), None)
    same = [p for p, m, a, _, _ in TABLE if (m, a) == target]
    if len(same) < 2:
        return []
    return [path] + [p for p in same if p != path]


def root_help(global_flags: str) -> str:
    def section(title: str, rows: list[tuple[str, str]]) -> str:
        return f"{title}:\n" + "\n".join(f"  {name:<11} {summary}" for name, summary in rows) + "\n"

    common = [(p, s) for p, _, _, s, g in TABLE if g == "common"]
    management = sorted(GROUPS.items())
    other = sorted((p, s) for p, _, _, s, g in TABLE if g == "commands")
    return (
        "\nUsage:  sampan [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\n"
        + section("Common Commands", common) + "\n"
        + section("Management Commands", management) + "\n"
        + section("Commands", other) + "\n"
        + "Global Options:\n" + global_flags + "\n\n"
        + "Run 'sampan COMMAND --help' for more information on a command.\n"
    )


def group_help(group: str) -> str:
    rows = sorted((p.split(" ", 1)[1], s) for p, _, _, s, g in TABLE if g == group)
    body = "\n".join(f"  {name:<11} {summary}" for name, summary in rows)
    return (f"\nUsage:  sampan {group} COMMAND\n\n{GROUPS[group]}\n\nCommands:\n{body}\n\n"
            f"Run 'sampan {group} COMMAND --help' for more information on a command.\n")
