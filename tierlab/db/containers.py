"""The Docker backend: testcontainers' PostgresContainer running the official ``postgres:15``.

Asking whether a Docker engine answers takes well under a second (``docker_engine``): a raw
``GET /_ping`` on the socket with a short timeout, never the Docker SDK's 60-second default. An
engine that answers but cannot get the image (an offline laptop) fails quickly with the reason,
and ``connect()`` falls through to the embedded server.

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
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..errors import DatabaseError

__all__ = ["DockerOptions", "EngineProbe", "docker_engine", "start_postgres", "DEFAULT_IMAGE"]

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


def _ensure_image(client, image: str, timeout_s: float) -> None:
    """The image is there, or is pulled within ``timeout_s``; a DatabaseError otherwise."""
    import docker.errors

    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.APIError as exc:
        raise DatabaseError(f"cannot look up image {image}: {exc.explanation}", "check the Docker engine") from None
    error: list[BaseException] = []

    def pull() -> None:
        try:
            client.images.pull(image)
        except BaseException as exc:  # reported below
            error.append(exc)

    t = threading.Thread(target=pull, daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        raise DatabaseError(f"pulling image {image} took longer than {timeout_s:.0f} s",
                            f"run 'docker pull {image}' once while online")
    if error:
        text = str(getattr(error[0], "explanation", None) or error[0]).splitlines()[0][:160]
        raise DatabaseError(f"it cannot pull image {image} ({text})",
                            f"run 'docker pull {image}' once while online; tierlab falls back to embedded PostgreSQL")


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


def start_postgres(probe: EngineProbe, *, tls: bool | None = None, options: DockerOptions | None = None):
    """Start ``options.image`` with testcontainers and return a :class:`Database` for it."""
    with _KeepDockerEnv():
        return _start_postgres(probe, tls=tls, options=options)


def _start_postgres(probe: EngineProbe, *, tls: bool | None, options: DockerOptions | None):
    from .provider import Database, _probe

    options = options or DockerOptions()
    if tls is True:
        raise DatabaseError("the Docker backend runs the image's default (ssl=off), so tls=True cannot be honoured",
                            "use tls=None, or backend='embedded' for a TLS server")
    try:
        import docker
        from testcontainers.community.postgres import PostgresContainer
        from testcontainers.core.config import testcontainers_config
    except ImportError as exc:
        raise DatabaseError(f"testcontainers is not installed ({exc.name})", "pip install testcontainers==4.15.0") from None

    client_kw = {"environment": {"DOCKER_HOST": probe.host}, "timeout": int(options.start_timeout_s)}
    try:
        client = docker.from_env(**client_kw)
    except docker.errors.DockerException as exc:
        raise DatabaseError(f"the Docker SDK cannot talk to {probe.host}: {exc}", "check DOCKER_HOST") from None
    try:
        _ensure_image(client, options.image, options.pull_timeout_s)
    finally:
        client.close()
    if not options.ryuk:
        testcontainers_config.ryuk_disabled = True

    password = secrets.token_urlsafe(24)
    kwargs = dict(image=options.image, username="postgres", password=password, dbname="appdb", driver="psycopg",
                  docker_client_kw=client_kw)
    if options.host_network:
        port = _free_port()
        container = _HostNetworkPostgres(port=port, **kwargs)
    else:
        container = PostgresContainer(**kwargs)
    t0 = time.perf_counter()
    try:
        container.start()
    except BaseException as exc:
        try:
            container.stop()
        except Exception:
            pass
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"the container {options.image} did not start: {text}",
                            "see 'docker logs'; tierlab falls back to embedded PostgreSQL") from None
    host = container.get_container_host_ip()
    port = int(container.get_exposed_port(container.port))
    if host == "localhost":
        host = "127.0.0.1"
    from sqlalchemy.engine import URL

    url = URL.create("postgresql+psycopg", username="postgres", password=password, host=host, port=port,
                     database="appdb", query={"sslmode": "disable"})
    try:
        version = _probe(url)
    except DatabaseError:
        container.stop()
        raise
    import importlib.metadata

    net = "host network, 127.0.0.1 only" if options.host_network else "port mapped"
    reason = (f"{probe.reason} in {probe.elapsed_ms:.0f} ms; started {options.image} with testcontainers "
              f"{importlib.metadata.version('testcontainers')} ({net}) in {time.perf_counter() - t0:.1f} s; "
              "TLS off (the image's default ssl=off)")
    def stop() -> None:
        with _KeepDockerEnv():
            container.stop()

    return Database(
        backend="docker", host=host, port=port, user="postgres", password=password, dbname="appdb",
        version=version, reason=reason, tls=False, _stop=stop,
    )


try:  # the class needs testcontainers; the module must import without it
    from testcontainers.community.postgres import PostgresContainer as _PG

    class _HostNetworkPostgres(_PG):
        """PostgresContainer on the host's network: no port bindings, lookups point at 127.0.0.1.

        Touches testcontainers internals (``ports``, ``get_container_host_ip``,
        ``_get_exposed_port``): checked against the pinned testcontainers 4.15.0.
        """

        def __init__(self, *, port: int, **kwargs) -> None:
            super().__init__(port=port, **kwargs)
            self.ports = {}  # host networking: nothing to publish
            self.with_kwargs(network_mode="host")
            # the server and the image's own psql (the readiness check) both read PGPORT
            self.with_env("PGPORT", str(port))
            self.with_command(["postgres", "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"])

        def get_container_host_ip(self) -> str:
            return "127.0.0.1"

        def _get_exposed_port(self, port: int) -> int:
            return int(port)

except ImportError:  # pragma: no cover
    pass
