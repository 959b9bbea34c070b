"""`sampan events` output: docker's default line, `--format json` and templates, the query sent."""

from __future__ import annotations

import json

import pytest

from sampan.cli.errors import StatusError
from sampan.cli.events import EVENTS, EventMessage, local_time_nano, make_template, pretty, query
from sampan.cli.flags import parse_args

RAW = {"status": "start", "id": "abc123", "from": "ubuntu:latest", "Type": "container", "Action": "start",
       "Actor": {"ID": "abc123", "Attributes": {"name": "web", "image": "ubuntu:latest"}}, "scope": "local",
       "time": 2, "timeNano": 2_000_000_001}


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_default_line_is_dockers() -> None:
    assert pretty(EventMessage(RAW)) == \
        "1970-01-01T00:00:02.000000001Z container start abc123 (image=ubuntu:latest, name=web)\n"
    bare = dict(RAW, Actor={"ID": "", "Attributes": {}}, timeNano=0, time=0)
    assert pretty(EventMessage(bare)) == "container start \n"


def test_local_zone_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    assert local_time_nano(0) == "1970-01-01T05:30:00.000000000+05:30"


def test_json_format_is_the_message_as_go_marshals_it() -> None:
    tmpl = make_template("json")
    assert tmpl is not None
    line = tmpl.execute(EventMessage(RAW))
    assert list(json.loads(line)) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time",
                                      "timeNano"]
    assert '"Attributes":{"image":"ubuntu:latest","name":"web"}' in line
    image = EventMessage({"Type": "image", "Action": "prune", "Actor": {"ID": "", "Attributes": {}}})
    assert tmpl.execute(image).startswith('{"Type":"image"')


def test_templates_see_go_field_names() -> None:
    tmpl = make_template("{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{json .Action}}")
    assert tmpl is not None
    assert tmpl.execute(EventMessage(RAW)) == 'container start abc123 web "start"'


def test_a_bad_template_exits_64() -> None:
    with pytest.raises(StatusError) as err:
        make_template("{{.NoSuchField}}")
    assert err.value.status == 64 and "Error parsing format" in err.value.message


def test_query_converts_times_like_the_docker_client() -> None:
    o = parse_args(EVENTS, "events", ["--since", "10m", "--until", "2026-11-28T07:40:00Z",
                                      "-f", "type=container", "-f", "event=die"])
    q = query(o, now=1_800_000_000.0)
    assert q["since"] == str(1_800_000_000 - 600)
    assert q["until"] == "1795851600.000000000"
    assert json.loads(q["filters"]) == {"event": {"die": True}, "type": {"container": True}}
    with pytest.raises(StatusError, match="failed to parse value as time or duration"):
        query(parse_args(EVENTS, "events", ["--since", "soon"]))
