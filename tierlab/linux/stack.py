"""The whole stack inside a lab: PostgreSQL, the API servers and the ALB nodes, and a browser.

    lab = tl.linux.build(tl.load("seed"), services=True)
    r = lab.create_account("John Doe", "john@example.com")
    r.status, r.body["userId"], r.timing       # 200, 1, {'alb': 4.1, 'validate': 0.02, ...}

TLS: the ALB's HTTPS listener (443) terminates TLS with a self-signed certificate made at lab start
for the API's host name and the nodes' public addresses (ACM's certificate on AWS); the browser's
namespace trusts that certificate alone. Behind the ALB it is plain HTTP, as with an HTTP target group.

Lab settings (said so wherever they show): the ALB's idle timeout is ``idle_timeout_s`` (3 s
here; 60 s on AWS), its connect timeout 1 s (10 s on AWS), health checks every 1 s (30 s in
the seed) with a 0.5 s timeout; thresholds are the topology's.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import DatabaseError, TierlabError
from .netns import REGISTRY, enter

__all__ = ["Stack", "HttpResult", "LAB_SETTINGS", "APP_ROLE"]

_SERVICES = str(Path(__file__).with_name("services.py"))  # run as a script: see services.py

#: The lab cluster's administrator (the seed's DB_USER); the cluster is the lab's own, reachable
#: only at the database's address inside its namespace.
SUPERUSER = "postgres"

#: The role the API servers log in as: SELECT and INSERT on the schema's tables (and USAGE on the
#: sequences their ids come from), nothing else; no DROP, ALTER, UPDATE, DELETE, TRUNCATE or CREATE.
APP_ROLE = "lab_app"


def _least_privilege(dbname: str, role: str, password: str) -> list[Any]:
    """The statements (run by the administrator in ``dbname``) that make ``role``."""
    from psycopg import sql

    r, d = sql.Identifier(role), sql.Identifier(dbname)
    return [
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                "NOINHERIT").format(r, sql.Literal(password)),
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(d),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(d, r),
        sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {}").format(r),
        sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(r),
    ]


#: How the lab's ALB differs from AWS's defaults (shortened so a lesson takes seconds).
LAB_SETTINGS = {"idle_timeout_s": 3.0, "connect_timeout_s": 1.0, "health_interval_s": 1.0, "health_timeout_s": 0.5}


@dataclass(frozen=True)
class HttpResult:
    """What the browser saw: status (None: no answer), body, headers, wait, and which ALB node."""

    status: int | None
    body: Any
    headers: dict[str, str]
    elapsed_ms: float
    node: str
    error: str = ""
    tls: str = ""  # the TLS version the browser and the ALB node agreed ("" over plain HTTP)

    @property
    def timing(self) -> dict[str, float]:
        """The Server-Timing phases (ms) the ALB and the API server reported."""
        out: dict[str, float] = {}
        for part in self.headers.get("server-timing", "").split(","):
            name, _, rest = part.strip().partition(";dur=")
            if name and rest:
                out[name] = float(rest)
        return out

    def __repr__(self) -> str:
        what = self.status if self.status is not None else self.error
        return f"<HttpResult {what} via {self.node} in {self.elapsed_ms:.0f} ms: {self.body!r}>"


def _pdeath() -> Any:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def go() -> None:
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG: die with the owner
    return go


@dataclass
class Stack:
    lab: Any
    settings: dict[str, float] = field(default_factory=lambda: dict(LAB_SETTINGS))
    procs: list[subprocess.Popen] = field(default_factory=list)
    db_password: str = ""  # the administrator's (set-up only)
    app_password: str = ""  # APP_ROLE's: what the API servers log in with
    pooled: bool = True  # False: the API servers open a new database connection per request
    cafile: Path | None = None  # the ALB's self-signed certificate (what the browser trusts)
    tls_reason: str = ""  # why the HTTPS listeners are plain HTTP, when they are
    _held: Any = None  # tierlab.db.HeldBinaries: the PostgreSQL binaries the server runs from
    _rr: Any = field(default_factory=itertools.count)

    # ------------------------------------------------------------------ start
    def start(self) -> "Stack":
        t0 = time.perf_counter()
        self._make_certificate()
        self._start_postgres()
        self._start_apis()
        self._start_albs()
        self.startup_s = time.perf_counter() - t0
        return self

    def _spawn(self, key: str, argv: list[str], **kw: Any) -> subprocess.Popen:
        with enter(self.lab.ns(key)):
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=_pdeath(), start_new_session=True,
                                 cwd="/", **kw)
        p.tl_key = key  # type: ignore[attr-defined]
        self.procs.append(p)
        return p

    def _wait_ready(self, p: subprocess.Popen, what: str, timeout_s: float = 30.0) -> None:
        assert p.stdout is not None
        line = p.stdout.readline()
        if line.strip() != b"ready":
            raise TierlabError(f"{what} did not start: {line!r} {p.stderr.read()[-500:] if p.stderr else ''}",
                               "see the error above; the lab's services need tierlab importable by sys.executable")

    def _make_certificate(self) -> None:
        """A self-signed certificate for the API's host name and every ALB node's public address,
        made for this lab (openssl, about 20 ms); the browser's namespace trusts it and nothing else.
        Without openssl the HTTPS listeners stay plain HTTP, and ``tls_reason`` says so."""
        topo = self.lab.topo
        folder = REGISTRY / self.lab.id / "tls"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        openssl = shutil.which("openssl")
        if openssl is None:
            self.tls_reason = "no openssl on this machine: the ALB's HTTPS listeners speak plain HTTP"
            return
        names = [f"DNS:{topo.api_host}"] + [f"IP:{n.public_ip}" for n in topo.alb.nodes]
        key, cert = folder / "alb.key", folder / "alb.crt"
        out = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                              "-nodes", "-days", "2", "-subj", f"/CN={topo.api_host}",
                              "-addext", "subjectAltName=" + ",".join(names), "-addext", "basicConstraints=CA:FALSE",
                              "-keyout", str(key), "-out", str(cert)], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise TierlabError(f"openssl could not make the lab's certificate: {out.stderr.strip()[-300:]}",
                               "check `openssl version`; the lab needs OpenSSL 1.1.1 or newer")
        os.chmod(key, 0o600)
        self.cafile = cert

    def _start_postgres(self) -> None:
        from .. import db

        topo = self.lab.topo
        inst = topo.database.instance("primary")
        account = db.server_account()
        folder = REGISTRY / self.lab.id / "pg"
        folder.mkdir(parents=True, exist_ok=True)
        self._held = db.hold_binaries(account)  # released in stop(): no clean-up removes a copy in use
        binaries = self._held.binaries
        os.chmod(folder, 0o700)
        if account is not None:
            for p in (folder.parent, folder):
                os.chown(p, account.uid, account.gid)
        ids = account.process_ids() if account else {}
        template, template_pw = self._template(binaries, account, ids)
        data = folder / "data"
        subprocess.run(["cp", "-a", str(template), str(data)], check=True)  # a fresh copy of a cluster made once
        from ..db.embedded import DBNAME

        with open(data / "pg_hba.conf", "a") as f:  # the API servers over the VPC; the administrator from home only
            f.write(f"host all {SUPERUSER} {inst.ip}/32 scram-sha-256\n"
                    f"host {DBNAME} {APP_ROLE} {topo.vpc_cidr} scram-sha-256\n")
        log = open(folder / "server.log", "ab")
        self._spawn(inst.name, [str(binaries.postgres), "-D", str(data), "-p", str(topo.database.port),
                                "-c", f"listen_addresses={inst.ip}", "-c", "unix_socket_directories=",
                                "-c", "dynamic_shared_memory_type=mmap", "-c", "max_connections=200",
                                "-c", "fsync=off", "-c", "logging_collector=off"],
                    stdout=log, stderr=subprocess.STDOUT, **ids)
        pidfile = data / "postmaster.pid"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if [x.strip() for x in pidfile.read_text().splitlines()[7:8]] == ["ready"]:
                    break
            except (OSError, IndexError):
                pass
            time.sleep(0.01)
        else:
            raise DatabaseError("the lab's PostgreSQL did not become ready in 30 s",
                                f"see {folder / 'server.log'}")
        self.db_password = template_pw
        self._create_database(str(inst.ip), topo.database.port, inst.name)

    @staticmethod
    def _template(binaries: Any, account: Any, ids: dict[str, Any]) -> tuple[Path, str]:
        """A cluster made by initdb once per PostgreSQL build (initdb takes seconds; a copy does
        not), kept under /run/tierlab-linux/cache with the password it was made with."""
        import tempfile

        cache = REGISTRY / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        os.chmod(cache, 0o711)
        import hashlib

        key = f"pg-{binaries.version}-{hashlib.sha256(str(binaries.bindir).encode()).hexdigest()[:10]}"
        final = cache / key
        if (final / "ok").exists():
            return final / "data", (final / "pw").read_text().strip()
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
        try:
            pw = secrets.token_urlsafe(18)
            (tmp / "pw").write_text(pw + "\n")
            os.chmod(tmp, 0o711)
            (tmp / "data").mkdir(mode=0o700)
            if account is not None:
                os.chown(tmp / "pw", account.uid, account.gid)
                os.chown(tmp / "data", account.uid, account.gid)
            init = subprocess.run([str(binaries.initdb), "-D", str(tmp / "data"), "-U", SUPERUSER, f"--pwfile={tmp / 'pw'}",
                                   "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                                  capture_output=True, text=True, cwd="/", **ids)
            if init.returncode != 0:
                raise DatabaseError(f"initdb failed for the lab's database: {init.stderr[-400:]}",
                                    "check the PostgreSQL binaries (tierlab.db.find_binaries())")
            os.chown(tmp / "pw", 0, 0)
            os.chmod(tmp / "pw", 0o600)
            (tmp / "ok").write_text("")
            try:
                os.rename(tmp, final)  # atomic: a racing lab finds it complete or not at all
            except OSError:
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final / "data", (final / "pw").read_text().strip()

    def _create_database(self, ip: str, port: int, key: str) -> None:
        import psycopg
        import sqlalchemy as sa
        from psycopg import sql

        from ..db.embedded import DBNAME
        from ..db.schema import apply_schema

        fresh = secrets.token_urlsafe(18)
        with enter(self.lab.ns(key)):  # from inside the database's own namespace
            with psycopg.connect(host=ip, port=port, user=SUPERUSER, password=self.db_password, dbname="postgres",
                                 sslmode="disable", autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(SUPERUSER),
                                                                         sql.Literal(fresh)))  # this lab's own
                conn.execute(sql.SQL("CREATE DATABASE {} STRATEGY = FILE_COPY").format(sql.Identifier(DBNAME)))
            self.db_password = fresh
            engine = sa.create_engine(self.db_url(ip, port, role="admin"), poolclass=sa.pool.NullPool)
            apply_schema(engine)
            engine.dispose()
            self.app_password = secrets.token_urlsafe(18)
            with psycopg.connect(host=ip, port=port, user=SUPERUSER, password=self.db_password, dbname=DBNAME,
                                 sslmode="disable", autocommit=True, connect_timeout=10) as conn:
                for stmt in _least_privilege(DBNAME, APP_ROLE, self.app_password):
                    conn.execute(stmt)

    def db_url(self, ip: str, port: int, *, role: Literal["app", "admin"] = "app") -> str:
        """The database's URL for the app's least-privilege role (the API servers'), or for the
        administrator (``"admin"``: set-up only, and only from the database's own address)."""
        from ..db.embedded import DBNAME

        user, pw = (APP_ROLE, self.app_password) if role == "app" else (SUPERUSER, self.db_password)
        return f"postgresql+psycopg://{user}:{pw}@{ip}:{port}/{DBNAME}?sslmode=disable"

    def run_sql(self, statement: str, *, role: Literal["app", "admin"] = "app", source: str | None = None
                ) -> list[tuple[Any, ...]]:
        """Run one statement as ``role`` from the namespace of ``source`` (default: the first API
        server for the app's role, the database itself for the administrator); its rows, if any.

        A refusal (a privilege the role lacks, a login pg_hba.conf does not allow) is a
        :class:`~tierlab.errors.DatabaseError` that quotes PostgreSQL."""
        import psycopg

        from ..db.embedded import DBNAME

        topo = self.lab.topo
        inst = topo.database.instance("primary")
        src = source or (topo.alb.targets[0] if role == "app" else inst.name)
        user, pw = (APP_ROLE, self.app_password) if role == "app" else (SUPERUSER, self.db_password)
        try:
            with enter(self.lab.ns(src)):
                with psycopg.connect(host=str(inst.ip), port=topo.database.port, user=user, password=pw,
                                     dbname=DBNAME, sslmode="disable", autocommit=True, connect_timeout=5) as conn:
                    cur = conn.execute(statement)  # the learner's own statement (psycopg takes a str)
                    return [tuple(r) for r in cur.fetchall()] if cur.description else []
        except psycopg.Error as exc:
            raise DatabaseError(f"the lab's PostgreSQL refused {user!r} from {src}: {str(exc).strip()[:300]}",
                                f"{APP_ROLE} may SELECT and INSERT on the seed's tables only; "
                                f"{SUPERUSER} logs in only from the database's own address, for set-up") from None

    def _start_apis(self) -> None:
        topo = self.lab.topo
        inst = topo.database.instance("primary")
        url = self.db_url(str(inst.ip), topo.database.port)
        started = []
        for t in topo.alb.targets:
            cfg = {"name": t, "port": topo.alb.target_port, "db_url": url, "pooled": self.pooled}
            started.append((t, self._spawn(t, [sys.executable, _SERVICES, "api", json.dumps(cfg)],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        for t, p in started:
            self._wait_ready(p, f"API server {t}")

    def _start_albs(self) -> None:
        topo, lb, s = self.lab.topo, self.lab.topo.alb, self.settings
        hc = lb.health_check
        targets = [f"{topo.endpoint(t).ip}:{lb.target_port}" for t in lb.targets]
        started = []
        for n in lb.nodes:
            cfg = {"name": n.name, "targets": targets, "health_path": hc.path,
                   "health_port": hc.port if hc.port != lb.target_port else 0,
                   "health_interval_s": s["health_interval_s"], "health_timeout_s": s["health_timeout_s"],
                   "healthy_threshold": hc.healthy_threshold, "unhealthy_threshold": hc.unhealthy_threshold,
                   "connect_timeout_s": s["connect_timeout_s"], "idle_timeout_s": s["idle_timeout_s"],
                   "forward_ports": [l.port for l in lb.listeners if l.action == "forward"],
                   "tls_ports": self.tls_ports(),
                   "tls_cert": str(self.cafile or ""), "tls_key": str(self.cafile.with_suffix(".key") if self.cafile else ""),
                   "redirect_ports": [l.port for l in lb.listeners if l.action == "redirect"],
                   "redirect_to": next((l.redirect_port for l in lb.listeners if l.action == "redirect"), 443),
                   "client": str(topo.client_ip)}
            started.append((n.name, self._spawn(n.name, [sys.executable, _SERVICES, "alb", json.dumps(cfg)],
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        for name, p in started:
            self._wait_ready(p, f"ALB node {name}")

    def tls_ports(self) -> list[int]:
        """The ALB's listener ports that terminate TLS (HTTPS listeners; none without a certificate)."""
        if self.cafile is None:
            return []
        return [l.port for l in self.lab.topo.alb.listeners if l.action == "forward" and l.protocol.upper() == "HTTPS"]

    def ports(self) -> list[tuple[str, int]]:
        """(namespace key, port) of every service, so the lab's plain listeners leave them be."""
        topo = self.lab.topo
        out = [(n.name, l.port) for n in topo.alb.nodes for l in topo.alb.listeners]
        out += [(t, topo.alb.target_port) for t in topo.alb.targets]
        out += [(topo.database.instance("primary").name, topo.database.port)]
        return out

    # ------------------------------------------------------------------ the browser
    def request(self, method: str, path: str, body: Any = None, *, node: str | None = None,
                port: int = 443, timeout_s: float = 10.0, tls: bool | None = None,
                src_port: int | None = None) -> HttpResult:
        """One HTTP request from the internet namespace to an ALB node's public address (DNS
        round robin over the nodes unless ``node`` is given); over TLS on an HTTPS listener
        (``tls``: None), checked against the lab's own certificate for the API's host name.
        ``tls=False`` sends plain HTTP whatever the listener is (to see what a TLS port does with it);
        ``src_port``: the browser's client port (else the kernel picks one in its Linux range)."""
        nodes = self.lab.topo.alb.nodes
        n = next((x for x in nodes if x.name == node), None) if node else nodes[next(self._rr) % len(nodes)]
        if n is None:
            raise TierlabError(f"no ALB node named {node!r}", f"nodes: {', '.join(x.name for x in nodes)}")
        data = b"" if body is None else json.dumps(body).encode()
        req = (f"{method} {path} HTTP/1.1\r\nHost: {self.lab.topo.api_host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data
        t0 = time.perf_counter()

        def failed(error: str) -> HttpResult:
            return HttpResult(None, None, {}, (time.perf_counter() - t0) * 1000, n.name, error)
        with enter(self.lab.ns("internet")):
            s: socket.socket = socket.socket()
        s.settimeout(timeout_s)
        version = ""
        try:
            if src_port is not None:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((str(self.lab.plan.client_ip), src_port))
            s.connect((str(n.public_ip), port))
            if tls if tls is not None else port in self.tls_ports():  # HTTPS: the handshake, verified against the lab's certificate
                ctx = ssl.create_default_context(cafile=str(self.cafile))
                s = ctx.wrap_socket(s, server_hostname=self.lab.topo.api_host)
                version = s.version() or ""
            s.sendall(req)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except (socket.timeout, TimeoutError):
            return failed("timed out")
        except ConnectionRefusedError:
            return failed("connection refused")
        except ssl.SSLError as exc:
            return failed(f"TLS handshake failed: {exc.reason or exc}")
        except ConnectionResetError:
            return failed("connection reset")
        finally:
            s.close()
        raw = b"".join(chunks)
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        first = lines[0].split(" ")
        if len(first) < 2 or not first[1].isdigit():
            return failed("closed without an HTTP answer")
        status = int(first[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
        try:
            parsed: Any = json.loads(rest or b"null")
        except ValueError:
            parsed = rest.decode(errors="replace")
        return HttpResult(status, parsed, headers, (time.perf_counter() - t0) * 1000, n.name, tls=version)

    def create_account(self, name: str, email: str, **kw: Any) -> HttpResult:
        """The seed's Create Account: ``POST /api/users`` through the ALB, the API and PostgreSQL."""
        return self.request("POST", "/api/users", {"name": name, "email": email}, **kw)

    def alb_state(self, node: str) -> dict[str, Any]:
        """What one ALB node thinks of its targets (healthy or not; fail-open)."""
        return self.request("GET", "/__tierlab/alb", node=node).body

    def users(self) -> list[tuple[int, str, str]]:
        """The rows of ``users`` in the lab's PostgreSQL, read as the app's role (from the database's
        own namespace, so a what-if that cuts the API servers off does not hide them)."""
        rows = self.run_sql("SELECT id, name, email FROM users ORDER BY id",
                            source=self.lab.topo.database.instance("primary").name)
        return [(int(i), str(n), str(e)) for i, n, e in rows]

    def stop_service(self, key: str) -> None:
        """Stop the service in one namespace (an API server, an ALB node): its port then refuses."""
        for p in self.procs:
            if getattr(p, "tl_key", None) == key and p.poll() is None:
                p.kill()
                p.wait(5)
                return
        raise TierlabError(f"no running service in {key!r}", "services run in the ALB nodes, the targets and the DB")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()
        self.procs = []
        if self._held is not None:
            self._held.release()
            self._held = None
        shutil.rmtree(REGISTRY / self.lab.id, ignore_errors=True)
