"""The runc-style command line: flags, errors on stderr in logrus format, exit codes."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from sampan.runtime.cli import COMMANDS, GLOBAL_FLAGS, UsageError, main, parse_flags
from sampan.runtime.manage import format_table, parse_signal


def test_parse_flags_stops_at_first_argument() -> None:
    flags = COMMANDS["exec"][0]
    opts, rest = parse_flags(["-t", "--env", "A=1", "-e=B=2", "--user", "1:2", "ctr", "ps", "-ef"], flags)
    assert opts == {"tty": True, "env": ["A=1", "B=2"], "user": "1:2"}
    assert rest == ["ctr", "ps", "-ef"]


def test_parse_flags_single_dash_long_and_errors() -> None:
    opts, rest = parse_flags(["-root", "/x", "list"], GLOBAL_FLAGS)
    assert opts["root"] == "/x" and rest == ["list"]
    with pytest.raises(UsageError, match="not defined"):
        parse_flags(["--bogus"], GLOBAL_FLAGS)
    with pytest.raises(UsageError, match="needs an argument"):
        parse_flags(["--root"], GLOBAL_FLAGS)
    with pytest.raises(UsageError, match="invalid value"):
        parse_flags(["--preserve-fds", "x"], COMMANDS["create"][0])


def test_version(capsys: Any) -> None:
    assert main(["--version"]) == 0
    assert "sampan-runtime version" in capsys.readouterr().out


def test_unknown_command(capsys: Any) -> None:
    assert main(["bogus"]) == 3
    assert "No help topic for 'bogus'" in capsys.readouterr().err


def test_missing_container(tmp_path: Any, capsys: Any) -> None:
    for cmd in (["state", "nope"], ["kill", "nope"], ["delete", "nope"], ["start", "nope"]):
        assert main(["--root", str(tmp_path), *cmd]) == 1
        err = capsys.readouterr().err
        assert 'level=error msg="container \\"nope\\" does not exist"' in err


def test_missing_container_json_log(tmp_path: Any, capsys: Any) -> None:
    log = tmp_path / "log.json"
    assert main(["--root", str(tmp_path), "--log", str(log), "--log-format", "json", "state", "nope"]) == 1
    line = json.loads(capsys.readouterr().err)
    assert line["level"] == "error" and line["msg"] == 'container "nope" does not exist'
    assert json.loads(log.read_text())["msg"] == line["msg"]


def test_delete_force_missing_is_ok(tmp_path: Any) -> None:
    assert main(["--root", str(tmp_path), "delete", "--force", "nope"]) == 0


def test_wrong_argument_count(tmp_path: Any, capsys: Any) -> None:
    assert main(["--root", str(tmp_path), "state"]) == 1
    assert "requires exactly 1 argument" in capsys.readouterr().err


def test_invalid_id(tmp_path: Any, capsys: Any) -> None:
    assert main(["--root", str(tmp_path), "state", "../x"]) == 1
    assert "invalid container id" in capsys.readouterr().err


def test_list_empty(tmp_path: Any, capsys: Any) -> None:
    assert main(["--root", str(tmp_path), "list"]) == 0
    assert capsys.readouterr().out == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"
    assert main(["--root", str(tmp_path / "none"), "list", "--format", "json"]) == 0
    assert capsys.readouterr().out == "null\n"
    assert main(["--root", str(tmp_path), "list", "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_table_widths() -> None:
    row = {"id": "a-long-container-id", "pid": 12, "status": "running", "bundle": "/b", "created": "t", "owner": ""}
    lines = format_table([row]).splitlines()
    assert lines[0].index("PID") == len("a-long-container-id") + 3
    assert lines[1].split() == ["a-long-container-id", "12", "running", "/b", "t"]


def test_spec_and_features(tmp_path: Any, capsys: Any) -> None:
    assert main(["spec", "--bundle", str(tmp_path)]) == 0
    spec = json.loads((tmp_path / "config.json").read_text())
    assert spec["process"]["args"] == ["sh"] and spec["root"] == {"path": "rootfs", "readonly": True}
    assert main(["spec", "-b", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    os.unlink(tmp_path / "config.json")
    assert main(["spec", "--rootless", "-b", str(tmp_path)]) == 0
    spec = json.loads((tmp_path / "config.json").read_text())
    assert {"type": "user"} in spec["linux"]["namespaces"]
    assert main(["features"]) == 0
    feats = json.loads(capsys.readouterr().out)
    assert "prestart" in feats["hooks"] and "CAP_SYS_ADMIN" in feats["linux"]["capabilities"]
    assert "rbind" in feats["mountOptions"]


def test_signals() -> None:
    assert parse_signal("KILL") == 9 and parse_signal("SIGTERM") == 15 and parse_signal("9") == 9
    assert parse_signal("hup") == 1
    for bad in ("SIGBOGUS", "0", "999"):
        with pytest.raises(Exception, match="unknown signal"):
            parse_signal(bad)


def test_create_rejects_bad_config_before_anything(tmp_path: Any, capsys: Any) -> None:
    bundle = tmp_path / "b"
    (bundle / "rootfs").mkdir(parents=True)
    (bundle / "config.json").write_text('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, '
                                        '"process": {"args": ["sh"]}, "linux": {"namespaces": [{"type": "bogus"}]}}')
    root = tmp_path / "state"
    assert main(["--root", str(root), "create", "-b", str(bundle), "x"]) == 1
    assert "unknown namespace type 'bogus'" in capsys.readouterr().err
    assert not root.exists()
