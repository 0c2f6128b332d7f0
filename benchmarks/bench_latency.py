"""How long the latency model takes to simulate 100,000 Create Account requests.

Prints the median of several runs per preset, and the ratio against a baseline: the same
model sampled one request at a time in plain Python (timed on 10,000 requests, scaled up).
Run: .venv/bin/python benchmarks/bench_latency.py
"""

from __future__ import annotations

import math
import random
import statistics
import time

import tierlab as tl
from tierlab.sim.latency import latency_model

N = 100_000
RUNS = 5


def timed(fn) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def python_loop(model, n: int, seed: int = 0) -> list[float]:
    """The baseline: the same steps, parts and factors, one request at a time."""
    p = model.params or tl.PhysicsParams()
    sig = {"net": p.rtt_jitter_frac, "vpc": p.vpc_jitter_frac, "work": p.work_jitter_frac}
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        total = 0.0
        for st in model.steps:
            u, edge, branch = rng.random(), 0.0, st.branches[-1]
            for b in st.branches:
                edge += b.share
                if u < edge:
                    branch = b
                    break
            for part in branch.parts:
                if part.kind == "fixed":
                    total += part.ms
                elif part.kind == "range":
                    total += part.ms + ((part.hi_ms or part.ms) - part.ms) * rng.random()
                else:
                    s = sig[part.kind]
                    total += part.ms * math.exp(s * rng.gauss(0, 1) - s * s / 2)
        out.append(total)
    return out


def main() -> None:
    topo = tl.load("seed")
    models = {
        "physics (defaults)": latency_model(topo),
        "physics (mixed DNS, no pool, TLS 1.2)": latency_model(topo, dns_cache="mixed", pool=False, tls_version="1.2"),
        "seed budget": latency_model(topo, "seed"),
    }
    base_n = 10_000
    t0 = time.perf_counter()
    python_loop(models["physics (defaults)"], base_n)
    baseline_s = (time.perf_counter() - t0) * N / base_n
    print(f"baseline: plain-Python loop, {N:,} requests (scaled from {base_n:,}): {baseline_s * 1000:8.1f} ms")
    for name, m in models.items():
        m.simulate(1_000, 0)  # warm up
        s = timed(lambda: m.simulate(N, seed=1))
        sim = m.simulate(N, seed=1)
        print(f"{name:40s} {N:,} requests: {s * 1000:7.1f} ms (median of {RUNS})  "
              f"x{baseline_s / s:5.1f} vs baseline  p50 {sim.percentile(50):6.1f} p99 {sim.percentile(99):6.1f} ms")
    t = tl.load("seed")
    s = timed(lambda: tl.health_check_timeline(t, recover_s=150).frame())
    print(f"{'health-check timeline frame (241 s)':40s} {s * 1000:7.1f} ms")
    s = timed(lambda: tl.failover_timeline(t).frame())
    print(f"{'failover timeline frame (3 clients)':40s} {s * 1000:7.1f} ms (includes two journeys)")


if __name__ == "__main__":
    main()
