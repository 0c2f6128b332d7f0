"""The classroom hub, measured on this machine: N learners at once (N = 5, 10, 20).

For each N: every learner's server is started at once through the hub's REST API, then one database
cell (import tierlab, tl.database(), create a user, read it back: what notebook 05 does first) runs in
every learner's kernel at once, and the kernel is left running. Prints:

  1. time to a ready server (from the POST to JupyterHub's "ready"): median and slowest;
  2. time to run the database cell in a fresh kernel: median and slowest;
  3. memory per learner: RSS and PSS (proportional set size: shared pages divided among their users) of
     the learner's server + kernel, plus their database backends and their share of the postmaster;
  4. CPU seconds per learner to start (server + kernel + cell);
  5. the hub's own overhead (hub, proxy, culler), then the arithmetic for a class of 30 and of 300;
  6. notebook 05 (the database), every code cell in order, in 5 learners' kernels at once.

    .venv/bin/python benchmarks/bench_hub.py [--sizes 5,10,20] [--notebook-learners 5]

No speed is asserted: these are the figures the README and docs/teaching/z2jh-values.yaml quote.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from timing import count, counts
from tierlab.hub import ClassHub
from tierlab.hub.classroom import db_name

CELL = """
import os, tierlab as tl
db = tl.database(verbose=False)
me = os.environ["USER"]
tl.db.create_user(db.engine, me, f"{me}@example.com")
with db.engine.connect() as conn:
    print(conn.exec_driver_sql("SELECT count(*) FROM users").scalar())
"""
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def mem_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, from /proc/PID/smaps_rollup."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def cpu_s(pid: int) -> float:
    """CPU seconds of a process and its reaped children (utime, stime, cutime, cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the kernel and anything it started)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(k) for t in Path(f"/proc/{p}/task").iterdir()
                    for k in (t / "children").read_text().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def db_pids(hub: ClassHub) -> tuple[dict[str, list[int]], list[int]]:
    """The database backends of each learner's role, and the server's other processes (postmaster, aux)."""
    import psycopg

    assert hub.db is not None
    with psycopg.connect(autocommit=True, connect_timeout=10, **hub.db.admin) as conn:
        rows = conn.execute("SELECT usename, pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()").fetchall()
        root = conn.execute("SELECT pg_backend_pid()").fetchone()
    per: dict[str, list[int]] = {}
    for user, pid in rows:
        per.setdefault(str(user), []).append(int(pid))
    backend = int(root[0]) if root else 0
    parent = int(Path(f"/proc/{backend}/stat").read_text().rsplit(") ", 1)[1].split()[1]) if backend else 0
    learners = {p for pids in per.values() for p in pids}
    shared = [parent] + [p for p in children(parent) if p not in learners and p != backend] if parent else []
    return per, shared


def run_size(hub: ClassHub, n: int) -> dict[str, float]:
    names = hub.learners[:n]
    t0 = {}
    for name in names:
        t0[name] = time.monotonic()
        hub.start_server(name)
    def ready(name: str) -> float:  # each learner polled on its own thread, timed from its own POST
        hub.wait_ready(name, timeout_s=900)
        return time.monotonic() - t0[name]

    with ThreadPoolExecutor(n) as pool:
        ready_s = dict(zip(names, pool.map(ready, names)))

    def cell(name: str) -> float:
        t = time.monotonic()
        hub.run_code(name, CELL, timeout_s=900, shutdown=False)
        return time.monotonic() - t

    with ThreadPoolExecutor(n) as pool:
        cell_s = dict(zip(names, pool.map(cell, names)))
    servers = hub.server_pids()
    per_db, shared_db = db_pids(hub)
    shared_rss, shared_pss = map(sum, zip(*(mem_kb(p) for p in shared_db))) if shared_db else (0, 0)
    rss, pss, cpu = [], [], []
    for name in names:
        pids = [servers[name], *children(servers[name])]
        backends = per_db.get(db_name(name), [])
        r = sum(mem_kb(p)[0] for p in pids + backends) + shared_rss / n
        s = sum(mem_kb(p)[1] for p in pids + backends) + shared_pss / n
        rss.append(r / 1024)
        pss.append(s / 1024)
        cpu.append(sum(cpu_s(p) for p in pids))
    out = {
        "n": n, "ready_med": statistics.median(ready_s.values()), "ready_max": max(ready_s.values()),
        "cell_med": statistics.median(cell_s.values()), "cell_max": max(cell_s.values()),
        "rss_mb": statistics.median(rss), "pss_mb": statistics.median(pss), "pss_max": max(pss),
        "cpu_s": statistics.median(cpu),
    }
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda name: hub.stop_server(name, timeout_s=300), names))
    return out


def notebook_05(hub: ClassHub, n: int) -> tuple[float, float, str]:
    """Notebook 05 (the database) run cell by cell in a fresh kernel of each of ``n`` learners at once:
    (median s, slowest s, what failed)."""
    import json

    nb = json.loads((hub.data / "course" / "notebooks" / "05-database.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    names = hub.learners[:n]
    for name in names:
        hub.start_server(name)
    for name in names:
        hub.wait_ready(name, timeout_s=900)

    def run(name: str) -> tuple[float, str]:
        t = time.monotonic()
        try:
            hub.run_code(name, cells, timeout_s=1800)
            return time.monotonic() - t, ""
        except Exception as exc:  # a figure, not a test: say what failed and go on
            return time.monotonic() - t, f"{name}: {str(exc).splitlines()[0][:160]}"

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(run, names))
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda name: hub.stop_server(name, timeout_s=300), names))
    times = [t for t, _ in results]
    return statistics.median(times), max(times), "; ".join(e for _, e in results if e)


def hub_overhead_mb(hub: ClassHub) -> float:
    assert hub.proc is not None
    pids = [hub.proc.pid, *children(hub.proc.pid)]
    servers = set(hub.server_pids().values())
    pids = [p for p in pids if p not in servers]
    return sum(mem_kb(p)[1] for p in pids) / 1024


def plan(label: str, learners: int, per_mb: float, cpu_s: float, overhead_mb: float) -> str:
    """The arithmetic for a class: RAM with headroom, and cores for everyone arriving within 5 minutes."""
    headroom = 1.5  # a second kernel, notebook 05's pool lesson (10 connections), the page cache
    ram_gb = (overhead_mb + learners * per_mb * headroom) / 1024
    cores = max(2, math.ceil(learners * cpu_s / 300 * 1.5))  # starts spread over 5 minutes, 50 % spare
    if learners <= 60:
        where = f"one server with {math.ceil(ram_gb / 4) * 4} GB RAM and {cores} cores"
    else:
        nodes = max(math.ceil(ram_gb / 28), math.ceil(cores / 7))
        where = f"{nodes} Kubernetes nodes of 8 CPU / 32 GiB (28 GiB allocatable), or one box of {ram_gb:.0f} GB"
    return (f"  {label}: {learners} x {per_mb:.0f} MB x {headroom} + {overhead_mb:.0f} MB hub = {ram_gb:.1f} GB RAM; "
            f"{learners} x {cpu_s:.1f} CPU-s to start, arriving over 5 min = {cores} cores -> {where}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=counts(1, 200), default=counts(1, 200)("5,10,20"))
    ap.add_argument("--notebook-learners", type=count(0, 200), default=5, help="learners running notebook 05 at once (0: skip)")
    args = ap.parse_args()
    sizes = args.sizes
    root = Path(tempfile.mkdtemp(prefix="tierlab-bench-hub-", dir="/tmp"))
    os.chmod(root, 0o711)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hub = ClassHub(max(*sizes, args.notebook_learners), data=root / "class", port=port, cull_idle_s=3600,
                   admin=f"bench{os.getpid()}")  # tierlab-instructor may be another running class's
    print(f"bench_hub: {os.cpu_count()} cores, {os.sysconf('SC_PHYS_PAGES') * PAGE / 2**30:.1f} GiB RAM; "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    t = time.monotonic()
    results = []
    try:
        hub.start(timeout_s=300)
        print(f"hub up in {time.monotonic() - t:.1f} s (course, database, JupyterHub); isolation: {hub.isolation}")
        overhead = hub_overhead_mb(hub)
        print(f"hub overhead (JupyterHub + proxy + idle culler): {overhead:.0f} MB PSS")
        print(f"{'N':>3} {'ready med':>9} {'ready max':>9} {'cell med':>8} {'cell max':>8} {'RSS/learner':>11} "
              f"{'PSS/learner':>11} {'PSS max':>7} {'CPU-s':>6}")
        for n in sizes:
            r = run_size(hub, n)
            results.append(r)
            print(f"{n:>3} {r['ready_med']:>8.1f}s {r['ready_max']:>8.1f}s {r['cell_med']:>7.1f}s {r['cell_max']:>7.1f}s "
                  f"{r['rss_mb']:>9.0f}MB {r['pss_mb']:>9.0f}MB {r['pss_max']:>5.0f}MB {r['cpu_s']:>6.1f}", flush=True)
        if args.notebook_learners:
            med, slowest, failed = notebook_05(hub, args.notebook_learners)
            print(f"notebook 05 (the database), every cell, {args.notebook_learners} learners at once: median "
                  f"{med:.0f} s, slowest {slowest:.0f} s" + (f"; FAILED: {failed}" if failed else ""), flush=True)
    finally:
        hub.stop()
        shutil.rmtree(root, ignore_errors=True)  # the class folder: homes, course, state
    last = results[-1]
    per = last["pss_mb"]
    print("memory per learner = server + kernel (after the database cell) + their database backends + 1/N of the "
          "postmaster; PSS counts shared pages once across the class, RSS counts them for everyone")
    print(f"target from issue 14: under 350 MB per learner -> {'met' if per < 350 else 'NOT met'} ({per:.0f} MB PSS, "
          f"{last['rss_mb']:.0f} MB RSS)")
    print("the arithmetic:")
    print(plan("a class of 30", 30, per, last["cpu_s"], overhead))
    print(plan("a class of 300", 300, per, last["cpu_s"], overhead))


if __name__ == "__main__":
    main()
