"""Routes and what they lead to: NAT gateways, VPC endpoints and AWS-managed prefix lists.

Frozen values plus **one** validation function, :func:`gateway_problems`, that both the loader
(with YAML paths, every problem at once) and :class:`~tierlab.network.topology.Topology` (on
construction, so every ``dataclasses.replace`` and ``with_*`` what-if is checked) call: the same
bad value gets the same message wherever it comes from.

AWS behaviour followed here (Amazon VPC User Guide):

* **NAT gateway** ("NAT gateways", "NAT gateway basics"): a *public* NAT gateway lives in one
  public subnet of one Availability Zone, has one Elastic IP and a private address from its
  subnet, and no security group (the NACLs of its subnet still apply). It translates the
  source to its own address and a source port in 1024-65535. It is zonal: "If you have resources
  in multiple Availability Zones and they share one NAT gateway, and if the NAT gateway's
  Availability Zone is down, resources in the other Availability Zones lose internet access" —
  hence one per zone, each zone's private route table pointing at its own. (AWS has added
  *regional* NAT gateways too; they are a separate kind, not modelled here.)
* **Cost** (https://aws.amazon.com/vpc/pricing/, us-east-1, read Dec 2026; prices change and
  differ by Region): USD 0.045 per NAT gateway-hour and USD 0.045 per GB processed, in either
  direction; traffic that crosses to another zone's NAT also pays inter-AZ data transfer (USD
  0.01 per GB each way, EC2 data transfer pricing); internet egress is billed on top. Gateway
  endpoints (S3, DynamoDB) cost nothing; interface endpoints are billed per ENI-hour and per GB.
  See :data:`NAT_COST`.
* **Gateway endpoint** ("Gateway endpoints", "Gateway endpoints for Amazon S3"): associating a
  route table adds a route whose destination is the service's prefix list and whose target is
  the endpoint; there is no security group and no ENI; a security-group rule may name the prefix
  list, a NACL rule cannot, so NACLs must allow the prefix list's CIDRs.
* **Route priority** ("How route priority works",
  https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html): longest prefix
  first; at an equal prefix a static route beats a prefix-list route.
* **Interface endpoint** ("Access an AWS service using an interface VPC endpoint"): one ENI in
  each chosen subnet (at most one subnet per Availability Zone), with security groups that must
  admit HTTPS (443) from the callers; with private DNS on, the service's default public name
  resolves to the ENIs inside the VPC, which needs the VPC attributes ``enableDnsSupport`` and
  ``enableDnsHostnames``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final, Literal, Mapping, Protocol, Sequence

from ..errors import Problem, TierlabError
from . import limits
from .rules import safe_id

__all__ = ["Route", "RouteTable", "NatGateway", "PrefixList", "EndpointEni", "VpcEndpoint", "NAT_COST",
           "NAT_PORTS", "SERVICE_ADDRESSES", "SESSION_MANAGER", "gateway_problems", "route_target_problems", "SubnetLike"]

IP = ipaddress.IPv4Address
Net = ipaddress.IPv4Network
DEFAULT: Final = ipaddress.IPv4Network("0.0.0.0/0")
#: The source ports a NAT gateway translates to ("NAT gateway basics": 1024-65535), so the NAT
#: subnet's NACL must admit replies from the internet on all of them.
NAT_PORTS: Final = (1024, 65535)
#: What a NAT gateway costs (USD, us-east-1), from https://aws.amazon.com/vpc/pricing/ (read Dec 2026);
#: ``cross_az_per_gb`` is the EC2 inter-AZ data transfer rate, paid each way when a subnet uses another
#: zone's NAT. Prices change and differ by Region: check the page before quoting them.
NAT_COST: Final[Mapping[str, float]] = {"per_hour_usd": 0.045, "per_gb_processed_usd": 0.045,
                                         "cross_az_per_gb_usd": 0.01}
#: Where a service's public regional name (``ssm.us-east-1.amazonaws.com``) resolves without an interface
#: endpoint. S3's address lies in the S3 ranges of seed-vpc's prefix list (52.216.0.0/15, from AWS's
#: ip-ranges.json), so a gateway endpoint's route can catch it; the others are documentation addresses
#: (198.51.100.0/24, RFC 5737) standing for the service's public addresses, which change.
SERVICE_ADDRESSES: Final[Mapping[str, IP]] = {
    "s3": IP("52.216.8.10"), "dynamodb": IP("198.51.100.40"), "ssm": IP("198.51.100.31"),
    "ssmmessages": IP("198.51.100.32"), "ec2messages": IP("198.51.100.33"), "secretsmanager": IP("198.51.100.34"),
    "ecr.api": IP("198.51.100.35"), "ecr.dkr": IP("198.51.100.36"), "logs": IP("198.51.100.37"),
    "monitoring": IP("198.51.100.38"), "sts": IP("198.51.100.39"), "kms": IP("198.51.100.41"),
}
#: What the SSM agent must reach on 443 for Session Manager ("Step 6: (Optional) Use AWS PrivateLink to set up a
#: VPC endpoint for Systems Manager"): no inbound rule, no bastion, no SSH.
SESSION_MANAGER: Final = ("ssm", "ssmmessages", "ec2messages")
_PRIVATE_RANGES: Final = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass(frozen=True)
class Route:
    """One route: a destination CIDR and its target (``local``, the internet gateway, a NAT gateway,
    or, for routes a gateway endpoint adds, the endpoint; ``prefix_list`` then names the list)."""

    destination: Net
    target: str
    prefix_list: str = ""

    def __str__(self) -> str:
        dest = f"{self.prefix_list} ({self.destination})" if self.prefix_list else str(self.destination)
        return f"{dest} -> {self.target}"


@dataclass(frozen=True)
class RouteTable:
    name: str
    routes: tuple[Route, ...]

    def lookup(self, ip: IP) -> Route | None:
        """Longest prefix wins; at an equal prefix a static route beats a prefix-list route
        ("How route priority works"); ``None`` when no route matches."""
        best: Route | None = None
        for r in self.routes:
            if ip not in r.destination:
                continue
            if (best is None or r.destination.prefixlen > best.destination.prefixlen
                    or (r.destination.prefixlen == best.destination.prefixlen and best.prefix_list and not r.prefix_list)):
                best = r
        return best


@dataclass(frozen=True, kw_only=True)
class NatGateway:
    """A public, zonal NAT gateway: in one public subnet, with an Elastic IP and a private address.

    No security group: only the NACLs of its subnet filter what passes through it. Its zone is
    its subnet's zone; an outage of that zone takes it down."""

    name: str
    subnet: str
    elastic_ip: IP | None
    private_ip: IP

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)


@dataclass(frozen=True, kw_only=True)
class PrefixList:
    """A named set of CIDRs: an AWS-managed list (``com.amazonaws.us-east-1.s3``) or your own."""

    name: str
    cidrs: tuple[Net, ...]
    service: str = ""  # the AWS service an AWS-managed list stands for ("s3"), else ""

    def __contains__(self, ip: object) -> bool:
        return isinstance(ip, IP) and any(ip in c for c in self.cidrs)


@dataclass(frozen=True, kw_only=True)
class EndpointEni:
    """The network interface an interface endpoint puts into one subnet."""

    subnet: str
    ip: IP


@dataclass(frozen=True, kw_only=True)
class VpcEndpoint:
    """A VPC endpoint: ``gateway`` (S3, DynamoDB: routes to a prefix list in the associated route tables,
    no SG, no ENI) or ``interface`` (an ENI per chosen subnet, security groups, private DNS)."""

    name: str
    service: str
    type: Literal["gateway", "interface"]
    route_tables: tuple[str, ...] = ()  # gateway only
    prefix_list: str = ""  # gateway only: the service's prefix list
    enis: tuple[EndpointEni, ...] = ()  # interface only
    sgs: tuple[str, ...] = ()  # interface only
    private_dns: bool = True  # interface only (AWS's default for AWS services)

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)

    def service_name(self, region: str) -> str:
        """AWS's name for the service, e.g. ``com.amazonaws.us-east-1.ssm``."""
        return f"com.amazonaws.{region}.{self.service}"


class SubnetLike(Protocol):
    """What the validation needs of a subnet (``topology.Subnet`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def cidr(self) -> Net: ...
    @property
    def az(self) -> str: ...
    @property
    def route_table(self) -> str: ...


# --------------------------------------------------------------------------- validation (one place)


def route_target_problems(*, vpc_cidr: Net | None, route_tables: Mapping[str, Sequence[Route]], igw: str | None,
                          nats: Sequence[NatGateway], endpoints: Sequence[VpcEndpoint]) -> list[Problem]:
    """Every route whose target does not exist or cannot take it (paths ``route_tables.<rt>[i]...``)."""
    out: list[Problem] = []
    nat_names = {n.name for n in nats}
    by_name = {e.name: e for e in endpoints}
    allowed = ["local"] + ([igw] if igw else []) + sorted(nat_names)
    for rt, routes in route_tables.items():
        i = -1
        for r in routes:
            if r.prefix_list:  # added by a gateway endpoint's association, not written by hand
                continue
            i += 1
            p = f"route_tables.{rt}[{i}]"
            t = r.target
            if t == "local":
                continue
            if t in by_name:
                e = by_name[t]
                if e.type == "gateway":
                    out.append(Problem(f"{p}.target", f"route {r} names gateway endpoint {t!r} by hand",
                                       f"AWS adds a gateway endpoint's routes (to its prefix list) itself: list {rt} "
                                       f"under vpc_endpoints.{t}.route_tables and remove this route"))
                else:
                    out.append(Problem(f"{p}.target", f"route {r}: interface endpoint {t!r} is not a route target",
                                       "an interface endpoint is an address in your subnets: the local route reaches "
                                       "it, and private DNS makes the service's name resolve to it"))
                continue
            if t != igw and t not in nat_names:
                out.append(Problem(f"{p}.target", f"route target {t!r} is not in this topology",
                                   f"use {', '.join(repr(a) for a in allowed)} (a NAT gateway is declared under "
                                   "nat_gateways:)"))
                continue
            if vpc_cidr is not None and r.destination.prefixlen > 0 and r.destination.subnet_of(vpc_cidr):
                what = "the internet gateway" if t == igw else f"NAT gateway {t!r}"
                why = ("AWS refuses an internet gateway as the target of a route to VPC addresses" if t == igw else
                       "a NAT gateway is for traffic leaving the VPC; inside it the local route decides")
                out.append(Problem(f"{p}.destination", f"route {r.destination} -> {t} points VPC addresses at {what}",
                                   f"traffic inside the VPC follows the local route; {why}"))
    return out


def _nat_problems(nat: NatGateway, *, vpc_cidr: Net | None, subnets: Mapping[str, SubnetLike],
                  route_tables: Mapping[str, Sequence[Route]], igw: str | None, taken: dict[IP, str]) -> list[Problem]:
    p, who = f"nat_gateways.{nat.name}", f"NAT gateway {nat.name!r}"
    out: list[Problem] = []
    sub = subnets.get(nat.subnet)
    if sub is None:
        return [Problem(f"{p}.subnet", f"{who}: unknown subnet {limits._show(nat.subnet)}",
                        f"known: {', '.join(subnets)} (a NAT gateway lives in a public subnet)")]
    routes = route_tables.get(sub.route_table, ())
    if igw is None or not any(r.destination == DEFAULT and r.target == igw for r in routes):
        out.append(Problem(f"{p}.subnet", f"{who} sits in {sub.name}, which is not a public subnet (its route table "
                           f"{sub.route_table} sends no 0.0.0.0/0 to an internet gateway)",
                           "a public NAT gateway must live in a public subnet: put it in one whose route table sends "
                           "0.0.0.0/0 to the internet gateway"))
    if nat.elastic_ip is None:
        out.append(Problem(f"{p}.elastic_ip", f"{who} has no Elastic IP",
                           "a public NAT gateway needs one: allocate an Elastic IP and write elastic_ip: a.b.c.d"))
    elif any(nat.elastic_ip in n for n in _PRIVATE_RANGES) or (vpc_cidr is not None and nat.elastic_ip in vpc_cidr):
        out.append(Problem(f"{p}.elastic_ip", f"{who}: Elastic IP {nat.elastic_ip} is a private address",
                           "an Elastic IP is a public IPv4 address; the private one goes in private_ip"))
    try:
        limits.in_subnet(who, nat.private_ip, sub.name, sub.cidr)
    except TierlabError as exc:
        out.append(Problem(f"{p}.private_ip", exc.message, exc.hint))
    else:
        if nat.private_ip in taken:
            out.append(Problem(f"{p}.private_ip", f"{who} {nat.private_ip} is already used by {taken[nat.private_ip]}",
                               "give each ENI its own address"))
        taken[nat.private_ip] = who
    return out


def _endpoint_problems(e: VpcEndpoint, *, subnets: Mapping[str, SubnetLike], route_tables: Mapping[str, object],
                       prefix_lists: Mapping[str, PrefixList], sg_names: set[str], taken: dict[IP, str]) -> list[Problem]:
    p, who = f"vpc_endpoints.{e.name}", f"VPC endpoint {e.name!r}"
    out: list[Problem] = []
    try:
        limits.endpoint_service(e.type, e.service, who)
    except TierlabError as exc:
        out.append(Problem(f"{p}.service", exc.message, exc.hint))
    if e.type == "gateway":
        if e.enis or e.sgs:
            out.append(Problem(p, f"{who} is a gateway endpoint: it has no network interfaces and no security group",
                               "remove subnets:/sgs: (NACLs filter its traffic; an SG rule may name its prefix list)"))
        if e.prefix_list not in prefix_lists:
            out.append(Problem(f"{p}.prefix_list", f"{who}: unknown prefix list {limits._show(e.prefix_list)}",
                               f"define the service's prefix list under prefix_lists: (known: "
                               f"{', '.join(prefix_lists) or 'none'})"))
        if not e.route_tables:
            out.append(Problem(f"{p}.route_tables", f"{who} is associated with no route table",
                               "list the private route tables whose subnets should use it"))
        for rt in e.route_tables:
            if rt not in route_tables:
                out.append(Problem(f"{p}.route_tables", f"{who}: unknown route table {limits._show(rt)}",
                                   f"known: {', '.join(route_tables)}"))
        return out
    if e.route_tables or e.prefix_list:
        out.append(Problem(p, f"{who} is an interface endpoint: it adds no routes",
                           "remove route_tables:/prefix_list: (those belong to gateway endpoints)"))
    if not e.enis:
        out.append(Problem(f"{p}.subnets", f"{who} has no network interface",
                           "choose a subnet (one per Availability Zone) and an address for its ENI"))
    if not e.sgs:
        out.append(Problem(f"{p}.sgs", f"{who} has no security group",
                           "give it one that admits HTTPS (443) from the servers that call the service"))
    try:
        limits.sgs_per_eni(who, len(e.sgs))
    except TierlabError as exc:
        out.append(Problem(f"{p}.sgs", exc.message, exc.hint))
    for g in e.sgs:
        if g not in sg_names:
            out.append(Problem(f"{p}.sgs", f"{who}: unknown security group {limits._show(g)}",
                               f"known: {', '.join(sorted(sg_names))}"))
    azs: dict[str, str] = {}
    for i, eni in enumerate(e.enis):
        ep = f"{p}.subnets[{i}]"
        sub = subnets.get(eni.subnet)
        if sub is None:
            out.append(Problem(f"{ep}.subnet", f"{who}: unknown subnet {limits._show(eni.subnet)}",
                               f"known: {', '.join(subnets)}"))
            continue
        if sub.az in azs:
            out.append(Problem(f"{ep}.subnet", f"{who} has two subnets in {sub.az} ({azs[sub.az]} and {sub.name})",
                               "an interface endpoint takes at most one subnet per Availability Zone"))
        azs[sub.az] = sub.name
        try:
            limits.in_subnet(f"{who} ENI", eni.ip, sub.name, sub.cidr)
        except TierlabError as exc:
            out.append(Problem(f"{ep}.ip", exc.message, exc.hint))
            continue
        if eni.ip in taken:
            out.append(Problem(f"{ep}.ip", f"{who} ENI {eni.ip} is already used by {taken[eni.ip]}",
                               "give each ENI its own address"))
        taken[eni.ip] = f"{who} ENI"
    return out


def gateway_problems(*, vpc_cidr: Net | None, subnets: Mapping[str, SubnetLike],
                     route_tables: Mapping[str, Sequence[Route]], igw: str | None, nats: Sequence[NatGateway],
                     endpoints: Sequence[VpcEndpoint], prefix_lists: Mapping[str, PrefixList], sg_names: set[str],
                     taken: Mapping[IP, str]) -> list[Problem]:
    """Every problem of the NAT gateways, VPC endpoints and route targets, with YAML paths.

    ``taken``: addresses already used by other ENIs (servers, ALB nodes, DB instances)."""
    out: list[Problem] = []
    used = dict(taken)
    names: dict[str, str] = {"local": "the local route"} | ({igw: "the internet gateway"} if igw else {})
    for kind, label, objs in (("nat_gateways", "NAT gateway", nats), ("vpc_endpoints", "VPC endpoint", endpoints)):
        for o in objs:
            if o.name in names:
                out.append(Problem(f"{kind}.{o.name}", f"the name {o.name!r} is already used by {names[o.name]}",
                                   "give every gateway and endpoint its own name: routes name their target"))
            names.setdefault(o.name, f"{label} {o.name!r}")
    for nat in nats:
        out += _nat_problems(nat, vpc_cidr=vpc_cidr, subnets=subnets, route_tables=route_tables, igw=igw, taken=used)
    private_dns: dict[str, str] = {}
    for e in endpoints:
        out += _endpoint_problems(e, subnets=subnets, route_tables=route_tables, prefix_lists=prefix_lists,
                                  sg_names=sg_names, taken=used)
        if e.type == "interface" and e.private_dns:
            if e.service in private_dns:
                out.append(Problem(f"vpc_endpoints.{e.name}.private_dns",
                                   f"endpoints {private_dns[e.service]!r} and {e.name!r} both claim private DNS for "
                                   f"{e.service}", "AWS allows one private hosted zone per name: switch one off"))
            private_dns[e.service] = e.name
    out += route_target_problems(vpc_cidr=vpc_cidr, route_tables=route_tables, igw=igw, nats=nats, endpoints=endpoints)
    return out
