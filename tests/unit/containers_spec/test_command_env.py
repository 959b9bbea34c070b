from __future__ import annotations

import pytest

from sampan.daemon.containers.spec import generate_spec, merge_env, resolve_command, validate_config
from sampan.errdefs import InvalidArgument, System


@pytest.mark.parametrize(("config", "image", "want"), [
    ({"Cmd": ["ls"]}, {"Cmd": ["sh"]}, ["ls"]),
    ({}, {"Cmd": ["sh", "-c", "x"]}, ["sh", "-c", "x"]),
    ({}, {"Entrypoint": ["/init"], "Cmd": ["run"]}, ["/init", "run"]),
    ({"Cmd": ["other"]}, {"Entrypoint": ["/init"], "Cmd": ["run"]}, ["/init", "other"]),
    ({"Entrypoint": ["/e"]}, {"Entrypoint": ["/init"], "Cmd": ["run"]}, ["/e"]),
    ({"Entrypoint": ["/e"], "Cmd": ["a"]}, {"Cmd": ["run"]}, ["/e", "a"]),
    ({"Entrypoint": [""], "Cmd": ["ls"]}, {"Entrypoint": ["/init"], "Cmd": ["run"]}, ["ls"]),
    ({"Entrypoint": "/str"}, {}, ["/str"]),
    ({"Cmd": "echo hi"}, {"Entrypoint": "/bin/sh -c"}, ["/bin/sh -c", "echo hi"]),
    ({"Cmd": None, "Entrypoint": None}, {"Cmd": ["x"]}, ["x"]),
])
def test_resolve_command(config: dict, image: dict, want: list[str]) -> None:
    assert resolve_command(config, image) == want


@pytest.mark.parametrize(("config", "image"), [
    ({}, {}),
    ({"Entrypoint": [""]}, {"Entrypoint": ["/init"], "Cmd": ["run"]}),
    ({"Entrypoint": []}, {"Cmd": ["run"]}),
])
def test_no_command(config: dict, image: dict) -> None:
    with pytest.raises(InvalidArgument, match=r"^no command specified$"):
        resolve_command(config, image)


def test_merge_env_order_and_override() -> None:
    image = ["PATH=/img", "A=1", "B=2"]
    assert merge_env(image, ["B=x", "C=3"]) == ["B=x", "C=3", "PATH=/img", "A=1"]
    assert merge_env(image, []) == image
    assert merge_env([], ["X=1"]) == ["X=1"]
    assert merge_env(["A=1"], ["A"]) == ["A"]


def test_process_env_defaults(make_inputs) -> None:
    spec = generate_spec(make_inputs({"Env": ["FOO=bar"], "Tty": True}))
    assert spec["process"]["env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=0123456789ab", "TERM=xterm", "FOO=bar"]
    assert spec["process"]["terminal"] is True


def test_process_env_path_and_hostname_overrides(make_inputs) -> None:
    spec = generate_spec(make_inputs({"Env": ["HOSTNAME=mine", "Z=1"]}, image_config={"Env": ["PATH=/bin", "Z=0"]}))
    assert spec["process"]["env"] == ["PATH=/bin", "HOSTNAME=mine", "Z=1"]
    assert "terminal" not in spec["process"]  # false is left out, as dockerd writes it


def test_env_unset_by_bare_name(make_inputs) -> None:
    spec = generate_spec(make_inputs({"Env": ["PATH"]}))
    assert not any(e.startswith("PATH=") for e in spec["process"]["env"])


def test_cwd(make_inputs) -> None:
    assert generate_spec(make_inputs())["process"]["cwd"] == "/"
    assert generate_spec(make_inputs(image_config={"WorkingDir": "/srv/"}))["process"]["cwd"] == "/srv"
    assert generate_spec(make_inputs({"WorkingDir": "/a/../b"}, image_config={"WorkingDir": "/srv"}))[
        "process"]["cwd"] == "/b"
    with pytest.raises(InvalidArgument, match="the working directory 'rel' is invalid, it needs to be an absolute"):
        generate_spec(make_inputs({"WorkingDir": "rel"}))


def test_init_wraps_command(make_inputs) -> None:
    spec = generate_spec(make_inputs({"Cmd": ["sleep", "1"]}, {"Init": True}, init_path="/usr/lib/sampan/init"))
    assert spec["process"]["args"] == ["/sbin/docker-init", "--", "sleep", "1"]
    dests = [m["destination"] for m in spec["mounts"]]
    init = spec["mounts"][dests.index("/dev/shm") + 1]  # after Docker's defaults, before the container's own
    assert init == {"destination": "/sbin/docker-init", "type": "bind", "source": "/usr/lib/sampan/init",
                    "options": ["bind", "ro"]}
    with pytest.raises(System, match="docker-init"):
        generate_spec(make_inputs({"Cmd": ["sleep", "1"]}, {"Init": True}))
    plain = generate_spec(make_inputs({"Cmd": ["sleep", "1"]}, init_path="/usr/lib/sampan/init"))
    assert plain["process"]["args"] == ["sleep", "1"]
    assert all(m["destination"] != "/sbin/docker-init" for m in plain["mounts"])


def test_hostname_and_domainname(make_inputs) -> None:
    spec = generate_spec(make_inputs())
    assert spec["hostname"] == "0123456789ab"
    assert "domainname" not in spec
    spec = generate_spec(make_inputs({"Hostname": "web", "Domainname": "example.org"}))
    assert (spec["hostname"], spec["domainname"]) == ("web", "example.org")
    assert "HOSTNAME=web" in spec["process"]["env"]


def test_hostname_host_network_is_the_hosts(make_inputs) -> None:
    import os

    spec = generate_spec(make_inputs(host_config={"NetworkMode": "host"}))
    assert spec["hostname"] == os.uname().nodename
    assert {"type": "uts"} in spec["linux"]["namespaces"]


def test_uts_host_sets_no_hostname(make_inputs) -> None:
    spec = generate_spec(make_inputs(host_config={"UTSMode": "host"}))
    assert "hostname" not in spec
    assert all(ns["type"] != "uts" for ns in spec["linux"]["namespaces"])
    with pytest.raises(InvalidArgument, match="conflicting options: hostname and the UTS mode"):
        validate_config({"Hostname": "x"}, {"UTSMode": "host"})
    # the service stores the hostname it chose in Config: starting must not trip over it
    assert "hostname" not in generate_spec(make_inputs({"Hostname": "x"}, {"UTSMode": "host"}))
