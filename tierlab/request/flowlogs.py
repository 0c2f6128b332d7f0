"""VPC Flow Logs: the records AWS would write for a journey or a reachability question.

Default format, version 2 (AWS: "Flow log records", "Flow log record examples",
https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html and
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html)::

    version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status

What this module follows, and where it comes from:

* One record per network interface (ENI) per flow per aggregation interval, where a flow is one
  direction of a connection (its 5-tuple): a TCP connection between two ENIs in the VPC shows as
  four records, the request and the reply on each ENI. The internet has no ENI: nothing is logged
  for it. An ALB node has one ENI per subnet and is logged like any other ENI.
* ``action`` is ACCEPT or REJECT "by the security groups or network ACLs": an ENI's record of a
  packet it receives is REJECT when its subnet's NACL inbound or its SG inbound drops it; a packet it
  sends is REJECT when its SG outbound or its subnet's NACL outbound drops it. Replies pass the SGs
  (stateful) but meet the NACLs again (stateless): AWS's own ICMP example shows a ping ACCEPTed
  coming in and its reply REJECTed going out by the NACL ("Security group and network ACL rules").
  A packet that is dropped never reaches the next ENI, which logs nothing.
* Through a NAT gateway (AWS: "Traffic through a NAT gateway" example; "Flow log limitations": a packet
  whose destination is not the ENI's own address shows the ENI's primary private address as ``dstaddr``,
  one it sends on another's behalf shows it as ``srcaddr``): the server's ENI logs the real remote address
  both ways; the NAT's ENI logs server -> NAT private address and NAT private address -> remote on the NAT's
  own source port (1024-65535), and the reply the other way round. The NAT's address lives in the topology:
  ``flow_records(reach, topo=topo)`` (``flow_logs(trace)`` takes it from the journey).
* A packet that leaves an ENI and is then dropped by routing (no route, no public address) is an
  ACCEPT on the sender's ENI and nothing elsewhere: the record's action speaks only of SGs and NACLs.
  (Modelling choice: AWS documents no REJECT for routing drops.)
* Some traffic is never logged (AWS: "Flow log limitations",
  https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-limitations.html): traffic to the Amazon
  DNS server, Windows license activation, instance metadata 169.254.169.254, Amazon Time Sync
  169.254.169.123, DHCP, mirrored traffic, the VPC router's reserved address, and traffic between an
  endpoint ENI and a Network Load Balancer ENI. :func:`never_logged` lists what this topology does of it.

Deterministic: ENI ids are a hash of the endpoint's name and subnet; ephemeral ports a hash of the
flow's name within the client's range (one connection per way the NACLs treat the range, so a NACL
that admits only part of it shows both an accepted and a rejected connection); times start at a fixed
epoch. Packet and byte counts are illustrative sizes of a typical exchange (a SYN is 60 bytes and is
retransmitted after 1, 2, 4 ... s; an ICMP echo 84 bytes), not measurements: the lesson is in the
addresses, the ports and the action.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable, Literal, Sequence

from ..errors import ParameterError
from ..network.evaluate import PASSING, Check, FlowResult
from ..network.reachability import Reach
from ..network.gateways import NAT_PORTS
from ..network.rules import EPHEMERAL, Direction, PortRange, default_rule_id, nacl_decide, sg_matches
from ..network.topology import Endpoint, Topology
from .trace import Trace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FIELDS", "COLUMNS", "ACCOUNT_ID", "EPOCH_S", "FlowRecord", "FlowLog", "flow_logs", "flow_records",
           "interface_id", "interfaces", "never_logged", "is_logged", "parse", "NEVER_LOGGED", "diagnose",
           "journey_flows"]

#: The default (version 2) format's fields, as AWS names them, in order.
FIELDS = ("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
          "packets", "bytes", "start", "end", "action", "log-status")
#: The same fields as DataFrame columns (snake_case), then the ``reason`` this lab adds.
COLUMNS = tuple(f.replace("-", "_") for f in FIELDS) + ("reason",)
#: The account of AWS's own flow-log examples.
ACCOUNT_ID = "123456789010"
#: A fixed start of the capture window (2025-12-01 00:00:00 UTC): records repeat from run to run.
EPOCH_S = 1_764_547_200
#: IANA protocol numbers, as the ``protocol`` field writes them.
PROTOCOL_NUMBER = {"icmp": 1, "tcp": 6, "udp": 17}
_SYN_BYTES = 60
_ICMP_ECHO_BYTES = 84  # 20 IP + 8 ICMP + 56 data (ping's default): AWS's ping example logs 4 packets, 336 bytes
#: (packets, bytes) of a completed exchange by destination port: (request direction, reply direction).
_EXCHANGE: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {
    443: ((12, 1_850), (10, 6_200)),    # TLS handshake + POST /api/users, and the 201/200 answer
    80: ((5, 520), (4, 610)),           # GET, and the 301 redirect
    3000: ((8, 1_180), (6, 1_020)),     # the ALB's forwarded POST (or a health check) and the answer
    5432: ((14, 2_140), (12, 1_905)),   # startup, auth, BEGIN/INSERT/COMMIT, and the answers
}
_EXCHANGE_DEFAULT = ((5, 420), (4, 300))

Action = Literal["ACCEPT", "REJECT"]


@dataclass(frozen=True, kw_only=True)
class FlowRecord:
    """One flow-log record: the 14 default fields, and what this lab knows besides (``reason`` ...)."""

    version: int = 2
    account_id: str
    interface_id: str
    srcaddr: str
    dstaddr: str
    srcport: int
    dstport: int
    protocol: int
    packets: int
    bytes: int
    start: int
    end: int
    action: Action
    log_status: str = "OK"
    reason: str
    endpoint: str = ""          # whose ENI
    flow: str = ""              # the evaluator's flow name
    leg: str = ""               # request or reply
    direction: str = ""         # ingress or egress, seen from the ENI
    rule_ids: tuple[str, ...] = ()  # the rules that decided (the blocking one(s) for a REJECT)

    def line(self) -> str:
        """The record as AWS writes it: the 14 fields, space-separated."""
        return " ".join(str(getattr(self, c)) for c in COLUMNS[:-1])


@dataclass(frozen=True)
class FlowLog:
    """Flow-log records: ``.frame()`` (v2 columns + ``reason``), ``.text()`` (the log as AWS writes it)."""

    records: tuple[FlowRecord, ...]
    topology: str = ""

    def frame(self, detail: bool = False) -> "pd.DataFrame":
        """One row per record: the default format's 14 fields and ``reason``; ``detail`` adds whose ENI,
        which flow, leg and direction, and the rule ids that decided."""
        import pandas as pd

        cols = list(COLUMNS) + (["endpoint", "flow", "leg", "direction", "rule_ids"] if detail else [])
        rows = [{c: (", ".join(r.rule_ids) if c == "rule_ids" else getattr(r, c)) for c in cols} for r in self.records]
        return pd.DataFrame(rows, columns=cols)

    def text(self) -> str:
        """The records as AWS writes them: one line per record, fields separated by one space."""
        return "\n".join(r.line() for r in self.records)

    @property
    def rejects(self) -> tuple[FlowRecord, ...]:
        return tuple(r for r in self.records if r.action == "REJECT")

    def __len__(self) -> int:
        return len(self.records)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (f"<FlowLog {self.topology}: {len(self.records)} records, {len(self.rejects)} REJECT>")

    def _repr_html_(self) -> str:
        return (f"<div class='tl-flowlog'><b>{html.escape(self.topology)}</b>: {len(self.records)} flow-log "
                f"records, {len(self.rejects)} REJECT{self.frame().to_html(index=False)}</div>")


# ---------------------------------------------------------------------------- identities


def _hash(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def interface_id(ep: Endpoint) -> str | None:
    """The ENI id of an endpoint inside the VPC (``eni-`` and 17 hex digits, as AWS writes them), derived
    from its name and subnet, so it stays the same across what-ifs; None for the internet."""
    if ep.subnet is None:
        return None
    return "eni-" + _hash(f"{ep.name}@{ep.subnet}", 17)


def _enis(topo: Topology) -> list[Endpoint]:
    """Every ENI of the topology: the endpoints inside the VPC, interface endpoints' ENIs, NAT gateways'."""
    out = [e for e in topo.endpoints if e.subnet is not None] + list(getattr(topo, "service_enis", ()))
    for nat in getattr(topo, "nat_gateways", ()):
        out.append(Endpoint(name=nat.name, kind="address", ip=nat.private_ip, subnet=nat.subnet, sgs=(), listens=(),
                            ephemeral=PortRange(1024, 65535), label=f"NAT gateway {nat.name}"))
    return out


def interfaces(topo: Topology) -> "pd.DataFrame":
    """Every ENI of the topology: its id, whose it is, address, subnet, NACL and security groups
    (what ``aws ec2 describe-network-interfaces`` would tell a learner who holds only the records)."""
    import pandas as pd

    rows = []
    for ep in _enis(topo):
        eni = interface_id(ep)
        if eni is None or ep.subnet is None:
            continue
        rows.append({"interface_id": eni, "endpoint": ep.name, "kind": ep.kind, "address": str(ep.ip),
                     "subnet": ep.subnet, "nacl": topo.subnet(ep.subnet).nacl, "security_groups": ", ".join(ep.sgs),
                     "reason": f"the ENI of {ep.label or ep.name} in {ep.subnet}"})
    return pd.DataFrame(rows, columns=["interface_id", "endpoint", "kind", "address", "subnet", "nacl",
                                       "security_groups", "reason"])


# ---------------------------------------------------------------------------- one connection


def _passes(c: Check, port: int, nat_port: int | None = None) -> bool:
    """Whether a check lets the connection that uses ephemeral ``port`` through (and, for the reply arriving
    at a NAT gateway, the NAT's own source port ``nat_port``)."""
    if c.verdict in PASSING:
        return True
    if _at(c) and c.leg == "reply" and c.direction == "inbound" and nat_port is not None:
        port = nat_port
    if c.verdict == "partial" and c.ports is not None and c.ports.contains(port):
        return any(r.contains(port) for r in (c.passing or ()))
    return False


def _at(c: Check) -> str:
    """The middlebox a check belongs to (a NAT gateway's name), "" for the flow's two ends."""
    return str(getattr(c, "at", "") or "")


def _find(checks: Sequence[Check], leg: str, kind: str, direction: str, at: str = "") -> Check | None:
    """The check of the flow's two ends (``at == ""``), or of the NAT gateway named ``at``."""
    return next((c for c in checks if c.leg == leg and c.kind == kind and c.direction == direction and _at(c) == at),
                None)


def _syns(window_s: int, give_up_s: float) -> tuple[int, int]:
    """(packets, seconds from the first to the last) of a SYN retransmitted with a 1 s initial timeout,
    doubling, until the sender gives up or the aggregation window ends."""
    t, rto, n, last = 0, 1, 0, 0
    while t <= min(window_s - 1, give_up_s):
        n, last = n + 1, t
        t, rto = t + rto, rto * 2
    return n, last


def _decided(checks: Sequence[Check | None], port: int, nat_port: int | None) -> tuple[Action, str, tuple[str, ...]]:
    """An ENI's action on one packet: REJECT by the first check that drops it, else ACCEPT and the rules."""
    for c in checks:
        if c is not None and not _passes(c, port, nat_port):
            rule = ", ".join(c.rule_ids) or "no rule allows it"
            return "REJECT", f"{c.component} {c.direction} drops it ({rule}): {c.reason}", c.rule_ids
    by = [f"{c.component} {c.direction or ''} {'(' + ', '.join(c.rule_ids) + ')' if c.rule_ids else c.verdict}".replace("  ", " ")
          for c in checks if c is not None]
    return "ACCEPT", "accepted: " + "; ".join(by), tuple(i for c in checks if c is not None for i in c.rule_ids)


@dataclass(frozen=True)
class _Ctx:
    account_id: str
    start_s: int
    window_s: int
    give_up_s: float
    nats: tuple[Endpoint, ...] = ()  # NAT gateways' ENIs (their private addresses), for flows through them


def _record(ctx: _Ctx, f: FlowResult, ep: Endpoint, *, leg: str, action: Action, reason: str,
            rule_ids: tuple[str, ...], addrs: tuple[str, str, int, int], size: tuple[int, int], span_s: int,
            direction: str) -> FlowRecord:
    src, dst, sport, dport = addrs
    return FlowRecord(account_id=ctx.account_id, interface_id=interface_id(ep) or "", srcaddr=src, dstaddr=dst,
                      srcport=sport, dstport=dport, protocol=PROTOCOL_NUMBER.get(f.protocol, 6), packets=size[0],
                      bytes=size[1], start=ctx.start_s, end=ctx.start_s + span_s, action=action, reason=reason,
                      endpoint=ep.name, flow=f.name, leg=leg, direction=direction, rule_ids=rule_ids)


def _sizes(f: FlowResult, ctx: _Ctx) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], int]:
    """(request, reply, a rejected attempt) as (packets, bytes), and how long rejected attempts go on."""
    if f.protocol == "icmp":
        echo = (4, 4 * _ICMP_ECHO_BYTES)  # ping's 4 echo requests by default
        return echo, echo, echo, 3
    req, rep = _EXCHANGE.get(f.port, _EXCHANGE_DEFAULT)
    n, last = _syns(ctx.window_s, ctx.give_up_s)
    return req, rep, (n, n * _SYN_BYTES), last


def _nat_of(f: FlowResult, ctx: _Ctx) -> Endpoint | None:
    """The ENI of the NAT gateway the flow goes through (None: no NAT on its path, or the topology that
    holds the NAT's address was not given: then only the two ends' records are written)."""
    name = next((_at(c) for c in f.checks if _at(c)), "")
    if not name:
        return None
    return next((n for n in ctx.nats if n.name == name), None)


def connection_records(f: FlowResult, port: int, ctx: _Ctx, nat_port: int | None = None) -> list[FlowRecord]:
    """The records of one connection of ``f`` from ephemeral ``port`` (translated by a NAT gateway to
    ``nat_port``): each ENI it meets, in packet order, until a packet is dropped (a dropped packet reaches no
    further ENI; a dropped request has no reply)."""
    c = f.checks
    nat = _nat_of(f, ctx)
    natp = nat_port if nat_port is not None else (port if nat is not None else None)
    icmp = f.protocol == "icmp"
    sport, dport = (0, 0) if icmp else (port, f.port)
    nsport = 0 if icmp else (natp or 0)
    req, rep, rejected, tries_s = _sizes(f, ctx)
    out: list[FlowRecord] = []
    refused = any(x.verdict == "refused" for x in c)
    # a connection that never completes carries only its (retransmitted) SYNs, or SYN-ACKs, both ways
    completes = all(_passes(x, port, natp) for x in c if x.kind in ("sg", "nacl", "route", "igw"))
    S, D = str(f.src.ip), str(f.dst.ip)

    def add(ep: Endpoint, leg: str, checks: Sequence[Check | None], size: tuple[int, int],
            addrs: tuple[str, str, int, int], direction: str) -> bool:
        action, why, rules = _decided(checks, port, natp)
        done = action == "ACCEPT" and completes
        out.append(_record(ctx, f, ep, leg=leg, action=action, reason=why, rule_ids=rules, addrs=addrs,
                           size=size if done else rejected, span_s=(1 if done else tries_s), direction=direction))
        return action == "ACCEPT"

    def routed(leg: str, at: str = "") -> bool:
        route = _find(c, leg, "route", "", at) or (_find(c, leg, "igw", "", at) if leg == "request" else None)
        if route is None or _passes(route, port, natp):
            return True
        if out and leg == "request":
            out[-1] = replace(out[-1], reason=out[-1].reason + f"; then {route.component} drops it: {route.reason} "
                              "(a routing drop is no REJECT: no ENI further on sees the packet)")
        return False

    first = (1, _SYN_BYTES) if refused else req
    # the request leaves the source ENI: its SG outbound, its subnet's NACL outbound
    if f.src.subnet is not None and not add(f.src, "request", (_find(c, "request", "sg", "outbound"),
                                                                _find(c, "request", "nacl", "outbound")),
                                            first, (S, D, sport, dport), "egress"):
        return out
    if not routed("request"):
        return out
    hidden = next((_at(x) for x in c if _at(x)), "") if nat is None else ""
    if hidden and not all(_passes(x, port, natp) for x in c if _at(x) == hidden and x.leg == "request"):
        return out  # dropped at the NAT gateway, whose ENI's records need the topology
    if nat is not None:
        # AWS (flow-log limitations, "Traffic through a NAT gateway" example): on the NAT's ENI a packet whose
        # destination is not the ENI's own address shows the ENI's primary private address as dstaddr, and one
        # it sends on behalf of another shows it as srcaddr
        N = str(nat.ip)
        if not add(nat, "request", (_find(c, "request", "nacl", "inbound", nat.name),), first,
                   (S, N, sport, dport), "ingress"):
            return out
        if not add(nat, "request", (_find(c, "request", "nacl", "outbound", nat.name),), first,
                   (N, D, nsport, dport), "egress"):
            return out
        if not routed("request", nat.name):
            return out
    # it arrives at the destination ENI: its subnet's NACL inbound, its SG inbound
    if f.dst.subnet is not None and not add(f.dst, "request", (_find(c, "request", "nacl", "inbound"),
                                                               _find(c, "request", "sg", "inbound")),
                                            first, (S, D, sport, dport), "ingress"):
        return out
    reply = (1, 40) if refused else rep  # nothing listens: the kernel answers one RST
    if refused and out:
        lst = next(x for x in c if x.verdict == "refused")
        out[-1] = replace(out[-1], reason=out[-1].reason + f"; {lst.reason}")
    # the reply leaves the destination ENI: stateful SG, its subnet's NACL outbound
    if f.dst.subnet is not None and not add(f.dst, "reply", (_find(c, "reply", "nacl", "outbound"),), reply,
                                            (D, S, dport, sport), "egress"):
        return out
    if not routed("reply"):
        return out
    if nat is not None:
        N = str(nat.ip)
        if not add(nat, "reply", (_find(c, "reply", "nacl", "inbound", nat.name),), reply,
                   (D, N, dport, nsport), "ingress"):
            return out
        if not add(nat, "reply", (_find(c, "reply", "nacl", "outbound", nat.name),), reply,
                   (N, S, dport, sport), "egress"):
            return out
        if not routed("reply", nat.name):
            return out
    if hidden and not all(_passes(x, port, natp) for x in c if _at(x) == hidden and x.leg == "reply"):
        return out
    if f.src.subnet is not None:
        add(f.src, "reply", (_find(c, "reply", "nacl", "inbound"),), reply, (D, S, dport, sport), "ingress")
    return out


def _cut_points(f: FlowResult, rng: PortRange, nat_side: bool) -> list[int]:
    """One deterministic port in each part of ``rng`` that the flow's partial NACL checks treat alike."""
    cuts = {rng.lo, rng.hi + 1}
    for c in f.checks:
        if c.verdict == "partial" and c.ports == rng and (not nat_side or (_at(c) and c.leg == "reply")):
            for r in c.passing or ():
                cuts |= {r.lo, r.hi + 1}
    edges = sorted(x for x in cuts if rng.lo <= x <= rng.hi + 1)
    return [lo + int(_hash(f.name, 8), 16) % (hi - lo) for lo, hi in zip(edges, edges[1:])]


def _representative_ports(f: FlowResult) -> list[tuple[int, int | None]]:
    """One connection (ephemeral port, NAT port) per way the NACLs treat them, so a NACL that admits part of
    a range shows an accepted and a rejected connection."""
    nat = any(_at(c) for c in f.checks)
    ephs = _cut_points(f, f.ephemeral, False)
    nats: list[int | None] = list(_cut_points(f, PortRange(*NAT_PORTS), True)) if nat else [None]
    seen: dict[tuple[bool, ...], tuple[int, int | None]] = {}
    for e in ephs:
        for n in nats:
            key = tuple(_passes(c, e, n) for c in f.checks)
            seen.setdefault(key, (e, n))
    return list(seen.values())


def flow_records(flow: FlowResult | Reach, *, topo: Topology | None = None, src_port: int | None = None,
                 account_id: str = ACCOUNT_ID, start_s: int = EPOCH_S, aggregation_s: int = 60,
                 give_up_s: float | None = None) -> FlowLog:
    """The records of one flow (a ``can_reach`` answer or an evaluator flow): every connection that the
    NACLs treat differently (or the one from ``src_port``), on every ENI its packets reach. A flow through a
    NAT gateway is logged on the NAT's ENI too when ``topo`` is given (it holds the NAT's private address)."""
    f = flow.flow if isinstance(flow, Reach) else flow
    if not isinstance(f, FlowResult):
        raise ParameterError(f"{type(flow).__name__} is not a flow", "pass tl.can_reach(...) or a journey's flow")
    _check_window(aggregation_s)
    nats = tuple(e for e in _enis(topo) if e.label.startswith("NAT gateway")) if topo is not None else ()
    ctx = _Ctx(account_id, int(start_s), aggregation_s, float(give_up_s if give_up_s is not None else
                                                              (10 if f.src.kind == "alb" else 127)), nats)
    if src_port is not None and not f.ephemeral.contains(src_port):
        raise ParameterError(f"source port {src_port} is outside {f.src.name}'s ephemeral range {f.ephemeral}",
                             f"pick a port in {f.ephemeral}")
    conns = ([(src_port, _representative_ports(f)[0][1])] if src_port is not None else _representative_ports(f))
    return FlowLog(tuple(r for p, n in conns for r in connection_records(f, p, ctx, n)), f.name)


def _check_window(aggregation_s: object) -> None:
    # AWS: the maximum aggregation interval is 60 s (1 minute) or 600 s (10 minutes, the default)
    if aggregation_s not in (60, 600):
        raise ParameterError(f"aggregation interval {aggregation_s!r} s is not one AWS offers",
                             "use 60 (1 minute, what Nitro instances always use) or 600 (10 minutes)")


# ---------------------------------------------------------------------------- a journey's flows


def journey_flows(trace: Trace) -> list[FlowResult]:
    """The journey's flows that really happen: the browser to each ALB node (when DNS answers); each node
    to each target (its health checks run whatever else fails); each server to the database, when some
    request reaches that server."""
    if not trace.dns.passed:
        return []
    out: dict[str, FlowResult] = {}
    if not trace.pairs:  # no target: browsers still connect to every ALB node, which answers 503 itself
        from .journey import _fronts

        client = Endpoint(name="internet", kind="internet", ip=trace.topology.client_ip, subnet=None, sgs=(),
                          listens=(), ephemeral=EPHEMERAL[trace.os], label=f"internet user ({trace.os})")
        return list(_fronts(trace.topology, client).values())
    for p in trace.pairs:
        out.setdefault(p.front.name, p.front)
    for p in trace.pairs:
        out.setdefault(p.back.name, p.back)
    for p in trace.pairs:
        if p.front.share > 0 and p.chosen and p.back.share > 0 and not p.back.refused:
            out.setdefault(p.db.name, p.db)
    return list(out.values())


def flow_logs(subject: Trace | Reach | FlowResult | Iterable[FlowResult | Reach], *, topo: Topology | None = None,
              account_id: str = ACCOUNT_ID, start_s: int = EPOCH_S, aggregation_s: int = 60) -> FlowLog:
    """The flow-log records AWS would write for a journey (``tl.journey(topo)``), a reachability answer
    (``tl.can_reach(...)``) or flows: one record per ENI per direction of each connection, ACCEPT or
    REJECT by the SGs and NACLs, each with the ``reason`` (the rule that decided). Flows start one second
    apart in one aggregation interval."""
    _check_window(aggregation_s)
    if isinstance(subject, Trace):
        flows: list[FlowResult | Reach] = list(journey_flows(subject))
        name = subject.topology.name
        topo = topo or subject.topology
    elif isinstance(subject, (Reach, FlowResult)):
        flows, name = [subject], ""
    else:
        flows, name = list(subject), ""
    records: list[FlowRecord] = []
    for i, f in enumerate(flows):
        log = flow_records(f, topo=topo, account_id=account_id, start_s=start_s + i, aggregation_s=aggregation_s)
        records.extend(log.records)
        name = name or log.topology
    return FlowLog(tuple(records), name)


# ---------------------------------------------------------------------------- what is never logged

#: AWS's list of traffic flow logs do not capture ("Flow log limitations",
#: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-limitations.html).
NEVER_LOGGED: dict[str, str] = {
    "amazon-dns": "traffic to the Amazon DNS server (the VPC base + 2, or 169.254.169.253); traffic to your own "
                  "DNS server is logged",
    "windows-activation": "traffic generated by a Windows instance for Amazon Windows license activation",
    "metadata": "traffic to and from 169.254.169.254 for instance metadata",
    "time-sync": "traffic to and from 169.254.169.123 for the Amazon Time Sync Service",
    "dhcp": "DHCP traffic",
    "mirrored": "mirrored traffic (Traffic Mirroring copies)",
    "vpc-router": "traffic to the reserved IP address for the default VPC router (the subnet base + 1)",
    "endpoint-nlb": "traffic between an endpoint network interface and a Network Load Balancer network interface",
}
_METADATA = ipaddress.IPv4Address("169.254.169.254")
_TIME_SYNC = ipaddress.IPv4Address("169.254.169.123")
_RESOLVER_LINK_LOCAL = ipaddress.IPv4Address("169.254.169.253")
#: Amazon's KMS servers for Windows activation (EC2 Windows guide: "activate Windows").
_WINDOWS_KMS = (ipaddress.IPv4Address("169.254.169.250"), ipaddress.IPv4Address("169.254.169.251"))


def is_logged(topo: Topology, dst: str, port: int, protocol: str = "udp") -> tuple[bool, str]:
    """Whether traffic from an instance to ``dst`` (an address) on ``port`` appears in flow logs, and why
    not when it does not (AWS's list, :data:`NEVER_LOGGED`)."""
    try:
        ip = ipaddress.IPv4Address(dst)
    except ValueError:
        raise ParameterError(f"{dst!r} is not an IPv4 address", "e.g. '169.254.169.254'") from None
    resolver = topo.vpc_cidr.network_address + 2
    if ip in (resolver, _RESOLVER_LINK_LOCAL) and port == 53:
        return False, NEVER_LOGGED["amazon-dns"]
    if ip == _METADATA:
        return False, NEVER_LOGGED["metadata"]
    if ip == _TIME_SYNC:
        return False, NEVER_LOGGED["time-sync"]
    if ip in _WINDOWS_KMS:
        return False, NEVER_LOGGED["windows-activation"]
    if protocol == "udp" and port in (67, 68):
        return False, NEVER_LOGGED["dhcp"]
    routers = {s.cidr.network_address + 1 for s in topo.subnets}
    if ip in routers:
        return False, NEVER_LOGGED["vpc-router"]
    return True, "logged: none of AWS's exceptions applies"


def never_logged(topo: Topology) -> "pd.DataFrame":
    """What this topology's servers really send that no flow log shows: their DNS lookups of the RDS
    endpoint, the instance metadata (IAM credentials), Time Sync, DHCP lease renewals, ... (AWS's list)."""
    import pandas as pd

    resolver = str(topo.vpc_cidr.network_address + 2)
    rows = []
    for i in topo.instances:
        sub = topo.subnet(i.subnet)
        router = str(sub.cidr.network_address + 1)
        wants = [
            (resolver, 53, "udp", f"looks up {topo.database.endpoint} (the RDS endpoint) at the Amazon DNS server"),
            (str(_METADATA), 80, "tcp", "reads its IAM role's credentials from instance metadata (IMDS)"),
            (str(_TIME_SYNC), 123, "udp", "keeps its clock with chrony and the Amazon Time Sync Service"),
            ("255.255.255.255", 67, "udp", "renews its DHCP lease"),
            (router, 0, "icmp", "reaches the VPC router's reserved address (the subnet base + 1)"),
        ]
        if i.os == "windows":
            wants.append((str(_WINDOWS_KMS[0]), 1688, "tcp", "activates its Windows license"))
        for dst, port, proto, what in wants:
            logged, why = is_logged(topo, dst, port, proto)
            rows.append({"source": i.name, "srcaddr": str(i.ip), "dstaddr": dst, "dstport": port, "protocol": proto,
                         "what": what, "logged": logged, "reason": why})
    return pd.DataFrame(rows, columns=["source", "srcaddr", "dstaddr", "dstport", "protocol", "what", "logged",
                                       "reason"])


# ---------------------------------------------------------------------------- reading records back


def parse(text: str) -> "pd.DataFrame":
    """Flow-log lines (default format) as a table with the v2 columns: what a learner holds when handed
    only the log. NODATA/SKIPDATA lines keep ``-`` as missing."""
    import pandas as pd

    rows = []
    for n, raw in enumerate(str(text).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("version"):
            continue
        parts = line.split()
        if len(parts) != len(FIELDS):
            raise ParameterError(f"flow-log line {n} has {len(parts)} fields, not {len(FIELDS)}: {line[:80]!r}",
                                 "paste records in the default format: " + " ".join(FIELDS))
        row: dict[str, object] = {}
        for col, val in zip(COLUMNS, parts):
            if col in ("version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end"):
                row[col] = None if val == "-" else _int(val, col, n)
            else:
                row[col] = None if val == "-" else val
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS[:-1]))
    for col in ("version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end"):
        df[col] = df[col].astype("Int64")
    return df


def _int(val: str, col: str, line: int) -> int:
    try:
        return int(val)
    except ValueError:
        raise ParameterError(f"flow-log line {line}: {col} {val!r} is not a number", "check the line") from None


# ---------------------------------------------------------------------------- diagnosis from the records alone

_PROTOCOL_NAME = {v: k for k, v in PROTOCOL_NUMBER.items()}
_DIAG_COLUMNS = ["interface_id", "endpoint", "direction", "packet", "kind", "component", "rule_id", "reason"]


def _as_rows(records: "FlowLog | pd.DataFrame | str") -> list[dict[str, Any]]:
    if isinstance(records, FlowLog):
        return [{c: getattr(r, c) for c in COLUMNS[:-1]} for r in records.records]
    if isinstance(records, str):
        records = parse(records)
    missing = [c for c in COLUMNS[:-1] if c not in getattr(records, "columns", ())]
    if missing:
        raise ParameterError(f"the records have no column {missing[0]!r}",
                             "pass a FlowLog, its .frame(), tl.flowlogs.parse(text) or the text itself")
    return [{str(k): v for k, v in r.items()} for r in records.to_dict("records")]


def _nacl_candidate(topo: Topology, ep: Endpoint, way: Direction, proto: str, peer: ipaddress.IPv4Address,
                    port: int) -> tuple[str, str] | None:
    """The NACL rule that drops this packet at ``ep``'s subnet, or None when its NACL lets it through."""
    assert ep.subnet is not None
    nacl = topo.nacl_of(ep.subnet)
    dec = nacl_decide(nacl, way, proto, peer, PortRange(port, port))
    if dec.verdict == "allow":
        return None
    seg = dec.segments[0]
    rid = seg.rule.id if seg.rule is not None else default_rule_id(nacl.name, way)
    what = f"rule #{seg.rule.number} DENY" if seg.rule is not None else "no numbered rule matches, so * DENY"
    would = [o.id for o in nacl.ordered(way, enabled=False)
             if nacl_decide(nacl, way, proto, peer, PortRange(port, port), extra=o).verdict == "allow"]
    return rid, (f"{nacl.name} {way}: {what} for {proto} port {port} {'from' if way == 'inbound' else 'to'} {peer} "
                 "(NACLs are stateless: replies are checked on their own ports)"
                 + (f"; switched-off rule {', '.join(would)} would allow it" if would else ""))


def _sg_candidate(topo: Topology, ep: Endpoint, way: Direction, proto: str, peer: ipaddress.IPv4Address,
                  port: int) -> tuple[str, str] | None:
    """None when ``ep``'s security groups allow the packet; else what would have had to allow it."""
    peer_ep = topo.endpoint(str(peer)) if peer in topo.vpc_cidr or peer == topo.client_ip else None
    peer_sgs = frozenset(peer_ep.sgs) if peer_ep is not None else frozenset()
    groups = [topo.security_group(g) for g in ep.sgs]
    if not groups or sg_matches([r for g in groups for r in g.rules_in(way)], proto, port, peer, peer_sgs):
        return None
    off = sg_matches([r for g in groups for r in g.rules_in(way, enabled=False)], proto, port, peer, peer_sgs)
    names = ", ".join(ep.sgs)
    why = (f"{names} {way}: no rule allows {proto} {port} {'from' if way == 'inbound' else 'to'} {peer}"
           + (f"; switched-off rule {', '.join(r.id for r in off)} would" if off else ""))
    return (off[0].id if off else names), why


def diagnose(records: "FlowLog | pd.DataFrame | str", topo: Topology) -> "pd.DataFrame":
    """Candidate blocking rules, found from flow-log records alone and the topology's rules: for every
    REJECT, whose ENI it is (``interfaces``), whether it is a reply (the reverse 5-tuple was ACCEPTed
    on that ENI, or the ENI sent from a port it listens on: SGs are stateful, so only its NACL can drop it),
    and which NACL rule or missing SG rule drops that packet; for an ACCEPT leaving an ENI toward an ENI
    that never logs it, the route tables. One row per candidate, each with a ``reason``."""
    import pandas as pd

    rows_in = _as_rows(records)
    by_eni = {interface_id(e): e for e in _enis(topo)}
    seen = {(r["interface_id"], r["srcaddr"], r["dstaddr"], r["srcport"], r["dstport"], r["action"]) for r in rows_in}
    ports_at = {(r["interface_id"], r["srcport"], r["dstport"]) for r in rows_in}  # a NAT rewrites addresses
    out: list[dict[str, Any]] = []
    for r in rows_in:
        ep = by_eni.get(r["interface_id"])
        if ep is None or ep.subnet is None:
            continue
        inbound = r["dstaddr"] == str(ep.ip)
        way: Direction = "inbound" if inbound else "outbound"
        peer = ipaddress.IPv4Address(r["srcaddr"] if inbound else r["dstaddr"])
        proto = _PROTOCOL_NAME.get(int(r["protocol"]), "tcp")
        port = int(r["dstport"] or 0)
        pkt = f"{proto} {r['srcaddr']}:{r['srcport']} -> {r['dstaddr']}:{r['dstport']}"
        base = {"interface_id": r["interface_id"], "endpoint": ep.name, "direction": "ingress" if inbound else "egress",
                "packet": pkt}
        if r["action"] == "ACCEPT":
            dst_eni = next((e for e in by_eni.values() if str(e.ip) == r["dstaddr"]), None)
            if not inbound and dst_eni is not None and dst_eni is not ep and \
                    (interface_id(dst_eni), r["srcport"], r["dstport"]) not in ports_at:
                rt = topo.subnet(ep.subnet).route_table
                out.append({**base, "kind": "route", "component": rt, "rule_id": rt,
                            "reason": f"accepted leaving {ep.name} but never logged at {dst_eni.name}'s ENI: "
                                      f"look at {rt}'s routes (a routing drop leaves no REJECT)"})
            continue
        reply = ((r["interface_id"], r["dstaddr"], r["srcaddr"], r["dstport"], r["srcport"], "ACCEPT") in seen
                 or (not inbound and int(r["srcport"] or 0) in ep.listens))
        same_subnet = topo.subnet_of_ip(peer) is not None and getattr(topo.subnet_of_ip(peer), "name", "") == ep.subnet
        found = False
        if not same_subnet:
            hit = _nacl_candidate(topo, ep, way, proto, peer, port)
            if hit is not None:
                out.append({**base, "kind": "nacl", "component": topo.subnet(ep.subnet).nacl, "rule_id": hit[0],
                            "reason": hit[1]})
                found = True
        if not reply:
            hit = _sg_candidate(topo, ep, way, proto, peer, port)
            if hit is not None:
                out.append({**base, "kind": "sg", "component": ", ".join(ep.sgs), "rule_id": hit[0],
                            "reason": hit[1]})
                found = True
        if not found:
            out.append({**base, "kind": "unknown", "component": "", "rule_id": "",
                        "reason": "neither this ENI's NACL nor its SGs drop this packet under the current rules"})
    df = pd.DataFrame(out, columns=_DIAG_COLUMNS)
    return df.drop_duplicates(subset=["interface_id", "direction", "kind", "rule_id"]).reset_index(drop=True)
