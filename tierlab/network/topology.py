"""The 3-tier architecture as frozen data: VPC, subnets, routes, servers, ALB, RDS, DNS.

A ``Topology`` is plain data, built from YAML by :func:`tierlab.load` (or
``Topology.from_yaml``); evaluating it is a separate step (:mod:`tierlab.request.journey`). What-ifs
return a new ``Topology`` (``dataclasses.replace``), never a mutation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

from ..errors import RuleError, TopologyError
from .rules import (
    EPHEMERAL,
    NaclRule,
    NetworkAcl,
    PortRange,
    SecurityGroup,
    SgRule,
    default_rule_id,
    parse_cidr,
    safe_id,
)

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
]

Tier = Literal["public", "app", "db"]
IP = ipaddress.IPv4Address
Net = ipaddress.IPv4Network


@dataclass(frozen=True)
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
        net = self.cidr
        return ip == net.broadcast_address or 0 <= int(ip) - int(net.network_address) < 4


#: The hint for an address AWS keeps for itself.
RESERVED_HINT = "the first four and the last address of every subnet are reserved"


@dataclass(frozen=True)
class Route:
    destination: Net
    target: str  # "local", or the name of a gateway

    def __str__(self) -> str:
        return f"{self.destination} -> {self.target}"


@dataclass(frozen=True)
class RouteTable:
    name: str
    routes: tuple[Route, ...]

    def lookup(self, ip: IP) -> Route | None:
        """Longest prefix wins; ``None`` when no route matches."""
        best: Route | None = None
        for r in self.routes:
            if ip in r.destination and (best is None or r.destination.prefixlen > best.destination.prefixlen):
                best = r
        return best


@dataclass(frozen=True)
class Instance:
    """An EC2 API server: one ENI in one subnet, its security groups, the ports it listens on."""

    name: str
    ip: IP
    subnet: str
    sgs: tuple[str, ...]
    listens: tuple[int, ...] = (3000,)
    os: str = "linux"
    label: str = ""

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)


@dataclass(frozen=True)
class HealthCheck:
    protocol: str = "HTTP"
    path: str = "/"
    port: int = 3000
    interval_s: int = 30
    timeout_s: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2


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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class DnsRecord:
    zone: str
    name: str
    type: str
    target: str
    alias: bool = False
    ttl_s: int = 300
    private: bool = False
    purpose: str = ""


@dataclass(frozen=True)
class Edge:
    """CloudFront in front of a private S3 bucket (layer 0)."""

    distribution: str
    domain: str
    bucket: str
    origin_access: str
    default_ttl_s: int
    bucket_public: bool = False


@dataclass(frozen=True)
class Difference:
    """One place where this topology departs from (or reproduces) the seed, and why."""

    id: str
    what: str
    seed_says: str
    here: str
    why: str
    found_by: Literal["evaluator", "validation", "note"]
    patch: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """Anything a packet leaves or reaches: the internet user, an ALB node, a server, a DB."""

    name: str
    kind: Literal["internet", "alb", "server", "db", "address"]
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


@dataclass(frozen=True)
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

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_yaml(cls, path: str | Path) -> "Topology":
        """Load and validate a topology file (every problem reported at once)."""
        from .loader import load_file

        return load_file(Path(path))

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
            "internet": Endpoint(
                "internet", "internet", self.client_ip, None, (), (), EPHEMERAL["linux"], "internet user"
            )
        }
        for n in self.alb.nodes:
            eps[n.name] = Endpoint(
                n.name, "alb", n.ip, n.subnet, self.alb.sgs, self.alb.listen_ports, EPHEMERAL["elb"],
                f"ALB node {self.subnet(n.subnet).az}",
            )
        for i in self.instances:
            eps[i.name] = Endpoint(
                i.name, "server", i.ip, i.subnet, i.sgs, i.listens, EPHEMERAL[i.os], i.label or i.name
            )
        for d in self.database.instances:
            eps[d.name] = Endpoint(
                d.name, "db", d.ip, d.subnet, self.database.sgs,
                (self.database.port,) if self.database.running else (), EPHEMERAL["linux"],
                f"RDS {d.role}",
            )
        return eps

    def subnet(self, name: str) -> Subnet:
        try:
            return self._subnets[name]
        except KeyError:
            raise TopologyError(f"no subnet named {name!r}", f"known: {', '.join(self._subnets)}") from None

    def subnet_of_ip(self, ip: IP) -> Subnet | None:
        return next((s for s in self.subnets if ip in s.cidr), None)

    def security_group(self, name: str) -> SecurityGroup:
        try:
            return self._sgs[name]
        except KeyError:
            raise TopologyError(
                f"no security group named {name!r}", f"known: {', '.join(self._sgs)}"
            ) from None

    def nacl(self, name: str) -> NetworkAcl:
        try:
            return self._nacls[name]
        except KeyError:
            raise TopologyError(f"no network ACL named {name!r}", f"known: {', '.join(self._nacls)}") from None

    def route_table(self, name: str) -> RouteTable:
        try:
            return self._rts[name]
        except KeyError:
            raise TopologyError(f"no route table named {name!r}", f"known: {', '.join(self._rts)}") from None

    def nacl_of(self, subnet: str) -> NetworkAcl:
        return self.nacl(self.subnet(subnet).nacl)

    def endpoint(self, name: str) -> Endpoint:
        """An endpoint by name: ``internet``, an ALB node, a server, a DB instance, or an address."""
        if name in self._endpoints:
            return self._endpoints[name]
        try:
            ip = ipaddress.IPv4Address(name)
        except ValueError:
            raise TopologyError(
                f"no endpoint named {name!r}",
                f"use one of {', '.join(self._endpoints)} or an IPv4 address",
            ) from None
        for ep in self._endpoints.values():
            if ep.ip == ip or (ep.kind == "alb" and self._node_public(ep.name) == ip):
                return ep
        sub = self.subnet_of_ip(ip) if ip in self.vpc_cidr else None
        return Endpoint(str(ip), "address", ip, sub.name if sub else None, (), (), EPHEMERAL["linux"], str(ip))

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
    def subnets_frame(self):
        """One row per subnet: CIDR, AZ, tier, route table, NACL, whether public, what lives there."""
        import pandas as pd

        lives: dict[str, list[str]] = {s.name: [] for s in self.subnets}
        for n in self.alb.nodes:
            lives[n.subnet].append(n.name)
        for i in self.instances:
            lives[i.subnet].append(f"{i.name} {i.ip}")
        for d in self.database.instances:
            lives[d.subnet].append(f"{d.name} {d.ip}")
        return pd.DataFrame([
            {"subnet": s.name, "cidr": str(s.cidr), "az": s.az, "tier": s.tier, "route_table": s.route_table,
             "nacl": s.nacl, "public": self.is_public(s.name), "holds": ", ".join(lives[s.name])}
            for s in self.subnets
        ])

    def rules_frame(self):
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

    def listeners_frame(self):
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

    def alb_nodes_frame(self):
        """One row per ALB node: its AZ, subnet, private and public address."""
        import pandas as pd

        return pd.DataFrame([{
            "node": n.name, "az": self.subnet(n.subnet).az, "subnet": n.subnet, "private_ip": str(n.ip),
            "public_ip": str(n.public_ip),
            "reason": f"AWS puts one node in each enabled AZ's public subnet; {n.public_ip} is assigned by AWS and "
                      "can change, so clients find it through DNS"} for n in self.alb.nodes])

    def differences_frame(self):
        """Where this topology departs from the seed (or reproduces its slips), and why."""
        import pandas as pd

        return pd.DataFrame([{"id": d.id, "what": d.what, "seed_says": d.seed_says, "here": d.here,
                              "found_by": d.found_by, "reason": d.why} for d in self.differences])

    # ------------------------------------------------------------------ rules
    @cached_property
    def _rules(self) -> dict[str, SgRule | NaclRule]:
        out: dict[str, SgRule | NaclRule] = {}
        for g in self.security_groups:
            for r in g.rules:
                out[r.id] = r
        for n in self.nacls:
            for r in n.rules:
                out[r.id] = r
        return out

    def rules(self) -> tuple[SgRule | NaclRule, ...]:
        return tuple(self._rules.values())

    def rule(self, rule_id: str) -> SgRule | NaclRule:
        """A rule by its id, e.g. ``database-sg-in-5432`` or ``nacl-private-db-in-100``."""
        try:
            return self._rules[rule_id]
        except KeyError:
            close = [r for r in self._rules if rule_id.split("-")[0] in r][:6]
            raise RuleError(
                f"no rule with id {rule_id!r} in topology {self.name!r}",
                f"rule ids look like {', '.join(close or list(self._rules)[:4])}; "
                "`tierlab rules` lists them all",
            ) from None

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

    # ------------------------------------------------------------------ what-ifs (new topologies)
    def with_rule(self, rule: SgRule | NaclRule, *, group: str | None = None) -> "Topology":
        """Add (or replace, by id) a rule; ``group`` names the SG for an SgRule."""
        from .loader import check_quotas

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
            if rule.peer_sg is not None and rule.peer_sg not in self._sgs:
                raise RuleError(
                    f"rule {rule.id} refers to unknown security group {rule.peer_sg!r}",
                    f"known: {', '.join(self._sgs)}",
                )
            new_sg = sg.with_rule(rule)
            topo = replace(
                self, security_groups=tuple(new_sg if g.name == gname else g for g in self.security_groups)
            )
        problems = check_quotas(topo)
        if problems:
            raise RuleError(problems[0].message, problems[0].hint)
        return topo

    def add_sg_rule(
        self, group: str, direction: str, *, ports: object, cidr: str | None = None, sg: str | None = None,
        protocol: str = "tcp", description: str = "", rule_id: str | None = None,
    ) -> "Topology":
        """A new topology with one more security-group rule (AWS refuses an identical one)."""
        if direction not in ("inbound", "outbound"):
            raise RuleError(f"direction {direction!r} is unknown", "use inbound or outbound")
        pr = PortRange.parse(ports)
        peer_cidr = parse_cidr(cidr, f"{group} rule CIDR") if cidr is not None else None
        if sg is not None and sg not in self._sgs:
            raise RuleError(f"unknown security group {sg!r}", f"known: {', '.join(self._sgs)}")
        sgroup = self.security_group(group)
        base = rule_id or f"{group}-{'in' if direction == 'inbound' else 'out'}-{pr}"
        rid, k = base, 2
        while rid in self._rules:
            rid, k = f"{base}-{k}", k + 1
        rule = SgRule(rid, direction, protocol, pr, peer_cidr=peer_cidr, peer_sg=sg, description=description)  # type: ignore[arg-type]
        for r in sgroup.rules:
            if (r.direction, r.protocol, r.ports, r.peer) == (rule.direction, rule.protocol, rule.ports, rule.peer):
                raise RuleError(f"{group} already has this rule: {r.describe()}",
                                "AWS refuses a rule identical to an existing one")
        return self.with_rule(rule, group=group)

    def add_nacl_rule(
        self, nacl: str, direction: str, *, number: int, action: str, ports: object, cidr: str,
        protocol: str = "tcp", description: str = "",
    ) -> "Topology":
        """A new topology with one more numbered NACL rule (the number must be free)."""
        if direction not in ("inbound", "outbound"):
            raise RuleError(f"direction {direction!r} is unknown", "use inbound or outbound")
        acl = self.nacl(nacl)
        rule = NaclRule(nacl, number, direction, action, protocol, PortRange.parse(ports),  # type: ignore[arg-type]
                        parse_cidr(cidr, f"{nacl} rule CIDR"), description)
        if any(r.id == rule.id for r in acl.rules):
            raise RuleError(f"network ACL {nacl} already has {direction} rule #{number}",
                            "pick a free number; lower numbers are evaluated first")
        return self.with_rule(rule)

    def change_rule(self, rule_id: str, **changes: object) -> "Topology":
        """Change fields of one rule (``enabled``, ``ports``, ``cidr``, ``action``, ``number`` ...)."""
        old = self.rule(rule_id)
        fixed: dict[str, object] = {}
        allowed = {"enabled", "ports", "cidr", "peer_cidr", "peer_sg", "action", "number", "protocol", "description"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise RuleError(f"rule {rule_id}: cannot change {', '.join(unknown)}",
                            f"a rule's changeable fields: {', '.join(sorted(allowed))} (direction is fixed: "
                            "delete the rule and add one the other way)")
        if "enabled" in changes and not isinstance(changes["enabled"], bool):
            raise RuleError(f"rule {rule_id}: enabled={changes['enabled']!r} is not True or False",
                            "switch rules with switch_off(...) / switch_on(...)")
        if changes.get("peer_sg") is not None and changes["peer_sg"] not in self._sgs:
            raise RuleError(f"rule {rule_id}: unknown security group {changes['peer_sg']!r}",
                            f"known: {', '.join(self._sgs)}")
        for key, value in changes.items():
            if key == "ports":
                value = PortRange.parse(value)
            elif key in ("cidr", "peer_cidr"):
                key = "cidr" if isinstance(old, NaclRule) else "peer_cidr"
                value = parse_cidr(value, f"rule {rule_id} CIDR")
                if isinstance(old, SgRule):
                    fixed["peer_sg"] = None
            elif key == "peer_sg" and isinstance(old, SgRule):
                fixed["peer_cidr"] = None
            fixed[key] = value
        try:
            new = replace(old, **fixed)
        except TypeError as exc:
            raise RuleError(f"rule {rule_id}: cannot change {', '.join(changes)} ({exc})", "check the field names") from None
        if isinstance(old, NaclRule):
            nacl = self.nacl(old.nacl)
            rest = tuple(r for r in nacl.rules if r.id != old.id)
            if any(r.direction == new.direction and r.number == new.number for r in rest):  # type: ignore[union-attr]
                raise RuleError(
                    f"network ACL {nacl.name} already has {new.direction} rule #{new.number}",  # type: ignore[union-attr]
                    "pick a free number",
                )
            updated = replace(nacl, rules=rest + (new,))  # type: ignore[operator]
            return replace(self, nacls=tuple(updated if n.name == nacl.name else n for n in self.nacls))
        gname = self.owner_of(rule_id)
        sg = self.security_group(gname)
        updated_sg = replace(sg, rules=tuple(new if r.id == rule_id else r for r in sg.rules))  # type: ignore[misc]
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

    def with_instance(self, instance: Instance, *, target: bool = True) -> "Topology":
        """Add an API server (and register it with the target group)."""
        from .loader import SGS_PER_ENI

        sub = self.subnet(instance.subnet)
        if instance.ip not in sub.cidr:
            raise TopologyError(
                f"subnet {sub.name!r} {sub.cidr} does not contain instance {instance.name!r} {instance.ip}",
                "pick an address inside the subnet, or another subnet",
            )
        if sub.is_reserved(instance.ip):
            raise TopologyError(f"instance {instance.name!r} {instance.ip} is one of the five addresses AWS reserves "
                                f"in {sub.cidr}", RESERVED_HINT)
        if instance.name in self._endpoints:
            raise TopologyError(f"an endpoint named {instance.name!r} already exists", "give the new server its own name")
        taken = next((e for e in self._endpoints.values() if e.ip == instance.ip), None)
        if taken is not None:
            raise TopologyError(f"{instance.ip} is already used by {taken.name}", "give each ENI its own address")
        if instance.os not in ("linux", "windows", "macos"):
            raise TopologyError(f"instance {instance.name!r}: os {instance.os!r} is unknown", "use linux, windows or macos")
        unknown = [g for g in instance.sgs if g not in self._sgs]
        if unknown or not instance.sgs:
            raise TopologyError(f"instance {instance.name!r}: unknown or missing security groups {unknown or '[]'}",
                                f"known: {', '.join(self._sgs)}")
        if len(instance.sgs) > SGS_PER_ENI:
            raise TopologyError(f"instance {instance.name!r} has {len(instance.sgs)} security groups, over the quota "
                                f"of {SGS_PER_ENI} per ENI", "merge groups (the quota can be raised to 16)")
        alb = self.alb
        if target:
            alb = replace(alb, targets=alb.targets + (instance.name,))
        return replace(self, instances=self.instances + (instance,), alb=alb)

    def with_health_check(self, **changes: object) -> "Topology":
        return replace(self, alb=replace(self.alb, health_check=replace(self.alb.health_check, **changes)))

    def rename(self, name: str) -> "Topology":
        return replace(self, name=name)

    def default_rule_ids(self) -> list[str]:
        return [default_rule_id(n.name, d) for n in self.nacls for d in ("inbound", "outbound")]
