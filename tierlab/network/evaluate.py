"""One flow through the VPC, checked the way AWS checks it.

A flow is a TCP (or UDP) connection from a source endpoint to a destination port. Its request
meets, in order: the source ENI's security group (outbound), the source subnet's NACL
(outbound), the route table, the destination subnet's NACL (inbound), the destination ENI's
security group (inbound), and a listener. Its reply meets the NACLs again in reverse, on the
initiator's ephemeral ports (NACLs are stateless), while the security groups let it pass
(they are stateful). Traffic that stays inside one subnet meets no NACL.

Every check is a row with a verdict, the rule that decided it and a ``reason``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Iterable, Literal

from .rules import EPHEMERAL, NaclRule, PortRange, SgRule, default_rule_id, nacl_decide, sg_matches
from .topology import Endpoint, Topology

__all__ = ["Check", "FlowResult", "evaluate_flow", "CODES", "PASSING"]

Verdict = Literal["allow", "deny", "partial", "stateful", "skip", "refused"]
PASSING = ("allow", "stateful", "skip")

#: Explanation codes, in the spirit of VPC Reachability Analyzer.
CODES = {
    "ENI_SG_RULES_MISMATCH": "no rule of the ENI's security groups allows this traffic",
    "SUBNET_ACL_RESTRICTION": "the subnet's network ACL denies this traffic",
    "NO_ROUTE_TO_DESTINATION": "the route table has no route to the destination",
    "ELBV2_LISTENERS_MISMATCH": "the load balancer has no listener on this port",
    "NOT_LISTENING": "the packet arrives but no process listens on the port: connection refused",
    "DNS_RESOLUTION_FAILED": "the name does not resolve to the load balancer",
    "ELBV2_LISTENER_HAS_NO_TG": "the listener's target group has no targets",
}


@dataclass(frozen=True)
class Check:
    """One decision on one packet: which component, which rule, what verdict, and why."""

    flow: str
    leg: Literal["request", "reply"]
    kind: Literal["sg", "nacl", "route", "igw", "listener", "dns", "forward"]  # forward: the ALB listener's action
    component: str
    direction: str
    src: str
    dst: str
    packet: str
    verdict: Verdict
    share: float
    rule_ids: tuple[str, ...]
    reason: str
    code: str | None = None
    would_allow: tuple[str, ...] = ()
    step: str = ""
    pair: str = ""
    ports: PortRange | None = None  # NACL checks: the destination-port range evaluated
    passing: tuple[PortRange, ...] | None = None  # NACL checks: the parts of ``ports`` that pass

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING

    @property
    def blocking(self) -> bool:
        return not self.passed

    @property
    def rule(self) -> str:
        return ", ".join(self.rule_ids)


@dataclass(frozen=True)
class FlowResult:
    """A flow's checks (request then reply) and the share of connections that get through."""

    name: str
    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int
    ephemeral: PortRange
    checks: tuple[Check, ...]

    @property
    def share(self) -> float:
        """Share of connections that get through. A connection uses one ephemeral port, so NACL
        checks on the same port range pass only where *every* one of them passes: their passing
        ports are intersected, not their shares multiplied."""
        s = 1.0
        by_range: dict[PortRange, list[tuple[PortRange, ...]]] = {}
        for c in self.checks:
            if c.passing is not None and c.ports is not None and c.ports.size > 1:
                by_range.setdefault(c.ports, []).append(c.passing)
            else:
                s *= c.share
        for rng, sets in by_range.items():
            common = list(sets[0])
            for other in sets[1:]:
                common = [x for a in common for b in other if (x := a.intersect(b)) is not None]
            s *= sum(r.size for r in common) / rng.size
        return s

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def blocking(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.blocking)

    @property
    def refused(self) -> bool:
        return any(c.verdict == "refused" for c in self.checks)

    @property
    def dropped(self) -> bool:
        return any(c.verdict in ("deny", "partial") for c in self.checks)


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x not in (0.0, 1.0) else ("all" if x == 1.0 else "none")


def _sg_check(
    topo: Topology, flow: str, ep: Endpoint, peer: Endpoint, direction: str, protocol: str, port: int, packet: str
) -> Check:
    groups = [topo.security_group(g) for g in ep.sgs]
    rules = [r for g in groups for r in g.rules_in(direction)]  # type: ignore[arg-type]
    hits = sg_matches(rules, protocol, port, peer.ip, frozenset(peer.sgs))
    names = ", ".join(ep.sgs)
    way = "from" if direction == "inbound" else "to"
    src, dst = (peer.name, ep.name) if direction == "inbound" else (ep.name, peer.name)
    if hits:
        r = hits[0]
        return Check(flow, "request", "sg", names, direction, src, dst, packet, "allow", 1.0,
                     tuple(h.id for h in hits),
                     f"{names} {direction}: {r.describe()} allows {protocol} {port} {way} {peer.label or peer.name}")
    off = [r for g in groups for r in g.rules_in(direction, enabled=False)]  # type: ignore[arg-type]
    would = tuple(r.id for r in sg_matches(off, protocol, port, peer.ip, frozenset(peer.sgs)))
    near = [r for r in rules if r.covers_port(protocol, port)]
    detail = ""
    if near:
        detail = "; " + "; ".join(
            f"{r.id} covers port {port} but only {way} {r.peer}" for r in near[:2]
        )
    if would:
        detail += f"; switched-off rule {', '.join(would)} would allow it"
    return Check(flow, "request", "sg", names, direction, src, dst, packet, "deny", 0.0, (),
                 f"{names} {direction}: no rule allows {protocol} {port} {way} {peer.label or peer.name} "
                 f"(security groups only allow; anything not allowed is dropped){detail}",
                 "ENI_SG_RULES_MISMATCH", would)


def _nacl_check(
    topo: Topology, flow: str, leg: str, subnet: str, direction: str, peer_ip: ipaddress.IPv4Address,
    protocol: str, ports: PortRange, src: str, dst: str, packet: str, purpose: str,
) -> Check:
    nacl = topo.nacl_of(subnet)
    dec = nacl_decide(nacl, direction, protocol, peer_ip, ports)  # type: ignore[arg-type]
    way = "from" if direction == "inbound" else "to"
    segs = "; ".join(
        f"ports {s.ports} {s.action} by {'#' + str(s.rule.number) if s.rule else '*'}" for s in dec.segments
    ) if len(dec.segments) > 1 else ""
    rule_ids = tuple(dec.rule_ids)
    if dec.verdict == "allow":
        r = dec.segments[0].rule
        reason = (f"{nacl.name} {direction} {r.describe() if r else '*'} allows {protocol} {ports} {way} {peer_ip}"
                  f" ({purpose})")
        if len(dec.segments) > 1:
            reason += f" [{segs}]"
        return Check(flow, leg, "nacl", nacl.name, direction, src, dst, packet, "allow", 1.0, rule_ids, reason,  # type: ignore[arg-type]
                     ports=ports, passing=(ports,))
    # blocked in whole or in part: what decided, what would have allowed, what nearly matched
    would = []
    for off in nacl.ordered(direction, enabled=False):  # type: ignore[arg-type]
        alt = nacl_decide(nacl, direction, protocol, peer_ip, ports, extra=off)  # type: ignore[arg-type]
        if alt.share > dec.share:
            would.append(off.id)
    near = [
        r for r in nacl.ordered(direction)  # type: ignore[arg-type]
        if r.action == "allow" and r.port_span().intersect(ports) and peer_ip not in r.cidr
        and r.protocol in (protocol, "all")
    ]
    deciders = [s for s in dec.segments if s.action == "deny"]
    who = ", ".join(
        f"#{s.rule.number} DENY" if s.rule else f"* (no rule matches {protocol} {s.ports} {way} {peer_ip})"
        for s in deciders[:3]
    )
    reason = f"{nacl.name} {direction}: {who} — {purpose}"
    if dec.verdict == "partial":
        reason += (f"; only {_pct(dec.share)} of the ephemeral range {ports} passes, "
                   f"so {_pct(1 - dec.share)} of connections fail [{segs}]")
    if near:
        reason += "; " + "; ".join(f"#{r.number} allows {r.protocol} {r.ports} but only {way} {r.cidr}" for r in near[:2])
    if would:
        reason += f"; switched-off rule {', '.join(would)} would allow it"
    deny_ids = tuple(
        (s.rule.id if s.rule else default_rule_id(nacl.name, direction)) for s in deciders  # type: ignore[arg-type]
    )
    deny_ids = tuple(dict.fromkeys(deny_ids))
    passing = tuple(seg.ports for seg in dec.segments if seg.action == "allow")
    return Check(flow, leg, "nacl", nacl.name, direction, src, dst, packet, dec.verdict, dec.share, deny_ids,  # type: ignore[arg-type]
                 reason, "SUBNET_ACL_RESTRICTION", tuple(would), ports=ports, passing=passing)


def _route_check(topo: Topology, flow: str, leg: str, src: Endpoint, dst: Endpoint, packet: str) -> Check:
    if src.subnet is None:  # from the internet: through the internet gateway
        if topo.internet_gateway is None:
            return Check(flow, leg, "igw", "internet", "", src.name, dst.name, packet, "deny", 0.0, (),
                         "the VPC has no internet gateway: nothing from the internet can reach it",
                         "NO_ROUTE_TO_DESTINATION")
        if dst.kind != "alb":
            return Check(flow, leg, "igw", topo.internet_gateway, "", src.name, dst.name, packet, "deny", 0.0, (),
                         f"{dst.name} has no public address: the internet gateway has nothing to translate to",
                         "NO_ROUTE_TO_DESTINATION")
        return Check(flow, leg, "igw", topo.internet_gateway, "", src.name, dst.name, packet, "allow", 1.0, (),
                     f"{topo.internet_gateway} translates the node's public address to {dst.ip}")
    sub = topo.subnet(src.subnet)
    rt = topo.route_table(sub.route_table)
    route = rt.lookup(dst.ip)
    if route is None:
        return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "deny", 0.0, (),
                     f"{rt.name} (of {sub.name}) has no route to {dst.ip}: "
                     + ("a private subnet needs a NAT gateway or VPC endpoint to reach the internet"
                        if not dst.in_vpc else "add a route"),
                     "NO_ROUTE_TO_DESTINATION")
    if route.target == "local":
        if not dst.in_vpc:
            return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "deny", 0.0, (),
                         f"{rt.name}: {dst.ip} matches local but is no address in this VPC", "NO_ROUTE_TO_DESTINATION")
        return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "allow", 1.0, (f"{rt.name}:local",),
                     f"{rt.name}: {route} (longest prefix {route.destination.prefixlen}) keeps it inside the VPC")
    if route.target == topo.internet_gateway:
        if dst.in_vpc:
            return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "deny", 0.0, (),
                         f"{rt.name}: {route} sends a VPC address to the internet gateway, which drops it",
                         "NO_ROUTE_TO_DESTINATION")
        if src.kind != "alb":
            return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "deny", 0.0, (),
                         f"{rt.name}: {route}, but {src.label or src.name} has no public IPv4 address: the internet "
                         "gateway only translates addresses that have one (a NAT gateway would be needed)",
                         "NO_ROUTE_TO_DESTINATION")
        if not topo.is_public(src.subnet):
            return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "deny", 0.0, (),
                         f"{rt.name}: {route} but {sub.name} is not public", "NO_ROUTE_TO_DESTINATION")
        return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "allow", 1.0,
                     (f"{rt.name}:{route.destination}",), f"{rt.name}: {route} sends it to the internet")
    return Check(flow, leg, "route", rt.name, "", src.name, dst.name, packet, "deny", 0.0, (),
                 f"{rt.name}: {route} leads nowhere in this model", "NO_ROUTE_TO_DESTINATION")


def _listener_check(topo: Topology, flow: str, src: Endpoint, dst: Endpoint, protocol: str, port: int, packet: str) -> Check:
    if protocol == "icmp":
        return Check(flow, "request", "listener", dst.name, "", src.name, dst.name, packet, "allow", 1.0, (),
                     f"ICMP needs no listening process: {dst.label or dst.name}'s kernel answers an echo request")
    if dst.kind == "internet" or dst.kind == "address":
        return Check(flow, "request", "listener", dst.name, "", src.name, dst.name, packet, "allow", 1.0, (),
                     f"{dst.name} is outside this model: assumed to answer")
    if port in dst.listens:
        what = "listener" if dst.kind == "alb" else "process"
        return Check(flow, "request", "listener", dst.name, "", src.name, dst.name, packet, "allow", 1.0, (),
                     f"a {what} on {dst.label or dst.name} accepts {protocol} {port}")
    code = "ELBV2_LISTENERS_MISMATCH" if dst.kind == "alb" else "NOT_LISTENING"
    return Check(flow, "request", "listener", dst.name, "", src.name, dst.name, packet, "refused", 0.0, (),
                 f"the packet reaches {dst.label or dst.name} but nothing listens on {port}: the sender gets a "
                 f"TCP reset ('connection refused'), not a timeout", code)


def evaluate_flow(
    topo: Topology, src: Endpoint, dst: Endpoint, port: int, *, protocol: str = "tcp",
    ephemeral: PortRange | None = None, name: str = "", purpose: str = "",
) -> FlowResult:
    """Every check a connection from ``src`` to ``dst:port`` meets, request then reply."""
    eph = ephemeral or src.ephemeral
    name = name or f"{src.name}->{dst.name}:{port}"
    req = f"{protocol} {src.ip}:{eph} -> {dst.ip}:{port}"
    rep = f"{protocol} {dst.ip}:{port} -> {src.ip}:{eph}"
    purpose = purpose or f"{protocol} {port}"
    same_subnet = src.subnet is not None and src.subnet == dst.subnet
    checks: list[Check] = []
    # request
    if src.sgs:
        checks.append(_sg_check(topo, name, src, dst, "outbound", protocol, port, req))
    if src.subnet is not None:
        if same_subnet:
            checks.append(Check(name, "request", "nacl", topo.subnet(src.subnet).nacl, "outbound", src.name, dst.name,
                                req, "skip", 1.0, (), f"{src.name} and {dst.name} share {src.subnet}: no NACL is crossed"))
        else:
            checks.append(_nacl_check(topo, name, "request", src.subnet, "outbound", dst.ip, protocol,
                                      PortRange(port, port), src.name, dst.name, req, f"the request, {purpose}"))
    checks.append(_route_check(topo, name, "request", src, dst, req))
    if dst.subnet is not None and not same_subnet:
        checks.append(_nacl_check(topo, name, "request", dst.subnet, "inbound", src.ip, protocol,
                                  PortRange(port, port), src.name, dst.name, req, f"the request, {purpose}"))
    if dst.sgs:
        checks.append(_sg_check(topo, name, dst, src, "inbound", protocol, port, req))
    checks.append(_listener_check(topo, name, src, dst, protocol, port, req))
    # reply: security groups are stateful, NACLs are not
    if dst.sgs or src.sgs:
        names = ", ".join(dict.fromkeys(dst.sgs + src.sgs))
        checks.append(Check(name, "reply", "sg", names, "", dst.name, src.name, rep, "stateful", 1.0, (),
                            f"the reply belongs to a connection {names} already allowed: security groups are "
                            "stateful, so no outbound rule is needed"))
    if dst.subnet is not None and not same_subnet:
        checks.append(_nacl_check(topo, name, "reply", dst.subnet, "outbound", src.ip, protocol, eph,
                                  dst.name, src.name, rep, f"the reply to {src.label or src.name}'s ephemeral ports {eph}"))
    if dst.subnet is not None:
        checks.append(_route_check(topo, name, "reply", dst, src, rep))
    if src.subnet is not None and not same_subnet:
        checks.append(_nacl_check(topo, name, "reply", src.subnet, "inbound", dst.ip, protocol, eph,
                                  dst.name, src.name, rep, f"the reply to {src.label or src.name}'s ephemeral ports {eph}"))
    return FlowResult(name, src, dst, protocol, port, eph, tuple(checks))


def with_step(checks: Iterable[Check], step_of: dict[tuple[str, str, str], str], pair: str) -> tuple[Check, ...]:
    """Label each check with the journey step it belongs to, by (leg, kind, direction)."""
    out = []
    for c in checks:
        step = step_of.get((c.leg, c.kind, c.direction)) or step_of.get((c.leg, c.kind, "")) or step_of.get((c.leg, "*", "*"), "")
        out.append(replace(c, step=step, pair=pair))
    return tuple(out)


def ephemeral_for(os_name: str) -> PortRange:
    return EPHEMERAL[os_name]
