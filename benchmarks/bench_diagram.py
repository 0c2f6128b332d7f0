"""A rule toggle -> re-evaluation + diagram build + Graphviz layout + SVG: how long a click takes.

Target: median under 50 ms (a click feels instant under ~100 ms). Also times the same toggle
through the lab app's widgets (trace table and checkpoints included), without a browser.
Run: .venv/bin/python benchmarks/bench_diagram.py
"""

from __future__ import annotations

import statistics
import time

import tierlab as tl
from tierlab.views import diagram as diagram_module
from tierlab.views import graphviz_engine

ROUNDS = 40
RULE = "database-sg-in-5432"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    engine = graphviz_engine.find_engine()
    seed = tl.load("seed")
    tl.diagram(tl.journey(seed)).svg()  # warm-up: imports, engine probe
    total, evaluate, build, layout = [], [], [], []
    for i in range(ROUNDS):
        diagram_module._layout.cache_clear()  # time a real layout each round, not the cache
        t0 = time.perf_counter()
        topo = seed.switch_off(RULE) if i % 2 == 0 else seed
        trace = tl.journey(topo)
        t1 = time.perf_counter()
        d = tl.diagram(trace, step="db-sg-in")
        t2 = time.perf_counter()
        svg = d.svg()
        t3 = time.perf_counter()
        assert "<svg" in svg and (("hop_node_api_1__rds_primary" in d.blocked_ids) == (i % 2 == 0))
        evaluate.append((t1 - t0) * 1e3)
        build.append((t2 - t1) * 1e3)
        layout.append((t3 - t2) * 1e3)
        total.append((t3 - t0) * 1e3)

    app = tl.lab_app(seed, page=True)
    toggle = app.rules.toggles[RULE]
    widget = []
    for i in range(ROUNDS):
        t0 = time.perf_counter()
        toggle.value = not toggle.value
        widget.append((time.perf_counter() - t0) * 1e3)

    med = statistics.median(total)
    print(f"engine: {engine}")
    print(f"rule toggle ({RULE}) -> journey + diagram + layout + SVG, {ROUNDS} rounds:")
    print(f"  median {med:.1f} ms, p90 {pct(total, 0.9):.1f} ms  (target < 50 ms: {'met' if med < 50 else 'MISSED'})")
    print(f"  of which: evaluate {statistics.median(evaluate):.1f} ms, build DOT {statistics.median(build):.1f} ms, "
          f"layout + SVG {statistics.median(layout):.1f} ms")
    print(f"the same toggle through the app page's widgets (on and off again, so the layout comes from the cache): "
          f"median {statistics.median(widget):.1f} ms, p90 {pct(widget, 0.9):.1f} ms")


if __name__ == "__main__":
    main()
