"""Nothing left behind: not after close, not after the owner is killed with SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import need_netns
from tierlab.linux import list_namespaces

pytestmark = pytest.mark.netns

OWNER = """
import time, tierlab as tl
from tierlab import linux
lab = linux.build(tl.load("seed"))
print(lab.id, flush=True)
time.sleep(600)
"""


def snapshot() -> dict[str, object]:
    """The host's own view: namespaces, links, nftables tables and tierlab's processes."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return {"namespaces": list_namespaces(), "links": sorted(l.split(":")[1].strip() for l in links.splitlines()),
            "tables": sorted(tables.splitlines())}


def _procs_mentioning(word: str) -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if word.encode() in (p / "cmdline").read_bytes():
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


def _wait_gone(sid: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (list_namespaces(sid) or _procs_mentioning(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_close_and_sigkill_leave_nothing_behind():
    need_netns()
    import tierlab as tl
    from tierlab import linux

    before = snapshot()
    lab = linux.build(tl.load("seed"))
    assert len(list_namespaces(lab.id)) == len(lab.plan.keys)
    assert snapshot()["links"] == before["links"]            # no veth ever appears in the host's namespace
    lab.close()
    assert list_namespaces(lab.id) == [] and snapshot() == before

    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    sid = owner.stdout.readline().strip()
    assert sid.startswith("tl") and list_namespaces(sid)
    owner.kill()
    owner.wait()
    _wait_gone(sid)
    assert list_namespaces(sid) == [], "the guardian did not remove the namespaces"
    assert _procs_mentioning(sid) == [], "a process of the killed session is still running"
    assert snapshot() == before
