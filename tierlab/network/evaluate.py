"""One flow through the VPC, checked the way AWS checks it.

A flow is a TCP (or UDP) connection from a source endpoint to a destination port. Its request
meets, in order: the source ENI's security group (outbound), the source subnet's NACL
(outbound), the route table, the destination subnet's NACL (inbound), the destination ENI's
security group (inbound), and a listener. Its reply meets the NACLs again in reverse, on the
initiator's ephemeral ports (NACLs are stateless), while the security groups let it pass
(they are stateful). Traffic that stays inside one subnet meets no NACL.

Every check is a row with a verdict, the rule that decided it and a ``reason``.

Leaving the VPC from a private subnet (AWS: "NAT gateways", "Gateway endpoints"; see
:mod:`tierlab.network.gateways`): when the route (longest prefix, :meth:`Topology.routes_of`) sends
the packet to a NAT gateway, the flow also meets the NAT subnet's NACL inbound and outbound, the
NAT's translation to its Elastic IP and a source port in 1024-65535, the NAT subnet's route to the
internet gateway; the reply meets the NAT subnet's NACL inbound on the NAT's ports 1024-65535 (not
the server's range), the translation back, the NAT subnet's NACL outbound and the server's own NACL
inbound on the server's ephemeral range, from the remote address (the NAT rewrites only the
server's side). Those checks carry ``at=<NAT name>``; checks on the two ends carry ``at=""``. A NAT
in a zone that is down (``Topology.zones_down``) drops everything routed to it. A route to a gateway
endpoint (its prefix list's CIDRs) keeps the flow inside AWS: no NAT, no security group on the
endpoint, only the caller's NACLs on the prefix list's CIDRs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Iterable, Literal

from .gateways import NAT_PORTS, NatGateway, Route
from .rules import EPHEMERAL, Direction, NaclRule, PortRange, SgRule, default_rule_id, nacl_decide, sg_matches
from .topology import Endpoint, Topology, require_topology

__all__ = ["Check", "FlowResult", "evaluate_flow", "nat_on_path", "CODES", "PASSING"]

Verdict = Literal["allow", "deny", "partial", "stateful", "skip", "refused"]
Leg = Literal["request", "reply"]
#: What decided: a security group, a network ACL, a route table, the internet gateway, a listener (or a process
#: listening), DNS, or the ALB forwarding to its target group (``forward``, used by the journey).
Kind = Literal["sg", "nacl", "route", "igw", "listener", "dns", "forward", "nat"]
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
    "NAT_GATEWAY_UNAVAILABLE": "the route's NAT gateway is down with its Availability Zone",
    "ZONE_DOWN": "the sender's or the destination's Availability Zone is down",
}


@dataclass(frozen=True, kw_only=True)
class Check:
    """One decision on one packet: which component, which rule, what verdict, and why."""

    flow: str
    leg: Leg
    kind: Kind
    component: str
    direction: Direction | Literal[""]  # "" where a check has no direction (routes, listeners, DNS)
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
    at: str = ""  # a middlebox the check belongs to (a NAT gateway's name); "" for the flow's two ends

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING

    @property
    def blocking(self) -> bool:
        return not self.passed

    @property
    def rule(self) -> str:
        return ", ".join(self.rule_ids)


@dataclass(frozen=True, kw_only=True)
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
    topo: Topology, flow: str, ep: Endpoint, peer: Endpoint, direction: Direction, protocol: str, port: int, packet: str
) -> Check:
    groups = [topo.security_group(g) for g in ep.sgs]
    rules = [r for g in groups for r in g.rules_in(direction)]
    hits = sg_matches(rules, protocol, port, peer.ip, frozenset(peer.sgs))
    names = ", ".join(ep.sgs)
    way = "from" if direction == "inbound" else "to"
    src, dst = (peer.name, ep.name) if direction == "inbound" else (ep.name, peer.name)
    if hits:
        r = hits[0]
        return Check(flow=flow, leg="request", kind="sg", component=names, direction=direction, src=src, dst=dst,
                     packet=packet, verdict="allow", share=1.0,
                     rule_ids=tuple(h.id for h in hits),
                     reason=f"{names} {direction}: {r.describe()} allows {protocol} {port} {way} {peer.label or peer.name}")
    off = [r for g in groups for r in g.rules_in(direction, enabled=False)]
    would = tuple(r.id for r in sg_matches(off, protocol, port, peer.ip, frozenset(peer.sgs)))
    near = [r for r in rules if r.covers_port(protocol, port)]
    detail = ""
    if near:
        detail = "; " + "; ".join(
            f"{r.id} covers port {port} but only {way} {r.peer}" for r in near[:2]
        )
    if would:
        detail += f"; switched-off rule {', '.join(would)} would allow it"
    return Check(flow=flow, leg="request", kind="sg", component=names, direction=direction, src=src, dst=dst,
                 packet=packet, verdict="deny", share=0.0, rule_ids=(),
                 reason=f"{names} {direction}: no rule allows {protocol} {port} {way} {peer.label or peer.name} "
                 f"(security groups only allow; anything not allowed is dropped){detail}",
                 code="ENI_SG_RULES_MISMATCH", would_allow=would)


def _nacl_check(
    topo: Topology, flow: str, leg: Leg, subnet: str, direction: Direction, peer_ip: ipaddress.IPv4Address,
    protocol: str, ports: PortRange, src: str, dst: str, packet: str, purpose: str,
) -> Check:
    nacl = topo.nacl_of(subnet)
    dec = nacl_decide(nacl, direction, protocol, peer_ip, ports)
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
        return Check(flow=flow, leg=leg, kind="nacl", component=nacl.name, direction=direction, src=src, dst=dst,
                     packet=packet, verdict="allow", share=1.0, rule_ids=rule_ids, reason=reason,
                     ports=ports, passing=(ports,))
    # blocked in whole or in part: what decided, what would have allowed, what nearly matched
    would = []
    for off in nacl.ordered(direction, enabled=False):
        alt = nacl_decide(nacl, direction, protocol, peer_ip, ports, extra=off)
        if alt.share > dec.share:
            would.append(off.id)
    near = [
        r for r in nacl.ordered(direction)
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
        (s.rule.id if s.rule else default_rule_id(nacl.name, direction)) for s in deciders
    )
    deny_ids = tuple(dict.fromkeys(deny_ids))
    passing = tuple(seg.ports for seg in dec.segments if seg.action == "allow")
    return Check(flow=flow, leg=leg, kind="nacl", component=nacl.name, direction=direction, src=src, dst=dst,
                 packet=packet, verdict=dec.verdict, share=dec.share, rule_ids=deny_ids,
                 reason=reason, code="SUBNET_ACL_RESTRICTION", would_allow=tuple(would), ports=ports, passing=passing)


def _route_check(topo: Topology, flow: str, leg: Leg, src: Endpoint, dst: Endpoint, packet: str) -> Check:
    if src.subnet is None:  # from the internet: through the internet gateway
        if topo.internet_gateway is None:
            return Check(flow=flow, leg=leg, kind="igw", component="internet", direction="", src=src.name,
                         dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                         reason="the VPC has no internet gateway: nothing from the internet can reach it",
                         code="NO_ROUTE_TO_DESTINATION")
        if dst.kind != "alb":
            return Check(flow=flow, leg=leg, kind="igw", component=topo.internet_gateway, direction="", src=src.name,
                         dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                         reason=f"{dst.name} has no public address: the internet gateway has nothing to translate to",
                         code="NO_ROUTE_TO_DESTINATION")
        return Check(flow=flow, leg=leg, kind="igw", component=topo.internet_gateway, direction="", src=src.name,
                     dst=dst.name, packet=packet, verdict="allow", share=1.0, rule_ids=(),
                     reason=f"{topo.internet_gateway} translates the node's public address to {dst.ip}")
    sub = topo.subnet(src.subnet)
    rt = topo.routes_of(sub.route_table)
    route = rt.lookup(dst.ip)
    if route is None:
        return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name, dst=dst.name,
                     packet=packet, verdict="deny", share=0.0, rule_ids=(),
                     reason=f"{rt.name} (of {sub.name}) has no route to {dst.ip}: "
                     + ("a private subnet needs a NAT gateway or VPC endpoint to reach the internet"
                        if not dst.in_vpc else "add a route"),
                     code="NO_ROUTE_TO_DESTINATION")
    if route.target == "local":
        if not dst.in_vpc:
            return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name,
                         dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                         reason=f"{rt.name}: {dst.ip} matches local but is no address in this VPC", code="NO_ROUTE_TO_DESTINATION")
        return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name, dst=dst.name,
                     packet=packet, verdict="allow", share=1.0, rule_ids=(f"{rt.name}:local",),
                     reason=f"{rt.name}: {route} (longest prefix {route.destination.prefixlen}) keeps it inside the VPC")
    if route.target == topo.internet_gateway:
        if dst.in_vpc:
            return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name,
                         dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                         reason=f"{rt.name}: {route} sends a VPC address to the internet gateway, which drops it",
                         code="NO_ROUTE_TO_DESTINATION")
        if src.kind != "alb":
            return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name,
                         dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                         reason=f"{rt.name}: {route}, but {src.label or src.name} has no public IPv4 address: the internet "
                         "gateway only translates addresses that have one (a NAT gateway would be needed)",
                         code="NO_ROUTE_TO_DESTINATION")
        if not topo.is_public(src.subnet):
            return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name,
                         dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                         reason=f"{rt.name}: {route} but {sub.name} is not public", code="NO_ROUTE_TO_DESTINATION")
        return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name, dst=dst.name,
                     packet=packet, verdict="allow", share=1.0,
                     rule_ids=(f"{rt.name}:{route.destination}",), reason=f"{rt.name}: {route} sends it to the internet")
    if route.target in {n.name for n in topo.nat_gateways} or route.prefix_list:
        return _egress_route(topo, flow, leg, src, dst, packet, rt.name, route)
    return Check(flow=flow, leg=leg, kind="route", component=rt.name, direction="", src=src.name, dst=dst.name,
                 packet=packet, verdict="deny", share=0.0, rule_ids=(),
                 reason=f"{rt.name}: {route} leads nowhere in this model", code="NO_ROUTE_TO_DESTINATION")


def _egress_route(topo: Topology, flow: str, leg: Leg, src: Endpoint, dst: Endpoint, packet: str, rt: str,
                  route: Route) -> Check:
    """A route out of the VPC through a NAT gateway or a gateway endpoint (longest prefix already chose it)."""
    sub = topo.subnet(src.subnet or "")
    rid = (f"{rt}:{route.prefix_list}" if route.prefix_list else f"{rt}:{route.destination}",)

    def base(verdict: Verdict, reason: str, code: str | None = None) -> Check:
        return Check(flow=flow, leg=leg, kind="route", component=rt, direction="", src=src.name, dst=dst.name,
                     packet=packet, verdict=verdict, share=1.0 if verdict == "allow" else 0.0, rule_ids=rid,
                     reason=reason, code=code)

    if route.prefix_list:  # a gateway endpoint's route (AWS: "Gateway endpoints"; "How route priority works")
        return base("allow", f"{rt}: {route} (longest prefix /{route.destination.prefixlen}, ahead of any 0.0.0.0/0 route) "
                     f"sends it to gateway endpoint {route.target}, which carries it to the service inside AWS's network: "
                     f"no NAT, no security group on the endpoint, but {sub.nacl} must allow {route.destination} both ways "
                     "(NACL rules cannot name a prefix list); the endpoint policy (default: full access) is not modelled")
    nat = topo.nat_gateway(route.target)
    nat_az = topo.subnet(nat.subnet).az
    if nat_az in topo.zones_down:
        return base("deny", f"{rt}: {route}, but {nat.name} lives in {nat.subnet} in {nat_az}, which is down: a NAT "
                     f"gateway is zonal, so every subnet whose route points at it loses its way out"
                     + ("" if sub.az == nat_az else f" ({sub.name} is in {sub.az}, which is up: it needs its own "
                        "zone's NAT gateway)"), "NAT_GATEWAY_UNAVAILABLE")
    cross = "" if sub.az == nat_az else (f"; {sub.name} is in {sub.az} but {nat.name} in {nat_az}: this subnet's egress "
                                         f"depends on {nat_az} too, and pays inter-AZ data transfer")
    return base("allow", f"{rt}: {route} (longest prefix /{route.destination.prefixlen}) sends it to NAT gateway "
                f"{nat.name} in {nat.subnet}{cross}")


def nat_on_path(topo: Topology, src: Endpoint, dst: Endpoint) -> NatGateway | None:
    """The NAT gateway a flow from ``src`` to ``dst`` goes through (its route's target), if any."""
    if src.subnet is None or dst.in_vpc or not topo.nat_gateways:
        return None
    route = topo.routes_of(topo.subnet(src.subnet).route_table).lookup(dst.ip)
    if route is None or route.prefix_list:
        return None
    return next((n for n in topo.nat_gateways if n.name == route.target), None)


def _nat_request(topo: Topology, flow: str, nat: NatGateway, src: Endpoint, dst: Endpoint, protocol: str,
                 port: int, eph: PortRange) -> list[Check]:
    """What the request meets at and after the NAT gateway: its subnet's NACL in, the translation, its subnet's
    NACL out, its subnet's route to the internet gateway."""
    nat_ports = PortRange(*NAT_PORTS)
    req = f"{protocol} {src.ip}:{eph} -> {dst.ip}:{port}"
    out_pkt = f"{protocol} {nat.elastic_ip}:{nat_ports} -> {dst.ip}:{port}"
    same = src.subnet == nat.subnet
    out: list[Check] = []
    if same:
        out.append(Check(flow=flow, leg="request", kind="nacl", component=topo.subnet(nat.subnet).nacl,
                         direction="inbound", src=src.name, dst=nat.name, packet=req, verdict="skip", share=1.0,
                         rule_ids=(), reason=f"{src.name} and {nat.name} share {nat.subnet}: no NACL is crossed", at=nat.name))
    else:
        out.append(replace(_nacl_check(topo, flow, "request", nat.subnet, "inbound", src.ip, protocol, PortRange(port, port),
                                       src.name, nat.name, req, f"the request entering {nat.name}'s subnet"), at=nat.name))
    out.append(Check(flow=flow, leg="request", kind="nat", component=nat.name, direction="", src=src.name, dst=dst.name,
                     packet=out_pkt, verdict="allow", share=1.0, rule_ids=(), at=nat.name,
                     reason=f"{nat.name} rewrites the source {src.ip} to its Elastic IP {nat.elastic_ip} and a source port "
                     f"in {nat_ports}; it has no security group (only {topo.subnet(nat.subnet).nacl} filters it)"))
    out.append(replace(_nacl_check(topo, flow, "request", nat.subnet, "outbound", dst.ip, protocol, PortRange(port, port),
                                   nat.name, dst.name, out_pkt, f"the request leaving {nat.name}'s subnet"), at=nat.name))
    rt = topo.routes_of(topo.subnet(nat.subnet).route_table)
    route = rt.lookup(dst.ip)
    if route is not None and route.target == topo.internet_gateway:
        out.append(Check(flow=flow, leg="request", kind="route", component=rt.name, direction="", src=nat.name,
                         dst=dst.name, packet=out_pkt, at=nat.name, verdict="allow", share=1.0,
                         rule_ids=(f"{rt.name}:{route.destination}",), reason=f"{rt.name}: {route}: {nat.name}'s Elastic IP {nat.elastic_ip} is public, so "
                         f"{topo.internet_gateway} carries it to the internet"))
    else:
        out.append(Check(flow=flow, leg="request", kind="route", component=rt.name, direction="", src=nat.name,
                         dst=dst.name, packet=out_pkt, at=nat.name, verdict="deny", share=0.0, rule_ids=(), reason=f"{rt.name} (of {nat.name}'s subnet {nat.subnet}) sends {dst.ip} to "
                         f"{route.target if route else 'nowhere'}, not to the internet gateway: the NAT cannot reach the "
                         "internet", code="NO_ROUTE_TO_DESTINATION"))
    return out


def _nat_reply(topo: Topology, flow: str, nat: NatGateway, src: Endpoint, dst: Endpoint, protocol: str,
               port: int, eph: PortRange) -> list[Check]:
    """The reply at the NAT gateway: its subnet's NACL in on the NAT's ports 1024-65535, the translation back,
    its subnet's NACL out on the server's ephemeral range, the local route back to the server."""
    nat_ports = PortRange(*NAT_PORTS)
    back = f"{protocol} {dst.ip}:{port} -> {nat.elastic_ip}:{nat_ports}"
    rep = f"{protocol} {dst.ip}:{port} -> {src.ip}:{eph}"
    nacl = topo.subnet(nat.subnet).nacl
    out = [replace(_nacl_check(topo, flow, "reply", nat.subnet, "inbound", dst.ip, protocol, nat_ports, dst.name, nat.name,
                               back, f"the reply to {nat.name}'s own source ports {nat_ports} (not the server's range)"),
                   at=nat.name),
           Check(flow=flow, leg="reply", kind="nat", component=nat.name, direction="", src=dst.name, dst=src.name,
                 packet=rep, verdict="allow", share=1.0, rule_ids=(), at=nat.name,
                 reason=f"{nat.name} maps the reply back to {src.ip}:{eph} (the remote address {dst.ip} stays the source)")]
    if src.subnet == nat.subnet:
        out.append(Check(flow=flow, leg="reply", kind="nacl", component=nacl, direction="outbound", src=nat.name,
                         dst=src.name, packet=rep, verdict="skip", share=1.0, rule_ids=(), at=nat.name,
                         reason=f"{nat.name} and {src.name} share {nat.subnet}: no NACL is crossed"))
    else:
        out.append(replace(_nacl_check(topo, flow, "reply", nat.subnet, "outbound", src.ip, protocol, eph, nat.name,
                                       src.name, rep, f"the reply to {src.label or src.name}'s ephemeral ports {eph}"),
                           at=nat.name))
    rt = topo.routes_of(topo.subnet(nat.subnet).route_table).name
    out.append(Check(flow=flow, leg="reply", kind="route", component=rt, direction="", src=nat.name, dst=src.name,
                     packet=rep, verdict="allow", share=1.0, rule_ids=(f"{rt}:local",), at=nat.name,
                     reason=f"{rt}: the local route {topo.vpc_cidr} takes the reply from {nat.name} to {src.ip}"))
    return out


def _listener_check(topo: Topology, flow: str, src: Endpoint, dst: Endpoint, protocol: str, port: int, packet: str) -> Check:
    if protocol == "icmp":
        return Check(flow=flow, leg="request", kind="listener", component=dst.name, direction="", src=src.name,
                     dst=dst.name, packet=packet, verdict="allow", share=1.0, rule_ids=(),
                     reason=f"ICMP needs no listening process: {dst.label or dst.name}'s kernel answers an echo request")
    if dst.kind == "internet" or dst.kind == "address":
        return Check(flow=flow, leg="request", kind="listener", component=dst.name, direction="", src=src.name,
                     dst=dst.name, packet=packet, verdict="allow", share=1.0, rule_ids=(),
                     reason=f"{dst.name} is outside this model: assumed to answer")
    if dst.subnet is not None and not topo.is_up(dst.subnet):
        # A zone outage: whatever lives there (an endpoint ENI, a server, an ALB node, a DB instance) answers
        # nothing, so the sender's packets are lost (a timeout, not a refusal). Until health checks, DNS or an
        # RDS failover react, this is what traffic to it meets: their timelines live in tierlab.sim.
        return Check(flow=flow, leg="request", kind="listener", component=dst.name, direction="", src=src.name,
                     dst=dst.name, packet=packet, verdict="deny", share=0.0, rule_ids=(),
                     reason=f"{dst.label or dst.name} is down with its zone {topo.subnet(dst.subnet).az}: "
                     "nothing answers", code="ZONE_DOWN")
    if port in dst.listens:
        what = "listener" if dst.kind == "alb" else "process"
        return Check(flow=flow, leg="request", kind="listener", component=dst.name, direction="", src=src.name,
                     dst=dst.name, packet=packet, verdict="allow", share=1.0, rule_ids=(),
                     reason=f"a {what} on {dst.label or dst.name} accepts {protocol} {port}")
    code = "ELBV2_LISTENERS_MISMATCH" if dst.kind == "alb" else "NOT_LISTENING"
    return Check(flow=flow, leg="request", kind="listener", component=dst.name, direction="", src=src.name,
                 dst=dst.name, packet=packet, verdict="refused", share=0.0, rule_ids=(),
                 reason=f"the packet reaches {dst.label or dst.name} but nothing listens on {port}: the sender gets a "
                 f"TCP reset ('connection refused'), not a timeout", code=code)


def evaluate_flow(
    topo: Topology, src: Endpoint, dst: Endpoint, port: int, *, protocol: str = "tcp",
    ephemeral: PortRange | None = None, name: str = "", purpose: str = "",
) -> FlowResult:
    """Every check a connection from ``src`` to ``dst:port`` meets, request then reply."""
    topo = require_topology(topo, "evaluate_flow")
    eph = ephemeral or src.ephemeral
    name = name or f"{src.name}->{dst.name}:{port}"
    req = f"{protocol} {src.ip}:{eph} -> {dst.ip}:{port}"
    rep = f"{protocol} {dst.ip}:{port} -> {src.ip}:{eph}"
    purpose = purpose or f"{protocol} {port}"
    same_subnet = src.subnet is not None and src.subnet == dst.subnet
    checks: list[Check] = []
    if src.subnet is not None and not topo.is_up(src.subnet):
        down = Check(flow=name, leg="request", kind="listener", component=src.name, direction="", src=src.name,
                     dst=dst.name, packet=req, verdict="deny", share=0.0, rule_ids=(), code="ZONE_DOWN",
                     reason=f"{src.label or src.name} is down with its zone {topo.subnet(src.subnet).az}: it sends nothing")
        return FlowResult(name=name, src=src, dst=dst, protocol=protocol, port=port, ephemeral=eph, checks=(down,))
    # request
    if src.sgs:
        checks.append(_sg_check(topo, name, src, dst, "outbound", protocol, port, req))
    if src.subnet is not None:
        if same_subnet:
            checks.append(Check(flow=name, leg="request", kind="nacl", component=topo.subnet(src.subnet).nacl,
                                direction="outbound", src=src.name, dst=dst.name,
                                packet=req, verdict="skip", share=1.0, rule_ids=(), reason=f"{src.name} and {dst.name} share {src.subnet}: no NACL is crossed"))
        else:
            checks.append(_nacl_check(topo, name, "request", src.subnet, "outbound", dst.ip, protocol,
                                      PortRange(port, port), src.name, dst.name, req, f"the request, {purpose}"))
    checks.append(_route_check(topo, name, "request", src, dst, req))
    nat = nat_on_path(topo, src, dst)
    if nat is not None:
        checks += _nat_request(topo, name, nat, src, dst, protocol, port, eph)
    if dst.subnet is not None and not same_subnet:
        checks.append(_nacl_check(topo, name, "request", dst.subnet, "inbound", src.ip, protocol,
                                  PortRange(port, port), src.name, dst.name, req, f"the request, {purpose}"))
    if dst.sgs:
        checks.append(_sg_check(topo, name, dst, src, "inbound", protocol, port, req))
    checks.append(_listener_check(topo, name, src, dst, protocol, port, req))
    # reply: security groups are stateful, NACLs are not
    if dst.sgs or src.sgs:
        names = ", ".join(dict.fromkeys(dst.sgs + src.sgs))
        checks.append(Check(flow=name, leg="reply", kind="sg", component=names, direction="", src=dst.name,
                            dst=src.name, packet=rep, verdict="stateful", share=1.0, rule_ids=(),
                            reason=f"the reply belongs to a connection {names} already allowed: security groups are "
                            "stateful, so no outbound rule is needed"))
    if dst.subnet is not None and not same_subnet:
        checks.append(_nacl_check(topo, name, "reply", dst.subnet, "outbound", src.ip, protocol, eph,
                                  dst.name, src.name, rep, f"the reply to {src.label or src.name}'s ephemeral ports {eph}"))
    if dst.subnet is not None:
        checks.append(_route_check(topo, name, "reply", dst, src, rep))
    if nat is not None:
        checks += _nat_reply(topo, name, nat, src, dst, protocol, port, eph)
    if src.subnet is not None and not same_subnet:
        checks.append(_nacl_check(topo, name, "reply", src.subnet, "inbound", dst.ip, protocol, eph,
                                  dst.name, src.name, rep, f"the reply to {src.label or src.name}'s ephemeral ports {eph}"))
    return FlowResult(name=name, src=src, dst=dst, protocol=protocol, port=port, ephemeral=eph, checks=tuple(checks))


def with_step(checks: Iterable[Check], step_of: dict[tuple[str, str, str], str], pair: str) -> tuple[Check, ...]:
    """Label each check with the journey step it belongs to, by (leg, kind, direction)."""
    out = []
    for c in checks:
        step = step_of.get((c.leg, c.kind, c.direction)) or step_of.get((c.leg, c.kind, "")) or step_of.get((c.leg, "*", "*"), "")
        out.append(_relabel(c, step, pair))
    return tuple(out)


def _relabel(c: Check, step: str, pair: str) -> Check:
    """``replace(c, step=step, pair=pair)`` without re-running ``__init__``: the journey relabels every
    check of every pair, and this is 7x faster (the fields are already valid)."""
    new = object.__new__(Check)
    new.__dict__.update(c.__dict__, step=step, pair=pair)
    return new


def ephemeral_for(os_name: str) -> PortRange:
    return EPHEMERAL[os_name]
