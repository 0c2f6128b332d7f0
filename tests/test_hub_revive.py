"""A JupyterHub killed with SIGKILL while learners work (the OOM killer's way) comes back, and no learner loses work.

Two learners, their servers running, each with work: a file saved in their home, a variable in a running kernel.
Then JupyterHub gets SIGKILL, and while it is down learner B's server is killed too (so B's kernel is orphaned).
``ClassHub.revive()`` (what ``tierlab hub`` does when its JupyterHub dies by a signal) starts it again. Laws:

* A's server is re-adopted: the same process, ready, reachable through the new proxy, and A's kernel still holds
  its variable (nothing in memory lost);
* B's dead server is known as stopped, and nothing is left running in B's home (the orphaned kernel is reaped);
  B's saved file is in B's home for their next start;
* the dead hub's idle culler and proxy are gone, and the new hub runs exactly one culler;
* stopping the class afterwards leaves no process in the class folder.

No sleeps as synchronisation: every wait polls a real state (the hub's API, /proc) with a bound.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hub, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int, needle: bytes) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and needle in cmd:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    from tierlab.hub.classroom import _alive as alive

    return alive(pid)


def _gone_within(pids: list[int], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)  # polling /proc, bounded
    return True


def test_a_hub_killed_with_sigkill_comes_back_and_no_learner_loses_work() -> None:
    pytest.importorskip("jupyterhub")
    from tierlab.hub import ClassHub
    from tierlab.hub.classroom import _processes_under

    root = Path(tempfile.mkdtemp(prefix="tierlab-hub-revive-", dir="/tmp"))
    os.chmod(root, 0o711)
    tag = "r" + secrets.token_hex(3)
    h = ClassHub([f"{tag}_a", f"{tag}_b"], data=root / "class", port=_free_port(), cull_idle_s=600,
                 admin=f"{tag}_admin")
    try:
        h.start(timeout_s=180)
        a, b = h.learners
        for n in (a, b):
            h.start_server(n)
        for n in (a, b):
            h.wait_ready(n, timeout_s=300)
        for n in (a, b):  # work: a file in the home, a variable in a kernel left running
            h.run_code(n, f"kept = {n!r}; open('work.txt', 'w').write('saved by ' + kept)", shutdown=False)
        kernel_a = h.kernels(a)[0]["id"]
        servers = h.server_pids()
        b_all = [pid for pid, _ in _processes_under(h.home(b))]
        assert servers[b] in b_all and len(b_all) >= 2, b_all  # B's server and B's kernel
        old_hub = h.proc.pid
        old_culler = _children(old_hub, b"jupyterhub_idle_culler")
        old_proxy = _children(old_hub, b"configurable-http-proxy")
        assert len(old_culler) == 1 and len(old_proxy) == 1, (old_culler, old_proxy)

        h.proc.send_signal(signal.SIGKILL)
        h.proc.wait(timeout=30)
        os.kill(servers[b], signal.SIGKILL)  # the OOM killer took B's server as well: B's kernel is orphaned
        assert _gone_within([servers[b]])

        h.revive(timeout_s=180)

        assert h.server_pids()[a] == servers[a]  # re-adopted: the same process
        assert h.api("GET", f"/users/{a}")["servers"][""]["ready"]
        assert [k["id"] for k in h.kernels(a)] == [kernel_a]
        assert h.run_code(a, "print(kept)", kernel=kernel_a).strip() == a  # what A's kernel held is still there
        from tierlab.errors import TierlabError

        with pytest.raises(TierlabError, match=r"\(cell 1 of 2\) raised ZeroDivisionError"):  # a failure names its cell
            h.run_code(a, ["kept", "1 / 0"], kernel=kernel_a)
        assert not h.api("GET", f"/users/{b}")["servers"]  # B's dead server is known as stopped
        assert not [pid for pid, _ in _processes_under(h.home(b))], "B's orphaned kernel still runs"
        assert not any(_alive(p) for p in old_culler + old_proxy), "the dead hub's culler or proxy still runs"
        assert len(_children(h.proc.pid, b"jupyterhub_idle_culler")) == 1

        for n in (a, b):  # every saved file is where its learner left it (B finds it at their next start)
            assert (h.home(n) / "work.txt").read_text() == f"saved by {n}"
    finally:
        try:
            h.stop()
            left = [pid for pid, _ in _processes_under(root)]
        finally:
            shutil.rmtree(root, ignore_errors=True)
    assert not left, f"processes left in the class folder: {left}"
