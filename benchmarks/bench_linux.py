"""Real-packet figures, measured on this machine (Linux as root; says why and exits 0 elsewhere).

Prints:
  1. building the seed VPC in network namespaces (target < 2 s) and tearing it down;
  2. a rule toggle applied to nftables incrementally (target < 50 ms), per kind of chain;
  3. one real Create Account through ALB node -> API server -> PostgreSQL, with its Server-Timing;
  4. Create Account requests/s through the whole stack, beside pooled create_user rows/s
     measured from the API server's namespace against the same PostgreSQL;
  5. one toggle of the lab app's Real packets tab (tierlab.linux.Mirror): the rewrite, the three
     hops' SYNs, and the real Create Account (over TLS), model and Linux side by side;
  6. seed-vpc (NAT gateways, endpoint ENIs, S3's namespace) built, its egress mistakes replayed
     (12 connections each, both judges), and its differential per case (every server's way out too).

    .venv/bin/python benchmarks/bench_linux.py [--requests 300] [--threads 8] [--only egress]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from timing import count
import tierlab as tl
from tierlab import linux
from tierlab.linux.netns import enter


def build_figures(runs: int) -> None:
    seed = tl.load("seed")
    builds, closes = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        lab = linux.build(seed)
        builds.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        lab.close()
        closes.append((time.perf_counter() - t0) * 1000)
    print(f"== 1. build the seed VPC in {len(lab.plan.keys)} namespaces: median {statistics.median(builds):.0f} ms "
          f"(min {min(builds):.0f}, max {max(builds):.0f}; target < 2000 ms); teardown median "
          f"{statistics.median(closes):.0f} ms")


def toggle_figures(repeat: int) -> None:
    seed = tl.load("seed")
    with linux.build(seed) as lab:
        print("== 2. a rule toggle applied to nftables (off, then on again; target < 50 ms)")
        for rid, what in (("nacl-private-db-in-100", "NACL rule: one chain in the router"),
                          ("database-sg-in-5432", "SG rule: one chain in each of 2 RDS namespaces"),
                          ("web-sg-in-3000", "SG rule: one chain in each of 3 API namespaces")):
            off = seed.switch_off(rid)
            times = []
            for _ in range(repeat):
                times.append(lab.apply(off))
                times.append(lab.apply(seed))
            print(f"  {rid:<24} median {statistics.median(times):5.1f} ms, max {max(times):5.1f} ms  ({what})")


def stack_figures(requests: int, threads: int) -> None:
    seed = tl.load("seed")
    t0 = time.perf_counter()
    with linux.build(seed, services=True) as lab:
        print(f"== 3. the stack up (PostgreSQL, 3 API servers, 2 ALB nodes) in {time.perf_counter() - t0:.1f} s")
        first = lab.create_account("John Doe", "john@example.com")
        second = lab.create_account("Jane Doe", "jane@example.com")
        for label, r in (("first (new DB connection)", first), ("second (pooled)", second)):
            phases = ", ".join(f"{k} {v:.1f} ms" for k, v in r.timing.items())
            print(f"  {label}: {r.status} userId={r.body.get('userId')} in {r.elapsed_ms:.1f} ms via {r.node}; "
                  f"Server-Timing: {phases}")
        print("  (alb = the ALB node's whole forward; app = the API server's handler; the rest is the network)")

        def one(i: int) -> int:
            return lab.create_account("Load Test", f"load{i}@example.com").status or 0

        for i in range(threads):  # warm every API server's pool
            one(10_000_000 + i)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(one, range(requests)))
        s = time.perf_counter() - t0
        ok = sum(1 for x in statuses if x == 200)
        print(f"== 4. {requests} Create Accounts through the whole stack, {threads} browsers at once: "
              f"{requests / s:,.0f} requests/s ({ok} answered 200)")
        pooled_rows_per_s(lab, requests)


def pooled_rows_per_s(lab, n: int) -> None:
    import sqlalchemy as sa

    from tierlab.db.service import create_user

    topo = lab.topo
    inst = topo.database.instance("primary")
    url = lab.stack.db_url(str(inst.ip), topo.database.port)
    with enter(lab.ns(topo.alb.targets[0])):  # from an API server's namespace, through the NACLs and SGs
        engine = sa.create_engine(url, pool_size=10)
        create_user(engine, "Warm Up", "warm@example.com")
        t0 = time.perf_counter()
        for i in range(n):
            create_user(engine, "Pooled", f"pooled{i}@example.com")
        s = time.perf_counter() - t0
        engine.dispose()
    print(f"  beside it: pooled create_user from {topo.alb.targets[0]}'s namespace, one after another: "
          f"{n / s:,.0f} rows/s (no HTTP, no ALB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=count(1, 1_000_000), default=300)
    ap.add_argument("--threads", type=count(1, 256), default=8)
    ap.add_argument("--builds", type=count(1, 100), default=5)
    ap.add_argument("--only", choices=["egress"], help="only the seed-vpc figures (6)")
    args = ap.parse_args()
    reason = linux.skip_reason()
    if reason:
        print(f"bench_linux: skipped: {reason}")
        sys.exit(0)
    if args.only == "egress":
        egress_figures(args.builds)
        return
    build_figures(args.builds)
    toggle_figures(10)
    stack_figures(args.requests, args.threads)
    mirror_figures()
    egress_figures(args.builds)


def egress_figures(runs: int) -> None:
    from tierlab.course.egress import load_mistakes
    from tierlab.linux import differential as D

    vpc = tl.load("seed-vpc")
    builds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        lab = linux.build(vpc)
        builds.append((time.perf_counter() - t0) * 1000)
        lab.close()
    print(f"== 6. seed-vpc in {len(lab.plan.keys)} namespaces (2 NAT gateways, 8 endpoint ENIs, S3's): build median "
          f"{statistics.median(builds):.0f} ms (min {min(builds):.0f}, max {max(builds):.0f})")
    with linux.build(vpc) as lab:
        mistakes = load_mistakes()
        t0 = time.perf_counter()
        table = D.replay(lab, mistakes)
        s = time.perf_counter() - t0
        print(f"  {len(mistakes)} egress mistakes x 12 connections replayed in {s:.2f} s "
              f"({'all agree' if table['agree'].all() else 'DISAGREE'})")
        cases = D.whatifs(vpc, 30)
        rep = D.run(lab, cases, timeout_s=0.05)
        print(f"  differential: {rep.cases} what-ifs, {rep.probes} connections in {rep.seconds:.1f} s "
              f"({rep.seconds / rep.cases * 1000:.0f} ms per case, {len(D.flows(vpc))} connections each); "
              f"{len(rep.unexplained)} unexplained")


def mirror_figures() -> None:
    seed = tl.load("seed")
    t0 = time.perf_counter()
    with linux.Mirror(seed) as m:
        up_s = time.perf_counter() - t0
        m.check(seed)  # warm: every API server has answered once
        print(f"== 5. the app's Real packets tab: its lab up in {up_s:.1f} s; per toggle (median of 5):")
        for rid in ("nacl-public-in-100", "database-sg-in-5432", "web-sg-in-3000"):
            off = seed.switch_off(rid)
            hops, full, agree = [], [], True
            for _ in range(5):
                t = time.perf_counter()
                c = m.check(off, request=False)
                hops.append((time.perf_counter() - t) * 1000)
                m.check(seed, request=False)
                t = time.perf_counter()
                c = m.check(off)
                full.append((time.perf_counter() - t) * 1000)
                agree = agree and c.agree
                m.check(seed, request=False)
            http = c.row("Create Account")
            print(f"  {rid:<22} rewrite {c.apply_ms:4.1f} ms, rewrite + 3 hops {statistics.median(hops):5.0f} ms, "
                  f"with the real request {statistics.median(full):5.0f} ms; model {http.model!r}, Linux "
                  f"{http.linux!r}; {'agree' if agree else 'DISAGREE'}")


if __name__ == "__main__":
    main()
