"""Security-group connection tracking: what happens to open connections when a rule goes away.

AWS tracks a TCP/UDP flow (so removing the rule that allowed it does not cut it: it lives until
its idle timeout, 432,000 s for TCP by default, 30 s for UDP) unless the flow is *untracked*: the
rule that allows it is open to 0.0.0.0/0 **and** a rule in the other direction allows all
traffic to 0.0.0.0/0 on every port. Untracked flows are cut as soon as the rule goes. ICMP is
always tracked.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .evaluate import evaluate_flow
from .rules import Direction, SgRule, sg_matches
from .topology import Endpoint, Topology, require_topology

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Tracking", "connection_tracking", "IDLE_TIMEOUT_S"]

IDLE_TIMEOUT_S = {"tcp": 432_000, "udp": 30, "icmp": 30}
ANYWHERE = ipaddress.IPv4Network("0.0.0.0/0")


@dataclass(frozen=True)
class Tracking:
    """How one side's security groups treat an allowed flow over time."""

    eni: str
    direction: str
    tracked: bool
    idle_timeout_s: int
    allowing_rules: tuple[str, ...]
    reason: str

    @property
    def on_rule_removed(self) -> str:
        if self.tracked:
            return (f"open connections survive until idle for {self.idle_timeout_s} s; "
                    "only new connections are refused")
        return "open connections are cut at once: the flow was never tracked"


def _all_open_other_way(rules: list[SgRule], protocol: str) -> bool:
    """A rule in the other direction allowing all response traffic: anywhere, every port 0-65535."""
    return any(r.peer_cidr == ANYWHERE and r.protocol in ("all", protocol) and (r.protocol == "all" or r.ports.size == 65536)
               for r in rules)


def _side(topo: Topology, ep: Endpoint, peer: Endpoint, direction: Direction, protocol: str, port: int) -> Tracking:
    groups = [topo.security_group(g) for g in ep.sgs]
    this_way = [r for g in groups for r in g.rules_in(direction)]
    other: Direction = "outbound" if direction == "inbound" else "inbound"
    other_way = [r for g in groups for r in g.rules_in(other)]
    hits = sg_matches(this_way, protocol, port, peer.ip, frozenset(peer.sgs))
    open_world = [r for r in hits if r.peer_cidr == ANYWHERE]
    untracked = protocol in ("tcp", "udp") and bool(open_world) and len(open_world) == len(hits) and \
        _all_open_other_way(other_way, protocol)
    if untracked:
        reason = (f"{ep.name}: {open_world[0].id} allows it from anywhere and {other} allows all traffic "
                  "to anywhere, so AWS does not track the flow")
    elif not hits:
        reason = f"{ep.name}: no {direction} rule allows it (nothing to track)"
    else:
        why = ("a rule with a narrower peer allows it" if not open_world else
               f"the {other} rules do not allow all traffic to 0.0.0.0/0" if protocol in ("tcp", "udp")
               else "ICMP is always tracked")
        reason = f"{ep.name}: tracked because {why}"
    return Tracking(ep.name, direction, not untracked, IDLE_TIMEOUT_S.get(protocol, 30),
                    tuple(r.id for r in hits), reason)


def connection_tracking(topo: Topology, src: str, dst: str, port: int, protocol: str = "tcp") -> "pd.DataFrame":
    """Tracking on both ENIs of ``src -> dst:port`` (DataFrame, a ``reason`` on every row)."""
    topo = require_topology(topo, "connection_tracking")
    import pandas as pd

    s, d = topo.endpoint(src), topo.endpoint(dst)
    flow = evaluate_flow(topo, s, d, port, protocol=protocol)
    rows = []
    sides: tuple[tuple[Endpoint, Endpoint, Direction], ...] = ((s, d, "outbound"), (d, s, "inbound"))
    for ep, peer, direction in sides:
        if not ep.sgs:
            continue
        t = _side(topo, ep, peer, direction, protocol, port)
        rows.append({"eni": t.eni, "direction": t.direction, "tracked": t.tracked, "rules": ", ".join(t.allowing_rules),
                     "if_rule_removed": t.on_rule_removed if t.allowing_rules else "", "flow_allowed": flow.ok,
                     "reason": t.reason})
    return pd.DataFrame(rows)
