"""Database tier figures, measured on this machine.

Prints:
  1. cold start to first query of the embedded backend (system and pip-wheel binaries; target < 1.5 s);
  2. pooled vs new-connection-per-request create-user rows/s and their ratio (plain and TLS);
  3. a new connection's phases vs the seed's "~100 ms";
  4. the same server's pgbench insert rate (the ceiling) and pooled rows/s as a fraction of it;
  5. a burst: 200 concurrent create-user calls through the pool of 10: p50/p99 latency, rows/s, and
     connections leaked (counted by the server, in pg_stat_activity: 0 expected).

    .venv/bin/python benchmarks/bench_database.py [--requests 1000] [--pgbench-s 5] [--only-burst]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from timing import count
import tierlab.db as tdb
from tierlab.errors import DatabaseError


def cold_start(binaries: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        db = tdb.connect(backend="embedded", binaries=binaries, shared=False, verbose=False)
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()
        out.append(time.perf_counter() - t0)
        db.stop()
    return out


def pgbench(db: tdb.Database, seconds: int, clients: int) -> tuple[float | None, str]:
    try:
        bins = tdb.find_binaries("system")
    except DatabaseError:
        bins = None
    exe = bins.pgbench if bins else None
    if exe is None:
        return None, "pgbench is not installed (Debian: postgresql-contrib / postgresql-15); no ceiling measured"
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    # the seed's INSERT with a unique email per call, through the same users table and index
    script.write("INSERT INTO users (name, email) VALUES ('pgbench user', gen_random_uuid()::text || '@pgbench.example');\n")
    script.close()
    env = {**os.environ, "PGPASSWORD": db.password, "PGSSLMODE": "disable"}
    try:
        out = subprocess.run(
            [str(exe), "-h", db.host, "-p", str(db.port), "-U", db.user, "-n", "-M", "prepared", "-c", str(clients),
             "-j", "2", "-T", str(seconds), "-f", script.name, db.dbname],
            capture_output=True, text=True, env=env, timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    m = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)",
                  out.stdout)
    if out.returncode != 0 or not m:
        return None, f"pgbench failed: {(out.stderr or out.stdout).strip()[-200:]}"
    return float(m.group(1)), f"pgbench {bins.version}, {clients} clients, {seconds} s, prepared INSERTs, no TLS"


def _server_connections(db: tdb.Database, conn=None) -> int:
    """Client connections of the application's role, as the server counts them (pg_stat_activity)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND backend_type = 'client backend'"
    if conn is not None:  # autocommit: each query reads a fresh snapshot
        row = conn.execute(sql, (db.user,)).fetchone()
    else:
        with db.admin_connection() as own:
            row = own.execute(sql, (db.user,)).fetchone()
    return int(row[0]) if row else -1


def burst(db: tdb.Database, calls: int = 200) -> dict[str, float]:
    """``calls`` create-user calls at once (one thread each) through the shared pool of 10."""
    engine = db.engine
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        with db.admin_connection() as conn:  # one connection of the administrator role, not the app's
            while not stop.is_set():
                peak[0] = max(peak[0], _server_connections(db, conn))
                time.sleep(0.02)

    tag = uuid.uuid4().hex[:10]
    start = threading.Barrier(calls)

    def one(i: int) -> tuple[float, int]:
        start.wait()  # all 200 arrive together
        t = time.perf_counter()
        r = tdb.create_user(engine, f"Burst User {i:03d}", f"burst-{tag}-{i}@example.com")
        return (time.perf_counter() - t) * 1e3, r.status

    warm = [engine.connect() for _ in range(tdb.POOL_SIZE)]  # a running API server's pool is open already
    for c in warm:
        c.close()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=calls) as ex:
        results = list(ex.map(one, range(calls)))
    elapsed = time.perf_counter() - t0
    stop.set()
    sampler.join()
    lat = sorted(r[0] for r in results)
    ok = sum(1 for r in results if r[1] == 200)
    after_run = _server_connections(db)
    pooled = engine.pool.checkedin()  # type: ignore[attr-defined]
    engine.dispose()
    deadline = time.monotonic() + 5
    while (after_dispose := _server_connections(db)) and time.monotonic() < deadline:
        time.sleep(0.05)  # a backend takes a moment to notice its client left
    return {"calls": calls, "ok": ok, "elapsed_s": elapsed, "rows_per_s": ok / elapsed,
            "p50_ms": lat[len(lat) // 2], "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "peak_server_connections": peak[0], "open_after_run": after_run, "pooled_after_run": pooled,
            "leaked": after_dispose}


def print_burst(db: tdb.Database, calls: int) -> None:
    print(f"\n== 5. a burst: {calls} concurrent create-user calls through the pool of {tdb.POOL_SIZE} ({db.user})")
    b = burst(db, calls)
    print(f"  {b['ok']:.0f}/{b['calls']:.0f} created in {b['elapsed_s']:.2f} s = {b['rows_per_s']:,.0f} rows/s; "
          f"latency p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms (warm pool; waiting for one of the 10 connections included)")
    print(f"  server-side connections (pg_stat_activity): peak {b['peak_server_connections']:.0f} "
          f"(pool of {tdb.POOL_SIZE}), after the burst {b['open_after_run']:.0f} = the pool's {b['pooled_after_run']:.0f} "
          f"idle ones; after engine.dispose(): {b['leaked']:.0f} leaked")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=count(1, 1_000_000), default=1000)
    ap.add_argument("--concurrency", type=count(1, 500), default=10)
    ap.add_argument("--pgbench-s", type=count(1, 3600), default=5)
    ap.add_argument("--runs", type=count(1, 100), default=3)
    ap.add_argument("--burst", type=count(1, 100_000), default=200)
    ap.add_argument("--only-burst", action="store_true", help="run section 5 alone")
    args = ap.parse_args()
    if args.only_burst:
        db = tdb.connect(backend="embedded", shared=False, verbose=False)
        try:
            print(f"   server: {db.describe()}")
            print_burst(db, args.burst)
        finally:
            db.stop()
        return

    print("== 1. cold start to first query, embedded backend (target < 1.5 s)")
    for binaries in ("system", "wheel"):
        try:
            times = cold_start(binaries, args.runs)
        except DatabaseError as exc:
            print(f"  {binaries:6s}: not available ({exc.message})")
            continue
        med = statistics.median(times)
        print(f"  {binaries:6s}: median {med:.2f} s over {len(times)} runs "
              f"(min {min(times):.2f}, max {max(times):.2f}) -> {'OK' if med < 1.5 else 'OVER'} the 1.5 s target")

    db = tdb.connect(backend="embedded", shared=False, verbose=False)
    try:
        print(f"\n   server: {db.describe()}")
        print(f"\n== 2. create-user rows/s: pool of 10 vs a new connection per request "
              f"({args.requests} requests, {args.concurrency} threads)")
        frame = tdb.pool_lesson(db, requests=args.requests, concurrency=args.concurrency)
        cols = ["mode", "tls", "rows_per_s", "latency_median_ms", "latency_p95_ms", "created"]
        print(frame[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
        for tls in sorted(set(frame["tls"])):
            sub = frame[frame["tls"] == tls].set_index("mode")
            ratio = sub.loc["pooled", "rows_per_s"] / sub.loc["new connection", "rows_per_s"]
            print(f"  {'TLS' if tls else 'plain'}: pooled is {ratio:.1f}x the rows/s of a new connection per request")

        print("\n== 3. a new connection, phase by phase (median of 15), vs the seed's ~100 ms")
        for tls in ((False, True) if db.tls else (False,)):
            ph = tdb.connection_phases(db, tls=tls, repeats=15)
            new = sum(ph[k] for k in tdb.PHASE_KEYS[:4])
            parts = ", ".join(f"{k.removesuffix('_ms')} {v:.2f}" for k, v in ph.items())
            print(f"  {'TLS  ' if tls else 'plain'}: {parts} ms; new connection {new:.1f} ms "
                  f"= {new / tdb.SEED_NEW_CONNECTION_MS:.0%} of the seed's 100 ms")

        print(f"\n== 4. the ceiling: pgbench on the same server ({args.pgbench_s} s)")
        tps, how = pgbench(db, args.pgbench_s, args.concurrency)
        if tps is None:
            print(f"  {how}")
        else:
            pooled = float(frame[(frame["mode"] == "pooled") & (~frame["tls"])]["rows_per_s"].iloc[0])
            print(f"  pgbench: {tps:,.0f} inserts/s ({how})")
            print(f"  pooled create_user (plain): {pooled:,.0f} rows/s = {pooled / tps:.0%} of the pgbench ceiling")
        print_burst(db, args.burst)
    finally:
        db.stop()


if __name__ == "__main__":
    main()
