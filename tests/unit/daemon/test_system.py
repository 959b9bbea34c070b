from __future__ import annotations

from pathlib import Path

from sampan.daemon.config import DaemonConfig
from sampan.daemon.system import SystemService, cgroup_version, engine_id, operating_system


def service(tmp_path: Path, **kw: object) -> SystemService:
    cfg = DaemonConfig(data_root=str(tmp_path / "data"), exec_root=str(tmp_path / "exec"),
                       **kw)  # type: ignore[arg-type]
    return SystemService(cfg, image_count=lambda: 4)


def test_version_fields(tmp_path: Path) -> None:
    v = service(tmp_path).version()
    assert v["Platform"] == {"Name": "sampan"}
    assert v["ApiVersion"] == "1.44" and v["MinAPIVersion"] == "1.24"
    engine = v["Components"][0]
    assert engine["Name"] == "Engine" and engine["Version"] == v["Version"]
    assert engine["Details"]["ApiVersion"] == "1.44"
    assert v["GoVersion"].startswith("python3.")
    assert v["Os"] == "linux" and v["Arch"]


def test_info_fields(tmp_path: Path) -> None:
    info = service(tmp_path, insecure_registries=("myreg:5000", "10.1.0.0/16"),
                   storage_driver="native").info()
    assert info["Images"] == 4
    assert info["Driver"] == "vfs"
    assert info["DockerRootDir"] == str(tmp_path / "data")
    assert info["RegistryConfig"]["InsecureRegistryCIDRs"] == ["127.0.0.0/8", "10.1.0.0/16"]
    assert info["RegistryConfig"]["IndexConfigs"]["myreg:5000"]["Secure"] is False
    assert info["CgroupDriver"] == "cgroupfs" and info["CgroupVersion"] in ("1", "2")
    assert info["OSType"] == "linux" and info["NCPU"] >= 1
    for key in ("ID", "Name", "KernelVersion", "OperatingSystem", "ServerVersion", "Runtimes",
                "DefaultRuntime", "SecurityOptions", "Plugins", "Warnings", "Swarm", "MemTotal"):
        assert key in info


def test_info_survives_a_failing_image_count(tmp_path: Path) -> None:
    def broken() -> int:
        raise OSError("database is locked")

    svc = SystemService(DaemonConfig(data_root=str(tmp_path), exec_root=str(tmp_path / "exec")), image_count=broken)
    assert svc.info()["Images"] == 0


def test_engine_id_is_stable(tmp_path: Path) -> None:
    first = engine_id(str(tmp_path / "d"))
    assert first == engine_id(str(tmp_path / "d"))
    assert first != engine_id(str(tmp_path / "other"))


def test_cgroup_version(tmp_path: Path) -> None:
    assert cgroup_version(str(tmp_path)) == "1"
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert cgroup_version(str(tmp_path)) == "2"


def test_operating_system(tmp_path: Path) -> None:
    p = tmp_path / "os-release"
    p.write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n')
    assert operating_system(str(p)) == ("Debian GNU/Linux 12 (bookworm)", "12")
    assert operating_system(str(tmp_path / "missing")) == ("Linux", "")


def test_wired_counts_and_driver(tmp_path: Path) -> None:
    svc = SystemService(DaemonConfig(data_root=str(tmp_path), exec_root=str(tmp_path / "exec")), image_count=lambda: 2,
                        driver_name=lambda: "overlay2",
                        container_counts=lambda: {"Containers": 3, "ContainersRunning": 1,
                                                  "ContainersStopped": 2})
    info = svc.info()
    assert (info["Images"], info["Driver"]) == (2, "overlay2")
    assert (info["Containers"], info["ContainersRunning"], info["ContainersPaused"],
            info["ContainersStopped"]) == (3, 1, 0, 2)
