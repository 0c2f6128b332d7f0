"""The pool lesson, measured: the seed's "Mistake 5: No Connection Pooling" on your machine.

``pool_lesson`` runs N real create-user calls through a pooled engine (the seed's 10
connections, no overflow) and through a new connection per request (``NullPool``), with and
without TLS where the server offers it, and returns a DataFrame of rows/s and per-request
latency. ``connection_phases`` times one new connection phase by phase (TCP connect, TLS
handshake, authentication, first query) next to a pool checkout and an INSERT: the latency
model's ``measured`` preset reads that dict.
"""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from ..errors import DatabaseError
from ..phases import PHASE_KEYS  # the keys of connection_phases; the latency model's measured preset reads these
from .service import INSERT_USER, create_user
from .wire import open_connection_phases

if TYPE_CHECKING:
    from .provider import Database

__all__ = ["pool_lesson", "connection_phases", "connection_phases_frame", "new_connection_ms", "PHASE_KEYS",
           "SEED_NEW_CONNECTION_MS", "NEW_CONNECTION_PHASES"]

#: The seed: "Connection setup: ~100ms per request".
SEED_NEW_CONNECTION_MS = 100.0
#: The phases a new connection pays before its first answer (the seed's "~100ms" covers these).
NEW_CONNECTION_PHASES = ("tcp_connect_ms", "tls_handshake_ms", "auth_ms", "first_query_ms")


def new_connection_ms(phases: dict[str, float]) -> float:
    """What opening a new connection costs: TCP + TLS + auth + first query, from ``connection_phases``."""
    missing = [k for k in NEW_CONNECTION_PHASES if k not in phases]
    if missing:
        raise DatabaseError(f"the phases lack {', '.join(missing)}", "pass what tl.db.connection_phases(db) returns")
    return float(sum(phases[k] for k in NEW_CONNECTION_PHASES))


def _run(engine: sa.Engine, requests: int, concurrency: int, tag: str) -> tuple[float, list[float], int]:
    """``requests`` create-user calls on ``concurrency`` threads: (elapsed_s, latencies_ms, created)."""

    def one(i: int) -> tuple[float, bool]:
        t = time.perf_counter()
        r = create_user(engine, f"User {i:05d}", f"{tag}-{i}@pool.example")
        return (time.perf_counter() - t) * 1e3, r.ok

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as ex:
        results = list(ex.map(one, range(requests)))
    elapsed = time.perf_counter() - t0
    return elapsed, [r[0] for r in results], sum(r[1] for r in results)


def _warm(engine: sa.Engine, n: int) -> None:
    """Open ``n`` pooled connections up front (a running API server's pool is warm)."""
    conns = [engine.connect() for _ in range(n)]
    for c in conns:
        c.close()


def pool_lesson(
    db: "Database", *, requests: int = 200, concurrency: int = 10, tls: tuple[bool, ...] | None = None
) -> pd.DataFrame:
    """Pooled vs new-connection-per-request, with/without TLS: rows/s and latency per request.

    Each row: ``mode`` ("pooled" / "new connection"), ``tls``, ``requests``, ``concurrency``,
    ``elapsed_s``, ``rows_per_s``, ``latency_median_ms``, ``latency_p95_ms``, ``created`` (rows
    really inserted) and a ``reason``.
    """
    if tls is None:
        tls = (False, True) if db.tls else (False,)
    rows = []
    for use_tls in tls:
        for mode in ("pooled", "new connection"):
            engine = db.new_engine(pooled=mode == "pooled", tls=use_tls)
            try:
                if mode == "pooled":
                    _warm(engine, min(concurrency, 10))
                tag = f"pl-{uuid.uuid4().hex[:10]}"
                elapsed, lat, created = _run(engine, requests, concurrency, tag)
            finally:
                engine.dispose()
            lat_sorted = sorted(lat)
            p95 = lat_sorted[min(len(lat_sorted) - 1, int(0.95 * len(lat_sorted)))]
            reason = (
                "10 connections opened once and reused (the seed's pool, max: 10)"
                if mode == "pooled" else
                "every request opens a connection (TCP" + (" + TLS" if use_tls else "")
                + " + auth), inserts, closes it (NullPool)"
            )
            rows.append(dict(
                mode=mode, tls=use_tls, requests=requests, concurrency=concurrency, elapsed_s=elapsed,
                rows_per_s=requests / elapsed, latency_median_ms=statistics.median(lat), latency_p95_ms=p95,
                created=created, reason=reason,
            ))
    return pd.DataFrame(rows)


def connection_phases(db: "Database", *, tls: bool | None = None, repeats: int = 7) -> dict[str, float]:
    """Median milliseconds of each phase of a new connection, a pool checkout and an INSERT.

    Keys: ``tcp_connect_ms, tls_handshake_ms, auth_ms, first_query_ms, pool_acquire_ms,
    insert_ms`` (``tls_handshake_ms`` is 0.0 on a plain connection). Measured for real on
    ``db``; the median of ``repeats`` tries.
    """
    use_tls = db.tls if tls is None else tls
    if use_tls and not db.tls:
        db.url_for(tls=True)  # raises the clear error
    cafile = db.sslrootcert if use_tls and db.sslmode in ("verify-ca", "verify-full") else None
    samples = [
        open_connection_phases(db.host, db.port, db.user, db.password, db.dbname, tls=use_tls, cafile=cafile)
        for _ in range(repeats)
    ]
    engine = db.new_engine(pooled=True, tls=use_tls)
    acquire, insert = [], []
    try:
        _warm(engine, 2)
        tag = f"ph-{uuid.uuid4().hex[:10]}"
        for i in range(repeats):
            t0 = time.perf_counter()
            conn = engine.connect()
            t1 = time.perf_counter()
            with conn:
                t2 = time.perf_counter()
                conn.execute(sa.text(INSERT_USER), {"name": "Phase probe", "email": f"{tag}-{i}@phase.example"})
                conn.commit()
                t3 = time.perf_counter()
            acquire.append((t1 - t0) * 1e3)
            insert.append((t3 - t2) * 1e3)
    finally:
        engine.dispose()

    def med(attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in samples))

    return {
        "tcp_connect_ms": med("tcp_connect_ms"),
        "tls_handshake_ms": med("tls_handshake_ms"),
        "auth_ms": med("auth_ms"),
        "first_query_ms": med("first_query_ms"),
        "pool_acquire_ms": float(statistics.median(acquire)),
        "insert_ms": float(statistics.median(insert)),
    }


def connection_phases_frame(phases: dict[str, float]) -> pd.DataFrame:
    """The phases as a table beside the seed's claim, each with a reason."""
    why = {
        "tcp_connect_ms": "TCP three-way handshake to the server's port (5432 on RDS)",
        "tls_handshake_ms": "SSLRequest + TLS handshake (the seed's DB_SSL=true); 0 on a plain connection",
        "auth_ms": "StartupMessage + SCRAM password exchange + the server forking a backend",
        "first_query_ms": "the first round trip on the new connection (SELECT 1)",
        "pool_acquire_ms": "taking an open connection from the pool (the seed: ~1 ms)",
        "insert_ms": "INSERT ... RETURNING id and COMMIT on a pooled connection",
    }
    new_conn = new_connection_ms(phases)
    rows = [dict(phase=k, measured_ms=phases[k], reason=why[k]) for k in PHASE_KEYS]
    rows.append(dict(phase="new_connection_total_ms", measured_ms=new_conn,
                     reason=f"the four phases above; the seed says ~{SEED_NEW_CONNECTION_MS:.0f} ms"))
    frame = pd.DataFrame(rows)
    frame["seed_ms"] = frame["phase"].map({"new_connection_total_ms": SEED_NEW_CONNECTION_MS, "pool_acquire_ms": 1.0})
    return frame[["phase", "measured_ms", "seed_ms", "reason"]]
