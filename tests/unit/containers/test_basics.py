"""Container state table, names, merge, hosts/resolv.conf, views, filters, create-body errors."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from sampan.daemon.containers import files, merge, names, views
from sampan.daemon.containers import state as st
from sampan.daemon.containers.filters import matches
from sampan.daemon.containers.record import ContainerRecord, State
from sampan.errdefs import Conflict, InvalidArgument, NotFound
from sampan.server.routes.containers_json import decode_create_body


def record(cid: str = "a" * 64, name: str = "box", created_ns: int = 1, **kw: object) -> ContainerRecord:
    base: dict[str, Any] = dict(
        id=cid, name=name, created="2024-01-01T00:00:00Z", created_ns=created_ns, image_id="sha256:" + "1" * 64,
        image_name="busybox", path="sh", args=["-c", "true"], config={"Labels": {"a": "1"}},
        host_config={"NetworkMode": "default"}, image_config={}, driver="overlay2")
    base.update(kw)
    return ContainerRecord(**base)


def test_state_table() -> None:
    st.check(st.CREATED, st.RUNNING, "x")
    st.check(st.RUNNING, st.EXITED, "x")
    with pytest.raises(Conflict):
        st.check(st.REMOVING, st.RUNNING, "x")
    assert st.is_active(st.PAUSED) and not st.is_active(st.EXITED)


def test_names() -> None:
    assert names.validate("/web-1") == "web-1"
    with pytest.raises(InvalidArgument, match=r"Invalid container name \(a b\)"):
        names.validate("a b")
    taken = {"x"}
    name = names.generate(lambda n: n in taken, random.Random(1))
    adjective, _, surname = name.partition("_")
    assert adjective in names.ADJECTIVES and surname in names.SURNAMES


def test_merge_like_dockerd() -> None:
    image = {"Env": ["PATH=/bin", "A=image"], "Cmd": ["sh"], "Entrypoint": None, "WorkingDir": "/w", "User": "1"}
    out = merge.merge_config({"Env": ["A=user"], "Cmd": None}, image)
    assert out["Env"] == ["A=user", "PATH=/bin"]
    assert out["Cmd"] == ["sh"] and out["WorkingDir"] == "/w" and out["User"] == "1"
    assert merge.command(out) == ("sh", [])
    out = merge.merge_config({"Entrypoint": ["echo"]}, image)
    assert merge.command(out) == ("echo", [])  # an entrypoint given drops the image's Cmd
    with pytest.raises(InvalidArgument, match="No command specified"):
        merge.command(merge.merge_config({}, {}))


def test_resolv_conf_drops_loopback() -> None:
    host = "search example.com\nnameserver 127.0.0.53\nnameserver 10.0.0.1\noptions ndots:1\n"
    text = files.resolv_conf(host, {}, host_network=False)
    assert "127.0.0.53" not in text and "nameserver 10.0.0.1" in text and "search example.com" in text
    assert "nameserver 8.8.8.8" in files.resolv_conf("nameserver 127.0.0.1\n", {}, host_network=False)
    assert "127.0.0.1" in files.resolv_conf("nameserver 127.0.0.1\n", {}, host_network=True)
    custom = files.resolv_conf(host, {"Dns": ["1.1.1.1"], "DnsSearch": ["a.b"]}, host_network=False)
    assert "nameserver 1.1.1.1" in custom and "10.0.0.1" not in custom and "search a.b" in custom


def test_hosts_extra() -> None:
    text = files.hosts("h", {"ExtraHosts": ["db:10.1.2.3"]}, host_network=False)
    assert text.startswith("127.0.0.1\tlocalhost\n") and "10.1.2.3\tdb\n" in text


def test_status_text() -> None:
    rec = record(state=State(status=st.EXITED, exit_code=3, finished_at="2024-01-01T00:00:00Z"))
    t0 = views.parse_time("2024-01-01T00:00:00Z")
    assert views.status_text(rec, t0 + 3) == "Exited (3) 3 seconds ago"
    rec.state = State(status=st.RUNNING, started_at="2024-01-01T00:00:00.5Z")
    assert views.status_text(rec, t0 + 2.6) == "Up 2 seconds"
    assert views.status_text(rec, t0 + 0.7) == "Up Less than a second"
    assert views.human_duration(3600) == "About an hour"
    rec.state = State()
    assert views.status_text(rec) == "Created"


def test_inspect_and_summary_shapes() -> None:
    rec = record(dir="/d")
    data = views.inspect(rec)
    assert data["Name"] == "/box" and data["State"]["Status"] == "created" and data["LogPath"].endswith("-json.log")
    assert data["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] == ""
    s = views.summary(rec)
    assert s["Names"] == ["/box"] and s["Command"] == "sh -c true" and s["HostConfig"] == {"NetworkMode": "default"}


def test_filters() -> None:
    a = record("a" * 64, "first", 1, state=State(status=st.EXITED, exit_code=1, started_at="2024-01-01T00:00:00Z"))
    b = record("b" * 64, "second", 2, config={"Labels": {"k": "v"}})
    by = {r.id: r for r in (a, b)}

    def lookup(ref: str) -> ContainerRecord:
        for r in by.values():
            if r.id.startswith(ref) or r.name == ref:
                return r
        raise NotFound(ref)

    def image_id(name: str) -> str | None:
        return None

    def pick(f: dict[str, list[str]]) -> list[str]:
        return [r.name for r in (a, b) if matches(r, f, lookup, image_id)]

    assert pick({"status": ["exited"]}) == ["first"]
    assert pick({"exited": ["1"]}) == ["first"]
    assert pick({"label": ["k=v"]}) == ["second"]
    assert pick({"name": ["sec"]}) == ["second"]
    assert pick({"since": ["first"]}) == ["second"]
    assert pick({"before": ["second"]}) == ["first"]
    assert pick({"ancestor": ["busybox"]}) == ["first", "second"]
    with pytest.raises(InvalidArgument):
        pick({"bogus": ["1"]})


@pytest.mark.parametrize(("body", "message"), [
    (b"", "invalid JSON: got EOF while reading request body"),
    (b"{bad", "invalid JSON: invalid character 'b' looking for beginning of object key string"),
    (b"[1 2]", "invalid JSON: invalid character '2' after array element"),
    (b'{"a" 1}', "invalid JSON: invalid character '1' after object key"),
    (b"null", "config cannot be empty in order to create a container"),
    (b'{"Image": "x"', "invalid JSON: unexpected EOF"),
])
def test_create_body_errors(body: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        decode_create_body(body)
    assert str(info.value) == message


def test_record_roundtrip(tmp_path: object) -> None:
    import os

    d = str(tmp_path)
    rec = record(dir=d, state=State(status=st.EXITED, exit_code=2))
    rec.save()
    again = ContainerRecord.load(d)
    assert again.state.exit_code == 2 and again.host_config == rec.host_config and again.dir == d
    with open(os.path.join(d, "hostconfig.json")) as f:
        assert json.load(f) == {"NetworkMode": "default"}


@pytest.mark.parametrize(("body", "message"), [
    ({"Cmd": 5}, "json: cannot unmarshal number into Go struct field CreateRequest.Cmd of type strslice.StrSlice"),
    ({"Env": "A=1"}, "json: cannot unmarshal string into Go struct field CreateRequest.Env of type []string"),
    ({"Tty": "yes"}, "json: cannot unmarshal string into Go struct field CreateRequest.Tty of type bool"),
    ({"HostConfig": {"Memory": "1g"}},
     "json: cannot unmarshal string into Go struct field CreateRequest.HostConfig.Memory of type int"),
    ({"Labels": {"a": 1}}, "json: cannot unmarshal object into Go struct field CreateRequest.Labels of type "
                           "map[string]string"),
])
def test_create_body_wrong_types(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        decode_create_body(json.dumps(body).encode())
    assert str(info.value) == "invalid JSON: " + message


def test_create_body_string_cmd_is_a_list() -> None:
    assert decode_create_body(b'{"Cmd": "true", "Image": "x"}')["Cmd"] == ["true"]
