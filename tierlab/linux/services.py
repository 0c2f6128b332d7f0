"""Real services inside the namespaces: ALB nodes, the create-user API, PostgreSQL.

* **ALB node** (one process per node, in the node's namespace): a small asyncio HTTP proxy.
  It health-checks every target on its own (interval, timeout, healthy and unhealthy
  thresholds from the topology, shortened for the lab), round-robins over the targets it finds
  healthy, and fails open over all of them when none is. Its answers follow DESIGN.md: **503**
  when the target group has no targets, **502** when the target refuses the connection (or
  closes it without an answer), **504** when the connection cannot be made within the connect
  timeout or the target says nothing for the idle timeout. The 80 listener answers 301.
* **API server** (one process per target, in its namespace): the seed's ``POST /api/users`` and
  ``GET /health``, with tierlab.db's ``create_user`` over a pooled SQLAlchemy engine, and a
  ``Server-Timing`` header for its phases (validate, db-connect, db-query, app).
* **PostgreSQL** (in the primary's namespace): tierlab.db's binaries, a fresh cluster bound to
  the instance's own address on the topology's port, the seed's schema.

Run as ``python .../tierlab/linux/services.py alb|api '<json config>'``; the lab starts them. As a
script, not ``-m``: a service process then imports only what it uses (the ALB node only the
standard library, the API server SQLAlchemy and tierlab.db's service module), and starts in a
fraction of the time the whole tierlab package would take.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any

__all__ = ["main"]

REASONS = {200: "OK", 301: "Moved Permanently", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _response(status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> bytes:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(data)), "Connection": "close",
            **(headers or {})}
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, '')}"] + [f"{k}: {v}" for k, v in head.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(n) if n else b""
    return method, path, headers, body


# ----------------------------------------------------------------------------------------- ALB node


class AlbNode:
    """One ALB node: its own health checks, round robin over healthy targets, fail-open."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.targets: list[str] = cfg["targets"]  # "ip:port"
        self.ok_streak = {t: 0 for t in self.targets}
        self.bad_streak = {t: 0 for t in self.targets}
        # AWS starts a new target in "initial" and sends it nothing until it passes; the lab
        # starts them healthy so the first request need not wait healthy_threshold intervals.
        self.healthy = {t: True for t in self.targets}
        self.rr = itertools.count()

    def choose(self) -> str | None:
        if not self.targets:
            return None
        pool = [t for t in self.targets if self.healthy[t]] or list(self.targets)  # none healthy: fail open
        return pool[next(self.rr) % len(pool)]

    async def _check(self, target: str) -> bool:
        host, port = target.rsplit(":", 1)
        hc_port = self.cfg["health_port"] or int(port)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, hc_port), self.cfg["health_timeout_s"])
            writer.write(f"GET {self.cfg['health_path']} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            line = await asyncio.wait_for(reader.readline(), self.cfg["health_timeout_s"])
            writer.close()
            return line.split(b" ")[1:2] == [b"200"]
        except (OSError, asyncio.TimeoutError, IndexError):
            return False

    async def health_loop(self) -> None:
        while True:
            results = await asyncio.gather(*(self._check(t) for t in self.targets))
            for t, ok in zip(self.targets, results):
                self.ok_streak[t] = self.ok_streak[t] + 1 if ok else 0
                self.bad_streak[t] = 0 if ok else self.bad_streak[t] + 1
                if ok and self.ok_streak[t] >= self.cfg["healthy_threshold"]:
                    self.healthy[t] = True
                if not ok and self.bad_streak[t] >= self.cfg["unhealthy_threshold"]:
                    self.healthy[t] = False
            await asyncio.sleep(self.cfg["health_interval_s"])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        t0 = time.perf_counter()
        try:
            method, path, headers, body = await asyncio.wait_for(_read_request(reader), self.cfg["idle_timeout_s"])
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, OSError):
            writer.close()
            return
        if path == "/__tierlab/alb":  # the lab's window into this node (no such path on AWS)
            state = {"node": self.cfg["name"], "healthy": self.healthy, "fail_open": not any(self.healthy.values())}
            writer.write(_response(200, state))
        else:
            headers["x-forwarded-proto"] = "https" if writer.get_extra_info("ssl_object") is not None else "http"
            writer.write(await self.forward(method, path, headers, body, t0))
        try:
            await writer.drain()
        finally:
            writer.close()

    async def forward(self, method: str, path: str, headers: dict[str, str], body: bytes, t0: float) -> bytes:
        target = self.choose()
        if target is None:
            return _response(503, {"error": "503 Service Unavailable: the target group has no registered targets"})
        host, port = target.rsplit(":", 1)
        name = self.cfg["name"]
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)),
                                                    self.cfg["connect_timeout_s"])
        except ConnectionRefusedError:
            return _response(502, {"error": f"502 Bad Gateway: {target} refused the connection"},
                             {"X-Tierlab-Alb": name, "X-Tierlab-Target": target})
        except (asyncio.TimeoutError, OSError):
            return _response(504, {"error": f"504 Gateway Timeout: no connection to {target} within "
                                            f"{self.cfg['connect_timeout_s']} s"},
                             {"X-Tierlab-Alb": name, "X-Tierlab-Target": target})
        fwd = {k: v for k, v in headers.items() if k not in ("connection", "content-length", "host")}
        fwd.update({"host": headers.get("host", host), "x-forwarded-for": self.cfg.get("client", ""),
                    "connection": "close", "content-length": str(len(body))})
        writer.write((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fwd.items())
                      + "\r\n").encode() + body)
        chunks = []
        try:
            while True:  # the idle timeout: the longest the node waits for the next byte
                chunk = await asyncio.wait_for(reader.read(65536), self.cfg["idle_timeout_s"])
                if not chunk:
                    break
                chunks.append(chunk)
        except asyncio.TimeoutError:
            writer.close()
            return _response(504, {"error": f"504 Gateway Timeout: {target} sent nothing for "
                                            f"{self.cfg['idle_timeout_s']} s (the ALB's idle timeout)"},
                             {"X-Tierlab-Alb": name, "X-Tierlab-Target": target})
        except OSError:
            chunks = []
        writer.close()
        raw = b"".join(chunks)
        if not raw.startswith(b"HTTP/"):
            return _response(502, {"error": f"502 Bad Gateway: {target} closed the connection without an answer"},
                             {"X-Tierlab-Alb": name, "X-Tierlab-Target": target})
        head, _, rest = raw.partition(b"\r\n\r\n")
        alb_ms = (time.perf_counter() - t0) * 1000
        extra = f"\r\nX-Tierlab-Alb: {name}\r\nX-Tierlab-Target: {target}\r\nServer-Timing: alb;dur={alb_ms:.2f}"
        return head + extra.encode() + b"\r\n\r\n" + rest


async def _alb_main(cfg: dict[str, Any]) -> None:
    node = AlbNode(cfg)
    tls = None
    if cfg.get("tls_ports"):  # the HTTPS listener terminates TLS here, as the ALB does
        import ssl

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2  # as ELBSecurityPolicy-TLS13-1-2-2021-06
        tls.load_cert_chain(cfg["tls_cert"], cfg["tls_key"])
    servers = [await asyncio.start_server(node.handle, "0.0.0.0", p, backlog=1024,
                                          ssl=tls if p in cfg.get("tls_ports", []) else None)
               for p in cfg["forward_ports"]]

    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _, path, headers, _ = await asyncio.wait_for(_read_request(reader), 5)
            loc = f"https://{headers.get('host', cfg['name'])}:{cfg['redirect_to']}{path}"
            writer.write(_response(301, {"location": loc}, {"Location": loc}))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, OSError):
            pass
        writer.close()
    servers += [await asyncio.start_server(redirect, "0.0.0.0", p) for p in cfg["redirect_ports"]]
    print("ready", flush=True)
    await node.health_loop()


# ----------------------------------------------------------------------------------------- API server


def _db_service():
    """tierlab.db.service (the seed's create-user logic), without importing all of tierlab."""
    if __package__:
        from ..db import service

        return service
    import importlib
    import types
    from pathlib import Path

    # bare packages: tierlab/__init__ (the whole course) and tierlab/db/__init__ stay unrun
    root = Path(__file__).resolve().parents[1]
    for name, folder in (("tierlab", root), ("tierlab.db", root / "db")):
        if name not in sys.modules:
            pkg = types.ModuleType(name)
            pkg.__path__ = [str(folder)]
            sys.modules[name] = pkg
    return importlib.import_module("tierlab.db.service")


def _api_main(cfg: dict[str, Any]) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import sqlalchemy as sa

    service = _db_service()
    create_user, health, validate_user = service.create_user, service.health, service.validate_user

    # no connect timeout, like node-postgres; unpooled: a new connection (TCP + auth) per request
    engine = (sa.create_engine(cfg["db_url"], pool_size=5, max_overflow=5) if cfg.get("pooled", True)
              else sa.create_engine(cfg["db_url"], poolclass=sa.pool.NullPool))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any], timing: str = "") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.send_header("X-Tierlab-Server", cfg["name"])
            if timing:
                self.send_header("Server-Timing", timing)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/health":
                r = health()
                self._send(r.status, r.body)
            else:
                self._send(404, {"error": "Not found"})

        def do_POST(self) -> None:
            t0 = time.perf_counter()
            if self.path != "/api/users":
                self._send(404, {"error": "Not found"})
                return
            n = int(self.headers.get("Content-Length") or 0)
            try:
                data = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                self._send(400, {"error": "Body is not JSON"})
                return
            problem = validate_user(data.get("name"), data.get("email"))
            t1 = time.perf_counter()
            if problem:
                self._send(400, {"error": problem}, f"validate;dur={(t1 - t0) * 1000:.2f}")
                return
            try:
                with engine.connect():  # a pooled connection (a new one the first time: TCP + auth)
                    pass
            except Exception:
                self._send(500, {"error": "Server error"})
                return
            t2 = time.perf_counter()
            r = create_user(engine, data.get("name"), data.get("email"))
            t3 = time.perf_counter()
            timing = (f"validate;dur={(t1 - t0) * 1000:.2f}, db-connect;dur={(t2 - t1) * 1000:.2f}, "
                      f"db-query;dur={(t3 - t2) * 1000:.2f}, app;dur={(t3 - t0) * 1000:.2f}")
            self._send(r.status, r.body, timing)

    class Server(ThreadingHTTPServer):
        # The listen backlog is fixed when the constructor calls listen(): set on an instance afterwards, it
        # changed nothing and the queue stayed at socketserver's 5. A starved server process (a busy machine)
        # then dropped every SYN past the fifth until it ran again; the differential saw that as a lost reply.
        request_queue_size = 4096
        daemon_threads = True

    server = Server(("0.0.0.0", cfg["port"]), Handler)
    print("ready", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    role, cfg = args[0], json.loads(args[1])
    if role == "alb":
        asyncio.run(_alb_main(cfg))
    elif role == "api":
        _api_main(cfg)
    else:
        raise SystemExit(f"unknown role {role!r}: use alb or api")


if __name__ == "__main__":
    main()
