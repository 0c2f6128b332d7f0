"""Reachability questions, for what the journey does not exercise.

* ``can_reach(topo, "node-api-1", "internet", 443)`` — can A reach B on P?
* ``who_can_reach(topo, "rds-primary", 5432)`` — every source that can, and where the rest stop.
* ``what_opens(topo, "database-sg-in-5432")`` — which connections exist only because of a rule.
* ``can_reach(topo, "node-api-1", "ssm")`` — an AWS service by name (port 443): its name resolved as
  the VPC's DNS would (an interface endpoint's ENI with private DNS, else the public address), then
  the flow hop by hop (through a NAT gateway or a gateway endpoint when the route says so).
* ``outbound(topo)`` — every server to the internet and to each AWS service: one row each, with a reason.

This is how a learner sees what an over-permissive rule (0.0.0.0/0 on 5432) exposes.
"""

from __future__ import annotations

import html
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from ..errors import TierlabError, TopologyError
from . import limits
from dataclasses import replace

from .evaluate import Check, FlowResult, evaluate_flow
from .gateways import SERVICE_ADDRESSES, SESSION_MANAGER
from .rules import EPHEMERAL, NaclRule, PortRange
from .topology import Endpoint, Topology, require_topology

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Reach", "can_reach", "who_can_reach", "who_can_reach_compare", "what_opens", "probe_hosts", "INTERNET_HOST",
           "outbound", "session_manager", "SESSION_MANAGER", "SERVICES"]

#: The AWS services a question may name as its destination (``can_reach(topo, "node-api-1", "ssm")``).
SERVICES = tuple(SERVICE_ADDRESSES)

#: A documentation address standing for "somewhere on the internet".
INTERNET_HOST = ipaddress.IPv4Address("198.51.100.20")


@dataclass(frozen=True)
class Reach:
    """The answer to "can A reach B on P": the flow's checks, a verdict and a reason."""

    flow: FlowResult

    @property
    def ok(self) -> bool:
        return self.flow.ok

    @property
    def share(self) -> float:
        return self.flow.share

    @property
    def reason(self) -> str:
        f = self.flow
        if f.ok:
            return f"{f.src.name} reaches {f.dst.name} on {f.protocol} {f.port}, and the reply comes back"
        blocks = "; ".join(f"[{b.code}] {b.reason}" for b in f.blocking)
        return f"{f.src.name} cannot reach {f.dst.name} on {f.protocol} {f.port}: {blocks}"

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([{"leg": c.leg, "kind": c.kind, "component": c.component, "direction": c.direction,
                              "packet": c.packet, "verdict": c.verdict, "share": c.share, "rule": c.rule,
                              "code": c.code or "", "reason": c.reason} for c in self.flow.checks])

    def _repr_html_(self) -> str:
        color = "#2e7d32" if self.ok else "#c62828"
        return (f'<p style="color:{color};font-weight:bold">{html.escape(self.reason)}</p>'
                + self.frame().to_html(index=False))

    def __repr__(self) -> str:
        return f"<Reach {'OK' if self.ok else 'BLOCKED'}: {self.reason}>"


def _endpoint(topo: Topology, name: str | Endpoint, os: str) -> Endpoint:
    if isinstance(name, Endpoint):
        return name
    if name == "internet":
        return Endpoint(name="internet", kind="internet", ip=topo.client_ip, subnet=None, sgs=(), listens=(),
                        ephemeral=EPHEMERAL[os], label=f"internet ({os})")
    try:
        return topo.endpoint(name)
    except TopologyError as exc:
        raise TopologyError(exc.message, f"{exc.hint}; or, as a destination, an AWS service: "
                            f"{', '.join(SERVICES)}") from None


def _as_destination(topo: Topology, ep: Endpoint) -> Endpoint:
    if ep.kind == "internet":  # the internet as a destination: some host out there
        return Endpoint(name="internet", kind="internet", ip=INTERNET_HOST, subnet=None, sgs=(), listens=(),
                        ephemeral=EPHEMERAL["linux"], label="a host on the internet")
    return ep


def _service(topo: Topology, name: object) -> str | None:
    """The service a destination names (``ssm`` or ``ssm.us-east-1.amazonaws.com``), else None."""
    if not isinstance(name, str):
        return None
    if name in SERVICE_ADDRESSES:
        return name
    suffix = f".{topo.region}.amazonaws.com"
    short = name[: -len(suffix)] if name.endswith(suffix) else None
    return short if short in SERVICE_ADDRESSES else None


def _dns_check(topo: Topology, s: Endpoint, service: str, port: int, protocol: str) -> tuple[Check, Endpoint | None]:
    ep, why = topo.resolve_service(service, s.subnet)
    host = topo.service_host(service)
    chk = Check(flow=f"{s.name}->{service}:{port}", leg="request", kind="dns", component="Route 53 Resolver",
                direction="", src=s.name, dst=host, packet=f"DNS {host} A?", verdict="allow" if ep else "deny",
                share=1.0 if ep else 0.0, rule_ids=(), reason=why, code=None if ep else "DNS_RESOLUTION_FAILED")
    return chk, ep


def can_reach(topo: Topology, src: str | Endpoint, dst: str | Endpoint, port: int = 443, *,
              protocol: str = "tcp", os: str = "linux") -> Reach:
    """Can ``src`` open a connection to ``dst`` on ``port`` (and get the reply)?

    ``dst`` may name an AWS service (``"ssm"``, ``"s3"``, ``"ssm.us-east-1.amazonaws.com"``): the answer then
    starts with a ``dns`` check saying where the name resolves (:meth:`Topology.resolve_service`)."""
    topo = require_topology(topo, "can_reach")
    if protocol == "icmp":  # ICMP has no ports: the number only labels the flow
        port = limits.whole_number(port, "port", 0, limits.PORT_MAX)
    else:
        port = limits.single_port(port, "port")
    if protocol not in ("tcp", "udp", "icmp"):
        raise TopologyError(f"protocol {protocol!r} is unknown", "ask about tcp, udp or icmp")
    if os not in ("linux", "windows", "macos"):
        raise TopologyError(f"unknown client OS {os!r}", "use linux, windows or macos")
    s = _endpoint(topo, src, os)
    service = _service(topo, dst) if not isinstance(dst, Endpoint) else None
    if service is not None:
        if s.kind == "internet":
            raise TopologyError(f"the internet asking for {service}", "ask from a server: can_reach(topo, 'node-api-1', "
                                f"{service!r})")
        dns, ep = _dns_check(topo, s, service, port, protocol)
        name = dns.flow
        if ep is None:
            unresolved = Endpoint(name=service, kind="internet", ip=SERVICE_ADDRESSES[service], subnet=None, sgs=(),
                                  listens=(), ephemeral=s.ephemeral, label=topo.service_host(service))
            return Reach(FlowResult(name=name, src=s, dst=unresolved, protocol=protocol, port=port,
                                    ephemeral=s.ephemeral, checks=(dns,)))
        f = evaluate_flow(topo, s, ep, port, protocol=protocol, name=name)
        return Reach(replace(f, checks=(dns,) + f.checks))
    d = _as_destination(topo, _endpoint(topo, dst, os))
    if s.kind == "internet" and d.kind == "internet":
        raise TopologyError("both ends are the internet", "pick an endpoint inside the topology for one end")
    return Reach(evaluate_flow(topo, s, d, port, protocol=protocol))


def outbound(topo: Topology, sources: str | tuple[str, ...] | list[str] | None = None,
             destinations: str | tuple[str, ...] | list[str] | None = None, port: int = 443) -> "pd.DataFrame":
    """Every source (default: the API servers) to every destination (default: the internet and each service the
    topology has an endpoint for, plus s3): one row each with ``reaches``, ``via`` (the route's target),
    ``blocked_at``, ``code`` and a ``reason``. ``tl.can_reach(topo, src, dst).frame()`` shows one row's checks."""
    topo = require_topology(topo, "outbound")
    import pandas as pd

    srcs = [sources] if isinstance(sources, str) else list(sources or [i.name for i in topo.servers()])
    if destinations is None:
        dests = ["internet", "s3"] + [e.service for e in topo.vpc_endpoints if e.service != "s3"]
    else:
        dests = [destinations] if isinstance(destinations, str) else list(destinations)
    rows = []
    for s in srcs:
        for d in dict.fromkeys(dests):
            r = can_reach(topo, s, d, port)
            b = r.flow.blocking[0] if not r.ok else None
            route = next((c for c in r.flow.checks if c.kind == "route" and c.leg == "request" and not c.at), None)
            via = _via(topo, route)
            rows.append({"source": s, "destination": d, "address": str(r.flow.dst.ip), "via": via, "reaches": r.ok,
                         "share": round(r.share, 4), "blocked_at": b.component if b else "",
                         "code": (b.code or "") if b else "", "reason": r.reason})
    return pd.DataFrame(rows, columns=["source", "destination", "address", "via", "reaches", "share", "blocked_at",
                                       "code", "reason"])


def _via(topo: Topology, route: Check | None) -> str:
    if route is None or not route.rule_ids:
        return ""
    rid = route.rule_ids[0]
    table, _, dest = rid.partition(":")
    if dest == "local":
        return "local"
    rt = topo.routes_of(table)
    r = next((x for x in rt.routes if (x.prefix_list or str(x.destination)) == dest), None)
    return r.target if r else ""


def session_manager(topo: Topology, server: str) -> "pd.DataFrame":
    """Can ``server`` be managed with Session Manager (no inbound rule, no SSH)? The SSM agent must reach
    ssm, ssmmessages and ec2messages on 443 (through interface endpoints, or a NAT gateway)."""
    topo = require_topology(topo, "session_manager")
    return outbound(topo, server, SESSION_MANAGER)


def probe_hosts(topo: Topology) -> tuple[Endpoint, ...]:
    """A hypothetical new host in every subnet (no security group of its own to stop it sending),
    standing for "anything else that could be launched there"."""
    out = []
    for sn in topo.subnets:
        ip = sn.cidr.network_address + 100
        out.append(Endpoint(name=f"any-host-in-{sn.name}", kind="address", ip=ip, subnet=sn.name, sgs=(), listens=(),
                            ephemeral=EPHEMERAL["linux"],
                            label=f"any host in {sn.name}"))
    return tuple(out)


def _sources(topo: Topology, include_probes: bool) -> list[Endpoint]:
    srcs = [_endpoint(topo, "internet", "linux")] + [e for e in topo.endpoints if e.kind != "internet"]
    if include_probes:
        srcs += list(probe_hosts(topo))
    return srcs


def who_can_reach(topo: Topology, dst: str, port: int, *, protocol: str = "tcp", include_probes: bool = True) -> "pd.DataFrame":
    """Every source (the internet, every endpoint, a new host in every subnet) and whether it
    can reach ``dst`` on ``port``; each row has a ``reason``."""
    topo = require_topology(topo, "who_can_reach")
    import pandas as pd

    d = _endpoint(topo, dst, "linux")
    rows = []
    for s in _sources(topo, include_probes):
        if s.name == d.name:
            continue
        r = Reach(evaluate_flow(topo, s, _as_destination(topo, d), port, protocol=protocol))
        b = r.flow.blocking[0] if not r.ok else None
        rows.append({"source": s.name, "source_ip": str(s.ip), "subnet": s.subnet or "(internet)",
                     "reaches": r.ok, "share": round(r.share, 4), "blocked_at": b.component if b else "",
                     "code": (b.code or "") if b else "", "reason": r.reason})
    return pd.DataFrame(rows)


def who_can_reach_compare(topos: Mapping[str, Topology], dst: str, port: int, *, protocol: str = "tcp",
                          include_probes: bool = True) -> "pd.DataFrame":
    """``who_can_reach`` under several versions of a topology side by side: one row per source, one True/False
    column per version (named by the mapping's keys), and a ``reason`` saying where they differ."""
    import pandas as pd

    if not topos:
        raise TierlabError("no topologies to compare", "e.g. {'before': topo, 'after': topo.change_rule(...)}")
    frames = {label: who_can_reach(t, dst, port, protocol=protocol, include_probes=include_probes)
              for label, t in topos.items()}
    first = next(iter(frames.values()))
    out = first[["source", "subnet"]].copy()
    for label, f in frames.items():
        if list(f["source"]) != list(first["source"]):
            raise TierlabError(f"{label!r} has other sources than {next(iter(frames))!r}",
                               "compare what-ifs of one topology (same endpoints and subnets)")
        out[label] = f["reaches"].to_numpy()

    def why(row: "pd.Series[bool]") -> str:
        yes = [label for label in frames if row[label]]
        if len(yes) == len(frames):
            return "reaches under every version"
        if not yes:
            return "reaches under none"
        return "reaches only under " + ", ".join(yes)

    out["reason"] = out.apply(why, axis=1)
    return out


def _ports_to_probe(rule_ports: PortRange, dst: Endpoint) -> list[int]:
    listening = [p for p in dst.listens if rule_ports.contains(p)]
    if listening:
        return listening
    return [rule_ports.lo] if rule_ports.size <= 16 else []


def what_opens(topo: Topology, rule_id: str, *, include_probes: bool = True) -> "pd.DataFrame":
    """Connections that work with ``rule_id`` on and fail with it switched off (DataFrame)."""
    topo = require_topology(topo, "what_opens")
    import pandas as pd

    rule = topo.rule(rule_id)
    with_rule = topo.switch_on(rule_id) if not rule.enabled else topo
    without = with_rule.switch_off(rule_id)
    sources = _sources(topo, include_probes)
    dests = [e for e in topo.endpoints if e.kind != "internet"] + [_as_destination(topo, _endpoint(topo, "internet", "linux"))]
    span = rule.port_span() if isinstance(rule, NaclRule) else rule.ports
    rows = []
    for s in sources:
        for d in dests:
            if s.name == d.name or (s.kind == "internet" and d.kind == "internet"):
                continue
            if isinstance(rule, NaclRule):  # a NACL rule can carry replies: any connection may depend on it
                ports = list(d.listens) if d.kind != "internet" else [443]
            else:
                ports = _ports_to_probe(span, d) if d.kind != "internet" else ([span.lo] if span.size <= 16 else [443])
            for port in ports:
                a = evaluate_flow(with_rule, s, d, port, protocol=rule.protocol if rule.protocol != "all" else "tcp")
                if a.share == 0:
                    continue
                b = evaluate_flow(without, s, d, port, protocol=rule.protocol if rule.protocol != "all" else "tcp")
                if b.share >= a.share:
                    continue
                stop = b.blocking[0] if b.blocking else None
                rows.append({"source": s.name, "destination": d.name, "port": port,
                             "with_rule": round(a.share, 4), "without_rule": round(b.share, 4),
                             "reason": f"{rule_id} lets {s.label or s.name} reach {d.label or d.name} on {port}"
                                       + (f"; without it: {stop.reason}" if stop else "")})
    return pd.DataFrame(rows, columns=["source", "destination", "port", "with_rule", "without_rule", "reason"])
