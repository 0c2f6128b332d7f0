"""In a real Jupyter kernel: one call starts the database; a restart stops it; a killed kernel
leaves no server behind and the next start works."""

import os
import signal
import time

import pytest

from tierlab.db.embedded import _alive

pytestmark = [pytest.mark.database, pytest.mark.slow]

START = ("import tierlab as tl\n"
         "db = tl.db.connect(backend='embedded', verbose=False)\n"
         "print(db.server_pid, tl.db.create_user(db.engine, 'Kernel User', 'kernel@example.com').status)")


def _run(kc, code):
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("ERROR " + msg["content"]["evalue"])

    kc.execute_interactive(code, output_hook=hook, timeout=60)
    return "".join(out).strip()


def _gone(pid, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_kernel_restart_and_kill_leave_no_server(tmp_path):
    jupyter_client = pytest.importorskip("jupyter_client")
    km = jupyter_client.KernelManager(kernel_name="python3")
    log = open(tmp_path / "kernel.log", "wb")  # the kernel's own output goes to a file, not our pipes
    env = {k: v for k, v in os.environ.items() if k not in ("TIERLAB_DATABASE_URL", "DB_HOST")}
    km.start_kernel(stdout=log, stderr=log, env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        first = _run(kc, START).split()
        assert first[1] == "200", first
        pid = int(first[0])
        assert _alive(pid)
        km.restart_kernel(now=False)  # Kernel > Restart: a clean shutdown, then a new kernel
        assert _gone(pid), "the server outlived a kernel restart"
        kc.wait_for_ready(timeout=60)
        second = _run(kc, START).split()
        pid2 = int(second[0])
        assert second[1] == "200" and pid2 != pid
        os.kill(km.provisioner.pid, signal.SIGKILL)  # no atexit: only the parent-death signal can help
        assert _gone(pid2), "the server outlived a SIGKILLed kernel"
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        log.close()
