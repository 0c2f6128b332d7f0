"""Nothing left behind: not after close, not after the owner is killed with SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from netns_support import need_netns, procs_mentioning, snapshot
from tierlab.linux import list_namespaces

pytestmark = pytest.mark.netns

OWNER = """
import time, tierlab as tl
from tierlab import linux
lab = linux.build(tl.load("seed"), services=True)   # PostgreSQL, API servers and ALB nodes too
vpc = linux.build(tl.load("seed-vpc"))               # NAT gateways, endpoint ENIs, S3's namespace
vpc.connect("node-api-1", "s3", 443), vpc.connect("node-api-1", "198.51.100.20", 443)  # NAT state
print(lab.id, vpc.id, " ".join(str(p.pid) for p in lab.stack.procs), flush=True)
time.sleep(600)
"""


def _wait_gone(sid: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (list_namespaces(sid) or procs_mentioning(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_close_and_sigkill_leave_nothing_behind():
    need_netns()
    import tierlab as tl
    from tierlab import linux

    before = snapshot()
    for name in ("seed", "seed-vpc"):  # seed-vpc: NAT gateways, interface endpoints' ENIs, the S3 namespace
        lab = linux.build(tl.load(name))
        assert len(list_namespaces(lab.id)) == len(lab.plan.keys)
        assert snapshot()["links"] == before["links"]            # no veth ever appears in the host's namespace
        lab.close()
        assert list_namespaces(lab.id) == [] and snapshot() == before
    assert {"nat-az1", "vpce-s3", "vpce-ssm@private-app-az1"} <= set(lab.plan.keys)

    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    sid, vid, *pids = owner.stdout.readline().split()
    assert sid.startswith("tl") and list_namespaces(sid) and len(pids) >= 6
    assert any(n.endswith("-nat-az1") for n in list_namespaces(vid))
    assert all(Path(f"/proc/{p}").exists() for p in pids)
    owner.kill()
    owner.wait()
    for s in (sid, vid):
        _wait_gone(s)
        assert list_namespaces(s) == [], "the guardian did not remove the namespaces"
        assert procs_mentioning(s) == [], "a process of the killed session is still running"
    assert [p for p in pids if _running(int(p))] == [], "a service of the killed session is still running"
    assert snapshot() == before


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
