"""top's table, diff's lines, port's lines and system df's summary, without a daemon."""

from __future__ import annotations

import pytest

from sampan.cli.container_misc import diff_lines, port_lines, top_table, validate_output_path
from sampan.cli.errors import StatusError
from sampan.cli.system_df import df_output


def test_top_table_has_docker_s_columns() -> None:
    table = top_table({"Titles": ["UID", "PID", "CMD"],
                       "Processes": [["root", "1", "sh -c sleep"], ["root", "12345", "sleep 1"]]})
    assert table == ("UID                 PID                 CMD\n"
                     "root                1                   sh -c sleep\n"
                     "root                12345               sleep 1\n")
    assert top_table({"Titles": ["A-VERY-LONG-TITLE-INDEED", "B"], "Processes": []}) == (
        "A-VERY-LONG-TITLE-INDEED   B\n")


def test_diff_lines() -> None:
    changes = [{"Path": "/etc", "Kind": 0}, {"Path": "/x", "Kind": 1}, {"Path": "/y", "Kind": 2}]
    assert diff_lines(changes) == "C /etc\nA /x\nD /y\n"
    assert diff_lines([]) == ""


def test_port_lines() -> None:
    ports = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
             "443/tcp": None, "9/udp": [{"HostIp": "127.0.0.1", "HostPort": "9999"}]}
    assert port_lines(ports, "", "c") == ["9/udp -> 127.0.0.1:9999",  # natural order: 9 before 80
                                          "80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080"]
    assert port_lines(ports, "80", "c") == ["0.0.0.0:8080", "[::]:8080"]
    assert port_lines(None, "", "c") == []
    with pytest.raises(StatusError, match=r"^Error: No public port '443/tcp' published for c$"):
        port_lines(ports, "443/tcp", "c")
    with pytest.raises(StatusError, match=r'^Error: invalid port \(x\): strconv.ParseUint: parsing "x": invalid'):
        port_lines(ports, "x", "c")


def test_output_path_rules(tmp_path: object) -> None:
    assert validate_output_path("") is None
    assert validate_output_path(f"{tmp_path}/new.tar") is None
    assert validate_output_path("/no/such/dir/x") == 'invalid output path: directory "/no/such/dir" does not exist'
    assert validate_output_path("/dev/null") == ('invalid output path: "/dev/null" must be a directory or a '
                                                 "regular file: got a device")


DU = {"LayersSize": 2_000_000,
      "Images": [{"Id": "sha256:" + "b" * 64, "RepoTags": ["busybox:latest"], "Size": 2_000_000, "SharedSize": 0,
                  "Containers": 1, "Created": 0},
                 {"Id": "sha256:" + "c" * 64, "RepoTags": [], "Size": 500_000, "SharedSize": 0, "Containers": 0,
                  "Created": 0}],
      "Containers": [{"Id": "d" * 64, "Names": ["/up"], "Image": "busybox", "Command": "sh", "State": "running",
                      "Status": "Up", "SizeRw": 1000, "Created": 0},
                     {"Id": "e" * 64, "Names": ["/down"], "Image": "busybox", "Command": "sh", "State": "exited",
                      "Status": "Exited (0)", "SizeRw": 3000, "Created": 0}],
      "Volumes": [], "BuildCache": []}


def test_df_summary() -> None:
    assert df_output(DU, "", False) == (
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
        "Images          2         1         2MB       0B (0%)\n"
        "Containers      2         1         4kB       3kB (75%)\n"
        "Local Volumes   0         0         0B        0B\n"
        "Build Cache     0         0         0B        0B\n")
    assert df_output(DU, "{{.Type}}={{.Active}}", False) == (
        "Images=1\nContainers=1\nLocal Volumes=0\nBuild Cache=0\n")
    assert df_output(DU, "json", False).splitlines()[1] == (
        '{"Active":"1","Reclaimable":"3kB (75%)","Size":"4kB","TotalCount":"2","Type":"Containers"}')


def test_df_verbose_sections() -> None:
    text = df_output(DU, "", True)
    assert text.startswith("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED")
    assert "\nbusybox      latest    bbbbbbbbbbbb" in text and "\n<none>       <none>    cccccccccccc" in text
    assert "\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE" in text
    assert "\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n" in text
    assert text.endswith("\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   "
                         "USAGE     SHARED\n")
