"""The differential test: the evaluator and the Linux kernel judge the same connections.

A *case* is a topology (a scenario or a generated what-if) and a set of probes: TCP
connections from an endpoint, on one client port, to a destination port. The evaluator says
what AWS would do (``evaluate_flow`` with that one client port); the kernel says what the
namespaced copy does (a real SYN with a short timeout). The outcomes are ``connected``,
``timed out``, ``refused`` and ``reply lost``.

Every disagreement must be of a documented kind (:data:`DOCUMENTED`): a place where Linux and
AWS differ and the evaluator keeps AWS's behaviour. A disagreement of any other kind is a bug,
in the evaluator or in the compiler, and fails the test.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

from ..errors import TierlabError
from ..network.evaluate import Check, evaluate_flow
from ..network.gateways import NAT_PORTS, SERVICE_ADDRESSES
from ..network.reachability import INTERNET_HOST
from ..network.rules import EPHEMERAL, NaclRule, PortRange, SgRule
from ..network.topology import Endpoint, Topology
from .lab import Lab, Outcome, Probe

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DOCUMENTED", "Case", "Disagreement", "Report", "expected", "destination", "flows", "outbound_flows",
           "whatifs", "run", "classify", "Ask", "replay"]

#: Kinds of disagreement that are differences between Linux and AWS, not bugs. Each names what
#: AWS does (the evaluator's answer stays) and why the kernel answers otherwise. Empty so far:
#: every case the test generates agrees; a kind is added here only with its explanation.
DOCUMENTED: dict[str, str] = {}


def destination(topo: Topology, src: str, dst: str) -> Endpoint | None:
    """The endpoint a connection goes to: an ENI, ``internet`` (the user's address), an IPv4 address, or an
    AWS service resolved as the VPC's DNS would for ``src`` (None: the name does not resolve)."""
    if dst in SERVICE_ADDRESSES:
        sub = topo.endpoint(src).subnet if src != "internet" else None
        return topo.resolve_service(dst, sub)[0]
    return topo.endpoint(dst)


def _at_nat_port(c: Check, nat_port: int) -> str:
    """A check over the NAT gateway's whole source-port range (the reply entering its subnet), decided
    for the one port the NAT gave this connection."""
    if c.at and c.leg == "reply" and c.kind == "nacl" and c.ports == PortRange(*NAT_PORTS) and c.passing is not None:
        return "allow" if any(r.contains(nat_port) for r in c.passing) else "deny"
    return c.verdict


def expected(topo: Topology, src: str, dst: str, port: int, src_port: int, nat_port: int | None = None) -> str:
    """What AWS does with one connection, by the evaluator: the outcome a client sees.

    The client port is the one the kernel used; through a NAT gateway, ``nat_port`` is the source port
    the NAT gave the connection (AWS picks it in 1024-65535: the evaluator answers for the whole range,
    a share; for one connection, the port decides). ``error``: the name does not resolve."""
    d = destination(topo, src, dst)
    if d is None:
        return "error"
    res = evaluate_flow(topo, topo.endpoint(src), d, port, ephemeral=PortRange(src_port, src_port))
    verdicts = [(c.leg, c.verdict if nat_port is None else _at_nat_port(c, nat_port)) for c in res.checks]
    blocked = ("deny", "partial")
    if any(v in blocked for leg, v in verdicts if leg == "request"):
        return "timed out"
    reply_lost = any(v in blocked for leg, v in verdicts if leg == "reply")
    if any(v == "refused" for _, v in verdicts):
        return "reply lost" if reply_lost else "refused"
    return "reply lost" if reply_lost else "connected"


def outbound_flows(topo: Topology) -> list[tuple[str, str, int]]:
    """What ``tl.outbound(topo)`` asks, as connections: every server to a host on the internet and to
    each AWS service (S3, and every service with an interface endpoint), on 443. Only in a topology
    with a way out for private servers (NAT gateways or VPC endpoints)."""
    if not topo.nat_gateways and not topo.vpc_endpoints:
        return []
    dests = [str(INTERNET_HOST), "s3"] + [e.service for e in topo.vpc_endpoints if e.service != "s3"]
    return [(s.name, d, 443) for s in topo.servers() for d in dict.fromkeys(dests)]


def flows(topo: Topology) -> list[tuple[str, str, int]]:
    """The connections each case probes: the journey's three hops for every node, target and
    database instance, and a few that must fail (no public address, an unlisted port, a port
    nothing listens on, traffic within one subnet and across two public subnets); with NAT
    gateways or endpoints, also every server's way out (:func:`outbound_flows`)."""
    lb = topo.alb
    out = [("internet", n.name, 443) for n in lb.nodes] + [("internet", lb.nodes[0].name, 80)]
    out += [(n.name, t, lb.target_port) for n in lb.nodes for t in lb.targets]
    out += [(t, d.name, topo.database.port) for t in lb.targets for d in topo.database.instances]
    # no target registered (an Auto Scaling group between its members' draining and its launches being in
    # service): the instances that exist still answer what must fail
    servers = list(lb.targets) or [i.name for i in topo.instances]
    if servers:
        out += [("internet", servers[0], lb.target_port), (lb.nodes[0].name, servers[0], 22),
                (servers[0], topo.database.instances[0].name, topo.database.port + 1)]
    if len(lb.nodes) > 1:
        out.append((lb.nodes[0].name, lb.nodes[1].name, 443))
    out += [(lb.nodes[-1].name, "internet", 443)] + [(s, "internet", 443) for s in servers[-1:]]
    same = [(a, b) for a in servers for b in servers if a < b
            and topo.endpoint(a).subnet == topo.endpoint(b).subnet]
    out += [(a, b, lb.target_port) for a, b in same[:1]]
    return out + outbound_flows(topo)


@dataclass(frozen=True)
class Case:
    label: str
    topo: Topology


@dataclass(frozen=True)
class Disagreement:
    case: str
    probe: Probe
    evaluator: str
    kernel: str
    kind: str | None  # a key of DOCUMENTED, or None: unexplained

    def __str__(self) -> str:
        p = self.probe
        return (f"[{self.case}] {p.src}:{p.src_port} -> {p.dst}:{p.port}: evaluator {self.evaluator}, "
                f"kernel {self.kernel}" + (f" (documented: {self.kind})" if self.kind else " (UNEXPLAINED)"))


@dataclass
class Report:
    cases: int = 0
    probes: int = 0
    agreements: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    documented: list[Disagreement] = field(default_factory=list)
    unexplained: list[Disagreement] = field(default_factory=list)
    seconds: float = 0.0
    apply_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for d in self.documented:
            kinds[d.kind or ""] = kinds.get(d.kind or "", 0) + 1
        apply = sorted(self.apply_ms)
        med = apply[len(apply) // 2] if apply else 0.0
        return (f"differential: {self.cases} cases, {self.probes} connections, {self.agreements} agreements, "
                f"{len(self.documented)} documented differences {kinds or ''}, {len(self.unexplained)} unexplained; "
                f"outcomes {dict(sorted(self.outcomes.items()))}; {self.seconds:.1f} s, median apply {med:.1f} ms")


def classify(topo: Topology, probe: Probe, evaluator: str, kernel: str) -> str | None:
    """The documented kind of one disagreement, or None when no documented kind explains it."""
    return None


def _client_ports(topo: Topology, src: str, rng: random.Random, os_name: str) -> PortRange:
    if src == "internet":
        return EPHEMERAL[os_name]
    return topo.endpoint(src).ephemeral


def _boundaries(topo: Topology, eph: PortRange) -> list[int]:
    """Ports where a NACL rule's range starts or ends, inside ``eph``: where partial ranges bite."""
    pts = set()
    for n in topo.nacls:
        for r in n.rules:
            for p in (r.ports.lo - 1, r.ports.lo, r.ports.hi, r.ports.hi + 1):
                if eph.contains(p):
                    pts.add(p)
    return sorted(pts)


def probes_for(lab: Lab, topo: Topology, rng: random.Random, os_name: str) -> list[Probe]:
    out = []
    for src, dst, port in flows(topo):
        eph = _client_ports(topo, src, rng, os_name)
        edges = _boundaries(topo, eph)
        lo, hi = eph.lo, eph.hi
        if edges and rng.random() < 0.5:
            e = rng.choice(edges)
            lo, hi = max(eph.lo, e - 2), min(eph.hi, e + 2)
        try:
            sp = lab.free_port(src, dst, port, lo, hi, rng)
        except TierlabError:  # the ports around this edge are used up: anywhere in the range
            sp = lab.free_port(src, dst, port, eph.lo, eph.hi, rng)
        out.append(Probe(src, dst, port, sp))
    return out


def run(lab: Lab | Sequence[Lab], cases: Iterable[Case], *, seed: int = 15, timeout_s: float = 0.06,
        recheck_timeout_s: float = 0.5, progress: Callable[[int], None] | None = None) -> Report:
    """Apply each case to the lab, probe it, and compare every probe with the evaluator.

    A disagreement is probed again with the same client port and a longer timeout before it
    counts, so a busy machine cannot pass for a dropped packet. Given several labs (copies of
    one topology), the cases are shared out and run at once, one thread per lab: the waits for
    timed-out SYNs overlap.
    """
    if isinstance(lab, Lab):
        return _run_one(lab, list(cases), seed, timeout_s, recheck_timeout_s, progress)
    labs = list(lab)
    todo = list(cases)
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(labs)) as pool:
        parts = list(pool.map(lambda i: _run_one(labs[i], todo[i::len(labs)], seed + i, timeout_s,
                                                 recheck_timeout_s, None), range(len(labs))))
    rep = Report()
    for part in parts:
        rep.cases += part.cases
        rep.probes += part.probes
        rep.agreements += part.agreements
        for k, v in part.outcomes.items():
            rep.outcomes[k] = rep.outcomes.get(k, 0) + v
        rep.documented += part.documented
        rep.unexplained += part.unexplained
        rep.apply_ms += part.apply_ms
    rep.seconds = time.perf_counter() - t0
    return rep


def _run_one(lab: Lab, cases: list[Case], seed: int, timeout_s: float, recheck_timeout_s: float,
             progress: Callable[[int], None] | None) -> Report:
    rng = random.Random(seed)
    rep = Report()
    t0 = time.perf_counter()
    base = lab.topo
    oses = ("linux", "windows", "macos")
    for n, case in enumerate(cases):
        rep.apply_ms.append(lab.apply(case.topo))
        os_name = oses[n % 3]
        probes = probes_for(lab, case.topo, rng, os_name)
        got = lab.probe(probes, timeout_s=timeout_s)
        rep.cases += 1
        for o in got:
            want = expected(case.topo, o.probe.src, o.probe.dst, o.probe.port, o.probe.src_port, o.nat_port)
            kernel = o.kind
            if kernel != want:
                kernel, want = _recheck(lab, case.topo, o, recheck_timeout_s, want)
            rep.probes += 1
            rep.outcomes[want] = rep.outcomes.get(want, 0) + 1
            if kernel == want:
                rep.agreements += 1
                continue
            kind = classify(case.topo, o.probe, want, kernel)
            d = Disagreement(case.label, o.probe, want, kernel, kind if kind in DOCUMENTED else None)
            (rep.documented if d.kind else rep.unexplained).append(d)
        if progress:
            progress(n)
    lab.apply(base)
    rep.seconds = time.perf_counter() - t0
    return rep


def _recheck(lab: Lab, topo: Topology, o: Outcome, timeout_s: float, want: str, *, tries: int = 2) -> tuple[str, str]:
    """The same connection again (same client port: the evaluator's answer depends on it) with a
    longer timeout, and once more with four times that while the kernel still disagrees; the kernel's
    last answer is the one that counts. Through a NAT gateway the new attempt may get another NAT port,
    so the evaluator is asked again for it. Returns (kernel, evaluator).

    The lab's services listen with a deep backlog (a starved API server with socketserver's 5 dropped
    SYNs, which only the SYN's retransmission a second later recovered) and a probe looks at its sockets
    once more after the deadline (a prober that was not running counts what the kernel did meanwhile).
    Still, one probe in 660 stayed undecided after 0.5 s in a CI run at load 15 on 2 cores, where the
    kernel's own packet work waits its turn: hence the second, longer try. A real difference (a rule the
    compiler got wrong) answers the same every time, so it still counts."""
    again = o
    for n in range(tries):
        again = lab.probe([o.probe], timeout_s=timeout_s * 4 ** n)[0]
        if again.nat_port is not None:
            want = expected(topo, o.probe.src, o.probe.dst, o.probe.port, o.probe.src_port, again.nat_port)
        if again.kind == want:
            break
    return again.kind, want


class Ask(Protocol):
    """One question on one topology, as ``tl.course.egress.load_mistakes()`` gives them."""

    id: str
    topology: Topology
    source: str
    destination: str
    port: int


def replay(lab: Lab, asks: Iterable[Ask], *, connections: int = 12, timeout_s: float = 0.1) -> "pd.DataFrame":
    """Each question (an egress mistake) on the kernel: its topology applied to ``lab``, ``connections``
    real connections from fresh client ports, each compared with the evaluator's outcome for the ports
    it really used (the client's and, through a NAT gateway, the NAT's). One row per question: the
    outcomes of both judges (counts) and whether they agreed on every connection. ``internet`` as a
    destination is a host on the internet (``tl.can_reach``'s), a service is resolved as the VPC's DNS
    would. The lab goes back to its topology at the end."""
    import collections

    import pandas as pd

    base = lab.topo
    rows: list[dict[str, Any]] = []
    try:
        for a in asks:
            lab.apply(a.topology)
            dst = str(INTERNET_HOST) if a.destination == "internet" else a.destination
            eph = lab.plan.host(a.source).ephemeral
            probes = [Probe(a.source, dst, a.port, lab.free_port(a.source, dst, a.port, eph.lo, eph.hi))
                      for _ in range(connections)]
            model: collections.Counter[str] = collections.Counter()
            kernel: collections.Counter[str] = collections.Counter()
            agree = True
            for o in lab.probe(probes, timeout_s=timeout_s):
                want = expected(a.topology, a.source, dst, a.port, o.probe.src_port, o.nat_port)
                got = o.kind
                if got != want:
                    got, want = _recheck(lab, a.topology, o, timeout_s * 5, want)
                model[want] += 1
                kernel[got] += 1
                agree = agree and got == want
            rows.append({"id": a.id, "ask": f"{a.source} -> {a.destination}:{a.port}",
                         "model says": dict(sorted(model.items())), "Linux says": dict(sorted(kernel.items())),
                         "agree": agree})
    finally:
        lab.apply(base)
    return pd.DataFrame(rows, columns=["id", "ask", "model says", "Linux says", "agree"])


# ----------------------------------------------------------------------------------------- what-ifs

_EPH_PARTS = ((1024, 32767), (32768, 60999), (49152, 65535), (1024, 49151), (40000, 65535), (1024, 5000))


def _mutate(topo: Topology, rng: random.Random) -> tuple[str, Topology]:
    rules = list(topo.rules())
    nacl_rules = [r for r in rules if isinstance(r, NaclRule)]
    sg_rules = [r for r in rules if isinstance(r, SgRule)]
    kind = rng.choice(["off", "off", "partial", "deny", "reorder", "action", "cidr", "sg-ports", "sg-peer", "sg-add",
                       "nacl-add-allow", "protocol", "route"])
    subnets = [str(s.cidr) for s in topo.subnets]
    if kind == "off":
        r = rng.choice(rules)
        return f"off {r.id}", topo.switch_off(r.id)
    if kind == "partial":
        r = rng.choice([r for r in nacl_rules if r.ports.size > 1000] or nacl_rules)
        lo, hi = rng.choice(_EPH_PARTS)
        return f"{r.id} ports {lo}-{hi}", topo.change_rule(r.id, ports=f"{lo}-{hi}")
    if kind in ("deny", "nacl-add-allow"):
        n = rng.choice(topo.nacls)
        d = rng.choice(["inbound", "outbound"])
        ports = rng.choice(["443", "3000", "5432", "80", "22", "1024-65535", "32768-60999", "49152-65535",
                            f"{rng.randint(1024, 60000)}-65535"])
        cidr = rng.choice(subnets + ["0.0.0.0/0", "10.0.0.0/16", f"{topo.client_ip}/32", "10.0.2.0/23"])
        num = rng.randint(1, 200)
        act = "deny" if kind == "deny" else "allow"
        return (f"{n.name} {d} #{num} {act} {ports} {cidr}",
                topo.add_nacl_rule(n.name, d, number=num, action=act, ports=ports, cidr=cidr))
    if kind == "protocol":
        r = rng.choice(rules)
        proto = rng.choice([p for p in ("all", "udp", "icmp", "tcp") if p != r.protocol])
        return f"{r.id} protocol {proto}", topo.change_rule(r.id, protocol=proto)
    if kind == "route":
        rt = rng.choice([t for t in topo.route_tables if len(t.routes) > 1] or list(topo.route_tables))
        route = rng.choice([x for x in rt.routes if x.target != "local"] or list(rt.routes))
        return f"{rt.name} without {route.destination}", topo.without_route(rt.name, str(route.destination))
    if kind == "reorder":
        r = rng.choice(nacl_rules)
        num = rng.randint(1, 300)
        return f"{r.id} renumbered {num}", topo.change_rule(r.id, number=num)
    if kind == "action":
        r = rng.choice(nacl_rules)
        act = "deny" if r.action == "allow" else "allow"
        return f"{r.id} -> {act}", topo.change_rule(r.id, action=act)
    if kind == "cidr":
        r = rng.choice(nacl_rules)
        c = rng.choice(subnets + ["10.0.0.0/16", "10.0.2.0/24", "0.0.0.0/0", "10.0.1.0/25"])
        return f"{r.id} cidr {c}", topo.change_rule(r.id, cidr=c)
    if kind == "sg-ports":
        r = rng.choice(sg_rules)
        p = rng.choice(["3000-3001", "3001", "5432-5433", "443", "0-65535", "22", "80-443", "5433"])
        return f"{r.id} ports {p}", topo.change_rule(r.id, ports=p)
    if kind == "sg-peer":
        r = rng.choice(sg_rules)
        if rng.random() < 0.5:
            c = rng.choice(subnets + ["0.0.0.0/0", "10.0.0.0/16", "10.0.2.0/23"])
            return f"{r.id} peer {c}", topo.change_rule(r.id, cidr=c)
        peer_sg = rng.choice([x.name for x in topo.security_groups])
        return f"{r.id} peer sg {peer_sg}", topo.change_rule(r.id, peer_sg=peer_sg)
    g = rng.choice(topo.security_groups)
    d = rng.choice(["inbound", "outbound"])
    p = rng.choice(["22", "443", "3000", "5432", "5433", "all", "1024-65535"])
    if rng.random() < 0.5:
        peer = {"cidr": rng.choice(subnets + ["0.0.0.0/0", f"{topo.client_ip}/32"])}
    else:
        peer = {"sg": rng.choice([x.name for x in topo.security_groups])}
    return f"{g.name} + {d} {p} {peer}", topo.add_sg_rule(g.name, d, ports=p, **peer)


def _open_one_more_port(topo: Topology) -> Topology:
    """The database path widened to the port after PostgreSQL's, where nothing listens: what a
    connection that every filter lets through but no process answers looks like (refused)."""
    port = topo.database.port
    wider = f"{port}-{port + 1}"
    t = topo
    for r in topo.rules():
        if r.ports == PortRange(port, port):
            t = t.change_rule(r.id, ports=wider)
    return t


def _open_to_the_internet(topo: Topology) -> Topology:
    """The ALB nodes allowed to open HTTPS connections to the internet (an SG egress rule, and
    public NACL rules for the request out and the replies in): the internet gateway's NAT path."""
    pub = topo.subnet(topo.alb.nodes[0].subnet).nacl
    t = topo
    for g in topo.alb.sgs[:1]:
        t = t.add_sg_rule(g, "outbound", ports=443, cidr="0.0.0.0/0")
    free = [n for n in range(120, 200) if not any(r.number == n for r in t.nacl(pub).rules)]
    t = t.add_nacl_rule(pub, "outbound", number=free[0], action="allow", ports=443, cidr="0.0.0.0/0")
    return t.add_nacl_rule(pub, "inbound", number=free[0], action="allow", ports="1024-65535", cidr="0.0.0.0/0")


def whatifs(topo: Topology, count: int, *, seed: int = 15) -> list[Case]:
    """``count`` what-ifs of ``topo``: every rule switched off alone, then random mixes of one to
    three changes (rules off, added, changed, reordered, partial port ranges), seeded."""
    rng = random.Random(seed)
    out = [Case(f"off {r.id}", topo.switch_off(r.id)) for r in topo.rules()][:count]
    bases = [("open the port after the database's", _open_one_more_port(topo)),
             ("ALB nodes open to the internet", _open_to_the_internet(topo))]
    out += [Case(label, t) for label, t in bases]
    while len(out) < count:
        r = rng.random()
        t, labels = (bases[0][1], [bases[0][0]]) if r < 0.2 else (bases[1][1], [bases[1][0]]) if r < 0.35 else (topo, [])
        for _ in range(rng.choice([1, 1, 2, 3])):
            try:
                label, t = _mutate(t, rng)
            except TierlabError:
                continue
            labels.append(label)
        if labels:
            out.append(Case("; ".join(labels), t))
    return out
