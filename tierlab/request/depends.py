"""Which verdicts of a journey depend on an assumption of the import the topology came from.

``Topology.assumptions`` (:mod:`tierlab.network.assumptions`) lists what an import had to assume where a
verdict can depend on it. A verdict is flagged only where the assumption can change it:

- a security-group rule left out because its peer (or its ports) is unknown: the journey runs again
  with that rule open to any peer, and the checks whose verdict changes (and the pairs whose outcome
  changes) are the ones that depend on it. SGs only allow, so a packet the group already lets through,
  or one on other ports or in the other direction, is never flagged;
- an assumption about components (a NACL's rules, a route table's associations, a server's groups, the
  load balancer's listeners): the checks made at one of them, or on a packet to or from one of them;
- an assumption the import could not place (``*``): every check.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..errors import TierlabError
from ..network.assumptions import EVERYTHING, Assumption
from ..network.evaluate import Check
from ..network.topology import Topology

if TYPE_CHECKING:
    from .trace import Trace

__all__ = ["check_depends", "involves"]


def _key(c: Check) -> tuple[str, ...]:
    return (c.flow, c.pair, c.leg, c.kind, c.component, str(c.direction), c.step, c.at, c.src, c.dst)


def _keyed(checks: tuple[Check, ...]) -> list[tuple[tuple[str, ...], int]]:
    seen: Counter[tuple[str, ...]] = Counter()
    out = []
    for c in checks:
        k = _key(c)
        out.append((k, seen[k]))
        seen[k] += 1
    return out


def _rule_owner(topo: Topology, rule_id: str) -> str:
    try:
        return topo.owner_of(rule_id)
    except (TierlabError, StopIteration):
        return rule_id.split(":")[0]  # a route ("public:0.0.0.0/0"), a listener, a record


def involves(topo: Topology, c: Check, objects: frozenset[str]) -> bool:
    """Does check ``c`` meet one of ``objects`` (its component, either end, a middlebox, a rule's owner)?"""
    names = {x.strip() for x in c.component.split(",")} | {c.src, c.dst, c.at}
    names |= {_rule_owner(topo, r) for r in c.rule_ids}
    return bool(names & objects)


def _left_out_changes(trace: "Trace", a: Assumption) -> set[tuple[tuple[str, ...], int]]:
    """The checks whose verdict changes when the left-out rule is there, open to any peer."""
    from .journey import journey

    r = a.rule
    assert r is not None
    topo = trace.topology
    try:
        alt = topo.add_sg_rule(r.group, r.direction, ports=r.ports, protocol=r.protocol, cidr="0.0.0.0/0")
    except TierlabError:
        return set()  # the group is gone in this what-if, or already has that very rule: nothing to change
    other = journey(alt, os=trace.os, database=trace.database)  # type: ignore[arg-type]
    verdicts = {k: c.verdict for k, c in zip(_keyed(other.checks), other.checks)}
    return {k for k, c in zip(_keyed(trace.checks), trace.checks) if verdicts.get(k, c.verdict) != c.verdict}


def check_depends(trace: "Trace") -> tuple[tuple[str, ...], ...]:
    """For each of ``trace.checks``, in order: the assumptions (their ``where``) its verdict depends on."""
    topo = trace.topology
    keys = _keyed(trace.checks)
    out: list[list[str]] = [[] for _ in trace.checks]
    for a in topo.assumptions:
        if a.rule is not None:
            changed = _left_out_changes(trace, a)
            hit = [k in changed for k in keys]
        elif EVERYTHING in a.objects:
            hit = [True] * len(keys)
        else:
            objs = frozenset(a.objects)
            hit = [involves(topo, c, objs) for c in trace.checks]
        for i, h in enumerate(hit):
            if h and a.where not in out[i]:
                out[i].append(a.where)
    return tuple(tuple(x) for x in out)
