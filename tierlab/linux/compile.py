"""A topology compiled to Linux: namespaces, veths, routing tables and nftables rules, as text.

Pure functions: nothing here runs a command, so every rule can be read and tested without root.

The shape, for the seed::

    internet ns (user 203.0.113.10 + the internet gateway's 1:1 NAT)
        │ veth "igw"
    router ns (the VPC router: one routing table per route table, NACLs in the forward hook)
        │ one veth per ENI; the router's end carries the subnet's gateway (.1) and an
        │ interface group per subnet, so the NACL chains know which subnet a packet leaves/enters
    one ns per ENI: ALB nodes, API servers, RDS instances, interface endpoints' ENIs (security
    groups in input/output), and NAT gateways (no security group: a masquerade to their own address)
        │ veth "g<N>" per gateway endpoint: a namespace standing for the service (S3), reached by the
        │ routes to its prefix list's CIDRs

Where Linux cannot say what AWS does (every place is also in the notebook):

* **Security groups are enforced inside the host here**, by nftables in the ENI's namespace; in
  AWS the hypervisor enforces them outside the guest. The verdicts are the same; a process in the
  namespace could change them, which no EC2 guest can.
* **Untracked flows**: AWS does not track a TCP/UDP flow that rules allow from 0.0.0.0/0 both
  ways, so removing such a rule cuts it at once. Linux tracks every flow here (a ``notrack``
  rule could express it); the differential test only opens new connections, where it makes no
  difference.
* **Tracked-connection idle timeout**: AWS's default for TCP is 432,000 s (5 days); Linux's
  ``nf_conntrack_tcp_timeout_established`` is also 432,000 s by default, but other states differ.
* **The ALB terminates TLS** with a certificate the lab makes at start (ACM's on AWS).
* **The internet** is one namespace: the user's address, the internet gateway's 1:1 NAT between
  each public address (ALB nodes, NAT gateways' Elastic IPs) and its private one, and every other
  host on the internet: any new TCP connection arriving there is answered (redirected to one
  catch-all listener), whatever its address and port.
* **ICMP**: the router never answers with ICMP errors (no route means a silent blackhole, as in
  AWS); NACLs on ``icmp`` match every ICMP type, as the model does.
* **NAT gateway**: a namespace in its public subnet that masquerades what it forwards to its
  private address and a random source port in 1024-65535 (``fully-random``: Linux would otherwise
  keep the server's own port, and a NACL covering part of the NAT's range would never bite); the
  internet gateway's 1:1 NAT maps that address to the Elastic IP, as AWS's does. AWS's NAT keeps
  no state a learner can see and has no ``conntrack`` table to read; the lab's has.
* **Endpoints**: an interface endpoint's ENI answers TCP on 443 (no TLS, no AWS API behind it); a
  gateway endpoint is a namespace answering every address of its prefix list, with no endpoint
  policy; a service's name is resolved by the model (private DNS), not by a resolver in the lab.
* **A zone outage** is the router dropping every packet to or from the zone's subnets (AWS: the
  zone's ENIs, NAT gateways and ALB nodes are gone).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Iterable

from ..errors import TierlabError
from ..network.gateways import NAT_PORTS
from ..network.rules import EPHEMERAL, NaclRule, NetworkAcl, PortRange, SgRule, default_rule_id, safe_id
from ..network.topology import Topology

__all__ = ["Host", "GatewayEndpoint", "Plan", "plan", "gateway_batch", "zone_rules", "nft_script", "mutable_chains",
           "route_lines", "host_sysctls", "TABLE",
           "LIMITS", "unmirrored", "replan", "host_link_lines", "host_unlink_lines", "COMES_AND_GOES"]

TABLE = "tierlab"
IGW_LINK = ipaddress.IPv4Address("169.254.1.1")  # the router's end of the veth to the internet
#: The port of the internet namespace's catch-all listener: every new TCP connection from the VPC
#: is redirected to it, so "the internet" answers on any port (as the evaluator assumes).
INTERNET_ANSWERS = 9

#: What Linux cannot express of AWS, one line each (shown in the notebook).
LIMITS: tuple[tuple[str, str], ...] = (
    ("security groups", "enforced by nftables inside each ENI's namespace; AWS enforces them in the hypervisor, "
                        "outside the guest"),
    ("untracked flows", "AWS leaves flows allowed from 0.0.0.0/0 both ways untracked (a removed rule cuts them at "
                        "once); Linux tracks every flow here (`notrack` could express it)"),
    ("TLS", "the ALB nodes terminate TLS on their 443 listener with a self-signed certificate made at lab start "
            "(ACM's on AWS); only the browser's namespace trusts it"),
    ("internet", "one namespace holds the user, the internet gateway's 1:1 NAT and every other internet host: "
                 "it answers any address and port (one catch-all listener)"),
    ("idle timeout", "the ALB's 60 s idle timeout is shortened in the lab so a hung request ends in seconds"),
    ("ICMP", "the router sends no ICMP errors; a missing route is a silent blackhole, as in AWS"),
    ("NAT gateway", "a namespace that masquerades to its private address and a random port in 1024-65535 "
                    "(fully-random; Linux would keep the server's port); the internet gateway's 1:1 NAT gives it "
                    "the Elastic IP; the lab's NAT has a conntrack table to read, AWS's shows none"),
    ("endpoints", "an interface endpoint's ENI answers TCP on 443 (no TLS, no AWS API); a gateway endpoint is a "
                  "namespace answering every address of its prefix list (no endpoint policy)"),
    ("DNS", "a service's name (ssm.us-east-1.amazonaws.com) is resolved by the model, private DNS included; no "
            "resolver runs in the lab, packets go to the address the model answers"),
    ("zone outage", "the router drops every packet to or from the zone's subnets; on AWS the zone's ENIs, NAT "
                    "gateways and ALB nodes are gone"),
)



def unmirrored(topo: Topology) -> tuple[tuple[str, str], ...]:
    """What of this topology the lab leaves out, beyond :data:`LIMITS`: one (what, reason) each.

    An Auto Scaling group's members are instances of the topology (a file lists exactly ``desired``
    of them), so the lab builds each one like a fixed server: a namespace in its subnet, its security
    groups in nftables, a target of the ALB when the group is attached. The group itself, what it
    does over time, is not in the kernel: it is said here, never left out silently."""
    out = []
    for g in topo.auto_scaling_groups:
        reg = f"registered with {g.target_group}" if g.target_group else "not attached to a target group"
        out.append((f"Auto Scaling group {g.name}",
                    f"its {len(g.instances)} current members ({', '.join(g.instances) or 'none'}) are namespaces "
                    f"in their subnets with their security groups, {reg}, like fixed servers; the group itself "
                    f"is not in the kernel: min {g.min_size} / desired {g.desired} / max {g.max_size}, its "
                    f"{g.health_check_type} health checks, the {g.grace_period_s} s grace period and the "
                    f"{topo.alb.deregistration_delay_s} s deregistration delay act only in the model's timeline "
                    "(tl.auto_scaling_timeline); the lab launches, replaces and drains nothing by itself: "
                    "lab.apply(timeline.topology_at(t)) gives it the members the model has at t (a namespace "
                    "for each launched one, none for a terminated one); a member's failure (crash, host down) "
                    "and the draining of in-flight requests are the timeline's, not the kernel's"))
    return tuple(out)

@dataclass(frozen=True)
class Host:
    """One ENI: its namespace key, address, subnet, gateway, router-side interface and group."""

    key: str
    kind: str
    ip: ipaddress.IPv4Address
    subnet: str
    gateway: ipaddress.IPv4Address
    group: int
    iface: str
    sgs: tuple[str, ...]
    listens: tuple[int, ...]
    ephemeral: PortRange
    public_ip: ipaddress.IPv4Address | None = None


@dataclass(frozen=True)
class GatewayEndpoint:
    """A gateway endpoint (S3): a namespace behind veth ``iface`` answering every address of its prefix list."""

    key: str
    iface: str
    cidrs: tuple[ipaddress.IPv4Network, ...]
    link: ipaddress.IPv4Address  # the namespace's end of the veth (the router's end is link - 1)


@dataclass(frozen=True)
class Plan:
    """The namespaces and links of one topology (rules come from the topology on each apply)."""

    topo_name: str
    vpc: ipaddress.IPv4Network
    client_ip: ipaddress.IPv4Address
    hosts: tuple[Host, ...]
    groups: tuple[tuple[str, int], ...]          # subnet -> interface group
    tables: tuple[tuple[str, int], ...]          # route table -> Linux table id
    subnet_table: tuple[tuple[str, str], ...]    # subnet -> route table
    internet_gateway: str | None
    gateways: tuple[GatewayEndpoint, ...] = ()

    def host(self, key: str) -> Host:
        for h in self.hosts:
            if h.key == key:
                return h
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return ("router", "internet") + tuple(h.key for h in self.hosts) + tuple(g.key for g in self.gateways)

    @property
    def outside(self) -> tuple[str, ...]:
        """The namespaces outside the VPC: the internet and each gateway endpoint's service."""
        return ("internet",) + tuple(g.key for g in self.gateways)

    def gateway(self, key: str) -> GatewayEndpoint | None:
        return next((g for g in self.gateways if g.key == key), None)


def plan(topo: Topology) -> Plan:
    """Which namespaces, addresses, groups and tables a topology needs."""
    groups = {s.name: i + 1 for i, s in enumerate(topo.subnets)}
    hosts = []
    # ENIs that send and answer, then interface endpoints' ENIs (answer only), then NAT gateways (no SG)
    eps = [e for e in topo.endpoints if e.kind != "internet"] + list(topo.service_enis)
    for i, ep in enumerate(eps):
        sub = topo.subnet(ep.subnet)  # type: ignore[arg-type]
        public = next((n.public_ip for n in topo.alb.nodes if n.name == ep.name), None)
        hosts.append(Host(ep.name, ep.kind, ep.ip, sub.name, sub.cidr.network_address + 1, groups[sub.name],
                          f"e{i}", ep.sgs, ep.listens, ep.ephemeral, public))
    for j, nat in enumerate(topo.nat_gateways):
        sub = topo.subnet(nat.subnet)
        hosts.append(Host(nat.name, "nat", nat.private_ip, sub.name, sub.cidr.network_address + 1, groups[sub.name],
                          f"e{len(eps) + j}", (), (), PortRange(*NAT_PORTS), nat.elastic_ip))
    pls = {p.name: p for p in topo.prefix_lists}
    gws = tuple(GatewayEndpoint(e.name, f"g{k}", pls[e.prefix_list].cidrs if e.prefix_list in pls else (),
                                ipaddress.IPv4Address("169.254.2.2") + 256 * k)
                for k, e in enumerate(x for x in topo.vpc_endpoints if x.type == "gateway"))
    tables = {rt.name: 100 + i for i, rt in enumerate(topo.route_tables)}
    return Plan(topo.name, topo.vpc_cidr, topo.client_ip, tuple(hosts), tuple(groups.items()), tuple(tables.items()),
                tuple((s.name, s.route_table) for s in topo.subnets), topo.internet_gateway, gws)


# ----------------------------------------------------------------------------------------- matches


def _ports(protocol: str, ports: PortRange) -> str:
    if protocol == "all":
        return ""
    if protocol == "icmp":
        return "meta l4proto icmp"
    if ports == PortRange(0, 65535):
        return f"meta l4proto {protocol}"
    rng = str(ports.lo) if ports.lo == ports.hi else f"{ports.lo}-{ports.hi}"
    return f"meta l4proto {protocol} th dport {rng}"


def _addr(way: str, nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv4Address]) -> str | None:
    items = sorted({str(n) for n in nets})
    if not items:
        return None
    if items == ["0.0.0.0/0"]:
        return "meta nfproto ipv4"
    return f"ip {way} {items[0]}" if len(items) == 1 else f"ip {way} {{ {', '.join(items)} }}"


def _rule(*parts: str, verdict: str, comment: str) -> str:
    return " ".join([*(p for p in parts if p), f'counter {verdict} comment "{comment}"'])


# ----------------------------------------------------------------------------------------- NACLs


def nacl_chain_name(nacl: str, direction: str) -> str:
    return f"nacl_{safe_id(nacl)}_{'in' if direction == 'inbound' else 'out'}"


def nacl_rules(nacl: NetworkAcl, direction: str) -> list[str]:
    """Stateless, lowest number first, first match wins; ALLOW returns (to the other subnet's
    NACL), DENY drops; the final ``*`` rule drops what nothing matched."""
    way = "saddr" if direction == "inbound" else "daddr"
    out = []
    for r in nacl.ordered(direction):  # type: ignore[arg-type]
        out.append(_rule(_addr(way, [r.cidr]) or "", _ports(r.protocol, r.ports),
                         verdict="return" if r.action == "allow" else "drop", comment=r.id))
    out.append(_rule(verdict="drop", comment=default_rule_id(nacl.name, direction)))  # type: ignore[arg-type]
    return out


def forward_rules(topo: Topology, p: Plan) -> list[str]:
    """Leaving a subnet meets its NACL outbound, entering one its NACL inbound; a packet that
    stays inside one subnet (same interface group) meets neither, as in AWS."""
    groups = dict(p.groups)
    out = ["jump zones"]
    for s in topo.subnets:
        g = groups[s.name]
        out.append(f"meta iifgroup {g} meta oifgroup != {g} jump {nacl_chain_name(s.nacl, 'outbound')} "
                   f'comment "{s.name} outbound"')
    for s in topo.subnets:
        g = groups[s.name]
        out.append(f"meta oifgroup {g} meta iifgroup != {g} jump {nacl_chain_name(s.nacl, 'inbound')} "
                   f'comment "{s.name} inbound"')
    return out


def zone_rules(topo: Topology, p: Plan) -> list[str]:
    """A zone that is down: the router drops every packet to or from its subnets (before any NACL),
    so its ENIs, NAT gateways and ALB nodes send and answer nothing, as when AWS loses the zone."""
    groups = dict(p.groups)
    out = []
    for az in topo.zones_down:
        gs = sorted(groups[s.name] for s in topo.subnets if s.az == az)
        if gs:
            g = str(gs[0]) if len(gs) == 1 else "{ " + ", ".join(map(str, gs)) + " }"
            out.append(f'meta iifgroup {g} counter drop comment "zone {az} down"')
            out.append(f'meta oifgroup {g} counter drop comment "zone {az} down"')
    return out


# ----------------------------------------------------------------------------------------- SGs


def _members(topo: Topology, sg: str) -> list[ipaddress.IPv4Address]:
    return [e.ip for e in (*topo.endpoints, *topo.service_enis) if sg in e.sgs]


def sg_rules(topo: Topology, host: Host, direction: str) -> list[str]:
    """Allow-only, the union of every rule of every group on the ENI (order does not matter)."""
    way = "saddr" if direction == "inbound" else "daddr"
    out = []
    for g in host.sgs:
        for r in topo.security_group(g).rules_in(direction):  # type: ignore[arg-type]
            if r.peer_cidr is not None:
                peer = _addr(way, [r.peer_cidr])
            elif r.peer_sg is not None:
                peer = _addr(way, _members(topo, r.peer_sg))
            else:
                peer = _addr(way, r.prefix_cidrs)
            if peer is None:  # a group with no members: the rule matches nothing
                continue
            out.append(_rule(peer, _ports(r.protocol, r.ports), verdict="accept", comment=r.id))
    return out


def sg_default_id(host: Host, direction: str) -> str:
    return f"{'+'.join(host.sgs) or 'no-sg'}-{'in' if direction == 'inbound' else 'out'}-default-drop"


# ----------------------------------------------------------------------------------------- scripts


def mutable_chains(topo: Topology, p: Plan) -> dict[tuple[str, str], list[str]]:
    """The chains a what-if can change: (namespace key, chain) -> rules."""
    out: dict[tuple[str, str], list[str]] = {}
    out[("router", "zones")] = zone_rules(topo, p)
    for n in topo.nacls:
        for d in ("inbound", "outbound"):
            out[("router", nacl_chain_name(n.name, d))] = nacl_rules(n, d)
    for h in p.hosts:
        if h.kind == "nat":  # no security group on a NAT gateway
            continue
        out[(h.key, "sg_in")] = sg_rules(topo, h, "inbound")
        out[(h.key, "sg_out")] = sg_rules(topo, h, "outbound")
    return out


def _chain(name: str, rules: list[str], hook: str | None = None, policy: str = "accept", priority: int = 0) -> str:
    head = f"  chain {name} {{\n"
    if hook:
        head += f"    type filter hook {hook} priority {priority}; policy {policy};\n"
    return head + "".join(f"    {r}\n" for r in rules) + "  }\n"


def nft_script(topo: Topology, p: Plan, key: str) -> str:
    """The whole nftables ruleset of one namespace (a fresh build)."""
    chains = mutable_chains(topo, p)
    if key == "router":
        body = _chain("forward", forward_rules(topo, p), "forward")
        body += "".join(_chain(c, rules) for (k, c), rules in chains.items() if k == "router")
        return f"table inet {TABLE} {{\n{body}}}\n"
    if key == "internet":
        return _internet_script(topo, p)
    gw = p.gateway(key)
    if gw is not None:
        return _outside_script("eth0", f"{key}: the service answers every address of its prefix list")
    h = p.host(key)
    if h.kind == "nat":
        return _nat_script(h, p)
    inp = ["iif lo accept", 'ct state established,related counter accept comment "conntrack: reply or related"',
           "jump sg_in", _rule(verdict="drop", comment=sg_default_id(h, "inbound"))]
    outp = ["oif lo accept", 'ct state established,related counter accept comment "conntrack: reply or related"',
            "jump sg_out", _rule(verdict="drop", comment=sg_default_id(h, "outbound"))]
    body = (_chain("input", inp, "input", "drop") + _chain("output", outp, "output", "drop")
            + _chain("sg_in", chains[(key, "sg_in")]) + _chain("sg_out", chains[(key, "sg_out")]))
    return f"table inet {TABLE} {{\n{body}}}\n" + probe_table(10)


def probe_table(priority: int) -> str:
    """Records every SYN that reached the namespace's stack (after its filters), so a timed-out
    connection can be told apart: the SYN died on the way (timed out) or its answer did (reply lost)."""
    return ("table inet tierlab_probe {\n"
            "  set syn { type ipv4_addr . inet_service . inet_service; flags dynamic,timeout; timeout 30s; size 65536; }\n"
            f"  chain input {{\n    type filter hook input priority {priority}; policy accept;\n"
            "    tcp flags & (syn | ack) == syn update @syn { ip saddr . tcp sport . tcp dport }\n  }\n}\n")


def _nat_script(h: Host, p: Plan) -> str:
    """A NAT gateway: what it forwards from the VPC leaves with its own address and a random port in
    1024-65535 (the internet gateway then maps that address to the Elastic IP); replies are mapped back
    by its connection tracking; nothing from outside the VPC may start a connection through it or to it."""
    lo, hi = NAT_PORTS
    return (f"table ip tierlab_nat {{\n"
            "  chain post {\n    type nat hook postrouting priority 100; policy accept;\n"
            f'    oifname "eth0" ip saddr != {h.ip} meta l4proto {{ tcp, udp }} counter masquerade to :{lo}-{hi} '
            f'fully-random comment "{h.key}: to {h.ip} and a port in {lo}-{hi}"\n'
            f'    oifname "eth0" ip saddr != {h.ip} counter masquerade comment "{h.key}: to {h.ip}"\n  }}\n}}\n'
            f"table inet {TABLE} {{\n"
            "  chain input {\n    type filter hook input priority 0; policy accept;\n"
            "    iif lo accept\n    ct state established,related accept\n"
            f'    counter drop comment "{h.key}: accepts no connection of its own"\n  }}\n'
            "  chain forward {\n    type filter hook forward priority 0; policy accept;\n"
            f'    ct state new ip saddr != {p.vpc} counter drop comment "{h.key}: no connection from outside the VPC"\n'
            "  }\n}\n")


def _outside_script(iface: str, what: str) -> str:
    """A namespace outside the VPC (a gateway endpoint's service): every TCP connection that arrives is
    redirected to its catch-all listener, so it answers on every address and port."""
    return ("table ip tierlab_outside {\n"
            "  chain pre {\n    type nat hook prerouting priority -100; policy accept;\n"
            f'    iifname "{iface}" meta l4proto tcp redirect to :{INTERNET_ANSWERS} comment "{what}"\n'
            "  }\n}\n" + probe_table(300))


def _internet_script(topo: Topology, p: Plan) -> str:
    igw = p.internet_gateway or "igw"
    nat_out, nat_in = [], []
    for h in p.hosts:
        if h.public_ip is not None:
            nat_out.append(f'ip daddr {h.public_ip} dnat to {h.ip} comment "{igw}: {h.public_ip} -> {h.key}"')
            nat_in.append(f'ip saddr {h.ip} snat to {h.public_ip} comment "{igw}: {h.key} -> {h.public_ip}"')
    if p.internet_gateway is None:
        nat_out, nat_in = [], []
    nat = ("table ip tierlab_igw {\n"
           "  chain out {\n    type nat hook output priority -100; policy accept;\n"
           + "".join(f"    {r}\n" for r in nat_out) + "  }\n"
           "  chain pre {\n    type nat hook prerouting priority -100; policy accept;\n"
           f'    iifname "igw" meta l4proto tcp redirect to :{INTERNET_ANSWERS} comment "the internet answers on every port"\n'
           "  }\n"
           "  chain in {\n    type nat hook input priority 100; policy accept;\n"
           + "".join(f"    {r}\n" for r in nat_in) + "  }\n}\n")
    no_public = f'"{igw}: a VPC address with no public IPv4 address"'
    filt = (f"table inet {TABLE} {{\n"
            "  chain output {\n    type filter hook output priority 0; policy accept;\n"
            f"    ip daddr {p.vpc} ct status dnat accept\n"
            f"    ip daddr {p.vpc} counter drop comment {no_public}\n  }}\n"
            "  chain input {\n    type filter hook input priority 200; policy accept;\n"
            f"    ip saddr {p.vpc} counter drop comment {no_public}\n  }}\n}}\n")
    return nat + filt + probe_table(300)  # after the NAT and the no-public-address filter


# ----------------------------------------------------------------------------------------- links and routes


def route_lines(topo: Topology, p: Plan) -> list[str]:
    """``ip route`` lines (for ``ip -batch``) of every route table, one Linux table each.

    The ``local`` route throws back to the main table (which knows each ENI); a route to the
    internet gateway goes out of the igw veth, one to a NAT gateway to its namespace, one a gateway
    endpoint adds (its prefix list's CIDRs) to the service's namespace; any other target leads
    nowhere here (blackhole).
    """
    tables = dict(p.tables)
    nats = {h.key: h for h in p.hosts if h.kind == "nat"}
    gws = {g.key: g for g in p.gateways}
    out = []
    for rt in topo.route_tables:
        t = tables[rt.name]
        for r in topo.routes_of(rt.name).routes:  # with the routes its gateway endpoints add
            if r.target == "local":
                out.append(f"route add throw {r.destination} table {t}")
            elif r.target == topo.internet_gateway:
                out.append(f"route add {r.destination} via {p.client_ip} dev igw onlink table {t}")
            elif r.target in nats:
                out.append(f"route add {r.destination} via {nats[r.target].ip} dev {nats[r.target].iface} onlink table {t}")
            elif r.target in gws:
                out.append(f"route add {r.destination} via {gws[r.target].link} dev {gws[r.target].iface} onlink table {t}")
            else:
                out.append(f"route add blackhole {r.destination} table {t}")
    return out


def router_batch(topo: Topology, p: Plan, sid: str) -> str:
    """The router namespace's ``ip -batch``: veths to every ENI and the internet, groups, tables, rules."""
    lines = ["link set lo up",
             f"link add igw type veth peer name igw netns {sid}-internet",
             f"addr add {IGW_LINK}/32 dev igw", "link set igw up",
             "route add blackhole default"]
    for h in p.hosts:
        lines += host_link_lines(h, p, sid)
    for g in p.gateways:
        lines += [f"link add {g.iface} type veth peer name eth0 netns {sid}-{g.key}",
                  f"addr add {g.link - 1}/32 dev {g.iface}", f"link set {g.iface} up",
                  f"route add {g.link}/32 dev {g.iface}"]
    return "\n".join(lines + route_lines(topo, p)) + "\n"


def host_link_lines(h: Host, p: Plan, sid: str) -> list[str]:
    """The router's side of one ENI (``ip -batch`` lines): a veth whose peer goes into the ENI's namespace,
    the subnet's interface group (the NACL chains know the subnet by it), the subnet's gateway address,
    the route to the ENI and the rule sending what it sends to its subnet's route table."""
    table = dict(p.tables)[dict(p.subnet_table)[h.subnet]]
    return [f"link add {h.iface} type veth peer name eth0 netns {sid}-{h.key}",
            f"link set {h.iface} group {h.group}",
            f"addr add {h.gateway}/32 dev {h.iface}",
            f"link set {h.iface} up",
            f"route add {h.ip}/32 dev {h.iface}",
            f"rule add iif {h.iface} lookup {table} pref 1000"]


def host_unlink_lines(h: Host, p: Plan) -> list[str]:
    """What the router forgets of an ENI that goes: its rule, and its veth (the route to it goes with it)."""
    table = dict(p.tables)[dict(p.subnet_table)[h.subnet]]
    return [f"rule del iif {h.iface} lookup {table} pref 1000", f"link del {h.iface}"]


#: The ENIs a what-if may launch or terminate in a built lab: instances (an Auto Scaling group's members
#: come and go over its timeline). ALB nodes, NAT gateways, endpoints and database instances shape the
#: internet gateway's NAT, the routes and the services: a change to them needs a new lab.
COMES_AND_GOES = ("server",)


def replan(old: Plan, new: Plan, next_iface: int) -> tuple[Plan, tuple[Host, ...], tuple[Host, ...]]:
    """``new`` as a built lab of ``old`` can become it: (the plan, the ENIs that go, the ENIs that come).

    An ENI ``old`` already has, unchanged, keeps its router-side interface; one that comes (or changed:
    it goes and comes again, a new namespace) gets a fresh one, ``e<next_iface>`` on. Only instances may
    come and go (:data:`COMES_AND_GOES`); any other difference raises :class:`TierlabError`."""
    kept = {h.key: h for h in old.hosts}
    hosts: list[Host] = []
    born: list[Host] = []
    for h in new.hosts:
        was = kept.get(h.key)
        if was is not None and replace(h, iface=was.iface) == was:
            hosts.append(was)
        else:
            h = replace(h, iface=f"e{next_iface + len(born)}")
            hosts.append(h)
            born.append(h)
    same = {h.key for h in hosts if h not in born}
    gone = tuple(h for h in old.hosts if h.key not in same)
    moved = [h.key for h in (*gone, *born) if h.kind not in COMES_AND_GOES or h.public_ip is not None]
    if moved or replace(new, hosts=()) != replace(old, hosts=()):
        what = f"moves {', '.join(dict.fromkeys(moved))}" if moved else "changes a subnet, route table or gateway"
        raise TierlabError(f"this what-if {what}: the lab can launch and terminate instances, not rebuild its "
                           "links, NATs and routes", "build a new lab for it: tl.linux.build(topo)")
    return replace(new, hosts=tuple(hosts)), gone, tuple(born)


def gateway_batch(g: GatewayEndpoint, p: Plan) -> str:
    """The service's namespace behind a gateway endpoint: its link, and the way back to the VPC."""
    return "\n".join(["link set lo up", f"addr add {g.link}/32 dev eth0", "link set eth0 up",
                      f"route add {g.link - 1}/32 dev eth0", f"route add {p.vpc} via {g.link - 1} dev eth0"]) + "\n"


def host_batch(h: Host) -> str:
    return "\n".join([
        "link set lo up", f"addr add {h.ip}/32 dev eth0", "link set eth0 up",
        f"route add {h.gateway}/32 dev eth0", f"route add default via {h.gateway} dev eth0",
    ]) + "\n"


def internet_batch(p: Plan) -> str:
    publics = [f"route add {h.public_ip}/32 via {IGW_LINK} dev igw src {p.client_ip}" for h in p.hosts if h.public_ip]
    return "\n".join([
        "link set lo up", f"addr add {p.client_ip}/32 dev igw", "link set igw up",
        f"route add {IGW_LINK}/32 dev igw", f"route add {p.vpc} via {IGW_LINK} dev igw src {p.client_ip}",
        *publics]) + "\n"


def host_sysctls(p: Plan, key: str) -> dict[str, str]:
    """Per-namespace kernel settings: forwarding on the router and the NAT gateways, each ENI's ephemeral
    port range.

    IPv6 is off in every namespace (the topology is IPv4): otherwise each link's IPv6 chatter
    (router solicitations, multicast listener reports) would meet the SGs' default drops and
    count there, and a drop counter would no longer mean a packet of the lesson died."""
    common = {"net/ipv4/conf/all/rp_filter": "0", "net/ipv4/conf/default/rp_filter": "0",
              "net/ipv6/conf/all/disable_ipv6": "1", "net/ipv6/conf/default/disable_ipv6": "1"}
    forwarding = {"net/ipv4/ip_forward": "1", "net/ipv4/conf/all/send_redirects": "0",
                  "net/ipv4/conf/default/send_redirects": "0"}
    if key == "router":
        return {**common, **forwarding}
    if key in p.outside:
        return {**common, "net/ipv4/ip_local_port_range": f"{EPHEMERAL['linux'].lo} {EPHEMERAL['linux'].hi}"}
    if p.host(key).kind == "nat":  # forwards back out of the link it came in on: no ICMP redirects
        return {**common, **forwarding}
    eph = p.host(key).ephemeral
    return {**common, "net/ipv4/ip_local_port_range": f"{eph.lo} {eph.hi}"}
