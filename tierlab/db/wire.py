"""A new PostgreSQL connection, phase by phase, on the wire.

The seed says a new connection costs "~100ms". To show where the time goes, this module opens a
connection by hand with the PostgreSQL frontend/backend protocol (version 3.0) and times each
phase:

1. **TCP connect** — ``socket.create_connection``: the SYN / SYN-ACK / ACK;
2. **TLS handshake** — ``SSLRequest``, the server's ``'S'``, then the TLS handshake (``ssl``);
3. **authentication** — ``StartupMessage``, SCRAM-SHA-256 (or md5 / cleartext) until the server
   says ``ReadyForQuery`` (this includes the server forking a backend process for us);
4. **first query** — ``SELECT 1`` round trip on the fresh connection.

It is a measuring instrument, not a driver: the services use psycopg through SQLAlchemy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import time
from dataclasses import dataclass

from ..errors import DatabaseError

__all__ = ["Phases", "open_connection_phases"]

_SSL_REQUEST = 80877103
_PROTOCOL_3 = 196608


@dataclass(frozen=True)
class Phases:
    """Milliseconds spent in each phase of opening one connection."""

    tcp_connect_ms: float
    tls_handshake_ms: float  # 0.0 when the connection is plain
    auth_ms: float
    first_query_ms: float
    auth_method: str
    tls_version: str  # "" when plain

    @property
    def total_ms(self) -> float:
        return self.tcp_connect_ms + self.tls_handshake_ms + self.auth_ms + self.first_query_ms


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def send(self, kind: bytes, payload: bytes) -> None:
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise DatabaseError("the server closed the connection during the handshake",
                                    "check the server's log and pg_hba.conf")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def receive(self) -> tuple[bytes, bytes]:
        kind = self._read(1)
        (length,) = struct.unpack("!i", self._read(4))
        return kind, self._read(length - 4)


def _error_text(payload: bytes) -> tuple[str, str]:
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return fields.get("C", ""), fields.get("M", "error")


def _raise_error(payload: bytes, where: str) -> None:
    code, msg = _error_text(payload)
    if code == "28P01":
        raise DatabaseError(f"PostgreSQL at {where} refused the password", "check the password")
    raise DatabaseError(f"PostgreSQL at {where} answered {code}: {msg}", "check the user, database and pg_hba.conf")


def _scram(conn: _Conn, user: str, password: str, mechanisms: list[str], where: str) -> None:
    if "SCRAM-SHA-256" not in mechanisms:
        raise DatabaseError(f"PostgreSQL at {where} offers only {mechanisms}", "this instrument speaks SCRAM-SHA-256")
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n=,r={nonce}"
    first = ("n,," + first_bare).encode()
    conn.send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
    kind, payload = conn.receive()
    if kind == b"E":
        _raise_error(payload, where)
    (code,) = struct.unpack("!i", payload[:4])
    if code != 11:
        raise DatabaseError(f"PostgreSQL at {where}: unexpected SASL step {code}", "")
    server_first = payload[4:].decode()
    attrs = dict(item.split("=", 1) for item in server_first.split(","))
    salt, iterations, server_nonce = base64.b64decode(attrs["s"]), int(attrs["i"]), attrs["r"]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = f"c=biws,r={server_nonce}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(stored_key, auth_message, "sha256").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
    conn.send(b"p", f"{final_bare},p={proof}".encode())
    kind, payload = conn.receive()
    if kind == b"E":
        _raise_error(payload, where)
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    expected = base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest()).decode()
    if struct.unpack("!i", payload[:4])[0] != 12 or payload[4:].decode() != f"v={expected}":
        raise DatabaseError(f"PostgreSQL at {where} sent a wrong SCRAM server signature",
                            "something between you and the server is not the server")


def open_connection_phases(
    host: str, port: int, user: str, password: str, dbname: str, *, tls: bool,
    cafile: str | None = None, timeout_s: float = 10.0,
) -> Phases:
    """Open one connection by hand, time its phases, close it."""
    where = f"{host}:{port}"
    t0 = time.perf_counter()
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        raise DatabaseError(f"no PostgreSQL answered at {where}: {exc.strerror or exc}",
                            "start the server or fix the host/port") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t1 = time.perf_counter()
    tls_version = ""
    try:
        if tls:
            sock.sendall(struct.pack("!ii", 8, _SSL_REQUEST))
            answer = sock.recv(1)
            if answer != b"S":
                raise DatabaseError(f"PostgreSQL at {where} does not offer TLS", "use tls=False")
            if cafile:
                ctx = ssl.create_default_context(cafile=cafile)
            else:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname=host)
            tls_version = sock.version() or ""
        t2 = time.perf_counter()
        conn = _Conn(sock)
        params = b"user\0" + user.encode() + b"\0database\0" + dbname.encode() + b"\0\0"
        body = struct.pack("!i", _PROTOCOL_3) + params
        sock.sendall(struct.pack("!i", len(body) + 4) + body)
        method = "trust"
        while True:
            kind, payload = conn.receive()
            if kind == b"E":
                _raise_error(payload, where)
            if kind == b"R":
                (code,) = struct.unpack("!i", payload[:4])
                if code == 3:
                    method = "password"
                    conn.send(b"p", password.encode() + b"\0")
                elif code == 5:
                    method = "md5"
                    inner = hashlib.md5((password + user).encode()).hexdigest()
                    outer = "md5" + hashlib.md5(inner.encode() + payload[4:8]).hexdigest()
                    conn.send(b"p", outer.encode() + b"\0")
                elif code == 10:
                    method = "scram-sha-256"
                    mechs = [m.decode() for m in payload[4:].split(b"\0") if m]
                    _scram(conn, user, password, mechs, where)
                elif code not in (0, 12):
                    raise DatabaseError(f"PostgreSQL at {where} asks for auth method {code}", "unsupported here")
            elif kind == b"Z":
                break
        t3 = time.perf_counter()
        conn.send(b"Q", b"SELECT 1\0")
        while True:
            kind, payload = conn.receive()
            if kind == b"E":
                _raise_error(payload, where)
            if kind == b"Z":
                break
        t4 = time.perf_counter()
        conn.send(b"X", b"")
    except (OSError, ssl.SSLError) as exc:
        raise DatabaseError(f"connection to PostgreSQL at {where} failed: {exc}", "check TLS settings") from None
    finally:
        sock.close()
    return Phases(
        tcp_connect_ms=(t1 - t0) * 1e3, tls_handshake_ms=(t2 - t1) * 1e3 if tls else 0.0,
        auth_ms=(t3 - t2) * 1e3, first_query_ms=(t4 - t3) * 1e3, auth_method=method, tls_version=tls_version,
    )
