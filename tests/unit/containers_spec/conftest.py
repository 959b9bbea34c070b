from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from sampan.daemon.containers.spec import SpecInputs

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "u1:x:1000:1000::/home/u1:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\nwheel:x:10:root,u1\naudio:x:29:u1\nu1:x:1000:\nnogroup:x:65534:\n"
CID = "0123456789ab" + "c" * 52


@pytest.fixture
def rootfs(tmp_path: Any) -> str:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return str(root)


@pytest.fixture
def make_inputs(rootfs: str, tmp_path: Any) -> Callable[..., SpecInputs]:
    def make(config: dict[str, Any] | None = None, host_config: dict[str, Any] | None = None,
             image_config: dict[str, Any] | None = None, **kw: Any) -> SpecInputs:
        cdir = os.path.join(str(tmp_path), "cdir")
        args: dict[str, Any] = dict(
            container_id=CID, config={"Cmd": ["sh"], **(config or {})}, host_config=host_config or {},
            image_config=image_config or {}, rootfs=rootfs, hosts_path=f"{cdir}/hosts",
            hostname_path=f"{cdir}/hostname", resolv_conf_path=f"{cdir}/resolv.conf", shm_path=None)
        args.update(kw)
        return SpecInputs(**args)

    return make
