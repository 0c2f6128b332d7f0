"""The 3-tier architecture as frozen data: VPC, subnets, routes, servers, ALB, RDS, DNS.

A ``Topology`` is plain data, built from YAML by :func:`tierlab.load` (the loader, one layer
up, imports this module and never the reverse); evaluating it is a separate step (:mod:`tierlab.request.journey`). What-ifs
return a new ``Topology`` (``dataclasses.replace``), never a mutation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Mapping, TypeVar

from ..errors import ParameterError, Problem, RuleError, TopologyError
from . import autoscaling, limits
from .assumptions import Assumption
from .autoscaling import AutoScalingGroup, LaunchTemplate
from .gateways import (SERVICE_ADDRESSES, EndpointEni, NatGateway, PrefixList, Route, RouteTable, VpcEndpoint,
                       gateway_problems)
from .rules import (
    EPHEMERAL,
    NaclRule,
    NetworkAcl,
    PortRange,
    SecurityGroup,
    SgRule,
    Direction,
    default_rule_id,
    nacl_rule_id,
    parse_cidr,
    safe_id,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Subnet",
    "Route",
    "RouteTable",
    "Instance",
    "HealthCheck",
    "Listener",
    "AlbNode",
    "LoadBalancer",
    "DbInstance",
    "Database",
    "DnsRecord",
    "Edge",
    "Difference",
    "Endpoint",
    "Topology",
    "AutoScalingGroup",
    "LaunchTemplate",
    "NatGateway",
    "VpcEndpoint",
    "EndpointEni",
    "PrefixList",
    "require_topology",
]

T = TypeVar("T")
Tier = limits.Tier
Os = limits.OsName
IP = ipaddress.IPv4Address
Net = ipaddress.IPv4Network


@dataclass(frozen=True, kw_only=True)
class Subnet:
    name: str
    cidr: Net
    az: str
    tier: Tier
    route_table: str
    nacl: str

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)

    def is_reserved(self, ip: IP) -> bool:
        """AWS reserves the first four addresses and the last one of every subnet."""
        return limits.is_reserved(self.cidr, ip)


#: The hint for an address AWS keeps for itself.
RESERVED_HINT = limits.RESERVED_HINT


@dataclass(frozen=True, kw_only=True)
class Instance:
    """An EC2 API server: one ENI in one subnet, its security groups, the ports it listens on."""

    name: str
    ip: IP
    subnet: str
    sgs: tuple[str, ...]
    listens: tuple[int, ...] = (3000,)
    os: Os = "linux"
    label: str = ""

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """An ALB target group's health check (fields left out: AWS's defaults)."""

    protocol: str = "HTTP"
    path: str = "/"
    port: int = 3000
    interval_s: int = 30
    timeout_s: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> "HealthCheck":
        """A health check from settings by name, within AWS's bounds (:func:`limits.health_check`)."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(map(str, set(settings) - set(known)))
        if unknown:
            raise ParameterError(f"the health check has no setting {limits.printable(unknown[0])!r}",
                                 f"change one of: {', '.join(sorted(known))}")
        d = cls()
        v = {k: settings.get(k, getattr(d, k)) for k in known}
        limits.health_check(v)
        return cls(protocol=str(v["protocol"]), path=str(v["path"]), port=limits.single_port(v["port"]),
                   interval_s=limits.whole_number(v["interval_s"], "interval_s"),
                   timeout_s=limits.whole_number(v["timeout_s"], "timeout_s"),
                   healthy_threshold=limits.whole_number(v["healthy_threshold"], "healthy_threshold"),
                   unhealthy_threshold=limits.whole_number(v["unhealthy_threshold"], "unhealthy_threshold"))


@dataclass(frozen=True)
class Listener:
    port: int
    protocol: str
    action: Literal["forward", "redirect"]
    redirect_port: int | None = None
    certificate: str = ""


@dataclass(frozen=True)
class AlbNode:
    """One node of the ALB: AWS places one in each enabled AZ's public subnet."""

    name: str
    subnet: str
    ip: IP
    public_ip: IP

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)


@dataclass(frozen=True, kw_only=True)
class LoadBalancer:
    name: str
    dns_name: str
    sgs: tuple[str, ...]
    nodes: tuple[AlbNode, ...]
    listeners: tuple[Listener, ...]
    target_group: str
    target_port: int
    targets: tuple[str, ...]
    health_check: HealthCheck
    cross_zone: bool = True
    idle_timeout_s: int = 60
    connect_timeout_s: int = 10
    deregistration_delay_s: int = autoscaling.DEREGISTRATION_DELAY_S  # a target-group attribute (0-3600 s)

    @property
    def listen_ports(self) -> tuple[int, ...]:
        return tuple(l.port for l in self.listeners)


@dataclass(frozen=True)
class DbInstance:
    name: str
    role: Literal["primary", "standby"]
    ip: IP
    subnet: str

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)


@dataclass(frozen=True, kw_only=True)
class Database:
    name: str
    engine: str
    version: str
    endpoint: str
    port: int
    sgs: tuple[str, ...]
    multi_az: bool
    instances: tuple[DbInstance, ...]
    subnet_group: tuple[str, ...]
    failover_s: tuple[int, int] = (60, 120)
    endpoint_ttl_s: int = 5
    running: bool = True  # False: the instance is up but PostgreSQL does not listen (connection refused)

    def instance(self, role: str) -> DbInstance | None:
        return next((i for i in self.instances if i.role == role), None)


@dataclass(frozen=True, kw_only=True)
class DnsRecord:
    zone: str
    name: str
    type: str
    target: str
    alias: bool = False
    ttl_s: int = 300
    private: bool = False
    purpose: str = ""


@dataclass(frozen=True, kw_only=True)
class Edge:
    """CloudFront in front of a private S3 bucket (layer 0)."""

    distribution: str
    domain: str
    bucket: str
    origin_access: str
    default_ttl_s: int
    bucket_public: bool = False


@dataclass(frozen=True, kw_only=True)
class Difference:
    """One place where this topology departs from (or reproduces) the seed, and why."""

    id: str
    what: str
    seed_says: str
    here: str
    why: str
    found_by: Literal["evaluator", "validation", "note"]
    patch: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """Anything a packet leaves or reaches: the internet user, an ALB node, a server, a DB."""

    name: str
    kind: Literal["internet", "alb", "server", "db", "address", "vpce"]
    ip: IP
    subnet: str | None
    sgs: tuple[str, ...]
    listens: tuple[int, ...]
    ephemeral: PortRange
    label: str = ""

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)

    @property
    def in_vpc(self) -> bool:
        return self.subnet is not None


@dataclass(frozen=True, kw_only=True)
class Topology:
    name: str
    description: str
    region: str
    vpc_cidr: Net
    azs: tuple[str, ...]
    subnets: tuple[Subnet, ...]
    route_tables: tuple[RouteTable, ...]
    internet_gateway: str | None
    security_groups: tuple[SecurityGroup, ...]
    nacls: tuple[NetworkAcl, ...]
    instances: tuple[Instance, ...]
    alb: LoadBalancer
    database: Database
    records: tuple[DnsRecord, ...]
    edge: Edge | None
    client_ip: IP = ipaddress.IPv4Address("203.0.113.10")
    differences: tuple[Difference, ...] = ()
    source: str = ""
    api_host: str = "api.myapp.com"
    auto_scaling_groups: tuple[AutoScalingGroup, ...] = ()
    #: NAT gateways, VPC endpoints and the prefix lists they (and SG rules) name: see :mod:`.gateways`.
    nat_gateways: tuple[NatGateway, ...] = ()
    vpc_endpoints: tuple[VpcEndpoint, ...] = ()
    prefix_lists: tuple[PrefixList, ...] = ()
    #: The VPC's DNS attributes (``enableDnsSupport``, ``enableDnsHostnames``), AWS's defaults for a VPC
    #: you create ("DNS attributes for your VPC"); private DNS of an interface endpoint needs both.
    dns_support: bool = True
    dns_hostnames: bool = False
    #: Availability Zones that are down (a what-if: :meth:`with_zone_down`): everything there (servers, ALB nodes,
    #: DB instances, NAT gateways, endpoint ENIs) sends and answers nothing (``ZONE_DOWN``, ``NAT_GATEWAY_UNAVAILABLE``).
    zones_down: tuple[str, ...] = ()
    #: What the import this topology came from had to assume where a verdict can depend on it
    #: (:mod:`.assumptions`); every what-if keeps them. Empty for the course's topologies.
    assumptions: tuple[Assumption, ...] = ()

    def __post_init__(self) -> None:
        """The same checks the loader makes (one function, :func:`gateway_problems`): a what-if that builds a
        topology with a NAT in a private subnet, a route to an unknown target... raises here."""
        problems = self.gateway_problems()
        if problems:
            raise TopologyError(problems[0].message, problems[0].hint)

    def gateway_problems(self) -> list[Problem]:
        """Problems of the NAT gateways, VPC endpoints and route targets (empty: none)."""
        taken: dict[IP, str] = {i.ip: f"instance {i.name!r}" for i in self.instances}
        taken.update((n.ip, f"ALB node {n.name!r}") for n in self.alb.nodes)
        taken.update((d.ip, f"database instance {d.name!r}") for d in self.database.instances)
        return gateway_problems(
            vpc_cidr=self.vpc_cidr, subnets={s.name: s for s in self.subnets},
            route_tables={r.name: r.routes for r in self.route_tables}, igw=self.internet_gateway,
            nats=self.nat_gateways, endpoints=self.vpc_endpoints, prefix_lists={p.name: p for p in self.prefix_lists},
            sg_names={g.name for g in self.security_groups}, taken=taken)

    # ------------------------------------------------------------------ lookups
    @cached_property
    def _subnets(self) -> dict[str, Subnet]:
        return {s.name: s for s in self.subnets}

    @cached_property
    def _sgs(self) -> dict[str, SecurityGroup]:
        return {g.name: g for g in self.security_groups}

    @cached_property
    def _nacls(self) -> dict[str, NetworkAcl]:
        return {n.name: n for n in self.nacls}

    @cached_property
    def _rts(self) -> dict[str, RouteTable]:
        return {r.name: r for r in self.route_tables}

    @cached_property
    def _endpoints(self) -> dict[str, Endpoint]:
        eps: dict[str, Endpoint] = {
            "internet": Endpoint(name="internet", kind="internet", ip=self.client_ip, subnet=None, sgs=(), listens=(),
                                 ephemeral=EPHEMERAL["linux"], label="internet user")
        }
        for n in self.alb.nodes:
            eps[n.name] = Endpoint(name=n.name, kind="alb", ip=n.ip, subnet=n.subnet, sgs=self.alb.sgs,
                                   listens=self.alb.listen_ports, ephemeral=EPHEMERAL["elb"],
                                   label=f"ALB node {self.subnet(n.subnet).az}")
        for i in self.instances:
            eps[i.name] = Endpoint(name=i.name, kind="server", ip=i.ip, subnet=i.subnet, sgs=i.sgs, listens=i.listens,
                                   ephemeral=EPHEMERAL[i.os], label=i.label or i.name)
        for d in self.database.instances:
            eps[d.name] = Endpoint(name=d.name, kind="db", ip=d.ip, subnet=d.subnet, sgs=self.database.sgs,
                                   listens=(self.database.port,) if self.database.running else (),
                                   ephemeral=EPHEMERAL["linux"], label=f"RDS {d.role}")
        return eps

    @cached_property
    def _service_enis(self) -> dict[str, Endpoint]:
        """Interface endpoints' ENIs, named ``<endpoint>@<subnet>``: they answer HTTPS (443) and never start
        a connection, so they are destinations only (kept out of :attr:`endpoints`)."""
        out: dict[str, Endpoint] = {}
        for e in self.vpc_endpoints:
            for eni in e.enis:
                name = f"{e.name}@{eni.subnet}"
                out[name] = Endpoint(name=name, kind="vpce", ip=eni.ip, subnet=eni.subnet, sgs=e.sgs, listens=(443,),
                                     ephemeral=EPHEMERAL["linux"], label=f"{e.service} endpoint in {eni.subnet}")
        return out

    @cached_property
    def _effective_routes(self) -> dict[str, RouteTable]:
        extra: dict[str, list[Route]] = {}
        pls = {p.name: p for p in self.prefix_lists}
        for e in self.vpc_endpoints:
            if e.type == "gateway" and e.prefix_list in pls:
                for rt in e.route_tables:
                    extra.setdefault(rt, []).extend(Route(c, e.name, e.prefix_list) for c in pls[e.prefix_list].cidrs)
        return {r.name: (replace(r, routes=r.routes + tuple(extra[r.name])) if r.name in extra else r)
                for r in self.route_tables}

    def routes_of(self, table: str) -> RouteTable:
        """A route table as AWS evaluates it: its own routes plus those its gateway endpoints add (one per CIDR
        of the endpoint's prefix list, marked with ``prefix_list``)."""
        self.route_table(table)
        return self._effective_routes[table]

    def nat_gateway(self, name: str) -> NatGateway:
        return _get({n.name: n for n in self.nat_gateways}, name, "NAT gateway")

    def vpc_endpoint(self, name: str) -> VpcEndpoint:
        return _get({e.name: e for e in self.vpc_endpoints}, name, "VPC endpoint")

    def prefix_list(self, name: str) -> PrefixList:
        return _get({p.name: p for p in self.prefix_lists}, name, "prefix list")

    def zone_of(self, subnet: str) -> str:
        return self.subnet(subnet).az

    def is_up(self, subnet: str | None) -> bool:
        """Whether a subnet's zone is up (the internet, ``None``, always is)."""
        return subnet is None or self.subnet(subnet).az not in self.zones_down

    def service_host(self, service: str) -> str:
        """The service's public regional name, e.g. ``ssm.us-east-1.amazonaws.com``."""
        return f"{service}.{self.region}.amazonaws.com"

    def resolve_service(self, service: str, subnet: str | None) -> tuple[Endpoint | None, str]:
        """Where the service's name resolves for a caller in ``subnet``, and why (AWS: "Access an AWS service
        using an interface VPC endpoint", "DNS attributes for your VPC").

        With an interface endpoint whose private DNS is on, and the VPC's DNS support and hostnames on, the
        name resolves to the endpoint's ENIs (this lab picks the one in the caller's zone, else another that
        is up); otherwise to the service's public address. ``None``: nothing answers (DNS support off)."""
        host = self.service_host(service)
        if service not in SERVICE_ADDRESSES:
            raise TopologyError(f"no AWS service named {limits._show(service)}",
                                f"known: {', '.join(SERVICE_ADDRESSES)}")
        if not self.dns_support:
            return None, (f"the VPC's DNS support (enableDnsSupport) is off: the Amazon DNS server does not answer, "
                          f"so {host} does not resolve")
        eps = [e for e in self.vpc_endpoints if e.type == "interface" and e.service == service]
        why = ""
        for e in eps:
            if not e.private_dns:
                why = (f"; {e.name} exists but its private DNS is off, so the public name still resolves to the public "
                       f"address (only the endpoint's own vpce-... name reaches it)")
            elif not self.dns_hostnames:
                why = (f"; {e.name} has private DNS on, but the VPC's DNS hostnames (enableDnsHostnames) are off: "
                       "private DNS needs both VPC attributes")
            else:
                az = self.subnet(subnet).az if subnet is not None else None
                enis = sorted((x for x in self._service_enis.values() if x.name.startswith(f"{e.name}@")),
                              key=lambda x: (not self.is_up(x.subnet), self.subnet(x.subnet or "").az != az, x.name))
                if enis:
                    eni = enis[0]
                    return eni, (f"{host} resolves to {eni.ip}, {e.name}'s ENI in {eni.subnet} (private DNS on; the VPC "
                                 "has DNS support and hostnames)")
        if not eps and service not in ("s3", "dynamodb"):
            why = f"; no interface endpoint for {service} in this VPC"
        pub = SERVICE_ADDRESSES[service]
        if service in ("s3", "dynamodb"):
            pl = next((p for p in self.prefix_lists if p.service == service and p.cidrs), None)
            if pl is not None and pub not in pl:
                pub = pl.cidrs[0].network_address + 10
        ep = Endpoint(name=service, kind="internet", ip=pub, subnet=None, sgs=(), listens=(443,),
                      ephemeral=EPHEMERAL["linux"], label=host)
        return ep, f"{host} resolves to its public address {pub}{why}"

    @property
    def service_enis(self) -> tuple[Endpoint, ...]:
        """Every interface endpoint's ENI, as a destination (``vpce-ssm@private-app-az1``)."""
        return tuple(self._service_enis.values())

    def subnet(self, name: str) -> Subnet:
        return _get(self._subnets, name, "subnet")

    def subnet_of_ip(self, ip: IP) -> Subnet | None:
        return next((s for s in self.subnets if ip in s.cidr), None)

    def security_group(self, name: str) -> SecurityGroup:
        return _get(self._sgs, name, "security group")

    def nacl(self, name: str) -> NetworkAcl:
        return _get(self._nacls, name, "network ACL")

    def route_table(self, name: str) -> RouteTable:
        return _get(self._rts, name, "route table")

    def nacl_of(self, subnet: str) -> NetworkAcl:
        return self.nacl(self.subnet(subnet).nacl)

    def endpoint(self, name: str) -> Endpoint:
        """An endpoint by name: ``internet``, an ALB node, a server, a DB instance, or an address."""
        if isinstance(name, str) and name in self._endpoints:
            return self._endpoints[name]
        if isinstance(name, str) and name in self._service_enis:
            return self._service_enis[name]
        try:
            if not isinstance(name, str):
                raise ValueError(name)
            ip = ipaddress.IPv4Address(name)
        except ValueError:
            raise TopologyError(
                f"no endpoint named {limits._show(name)}",
                f"use one of {', '.join(self._endpoints)} or an IPv4 address",
            ) from None
        for ep in (*self._endpoints.values(), *self._service_enis.values()):
            if ep.ip == ip or (ep.kind == "alb" and self._node_public(ep.name) == ip):
                return ep
        sub = self.subnet_of_ip(ip) if ip in self.vpc_cidr else None
        return Endpoint(name=str(ip), kind="address", ip=ip, subnet=sub.name if sub else None, sgs=(), listens=(),
                        ephemeral=EPHEMERAL["linux"], label=str(ip))

    def _node_public(self, node: str) -> IP | None:
        return next((n.public_ip for n in self.alb.nodes if n.name == node), None)

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(self._endpoints.values())

    def servers(self) -> tuple[Instance, ...]:
        return tuple(i for i in self.instances if i.name in self.alb.targets)

    def is_public(self, subnet: str) -> bool:
        """A subnet is public when its route table sends 0.0.0.0/0 to an internet gateway."""
        rt = self.route_table(self.subnet(subnet).route_table)
        default = ipaddress.IPv4Network("0.0.0.0/0")
        return any(r.destination == default and r.target == self.internet_gateway for r in rt.routes)

    # ------------------------------------------------------------------ tables
    def subnets_frame(self) -> "pd.DataFrame":
        """One row per subnet: CIDR, AZ, tier, route table, NACL, whether public, what lives there."""
        import pandas as pd

        lives: dict[str, list[str]] = {s.name: [] for s in self.subnets}
        for n in self.alb.nodes:
            lives[n.subnet].append(n.name)
        for i in self.instances:
            lives[i.subnet].append(f"{i.name} {i.ip}")
        for d in self.database.instances:
            lives[d.subnet].append(f"{d.name} {d.ip}")
        for nat in self.nat_gateways:
            lives[nat.subnet].append(f"{nat.name} {nat.private_ip}")
        for eni in self._service_enis.values():
            lives[eni.subnet or ""].append(f"{eni.name} {eni.ip}")
        return pd.DataFrame([
            {"subnet": s.name, "cidr": str(s.cidr), "az": s.az, "tier": s.tier, "route_table": s.route_table,
             "nacl": s.nacl, "public": self.is_public(s.name), "holds": ", ".join(lives[s.name])}
            for s in self.subnets
        ])

    def rules_frame(self) -> "pd.DataFrame":
        """Every SG and NACL rule: id, owner, direction, what it allows, whether on, and why it exists."""
        import pandas as pd

        rows = []
        for r in self.rules():
            kind = "nacl" if isinstance(r, NaclRule) else "sg"
            rows.append({"id": r.id, "kind": kind, "owner": self.owner_of(r.id), "direction": r.direction,
                         "rule": r.describe(), "enabled": r.enabled, "seed_checkpoint": r.seed_checkpoint,
                         "reason": r.description or "(no description)"})
        df = pd.DataFrame(rows)
        df["seed_checkpoint"] = df["seed_checkpoint"].astype("Int64")
        return df

    def listeners_frame(self) -> "pd.DataFrame":
        """The ALB's listeners: port, protocol, action, and what each does."""
        import pandas as pd

        rows = []
        for l in self.alb.listeners:
            if l.action == "redirect":
                why = f"answers 301 with Location: https://...:{l.redirect_port}; never reaches a server"
            else:
                why = (f"terminates TLS ({l.certificate or 'a certificate'}) and forwards plain HTTP to "
                       f"{self.alb.target_group} on port {self.alb.target_port}")
            rows.append({"port": l.port, "protocol": l.protocol, "action": l.action, "reason": why})
        return pd.DataFrame(rows)

    def alb_nodes_frame(self) -> "pd.DataFrame":
        """One row per ALB node: its AZ, subnet, private and public address."""
        import pandas as pd

        return pd.DataFrame([{
            "node": n.name, "az": self.subnet(n.subnet).az, "subnet": n.subnet, "private_ip": str(n.ip),
            "public_ip": str(n.public_ip),
            "reason": f"AWS puts one node in each enabled AZ's public subnet; {n.public_ip} is assigned by AWS and "
                      "can change, so clients find it through DNS"} for n in self.alb.nodes])

    def nat_gateways_frame(self) -> "pd.DataFrame":
        """One row per NAT gateway: zone, subnet, addresses, which route tables send traffic to it, and why."""
        import pandas as pd

        rows = []
        for n in self.nat_gateways:
            az = self.subnet(n.subnet).az
            users = [r.name for r in self.route_tables if any(x.target == n.name for x in r.routes)]
            other = sorted({s.az for s in self.subnets if s.route_table in users} - {az})
            rows.append({"nat_gateway": n.name, "az": az, "subnet": n.subnet, "elastic_ip": str(n.elastic_ip),
                         "private_ip": str(n.private_ip), "route_tables": ", ".join(users), "up": az not in self.zones_down,
                         "reason": f"zonal: an outage of {az} cuts every subnet routed here"
                                   + (f", including subnets in {', '.join(other)} (cross-zone, and billed as inter-AZ "
                                      "traffic)" if other else "")})
        return pd.DataFrame(rows, columns=["nat_gateway", "az", "subnet", "elastic_ip", "private_ip", "route_tables", "up",
                                           "reason"])

    def vpc_endpoints_frame(self) -> "pd.DataFrame":
        """One row per VPC endpoint: type, service, where it is (route tables or ENIs), SGs, private DNS, and why."""
        import pandas as pd

        rows = []
        for e in self.vpc_endpoints:
            if e.type == "gateway":
                pl = next((p for p in self.prefix_lists if p.name == e.prefix_list), None)
                where = ", ".join(e.route_tables)
                why = (f"routes {e.prefix_list} ({', '.join(map(str, pl.cidrs)) if pl else '?'}) to the service; no SG, "
                       "so the callers' NACLs must allow those CIDRs")
            else:
                where = ", ".join(f"{x.subnet} {x.ip}" for x in e.enis)
                why = (f"{self.service_host(e.service)} resolves to these ENIs" if e.private_dns and self.dns_support
                       and self.dns_hostnames else "the service's name does not resolve to these ENIs (private DNS "
                       "or the VPC's DNS attributes are off)")
            rows.append({"endpoint": e.name, "type": e.type, "service": e.service_name(self.region), "where": where,
                         "sgs": ", ".join(e.sgs), "private_dns": e.private_dns if e.type == "interface" else None,
                         "reason": why})
        return pd.DataFrame(rows, columns=["endpoint", "type", "service", "where", "sgs", "private_dns", "reason"])

    def differences_frame(self) -> "pd.DataFrame":
        """Where this topology departs from the seed (or reproduces its slips), and why."""
        import pandas as pd

        return pd.DataFrame([{"id": d.id, "what": d.what, "seed_says": d.seed_says, "here": d.here,
                              "found_by": d.found_by, "reason": d.why} for d in self.differences])

    # ------------------------------------------------------------------ rules
    @cached_property
    def _rules(self) -> dict[str, SgRule | NaclRule]:
        out: dict[str, SgRule | NaclRule] = {}
        for g in self.security_groups:
            out.update((r.id, r) for r in g.rules)
        for n in self.nacls:
            out.update((r.id, r) for r in n.rules)
        return out

    def rules(self) -> tuple[SgRule | NaclRule, ...]:
        return tuple(self._rules.values())

    def rule(self, rule_id: str) -> SgRule | NaclRule:
        """A rule by its id, e.g. ``database-sg-in-5432`` or ``nacl-private-db-in-100``."""
        if isinstance(rule_id, str) and rule_id in self._rules:
            return self._rules[rule_id]
        close = [r for r in self._rules if rule_id.split("-")[0] in r][:6] if isinstance(rule_id, str) else []
        raise RuleError(
            f"no rule with id {limits._show(rule_id)} in topology {self.name!r}",
            f"rule ids look like {', '.join(close or list(self._rules)[:4])}; `tierlab rules` lists them all",
        )

    def rule_by_safe_id(self, sid: str) -> SgRule | NaclRule:
        for r in self._rules.values():
            if r.safe_id == sid:
                return r
        raise RuleError(f"no rule with safe id {sid!r}", "safe ids are rule ids with _ for -")

    def owner_of(self, rule_id: str) -> str:
        r = self.rule(rule_id)
        if isinstance(r, NaclRule):
            return r.nacl
        return next(g.name for g in self.security_groups if any(x.id == rule_id for x in g.rules))


    # ------------------------------------------------------------------ quotas
    def quota_problems(self) -> list[Problem]:
        """Rule quotas this topology breaks (what-ifs that add rules refuse to create them)."""
        out: list[Problem] = []
        for n in self.nacls:
            for d in ("inbound", "outbound"):
                numbered = len([r for r in n.rules if r.direction == d])
                try:
                    limits.nacl_rule_count(n.name, d, numbered)
                except RuleError as exc:
                    out.append(Problem(f"nacls.{n.name}.{d}", exc.message, exc.hint))
        for g in self.security_groups:
            for d in ("inbound", "outbound"):
                try:
                    limits.sg_rule_count(g.name, d, len([r for r in g.rules if r.direction == d]))
                except RuleError as exc:
                    out.append(Problem(f"security_groups.{g.name}", exc.message, exc.hint))
        return out

    # ------------------------------------------------------------------ what-ifs (new topologies)
    def with_rule(self, rule: SgRule | NaclRule, *, group: str | None = None) -> "Topology":
        """Add (or replace, by id) a rule; ``group`` names the SG for an SgRule."""
        if isinstance(rule, NaclRule):
            nacl = self.nacl(rule.nacl)
            kept = tuple(r for r in nacl.rules if r.id != rule.id)  # same number + direction = same id: replaced
            new = replace(nacl, rules=kept + (rule,))
            topo = replace(self, nacls=tuple(new if n.name == nacl.name else n for n in self.nacls))
        else:
            gname = group or (self.owner_of(rule.id) if rule.id in self._rules else None)
            if gname is None:
                raise RuleError(f"rule {rule.id}: which security group?", "pass group='web-sg'")
            sg = self.security_group(gname)
            if rule.peer_sg is not None and not _known(self._sgs, rule.peer_sg):
                raise RuleError(
                    f"rule {rule.id} refers to unknown security group {rule.peer_sg!r}",
                    f"known: {', '.join(self._sgs)}",
                )
            new_sg = sg.with_rule(rule)
            topo = replace(
                self, security_groups=tuple(new_sg if g.name == gname else g for g in self.security_groups)
            )
        problems = topo.quota_problems()
        if problems:
            raise RuleError(problems[0].message, problems[0].hint)
        return topo

    def add_sg_rule(
        self, group: str, direction: str, *, ports: object = None, cidr: str | None = None, sg: str | None = None,
        protocol: str = "tcp", description: str = "", rule_id: str | None = None, peer_sg: str | None = None,
    ) -> "Topology":
        """A new topology with one more security-group rule (AWS refuses an identical one). The peer is
        ``cidr=`` or ``sg=`` (``peer_sg=`` too, the name change_rule takes)."""
        if ports is None:
            raise RuleError(f"add_sg_rule({limits._show(group)}, ...) needs ports=", "e.g. ports=443 or ports='1024-65535'")
        if peer_sg is not None:
            if sg is not None and sg != peer_sg:
                raise RuleError(f"add_sg_rule({limits._show(group)}, ...): sg={limits._show(sg)} and "
                                f"peer_sg={limits._show(peer_sg)} name two peers", "give one of them")
            sg = peer_sg
        d = _direction(direction)
        pr = PortRange.parse(ports)
        sgroup = self.security_group(group)
        peer_cidr = parse_cidr(cidr, f"{group} rule CIDR") if cidr is not None else None
        if sg is not None and not _known(self._sgs, sg):
            raise RuleError(f"unknown security group {limits._show(sg)}", f"known: {', '.join(self._sgs)}")
        if rule_id is not None and (not isinstance(rule_id, str) or not rule_id.strip()):
            raise RuleError(f"rule_id {limits._show(rule_id)} is not a name", "give a short name such as web-sg-in-8080")
        base = rule_id or f"{group}-{'in' if d == 'inbound' else 'out'}-{pr}"
        rid, k = base, 2
        while rid in self._rules:
            rid, k = f"{base}-{k}", k + 1
        rule = SgRule(id=rid, direction=d, protocol=limits.protocol(protocol, f"rule {rid}"), ports=pr, peer_cidr=peer_cidr, peer_sg=sg,
                      description=str(description))
        for r in sgroup.rules:
            if (r.direction, r.protocol, r.ports, r.peer) == (rule.direction, rule.protocol, rule.ports, rule.peer):
                raise sg_duplicate(group, r)
        return self.with_rule(rule, group=group)

    def add_nacl_rule(
        self, nacl: str, direction: str, *, number: object = None, action: object = None, ports: object = None,
        cidr: object = None, protocol: str = "tcp", description: str = "",
    ) -> "Topology":
        """A new topology with one more numbered NACL rule (the number must be free)."""
        d = _direction(direction)
        acl = self.nacl(nacl)
        needed = {"number": number, "action": action, "ports": ports, "cidr": cidr}
        missing = [k for k, v in needed.items() if v is None]
        if missing:
            used = sorted(r.number for r in acl.rules if r.direction == d)
            raise RuleError(f"add_nacl_rule({limits._show(nacl)}, {d!r}, ...) needs {', '.join(k + '=' for k in missing)}",
                            f"e.g. number=150, action='allow', ports=443, cidr='0.0.0.0/0' (numbers in use {d}: "
                            f"{', '.join(map(str, used)) or 'none'})")
        n = limits.nacl_rule_number(number, nacl, d)
        rid = nacl_rule_id(nacl, d, n)
        rule = NaclRule(nacl=nacl, number=n, direction=d, action=limits.nacl_action(action, rid),
                        protocol=limits.protocol(protocol, f"rule {rid}"), ports=PortRange.parse(ports),
                        cidr=parse_cidr(cidr, f"{nacl} rule CIDR"), description=str(description))
        if any(r.id == rule.id for r in acl.rules):
            raise limits.nacl_number_taken(nacl, d, n, holder=rule.id,
                                           used=[r.number for r in acl.rules if r.direction == d])
        return self.with_rule(rule)

    def change_rule(self, rule_id: str, **changes: object) -> "Topology":
        """Change fields of one rule (``enabled``, ``ports``, ``cidr``, ``action``, ``number`` ...)."""
        old = self.rule(rule_id)
        allowed = {"enabled", "ports", "cidr", "peer_cidr", "peer_sg", "action", "number", "protocol", "description"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise RuleError(f"rule {rule_id}: cannot change {', '.join(map(limits.printable, unknown))}",
                            f"a rule's changeable fields: {', '.join(sorted(allowed))} (direction is fixed: "
                            "delete the rule and add one the other way)")
        if "enabled" in changes and not isinstance(changes["enabled"], bool):
            raise RuleError(f"rule {rule_id}: enabled={limits._show(changes['enabled'])} is not True or False",
                            "switch rules with switch_off(...) / switch_on(...)")
        if changes.get("peer_sg") is not None and not _known(self._sgs, changes["peer_sg"]):
            raise RuleError(f"rule {rule_id}: unknown security group {limits._show(changes['peer_sg'])}",
                            f"known: {', '.join(self._sgs)}")
        if isinstance(old, NaclRule):
            return self._changed_nacl_rule(old, changes)
        return self._changed_sg_rule(old, changes)

    def _changed_nacl_rule(self, old: NaclRule, changes: dict[str, object]) -> "Topology":
        if "peer_sg" in changes:
            raise RuleError(f"rule {old.id}: a network ACL rule has no peer_sg", "NACL rules match CIDRs: change cidr")
        number = limits.nacl_rule_number(changes.get("number", old.number), old.nacl, old.direction)
        new = NaclRule(
            nacl=old.nacl, number=number, direction=old.direction,
            action=limits.nacl_action(changes.get("action", old.action), old.id),
            protocol=limits.protocol(changes.get("protocol", old.protocol), f"rule {old.id}"), ports=PortRange.parse(changes.get("ports", old.ports)),
            cidr=parse_cidr(changes.get("cidr", changes.get("peer_cidr", old.cidr)), f"{old.nacl} rule CIDR"),
            description=str(changes.get("description", old.description)),
            enabled=bool(changes.get("enabled", old.enabled)), seed_checkpoint=old.seed_checkpoint)
        nacl = self.nacl(old.nacl)
        rest = tuple(r for r in nacl.rules if r.id != old.id)
        same_way = [r for r in rest if r.direction == new.direction]
        holder = next((r.id for r in same_way if r.number == new.number), None)
        if holder is not None:
            raise limits.nacl_number_taken(nacl.name, new.direction, new.number, holder=holder,
                                           used=[r.number for r in same_way])
        updated = replace(nacl, rules=rest + (new,))
        return replace(self, nacls=tuple(updated if n.name == nacl.name else n for n in self.nacls))

    def _changed_sg_rule(self, old: SgRule, changes: dict[str, object]) -> "Topology":
        for key in ("number", "action"):
            if key in changes:
                raise RuleError(f"rule {old.id}: a security-group rule has no {key}",
                                "security groups only allow, in no order: change ports, cidr or peer_sg")
        peer_cidr, peer_sg = old.peer_cidr, old.peer_sg
        if "cidr" in changes or "peer_cidr" in changes:
            peer_cidr = parse_cidr(changes.get("cidr", changes.get("peer_cidr")), f"{self.owner_of(old.id)} rule CIDR")
            peer_sg = None
        elif changes.get("peer_sg") is not None:
            peer_cidr, peer_sg = None, str(changes["peer_sg"])
        new = replace(old, ports=PortRange.parse(changes.get("ports", old.ports)),
                      protocol=limits.protocol(changes.get("protocol", old.protocol), f"rule {old.id}"), peer_cidr=peer_cidr, peer_sg=peer_sg,
                      peer_prefix_list=old.peer_prefix_list if peer_cidr is None and peer_sg is None else None,
                      prefix_cidrs=old.prefix_cidrs if peer_cidr is None and peer_sg is None else (),
                      description=str(changes.get("description", old.description)),
                      enabled=bool(changes.get("enabled", old.enabled)))
        gname = self.owner_of(old.id)
        sg = self.security_group(gname)
        if new.enabled:  # as add_sg_rule and the loader: AWS holds no two identical rules in one group
            sig = (new.direction, new.protocol, new.ports, new.peer)
            twin = next((r for r in sg.rules if r.id != old.id and r.enabled
                         and (r.direction, r.protocol, r.ports, r.peer) == sig), None)
            if twin is not None:
                raise sg_duplicate(gname, twin)
        updated_sg = replace(sg, rules=tuple(new if r.id == old.id else r for r in sg.rules))
        return replace(self, security_groups=tuple(updated_sg if g.name == gname else g for g in self.security_groups))

    def switch_off(self, *rule_ids: str) -> "Topology":
        topo = self
        for rid in rule_ids:
            topo = topo.change_rule(rid, enabled=False)
        return topo

    def switch_on(self, *rule_ids: str) -> "Topology":
        topo = self
        for rid in rule_ids:
            topo = topo.change_rule(rid, enabled=True)
        return topo

    def without_rule(self, rule_id: str) -> "Topology":
        """Delete a rule entirely (a switched-off rule stays visible; a deleted one does not)."""
        old = self.rule(rule_id)
        if isinstance(old, NaclRule):
            nacl = self.nacl(old.nacl)
            upd = replace(nacl, rules=tuple(r for r in nacl.rules if r.id != rule_id))
            return replace(self, nacls=tuple(upd if n.name == nacl.name else n for n in self.nacls))
        gname = self.owner_of(rule_id)
        sg = self.security_group(gname)
        upd_sg = replace(sg, rules=tuple(r for r in sg.rules if r.id != rule_id))
        return replace(self, security_groups=tuple(upd_sg if g.name == gname else g for g in self.security_groups))

    def without_route(self, table: str, destination: str) -> "Topology":
        """Remove a route (the ``local`` route cannot be removed, as in AWS)."""
        rt = self.route_table(table)
        dest = parse_cidr(destination, "route destination")
        if dest == self.vpc_cidr and any(r.target == "local" and r.destination == dest for r in rt.routes):
            raise RuleError(
                f"route table {table}: the local route {dest} cannot be removed",
                "every route table keeps a local route for the VPC CIDR",
            )
        if not any(r.destination == dest for r in rt.routes):
            raise RuleError(f"route table {table} has no route to {dest}", f"routes: {', '.join(map(str, rt.routes))}")
        upd = replace(rt, routes=tuple(r for r in rt.routes if r.destination != dest))
        return replace(self, route_tables=tuple(upd if r.name == table else r for r in self.route_tables))

    def with_route(self, table: str, destination: str, target: str) -> "Topology":
        """Add a route, or replace the one to the same destination (``0.0.0.0/0 -> nat-az1``); the target must
        be ``local``, the internet gateway or a NAT gateway (checked as the loader checks it)."""
        rt = self.route_table(table)
        dest = parse_cidr(destination, "route destination")
        if not isinstance(target, str) or not target:
            raise RuleError(f"route target {limits._show(target)} is not a name", "e.g. target='nat-az1'")
        if dest == self.vpc_cidr and any(r.target == "local" and r.destination == dest for r in rt.routes):
            raise RuleError(f"route table {table}: the local route {dest} cannot be replaced here",
                            "every route table keeps a local route for the VPC CIDR")
        routes = tuple(r for r in rt.routes if r.destination != dest) + (Route(dest, target),)
        upd = replace(rt, routes=routes)
        return replace(self, route_tables=tuple(upd if r.name == table else r for r in self.route_tables))

    def with_zone_down(self, *azs: str) -> "Topology":
        """The same topology with whole Availability Zones down: their NAT gateways and endpoint ENIs with them."""
        for az in azs:
            if az not in self.azs:
                raise TopologyError(f"no availability zone {limits._show(az)}", f"known: {', '.join(self.azs)}")
        return replace(self, zones_down=tuple(dict.fromkeys(self.zones_down + azs)))

    def with_nat_gateway(self, nat: NatGateway) -> "Topology":
        """Add (or replace, by name) a NAT gateway; routes to it are added with :meth:`with_route`."""
        if not isinstance(nat, NatGateway):
            raise ParameterError(f"{limits._show(nat)} is not a NatGateway",
                                 "pass tl.NatGateway(name=..., subnet=..., elastic_ip=..., private_ip=...)")
        nat = replace(nat, private_ip=limits.address(nat.private_ip, f"NAT gateway {nat.name!r} private_ip"),
                      elastic_ip=None if nat.elastic_ip is None else limits.address(nat.elastic_ip, "Elastic IP"))
        return replace(self, nat_gateways=tuple(n for n in self.nat_gateways if n.name != nat.name) + (nat,))

    def without_nat_gateway(self, name: str) -> "Topology":
        """Delete a NAT gateway (AWS leaves routes to it 'blackhole'; here they must go first)."""
        self.nat_gateway(name)
        users = [r.name for r in self.route_tables if any(x.target == name for x in r.routes)]
        if users:
            raise TopologyError(f"route tables {', '.join(users)} still send traffic to NAT gateway {name!r}",
                                "remove or replace those routes first (topo.without_route / topo.with_route)")
        return replace(self, nat_gateways=tuple(n for n in self.nat_gateways if n.name != name))

    def with_vpc_endpoint(self, endpoint: VpcEndpoint) -> "Topology":
        """Add (or replace, by name) a VPC endpoint."""
        if not isinstance(endpoint, VpcEndpoint):
            raise ParameterError(f"{limits._show(endpoint)} is not a VpcEndpoint",
                                 "pass tl.VpcEndpoint(name=..., service=..., type='gateway' or 'interface', ...)")
        return replace(self, vpc_endpoints=tuple(e for e in self.vpc_endpoints if e.name != endpoint.name) + (endpoint,))

    def without_vpc_endpoint(self, name: str) -> "Topology":
        """Delete a VPC endpoint (and, for a gateway endpoint, the routes it added)."""
        self.vpc_endpoint(name)
        return replace(self, vpc_endpoints=tuple(e for e in self.vpc_endpoints if e.name != name))

    def change_vpc_endpoint(self, name: str, **changes: object) -> "Topology":
        """Change fields of an endpoint: ``private_dns``, ``sgs``, ``route_tables``."""
        old = self.vpc_endpoint(name)
        allowed = {"private_dns", "sgs", "route_tables"}
        unknown = sorted(map(str, set(changes) - allowed))
        if unknown:
            raise ParameterError(f"VPC endpoint {name!r}: cannot change {', '.join(unknown)}",
                                 f"changeable: {', '.join(sorted(allowed))}")
        if "private_dns" in changes and not isinstance(changes["private_dns"], bool):
            raise ParameterError(f"private_dns={limits._show(changes['private_dns'])} is not True or False",
                                 "write private_dns=False")
        new = replace(old, private_dns=bool(changes.get("private_dns", old.private_dns)),
                      sgs=_names(changes.get("sgs", old.sgs), "sgs"),
                      route_tables=_names(changes.get("route_tables", old.route_tables), "route_tables"))
        return self.with_vpc_endpoint(new)

    def with_vpc_dns(self, *, support: bool | None = None, hostnames: bool | None = None) -> "Topology":
        """The VPC's DNS attributes switched (``enableDnsSupport``, ``enableDnsHostnames``)."""
        for v in (support, hostnames):
            if v is not None and not isinstance(v, bool):
                raise ParameterError(f"{limits._show(v)} is not True or False", "write hostnames=True")
        return replace(self, dns_support=self.dns_support if support is None else support,
                       dns_hostnames=self.dns_hostnames if hostnames is None else hostnames)

    def with_instance(self, instance: Instance, *, target: bool = True) -> "Topology":
        """Add an API server (and register it with the target group): the loader's checks, one by one."""
        if not isinstance(instance, Instance):
            raise ParameterError(f"{limits._show(instance)} is not an Instance",
                                 "pass tl.Instance(name=..., ip=..., subnet=..., sgs=(...))")
        who = f"instance {instance.name!r}"
        sub = self.subnet(instance.subnet)
        ip = limits.address(instance.ip, f"{who} address")
        limits.in_subnet(who, ip, sub.name, sub.cidr)
        if not isinstance(instance.name, str) or not instance.name.strip():
            raise TopologyError(f"instance name {limits._show(instance.name)} is not a name", "e.g. name='node-api-4'")
        if instance.name in self._endpoints:
            raise TopologyError(f"an endpoint named {instance.name!r} already exists", "give the new server its own name")
        taken = next((e for e in self._endpoints.values() if e.ip == ip), None)
        if taken is not None:
            raise TopologyError(f"{who} {ip} is already used by {_who(taken)}", "give each ENI its own address")
        limits.os_name(instance.os, who)
        limits.sgs_per_eni(who, len(instance.sgs))
        if not instance.sgs:
            raise TopologyError(f"{who} has no security group", "every ENI has at least one security group")
        for g in instance.sgs:
            if not _known(self._sgs, g):
                raise TopologyError(f"{who}: unknown security group {limits._show(g)}", f"known: {', '.join(self._sgs)}")
        listens = tuple(limits.single_port(p, "listening port") for p in instance.listens)
        alb = self.alb
        if target:
            alb = replace(alb, targets=alb.targets + (instance.name,))
        return replace(self, instances=self.instances + (replace(instance, ip=ip, listens=listens),), alb=alb)

    def auto_scaling_group(self, name: str | None = None) -> AutoScalingGroup:
        """The Auto Scaling group ``name`` (default: the only one)."""
        groups = {g.name: g for g in self.auto_scaling_groups}
        if name is None and len(groups) == 1:
            return self.auto_scaling_groups[0]
        if name is None:
            raise TopologyError(f"topology {self.name!r} has {len(groups) or 'no'} Auto Scaling groups",
                                f"name one: {', '.join(groups)}" if groups else
                                "load a topology with one (e.g. tl.load('seed-asg')) or add it with "
                                "with_auto_scaling_group(...)")
        return _get(groups, name, "Auto Scaling group")

    def with_auto_scaling_group(self, group: AutoScalingGroup) -> "Topology":
        """Add (or replace, by name) an Auto Scaling group; its members join the target group when it is
        attached. The loader's checks (:func:`autoscaling.group_problems`), the same messages."""
        if not isinstance(group, AutoScalingGroup):
            raise ParameterError(f"{limits._show(group)} is not an AutoScalingGroup",
                                 "pass tl.AutoScalingGroup(name=..., subnets=(...), min_size=..., max_size=..., "
                                 "desired=..., template=tl.LaunchTemplate(sgs=('web-sg',)))")
        others = tuple(g for g in self.auto_scaling_groups if g.name != group.name)
        problems = autoscaling.group_problems(
            group, subnet_azs={s.name: s.az for s in self.subnets},
            instance_subnets={i.name: i.subnet for i in self.instances}, sg_names=self._sgs,
            target_group=self.alb.target_group, taken={m: g.name for g in others for m in g.instances})
        if problems:
            p = problems[0]
            raise TopologyError(p.message, p.hint)
        alb = self.alb
        if group.target_group is not None:
            alb = replace(alb, targets=alb.targets + tuple(m for m in group.instances if m not in alb.targets))
        return replace(self, auto_scaling_groups=others + (group,), alb=alb)

    def with_health_check(self, **changes: object) -> "Topology":
        """The target group's health check with ``changes`` (``interval_s=10``); AWS's bounds apply."""
        hc = HealthCheck.from_settings({**asdict(self.alb.health_check), **changes})
        return replace(self, alb=replace(self.alb, health_check=hc))

    def rename(self, name: str) -> "Topology":
        return replace(self, name=name)

    def default_rule_ids(self) -> list[str]:
        return [default_rule_id(n.name, d) for n in self.nacls for d in ("inbound", "outbound")]


def _direction(value: object) -> Direction:
    return limits.direction(value)


def _names(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ParameterError(f"{what} {limits._show(value)} is not a list of names", f"write {what}=('name', ...)")
    return tuple(value)


def _known(table: Mapping[str, object], name: object) -> bool:
    return isinstance(name, str) and name in table


def _get(table: Mapping[str, T], name: object, what: str) -> T:
    """``table[name]``, or a TopologyError naming what exists (also for a name that is not text)."""
    if isinstance(name, str) and name in table:
        return table[name]
    raise TopologyError(f"no {what} named {limits._show(name)}", f"known: {', '.join(table)}")


def sg_duplicate(group: str, existing: SgRule) -> RuleError:
    """The error for a security-group rule identical to ``existing`` (AWS refuses it)."""
    way = "from" if existing.direction == "inbound" else "to"
    return limits.sg_rule_duplicate(group, existing.id, f"{existing.protocol} {existing.ports} {way} {existing.peer}")


def _who(ep: Endpoint) -> str:
    """An endpoint named as the loader names it in its messages."""
    kind = {"server": "instance", "alb": "ALB node", "db": "database instance"}.get(ep.kind, ep.kind)
    return f"{kind} {ep.name!r}"


def require_topology(value: object, caller: str) -> Topology:
    """``value`` if it is a Topology; else the TopologyError a learner needs (``tl.journey("seed")`` is a name, not a
    topology: it says to load it first) instead of an AttributeError from deep inside ``caller``."""
    if isinstance(value, Topology):
        return value
    if isinstance(value, str):
        hint = f"load it first: tl.{caller}(tl.load({value!r}), ...), or pass the topology you built (topo, fixed)"
    else:
        hint = "pass a topology: tl.load('seed'), ex.start() or a what-if built from one (topo.switch_off(...))"
    raise TopologyError(f"tl.{caller} takes a Topology, got {type(value).__name__} {limits._show(value)}", hint)
