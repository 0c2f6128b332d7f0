"""How long does evaluating the whole journey take? (It must be far under 10 ms for live widgets.)

Prints the median over many runs of `tl.journey(topology)` for every (ALB node, target) pair,
for `seed` and `seed-as-written`, and the same after a rule toggle (a new frozen topology); then
what a redraw also asks for: where every pair's packet stops (`pair.steps`) and the outcomes.
Then `seed-vpc` (NAT gateway per zone, S3 gateway endpoint, four interface endpoints): its journey, and
its outbound flows (every API server to the internet through its NAT, to S3 through the gateway
endpoint, to each interface endpoint through private DNS: `outbound(topo)`), plain and after a what-if
(a zone outage). Its API servers are an Auto Scaling group of six (12 pairs); last, a zone-outage
timeline of that group and the journey at one of its moments (`timeline.topology_at(t)`).
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
    vpc = tl.load("seed-vpc")
    m = median_ms(lambda: tl.journey(vpc), repeat=300)
    print(f"{'seed-vpc':16s} journey ({len(tl.journey(vpc).pairs)} pairs: an Auto Scaling group of six): "
          f"median {m:.2f} ms")
    from tierlab.network.reachability import outbound

    servers = [i.name for i in vpc.servers()]
    dests = ("internet", "s3", "ssm", "ssmmessages", "ec2messages", "secretsmanager")
    n = len(servers) * len(dests)
    flows = median_ms(lambda: [tl.can_reach(vpc, s, d) for s in servers for d in dests], repeat=50)
    print(f"{'seed-vpc':16s} outbound flows ({n}: {len(servers)} servers x internet/NAT, S3/gateway endpoint, 4 interface "
          f"endpoints): median {flows:.2f} ms ({flows / n:.2f} ms a flow)")
    table = median_ms(lambda: outbound(vpc.with_zone_down("us-east-1a")), repeat=50)
    print(f"{'seed-vpc':16s} zone outage what-if + outbound(topo) table: median {table:.2f} ms")
    # the journey at one moment of an Auto Scaling timeline: the topology of that moment, then its journey
    outage = tl.zone_outage_timeline(vpc)
    build = median_ms(lambda: tl.zone_outage_timeline(vpc), repeat=20)
    at = median_ms(lambda: tl.journey(outage.topology_at(120)), repeat=300)
    print(f"{'seed-vpc':16s} zone-outage timeline ({outage.duration_s:.0f} s, {len(outage.members)} instances): "
          f"median {build:.1f} ms; topology_at(120) + journey {at:.2f} ms "
          f"({len(tl.journey(outage.topology_at(120)).pairs)} pairs)")


if __name__ == "__main__":
    main()
