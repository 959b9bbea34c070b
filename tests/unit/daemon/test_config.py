from __future__ import annotations

import json
from pathlib import Path

import pytest

from sampan.daemon.config import DEFAULT_HOST, DaemonConfig, load_config
from sampan.errdefs import InvalidArgument


def write(tmp_path: Path, content: object) -> str:
    path = tmp_path / "daemon.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(["--config-file", write(tmp_path, {})])
    assert cfg.hosts == (DEFAULT_HOST,)
    assert cfg.data_root == "/var/lib/sampan" and cfg.exec_root == "/run/sampan"
    assert cfg.max_concurrent_downloads == 3 and cfg.storage_driver == "auto"
    assert cfg.pidfile_path == "/run/sampan/sampand.pid"
    assert cfg.log_level == "info" and cfg.debug is False


def test_flags(tmp_path: Path) -> None:
    cfg = load_config([
        "-H", "unix:///tmp/a.sock", "--host", "tcp://127.0.0.1:2375",
        "--data-root", "/d", "--exec-root", "/e", "--insecure-registry", "r1:5000",
        "--insecure-registry", "10.0.0.0/8", "--storage-driver", "overlay2",
        "--max-concurrent-downloads", "5", "-D", "--log-level", "warn",
        "--config-file", write(tmp_path, ""),
    ])
    assert cfg.hosts == ("unix:///tmp/a.sock", "tcp://127.0.0.1:2375")
    assert cfg.insecure_registries == ("r1:5000", "10.0.0.0/8")
    assert cfg.storage_driver == "overlay"
    assert cfg.max_concurrent_downloads == 5 and cfg.debug and cfg.log_level == "warn"
    assert cfg.pidfile_path == "/e/sampand.pid"


def test_file_values(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "hosts": ["unix:///tmp/b.sock"], "data-root": "/d2", "exec-root": "/e2",
        "insecure-registries": ["127.0.0.1:5000"], "storage-driver": "vfs",
        "max-concurrent-downloads": 7, "debug": True, "log-level": "error", "pidfile": "/p.pid",
    })
    cfg = load_config(["--config-file", path])
    assert cfg == DaemonConfig(
        hosts=("unix:///tmp/b.sock",), data_root="/d2", exec_root="/e2", config_file=path,
        insecure_registries=("127.0.0.1:5000",), storage_driver="native",
        max_concurrent_downloads=7, debug=True, log_level="error", pidfile="/p.pid")


def test_flags_and_file_merge(tmp_path: Path) -> None:
    cfg = load_config(["--data-root", "/flag", "--config-file", write(tmp_path, {"exec-root": "/file"})])
    assert (cfg.data_root, cfg.exec_root) == ("/flag", "/file")


def test_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, {"bogus": 1, "also-bad": 2, "debug": True})
    with pytest.raises(InvalidArgument) as err:
        load_config(["--config-file", path])
    assert str(err.value) == (
        f"unable to configure the Docker daemon with file {path}: the following directives "
        "don't match any configuration option: also-bad, bogus")


def test_conflict_between_flag_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, {"hosts": ["unix:///f.sock"], "debug": True})
    with pytest.raises(InvalidArgument) as err:
        load_config(["-H", "unix:///a.sock", "-D", "--config-file", path])
    assert str(err.value) == (
        f"unable to configure the Docker daemon with file {path}: the following directives are "
        "specified both as a flag and in the configuration file: hosts: (from flag: [unix:///a.sock], "
        "from file: [unix:///f.sock]), debug: (from flag: true, from file: true)")


def test_explicit_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="no such file or directory"):
        load_config(["--config-file", str(tmp_path / "nope.json")])


@pytest.mark.parametrize("content,needle", [
    ("{not json", "unable to configure the Docker daemon"),
    ("[]", "must be a JSON object"),
    ({"max-concurrent-downloads": "3"}, 'invalid value for max-concurrent-downloads: "3"'),
    ({"debug": "yes"}, "invalid value for debug"),
    ({"hosts": "unix:///x"}, "invalid value for hosts"),
    ({"max-concurrent-downloads": 0}, "invalid max concurrent downloads: 0"),
    ({"storage-driver": "zfs"}, "unknown storage driver"),
    ({"data-root": "relative"}, "is not an absolute path"),
])
def test_bad_values(tmp_path: Path, content: object, needle: str) -> None:
    with pytest.raises(InvalidArgument, match=needle):
        load_config(["--config-file", write(tmp_path, content)])


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as err:
        load_config(["--version"])
    assert err.value.code == 0
    assert capsys.readouterr().out.startswith("sampand version ")


def test_main_reports_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sampan.daemon.main import main

    assert main(["--config-file", write(tmp_path, {"nope": 1})]) == 1
    assert "don't match any configuration option: nope" in capsys.readouterr().err
