"""Client-side time limits: a server that stops answering gives a clear error within seconds.

A frozen server (``SIGSTOP``, a hung disk, a dead VM behind a live network) keeps its TCP
connections open: the kernel still acknowledges packets, so TCP keepalives and libpq's
``tcp_user_timeout`` see nothing wrong, and the server's own ``statement_timeout`` never fires.
Only the client can notice, so every connection tierlab opens is a :class:`GuardedConnection`:

* connecting: ``connect_timeout`` (psycopg enforces it for the whole handshake, TLS and auth);
* every round trip (query, fetch, COMMIT, ROLLBACK, the pool's reset): a deadline kept by one
  watchdog thread; when it passes, the watchdog shuts the socket down, the blocked call returns
  at once, psycopg marks the connection broken and SQLAlchemy's pool drops it;
* a dead network: TCP keepalives and ``tcp_user_timeout`` on every socket;
* a live but slow server: ``statement_timeout`` a little under the client's deadline, so the
  server cancels the query cleanly (SQLSTATE 57014) before the client has to cut the line.

``deadline(seconds)`` narrows the limit for the calls inside it (``deep_health`` uses it).
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Any, Iterator

import psycopg

__all__ = ["GuardedConnection", "ServerTimeout", "connect_args", "deadline", "DEFAULT_TIMEOUT_S",
           "CONNECT_TIMEOUT_S"]

#: The client's limit on one round trip (a query of the lessons takes milliseconds).
DEFAULT_TIMEOUT_S = 5.0
#: The limit on opening a connection (TCP, TLS, authentication).
CONNECT_TIMEOUT_S = 5

_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("tierlab_db_deadline", default=None)


class ServerTimeout(psycopg.OperationalError):
    """The server did not answer within the client's limit; the connection was closed."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Round trips inside this block get at most ``seconds`` each (on this thread or task)."""
    token = _LIMIT.set(float(seconds))
    try:
        yield
    finally:
        _LIMIT.reset(token)


def connect_args(timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    """libpq settings for every connection: connect timeout, keepalives, TCP user timeout, statement timeout."""
    statement_ms = max(100, int(timeout_s * 1000) - 500)  # the server cancels first while it can
    return {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": int(timeout_s * 1000) + 5000,
        "options": f"-c statement_timeout={statement_ms}",
        "timeout_s": timeout_s,  # ours: taken off before libpq sees the rest
    }


class _Watchdog:
    """One thread for all connections: a heap of deadlines; a passed one shuts its socket down."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.heap: list[tuple[float, int]] = []
        self.live: dict[int, tuple[int, list[bool]]] = {}  # token -> (fd, fired flag)
        self.counter = itertools.count()
        self.thread: threading.Thread | None = None

    def arm(self, fd: int, seconds: float) -> tuple[int, list[bool]]:
        fired = [False]
        with self.cond:
            token = next(self.counter)
            self.live[token] = (fd, fired)
            heapq.heappush(self.heap, (time.monotonic() + seconds, token))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="tierlab-db-watchdog", daemon=True)
                self.thread.start()
            self.cond.notify()
        return token, fired

    def disarm(self, token: int) -> None:
        with self.cond:  # after this, the watchdog never touches that fd (it may be reused)
            self.live.pop(token, None)

    def _run(self) -> None:
        with self.cond:
            while True:
                while self.heap and self.heap[0][1] not in self.live:
                    heapq.heappop(self.heap)
                if not self.heap:
                    self.cond.wait(30.0)
                    if not self.heap:
                        continue
                    continue
                when, token = self.heap[0]
                now = time.monotonic()
                if when > now:
                    self.cond.wait(when - now)
                    continue
                heapq.heappop(self.heap)
                fd, fired = self.live.pop(token)
                fired[0] = True
                _cut(fd)


def _cut(fd: int) -> None:
    """Shut the connection's socket down: the waiting call sees end-of-file at once."""
    try:
        s = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        s.close()


_WATCHDOG = _Watchdog()


class GuardedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every round trip has a client-side deadline (see the module)."""

    tl_timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> "GuardedConnection":
        timeout_s = float(kwargs.pop("timeout_s", DEFAULT_TIMEOUT_S))
        limit = _LIMIT.get()
        if limit is not None:  # inside deadline(): connecting gets no longer either (libpq's floor is 2 s)
            given = int(kwargs.get("connect_timeout") or CONNECT_TIMEOUT_S)
            kwargs["connect_timeout"] = min(given, max(2, int(limit + 0.999)))
        conn = super().connect(conninfo, **kwargs)
        conn.tl_timeout_s = timeout_s
        return conn

    def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
        limit = _LIMIT.get() or self.tl_timeout_s
        try:
            fd = self.pgconn.socket
        except psycopg.OperationalError:
            return super().wait(gen, *args, **kwargs)
        token, fired = _WATCHDOG.arm(fd, limit)
        try:
            return super().wait(gen, *args, **kwargs)
        except psycopg.OperationalError as exc:
            if fired[0]:
                info = self.pgconn
                where = f"{info.host.decode(errors='replace')}:{info.port.decode(errors='replace')}"
                raise ServerTimeout(
                    f"PostgreSQL at {where} did not answer within {limit:g} s (client-side time limit); "
                    "the server may be frozen, overloaded or cut off, so the connection was closed"
                ) from exc
            raise
        finally:
            _WATCHDOG.disarm(token)
