"""How long does evaluating the whole journey take? (It must be far under 10 ms for live widgets.)

Prints the median over many runs of `tl.journey(topology)` for every (ALB node, target) pair,
for `seed` and `seed-as-written`, and the same after a rule toggle (a new frozen topology); then
what a redraw also asks for: where every pair's packet stops (`pair.steps`) and the outcomes.
"""

from __future__ import annotations

import statistics
import time

import tierlab as tl
from timing import median_ms



def main() -> None:
    budget_ms = 10.0
    for name in ("seed", "seed-as-written"):
        topo = tl.load(name)
        n_pairs = len(tl.journey(topo).pairs)
        checks = len(tl.journey(topo).checks)
        m = median_ms(lambda: tl.journey(topo), repeat=300)
        toggle = median_ms(lambda: tl.journey(topo.switch_off("database-sg-in-5432")), repeat=300)
        print(f"{name:16s} journey ({n_pairs} pairs, {checks} checks): median {m:.2f} ms "
              f"({budget_ms / m:.0f}x under the {budget_ms:.0f} ms budget); toggle + journey {toggle:.2f} ms")

        def walked() -> None:
            t = tl.journey(topo.switch_off("database-sg-in-5432"))
            for p in t.pairs:
                p.steps  # noqa: B018  (where each pair's packet stops)
            t.outcomes  # noqa: B018

        w = median_ms(walked, repeat=300)
        print(f"{name:16s} toggle + journey + every pair's steps and the outcomes: median {w:.2f} ms")


if __name__ == "__main__":
    main()
