"""The Docker backend: testcontainers' PostgresContainer running the official ``postgres:15``.

Asking whether a Docker engine answers takes well under a second (``docker_engine``): a raw
``GET /_ping`` on the socket with a short timeout, never the Docker SDK's 60-second default.
The image is looked for on the engine first: when it is missing and Docker was not asked for by
name, ``connect()`` falls back to the embedded server at once and its one line says so; with
``backend="docker"`` the image is pulled, with progress lines and a time limit.

Like the embedded server: published on 127.0.0.1 only (``docker -p 127.0.0.1::5432``, never all
interfaces), TLS with a certificate made for this session, and the learner connects as the
application's role (``app_user``, owner of ``appdb``, no superuser); the image's superuser is
tierlab's administrator role.

Settings come as arguments (:class:`DockerOptions`), never through ``os.environ``, so a private
``DOCKER_HOST`` used by the test suite cannot leak into other tests or notebook kernels.
``host_network=True`` runs the container on the host's network (no bridge, no port mapping): the
server listens on 127.0.0.1 at a free port, which is how the CI job keeps all traffic on the
loopback. That mode reaches into testcontainers' internals (port bindings, host lookup), which
is why testcontainers is pinned.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from sqlalchemy.engine import URL

from ..errors import DatabaseError
from .embedded import ADMIN_ROLE, APP_ROLE, DBNAME, _make_cert, prepare_app_database

__all__ = ["DockerOptions", "EngineProbe", "docker_engine", "start_postgres", "build_container", "DEFAULT_IMAGE",
           "LOOPBACK_BINDING", "network_args"]

#: The seed says "PostgreSQL 15".
DEFAULT_IMAGE = "postgres:15"
_SOCKETS = ("/var/run/docker.sock", "~/.docker/run/docker.sock", "~/.colima/default/docker.sock",
            "$XDG_RUNTIME_DIR/docker.sock")


@dataclass(frozen=True)
class DockerOptions:
    """Where the engine is and how to run the container; ``None`` fields mean the defaults."""

    host: str | None = None  # e.g. "unix:///run/docker.sock"; default: $DOCKER_HOST or the usual sockets
    image: str = DEFAULT_IMAGE
    host_network: bool = False  # CI: host networking on 127.0.0.1, no bridge
    ryuk: bool = True  # testcontainers' reaper container (needs its image); off in CI
    pull_timeout_s: float = 120.0
    start_timeout_s: float = 60.0


@dataclass(frozen=True)
class EngineProbe:
    """The answer to "does a Docker engine answer?", with how long asking took."""

    ok: bool
    host: str
    reason: str
    elapsed_ms: float


def _candidates(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    if os.environ.get("DOCKER_HOST"):
        return [os.environ["DOCKER_HOST"]]
    out = []
    for s in _SOCKETS:
        p = Path(os.path.expandvars(os.path.expanduser(s)))
        if "$" not in str(p) and p.exists():
            out.append(f"unix://{p}")
    return out


def _ping(host: str, timeout_s: float) -> str:
    """'' when the engine at ``host`` answers /_ping with OK, else why not."""
    u = urlparse(host)
    try:
        if u.scheme == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout_s)
            s.connect(u.path)
        elif u.scheme in ("tcp", "http", "https"):
            s = socket.create_connection((u.hostname or "localhost", u.port or 2375), timeout=timeout_s)
            if u.scheme == "https" or os.environ.get("DOCKER_TLS_VERIFY"):
                s.close()
                return ""  # a TLS engine: the TCP answer is enough for a first look
        else:
            return f"{host}: unsupported scheme (use unix:// or tcp://)"
        with s:
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            data = s.recv(4096)
    except (OSError, socket.timeout) as exc:
        return f"{host}: {exc.strerror or exc.__class__.__name__}"
    head = data.split(b"\r\n", 1)[0]
    return "" if b" 200 " in head + b" " else f"{host}: answered {head[:60]!r}"


def docker_engine(timeout_s: float = 0.5, host: str | None = None) -> EngineProbe:
    """Does a Docker engine answer? Asks each candidate socket with a ``timeout_s`` limit."""
    t0 = time.perf_counter()
    cands = _candidates(host)
    if not cands:
        return EngineProbe(False, "", "no DOCKER_HOST and no Docker socket found", (time.perf_counter() - t0) * 1e3)
    reasons = []
    for c in cands:
        why = _ping(c, timeout_s)
        if not why:
            return EngineProbe(True, c, f"the Docker engine at {c} answered", (time.perf_counter() - t0) * 1e3)
        reasons.append(why)
    return EngineProbe(False, cands[0], "; ".join(reasons), (time.perf_counter() - t0) * 1e3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoImage(Exception):
    """The image is not on this machine and nobody asked for Docker explicitly."""


def _has_image(client: Any, image: str) -> bool:
    """Is ``image`` on the engine already? (Asked before anything is pulled.)"""
    import docker.errors

    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        raise DatabaseError(f"cannot look up image {image}: {exc.explanation}", "check the Docker engine") from None


def _ensure_image(client: Any, image: str, timeout_s: float, *, explicit: bool,
                  progress: Callable[[str], None] = print) -> None:
    """The image is here; else, only when Docker was asked for by name, pulled with progress within ``timeout_s``."""
    if _has_image(client, image):
        return
    if not explicit:
        raise _NoImage(image)
    error: list[BaseException] = []
    done = threading.Event()

    def pull() -> None:
        try:
            seen: dict[str, tuple[int, int]] = {}
            last = 0.0
            for event in client.api.pull(image, stream=True, decode=True):
                detail = event.get("progressDetail") or {}
                if event.get("id") and detail.get("total"):
                    seen[event["id"]] = (int(detail.get("current", 0)), int(detail["total"]))
                if time.monotonic() - last > 2.0 and seen:
                    last = time.monotonic()
                    have = sum(c for c, _ in seen.values()) / 1e6
                    total = sum(t for _, t in seen.values()) / 1e6
                    progress(f"pulling {image}: {have:.0f} of {total:.0f} MB ({len(seen)} layers)")
                if "error" in event:
                    raise RuntimeError(event["error"])
        except BaseException as exc:  # reported below
            error.append(exc)
        finally:
            done.set()

    progress(f"pulling {image} (backend='docker' was asked for; at most {timeout_s:.0f} s)")
    threading.Thread(target=pull, name="tierlab-docker-pull", daemon=True).start()
    if not done.wait(timeout_s):
        raise DatabaseError(f"pulling image {image} took longer than {timeout_s:.0f} s",
                            f"run 'docker pull {image}' once while online, or raise DockerOptions(pull_timeout_s=...)")
    if error:
        text = str(getattr(error[0], "explanation", None) or error[0]).splitlines()[0][:160]
        raise DatabaseError(f"it cannot pull image {image} ({text})",
                            f"run 'docker pull {image}' once while online, or use backend='embedded'")


class _KeepDockerEnv:
    """testcontainers writes ``os.environ["DOCKER_HOST"]`` when it finds one; put it back after."""

    _KEYS = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in self._KEYS}

    def __exit__(self, *exc: object) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_postgres(probe: EngineProbe, *, tls: bool | None = None, options: DockerOptions | None = None,
                   explicit: bool = False) -> Any:
    """Start ``options.image`` with testcontainers and return a :class:`Database` for it.

    ``explicit``: Docker was asked for by name (``backend="docker"``); only then is a missing
    image pulled. Otherwise a missing image is a quick :class:`DatabaseError` (the caller falls
    back to the embedded server and says why).
    """
    with _KeepDockerEnv():
        return _start_postgres(probe, tls=tls, options=options or DockerOptions(), explicit=explicit)


#: Where the server listens on the host: the loopback only, a port Docker picks.
LOOPBACK_BINDING = ("127.0.0.1", None)


def build_container(options: DockerOptions, admin_password: str, client_kw: dict[str, Any]) -> Any:
    """The container tierlab would start (not started): what it publishes, and where, is decided here.

    Bridge mode publishes 5432 on 127.0.0.1 only (never 0.0.0.0); host networking publishes
    nothing and the server listens on 127.0.0.1.
    """
    from testcontainers.community.postgres import PostgresContainer

    kwargs: dict[str, Any] = dict(image=options.image, username=ADMIN_ROLE, password=admin_password, dbname=DBNAME,
                                  driver="psycopg", docker_client_kw=client_kw)
    if options.host_network:
        return _HostNetworkPostgres(port=_free_port(), **kwargs)
    container = PostgresContainer(**kwargs)
    container.ports = network_args(options)["ports"]
    return container


def network_args(options: DockerOptions, port: int = 5432) -> dict[str, Any]:
    """Everything tierlab asks Docker for about the network (ports, network mode, listen address).

    Bridge: ``{"5432": ("127.0.0.1", None)}`` (``docker -p 127.0.0.1::5432``: the loopback, a port
    Docker picks). Host networking: nothing published, the server listens on 127.0.0.1:``port``.
    """
    if options.host_network:
        return {"ports": {}, "network_mode": "host",
                "command": ["postgres", "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"]}
    return {"ports": {"5432": LOOPBACK_BINDING}, "network_mode": None, "command": None}


def _start_postgres(probe: EngineProbe, *, tls: bool | None, options: DockerOptions, explicit: bool) -> Any:
    from .provider import Database, _probe

    try:
        import docker
        from testcontainers.core.config import testcontainers_config
    except ImportError as exc:
        raise DatabaseError(f"testcontainers is not installed ({exc.name})", "pip install testcontainers==4.15.0") from None

    client_kw: dict[str, Any] = {"environment": {"DOCKER_HOST": probe.host}, "timeout": int(options.start_timeout_s)}
    try:
        client = docker.from_env(**client_kw)
    except docker.errors.DockerException as exc:
        raise DatabaseError(f"the Docker SDK cannot talk to {probe.host}: {exc}", "check DOCKER_HOST") from None
    try:
        _ensure_image(client, options.image, options.pull_timeout_s, explicit=explicit)
    except _NoImage:
        raise DatabaseError(
            f"image {options.image} is not on this machine (tierlab pulls it only when asked: backend='docker')",
            f"docker pull {options.image}, or connect(backend='docker') to pull it with progress") from None
    finally:
        client.close()
    if not options.ryuk:
        testcontainers_config.ryuk_disabled = True

    admin_password, app_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    container = build_container(options, admin_password, client_kw)
    t0 = time.perf_counter()
    try:
        container.start()
    except BaseException as exc:
        _quiet_stop(container)
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"the container {options.image} did not start: {text}",
                            "see 'docker logs'; tierlab falls back to embedded PostgreSQL") from None
    folder = Path(tempfile.mkdtemp(prefix="tierlab-docker-"))  # 0700: the session's CA certificate
    try:
        host = container.get_container_host_ip()
        host = "127.0.0.1" if host == "localhost" else host
        port = int(container.get_exposed_port(container.port))
        admin = dict(host=host, port=port, user=ADMIN_ROLE, password=admin_password, sslmode="disable")
        _probe(URL.create("postgresql+psycopg", username=ADMIN_ROLE, password=admin_password, host=host, port=port,
                          database=DBNAME, query={"sslmode": "disable"}))
        prepare_app_database(admin, APP_ROLE, app_password, DBNAME)
        tls_on, tls_reason, cafile = _container_tls(container, admin, host, folder, tls)
        url = URL.create("postgresql+psycopg", username=APP_ROLE, password=app_password, host=host, port=port,
                         database=DBNAME, query={"sslmode": "disable"})
        version = _probe(url)
    except BaseException:
        _quiet_stop(container)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    import importlib.metadata

    net = "host network, 127.0.0.1 only" if options.host_network else "published on 127.0.0.1 only"
    reason = (f"{probe.reason} in {probe.elapsed_ms:.0f} ms; started {options.image} with testcontainers "
              f"{importlib.metadata.version('testcontainers')} ({net}) in {time.perf_counter() - t0:.1f} s; "
              f"{tls_reason}; you connect as {APP_ROLE!r}, the owner of {DBNAME!r} (no superuser)")

    def stop() -> None:
        with _KeepDockerEnv():
            _quiet_stop(container)
        shutil.rmtree(folder, ignore_errors=True)

    def alive() -> bool:
        with _KeepDockerEnv():
            wrapped = container.get_wrapped_container()
            wrapped.reload()
            return bool(wrapped.status == "running")

    return Database(
        backend="docker", host=host, port=port, user=APP_ROLE, password=app_password, dbname=DBNAME,
        version=version, reason=reason, tls=tls_on, sslmode="verify-full" if tls_on else "disable",
        sslrootcert=str(cafile) if cafile else None, _stop=stop, admin_user=ADMIN_ROLE,
        admin_password=admin_password, _alive=alive,
    )


def _quiet_stop(container: Any) -> None:
    try:
        container.stop()
    except Exception:
        pass


def _container_tls(container: Any, admin: dict[str, Any], host: str, folder: Path, tls: bool | None
                   ) -> tuple[bool, str, Path | None]:
    """TLS like the embedded server: a certificate made for this session, switched on with a reload.

    The files go into the server's data folder through the Docker API (owned by the server's
    user, the key 0600), so no volume and no environment variable carries the key.
    """
    if tls is False:
        return False, "TLS off (asked for)", None
    pair = _make_cert(folder, None, (host,))
    if pair is None:
        if tls:
            raise DatabaseError("the Docker backend cannot do TLS here: no openssl command to make a certificate",
                                "install openssl, or use tls=None")
        return False, "TLS off: no openssl command to make a certificate", None
    cert, key = pair
    try:
        _switch_on_tls(container, admin, cert, key)
    except Exception as exc:
        if tls:
            raise DatabaseError(f"the container's PostgreSQL would not take TLS: {exc}", "use tls=None") from None
        return False, f"TLS off: the container's PostgreSQL would not take it ({str(exc)[:120]})", None
    finally:
        key.unlink(missing_ok=True)  # the server has its copy; the client needs only the certificate
    return True, "TLS on (a self-signed certificate made for this session)", cert


def _switch_on_tls(container: Any, admin: dict[str, Any], cert: Path, key: Path) -> None:
    import io
    import tarfile

    from .guard import GuardedConnection

    with GuardedConnection.connect(dbname=DBNAME, autocommit=True, connect_timeout=10, **admin) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
        datadir = str(row[0]) if row else ""
    wrapped = container.get_wrapped_container()
    stream, _stat = wrapped.get_archive(f"{datadir}/PG_VERSION")  # whose files these are, from the engine
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tf:
        owner = tf.getmembers()[0]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, path, mode in (("tierlab-server.crt", cert, 0o644), ("tierlab-server.key", key, 0o600)):
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid, info.mtime = len(data), mode, owner.uid, owner.gid, int(time.time())
            tf.addfile(info, io.BytesIO(data))
    if not wrapped.put_archive(datadir, buf.getvalue()):
        raise RuntimeError("the engine refused the certificate files")
    with GuardedConnection.connect(dbname=DBNAME, autocommit=True, connect_timeout=10, **admin) as conn:
        conn.execute("ALTER SYSTEM SET ssl_cert_file = 'tierlab-server.crt'")
        conn.execute("ALTER SYSTEM SET ssl_key_file = 'tierlab-server.key'")
        conn.execute("ALTER SYSTEM SET ssl = on")
        conn.execute("SELECT pg_reload_conf()")
    tls_admin = {**admin, "sslmode": "verify-full", "sslrootcert": str(cert)}
    deadline = time.monotonic() + 10
    while True:  # the reload is asynchronous, and a refused key leaves TLS off: until a TLS connection works
        try:
            with GuardedConnection.connect(dbname=DBNAME, connect_timeout=5, **tls_admin):
                return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(str(exc).splitlines()[-1]) from None
        time.sleep(0.1)


try:  # the class needs testcontainers; the module must import without it
    from testcontainers.community.postgres import PostgresContainer as _PG

    class _HostNetworkPostgres(_PG):
        """PostgresContainer on the host's network: no port bindings, lookups point at 127.0.0.1.

        Touches testcontainers internals (``ports``, ``get_container_host_ip``,
        ``_get_exposed_port``): checked against the pinned testcontainers 4.15.0.
        """

        def __init__(self, *, port: int, **kwargs) -> None:
            super().__init__(port=port, **kwargs)
            args = network_args(DockerOptions(host_network=True), port)
            self.ports = args["ports"]  # host networking: nothing to publish
            self.with_kwargs(network_mode=args["network_mode"])
            # the server and the image's own psql (the readiness check) both read PGPORT
            self.with_env("PGPORT", str(port))
            self.with_command(args["command"])

        def get_container_host_ip(self) -> str:
            return "127.0.0.1"

        def _get_exposed_port(self, port: int) -> int:
            return int(port)

except ImportError:  # pragma: no cover
    pass
