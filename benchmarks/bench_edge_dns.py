"""How fast are the edge and DNS models? (A TTL slider must redraw well under 100 ms.)

Prints medians for the calls notebooks 01 and 02 make: one cache run over the notebook's stream,
the hit-ratio-by-TTL sweep, the three-deploy comparison, one resolve, one timeline, one stale frame.
"""

from __future__ import annotations

import statistics
import time

import tierlab as tl
from timing import median_ms



def main() -> None:
    budget_ms = 100.0
    topo = tl.load("seed")
    reqs = tl.edge.page_loads(topo, pages=200, duration_s=4 * 3600, seed=1)
    moved = tl.dns.move_alb(topo)
    cases = {
        f"edge.simulate ({len(reqs)} requests)": lambda: tl.edge.simulate(topo, reqs),
        "edge.hit_ratio_by_ttl (7 TTLs)": lambda: tl.edge.hit_ratio_by_ttl(topo, reqs, [0, 60, 300, 900, 1800, 3600, 86400]),
        "edge.deploy_frame (3 strategies)": lambda: tl.edge.deploy_frame(topo, reqs, deploy_at_s=5400),
        "dns.resolve (api.myapp.com)": lambda: tl.dns.resolve(topo, "api.myapp.com"),
        "dns.timeline (400 lookups)": lambda: tl.dns.timeline(topo, "api.myapp.com", lookups_s=range(400),
                                                             change=moved, change_at_s=100),
        "dns.stale_frame (3 clients)": lambda: tl.dns.stale_frame(topo, "api.myapp.com", moved, change_at_s=30),
    }
    for name, fn in cases.items():
        m = median_ms(fn)
        print(f"{name:36s} median {m:8.3f} ms ({budget_ms / m:6.0f}x under the {budget_ms:.0f} ms budget)")


if __name__ == "__main__":
    main()
