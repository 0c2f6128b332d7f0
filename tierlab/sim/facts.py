"""What the latency model reads from a topology: the API record and its TTL, Multi-AZ, and how
many (ALB node, target) and (server, database) pairs cross AZs."""

from __future__ import annotations

from dataclasses import dataclass

from ..network.topology import Topology

__all__ = ["TopologyFacts"]


@dataclass(frozen=True)
class TopologyFacts:
    """What the latency model reads from a topology."""

    name: str
    api_host: str
    api_ttl_s: int
    api_record: str            # "alias", "CNAME", or "none"
    dns_lookups_on_miss: int
    multi_az: bool
    alb_cross_az_share: float  # ALB node -> target pairs that cross AZs (cross-zone on)
    db_cross_az_share: float   # API servers not in the primary's AZ
    edge_ttl_s: int
    app_host: str

    @classmethod
    def of(cls, topo: Topology) -> "TopologyFacts":
        rec = next((r for r in topo.records if r.name == topo.api_host and not r.private), None)
        if rec is None:
            kind, ttl, lookups = "none", 0, 1
        elif rec.alias:
            kind, ttl, lookups = "alias", rec.ttl_s, 1
        else:
            kind, ttl, lookups = rec.type, rec.ttl_s, 2
        az_of_target = {}
        for t in topo.alb.targets:
            inst = next((i for i in topo.instances if i.name == t), None)
            if inst is not None:
                az_of_target[t] = topo.subnet(inst.subnet).az
        node_azs = [topo.subnet(n.subnet).az for n in topo.alb.nodes]
        pairs = [(na, ta) for na in node_azs for ta in az_of_target.values()
                 if topo.alb.cross_zone or na == ta]
        alb_cross = sum(1 for na, ta in pairs if na != ta) / len(pairs) if pairs else 0.0
        primary = topo.database.instance("primary")
        p_az = topo.subnet(primary.subnet).az if primary else None
        db_cross = (sum(1 for a in az_of_target.values() if a != p_az) / len(az_of_target)) if az_of_target else 0.0
        return cls(topo.name, topo.api_host, ttl, kind, lookups, topo.database.multi_az, alb_cross, db_cross,
                   topo.edge.default_ttl_s if topo.edge else 0, topo.edge.domain if topo.edge else "")
