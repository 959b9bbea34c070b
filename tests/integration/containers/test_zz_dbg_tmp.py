from tests.integration.containers.test_api import *  # noqa
def test_dbg(daemon, busybox_ref):
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": ["true"]})
    status, data2 = daemon.json("POST", f"/containers/{data['Id']}/start")
    print("START", status, data2)
    daemon.request("DELETE", f"/containers/{data['Id']}?force=1")
