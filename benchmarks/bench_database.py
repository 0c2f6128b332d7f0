"""Database tier figures, measured on this machine.

Prints:
  1. cold start to first query of the embedded backend (system and pip-wheel binaries; target < 1.5 s);
  2. pooled vs new-connection-per-request create-user rows/s and their ratio (plain and TLS);
  3. a new connection's phases vs the seed's "~100 ms";
  4. the same server's pgbench insert rate (the ceiling) and pooled rows/s as a fraction of it.

    .venv/bin/python benchmarks/bench_database.py [--requests 1000] [--pgbench-s 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

import sqlalchemy as sa

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--pgbench-s", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

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
    finally:
        db.stop()


if __name__ == "__main__":
    main()
