"""YAML -> Topology, with validation that reports every problem at once.

Each problem carries its YAML path (``nacls.nacl-public.inbound[2].cidr``) and a hint.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import re
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import Problem, RuleError, ScenarioError, TierlabError, ValidationError
from ..paths import data_path
from .rules import NaclRule, NetworkAcl, PortRange, SecurityGroup, SgRule, parse_cidr
from .topology import (
    RESERVED_HINT,
    AlbNode,
    Database,
    DbInstance,
    Difference,
    DnsRecord,
    Edge,
    HealthCheck,
    Instance,
    Listener,
    LoadBalancer,
    Route,
    RouteTable,
    Subnet,
    Topology,
)

__all__ = ["load", "load_file", "load_dict", "topology_names", "apply_patch", "check_quotas", "read_yaml"]

#: AWS quotas (defaults). NACL: rules per direction, counting the ``*`` rule (adjustable to 40).
NACL_RULES_PER_DIRECTION = 20
SG_RULES_PER_DIRECTION = 60
SGS_PER_ENI = 5

TOP_KEYS = {
    "name", "description", "region", "vpc", "azs", "internet_gateway", "client", "route_tables",
    "subnets", "security_groups", "nacls", "instances", "load_balancer", "database", "dns", "edge",
    "differences", "prefix_lists",
}
SUBNET_KEYS = {"cidr", "az", "tier", "route_table", "nacl"}
SG_KEYS = {"description", "ingress", "egress"}
SG_RULE_KEYS = {"id", "protocol", "ports", "cidr", "sg", "prefix_list", "description", "enabled", "seed_checkpoint"}
NACL_KEYS = {"description", "inbound", "outbound", "default"}
NACL_RULE_KEYS = {"number", "action", "protocol", "ports", "cidr", "description", "enabled", "seed_checkpoint"}
INSTANCE_KEYS = {"ip", "subnet", "sgs", "listens", "os", "label"}
LB_KEYS = {"name", "dns_name", "sgs", "nodes", "listeners", "target_group", "cross_zone", "idle_timeout_s",
           "elastic_ip", "connect_timeout_s"}
HC_KEYS = {"protocol", "path", "port", "interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold"}
DB_KEYS = {"name", "engine", "version", "endpoint", "port", "sgs", "multi_az", "subnet_group", "instances",
           "failover_s", "endpoint_ttl_s"}
RECORD_KEYS = {"zone", "name", "type", "target", "alias", "ttl_s", "purpose"}


def topology_names() -> list[str]:
    """Names of the topologies shipped in ``data/topologies``."""
    return sorted(p.stem for p in data_path("topologies").glob("*.yaml"))


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError("file not found", "check the path", file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(
            f"is not valid YAML {where}: {getattr(exc, 'problem', exc)}",
            "check indentation and that lists start with '- '",
            file=str(path),
        ) from None


def load(name_or_path: str | Path = "seed") -> Topology:
    """Load a topology by name (``seed``, ``seed-as-written``) or from a YAML file path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return load_file(p)
    candidate = data_path("topologies", f"{name_or_path}.yaml")
    if not candidate.exists():
        names = topology_names()
        close = difflib.get_close_matches(str(name_or_path), names, n=1)
        raise ScenarioError(
            f"no topology named {name_or_path!r}",
            (f"did you mean {close[0]!r}? " if close else "") + f"known: {', '.join(names)}",
        )
    return load_file(candidate)


def load_file(path: Path) -> Topology:
    raw = read_yaml(path)
    return load_dict(raw, file=str(path))


# --------------------------------------------------------------------------- patches


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\+\]|\[\d+\]", path):
        if token == "[+]":
            parts.append("+")
        elif token.startswith("["):
            parts.append(int(token[1:-1]))
        else:
            parts.append(token)
    return parts


def apply_patch(raw: dict, patch: list | tuple) -> dict:
    """A deep copy of ``raw`` with each ``(path, value)`` set; ``[+]`` appends to a list."""
    out = copy.deepcopy(raw)
    for path, value in patch:
        keys = _split_path(path)
        node: Any = out
        for k in keys[:-1]:
            node = node[k]
        last = keys[-1]
        if last == "+":
            node.append(copy.deepcopy(value))
        else:
            node[last] = copy.deepcopy(value)
    return out


# --------------------------------------------------------------------------- validation


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(path, message, hint))

    def attempt(self, path: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except TierlabError as exc:
            self.add(path, exc.message, exc.hint)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self.add(path, f"cannot read this value ({exc})", "compare with data/topologies/seed.yaml")
        return None

    def keys(self, path: str, mapping: Any, allowed: set[str], required: set[str] = frozenset()) -> bool:
        if not isinstance(mapping, dict):
            self.add(path, f"expected a mapping, found {type(mapping).__name__}", "write key: value pairs")
            return False
        for k in mapping:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), sorted(allowed), n=1)
                self.add(
                    f"{path}.{k}" if path else str(k),
                    f"unknown key {k!r}",
                    f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(sorted(allowed))}",
                )
        for k in sorted(required):
            if k not in mapping:
                self.add(f"{path}.{k}" if path else k, f"missing key {k!r}", "see data/topologies/seed.yaml")
        return True


def _ip(value: Any, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise RuleError(f"{what} {value!r} is not an IPv4 address", "write it as a.b.c.d, each part 0-255") from None


def _port(value: Any, what: str) -> int:
    pr = PortRange.parse(value)
    if pr.lo != pr.hi:
        raise RuleError(f"{what} {value!r} must be a single port", "write one port such as 443")
    return pr.lo


def _num(c: "_Collector", path: str, value: Any, default: int) -> int:
    """A whole number from the file, or a problem at ``path`` (and the default, to go on)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        c.add(path, f"{value!r} is not a whole number", "write a number such as 30 (units are in the key's name)")
        return default
    return int(value)


def _sg_rule_id(sg: str, direction: str, rule: dict) -> str:
    ports = str(PortRange.parse(rule.get("ports", "all")))
    return f"{sg}-{'in' if direction == 'inbound' else 'out'}-{ports}"


def load_dict(raw: Any, file: str = "") -> Topology:
    """Build a Topology from parsed YAML, raising ValidationError with every problem at once."""
    try:
        return _load_dict(raw, file)
    except TierlabError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        # a shape the checks above did not foresee: still a message, never a traceback
        raise ValidationError([Problem("", f"cannot read this topology ({type(exc).__name__}: {exc})",
                                       "compare the file with data/topologies/seed.yaml")], file) from None


def _load_dict(raw: Any, file: str = "") -> Topology:
    c = _Collector()
    if not isinstance(raw, dict):
        raise ValidationError([Problem("", "the file is not a mapping of sections", "see data/topologies/seed.yaml")], file)
    c.keys("", raw, TOP_KEYS, {"name", "vpc", "azs", "subnets", "route_tables", "security_groups", "nacls",
                               "instances", "load_balancer", "database"})

    name = str(raw.get("name", Path(file).stem if file else "topology"))
    vpc_cidr = c.attempt("vpc.cidr", lambda: parse_cidr((raw.get("vpc") or {}).get("cidr"), "VPC CIDR"))
    azs_raw = raw.get("azs") or []
    if not isinstance(azs_raw, list):
        c.add("azs", f"expected a list of availability zones, found {azs_raw!r}", "write azs: [us-east-1a, us-east-1b]")
        azs_raw = []
    azs = tuple(str(a) for a in azs_raw)
    if len(azs) < 2:
        c.add("azs", f"only {len(azs)} availability zone(s)", "an ALB and an RDS subnet group each need two AZs")
    igw = raw.get("internet_gateway")

    # route tables
    route_tables: list[RouteTable] = []
    for rt_name, routes in (raw.get("route_tables") or {}).items():
        path = f"route_tables.{rt_name}"
        parsed: list[Route] = []
        if not isinstance(routes or [], list):
            c.add(path, f"route table {rt_name} is not a list of routes", "write - {destination: ..., target: ...} lines")
            routes = []
        for i, r in enumerate(routes or []):
            rp = f"{path}[{i}]"
            if not c.keys(rp, r, {"destination", "target"}, {"destination", "target"}):
                continue
            dest = c.attempt(f"{rp}.destination", lambda r=r: parse_cidr(r.get("destination"), "route destination"))
            target = str(r.get("target"))
            if target not in ("local",) and target != igw:
                c.add(f"{rp}.target", f"route target {target!r} is not in this topology",
                      f"use local or the internet gateway {igw!r}")
            elif (target != "local" and dest is not None and vpc_cidr is not None and dest.prefixlen > 0
                  and dest.subnet_of(vpc_cidr)):
                c.add(f"{rp}.destination", f"route {dest} -> {target} points VPC addresses at the internet gateway",
                      "traffic inside the VPC follows the local route; AWS refuses an internet gateway as the target "
                      "of a route to VPC addresses")
            if dest is not None:
                parsed.append(Route(dest, target))
        if vpc_cidr is not None and not any(r.target == "local" and r.destination == vpc_cidr for r in parsed):
            c.add(path, f"route table {rt_name} has no local route for the VPC {vpc_cidr}",
                  "every route table has an undeletable local route: add {destination: VPC CIDR, target: local}")
        route_tables.append(RouteTable(str(rt_name), tuple(parsed)))
    rt_names = {r.name for r in route_tables}

    # prefix lists: named sets of CIDRs a security-group rule can refer to
    prefix_lists: dict[str, tuple[ipaddress.IPv4Network, ...]] = {}
    for pl_name, cidrs in (raw.get("prefix_lists") or {}).items():
        parsed_pl = [c.attempt(f"prefix_lists.{pl_name}[{i}]", lambda v=v: parse_cidr(v, f"prefix list {pl_name} entry"))
                     for i, v in enumerate(cidrs or [])]
        prefix_lists[str(pl_name)] = tuple(x for x in parsed_pl if x is not None)

    # security groups (names first: rules may refer to groups defined later)
    sg_raw = raw.get("security_groups") or {}
    sg_names = set(map(str, sg_raw))
    security_groups: list[SecurityGroup] = []
    for sg_name, body in sg_raw.items():
        path = f"security_groups.{sg_name}"
        if not c.keys(path, body, SG_KEYS):
            continue
        rules: list[SgRule] = []
        seen_ids: set[str] = set()
        seen_sig: dict[tuple, str] = {}
        for key, direction in (("ingress", "inbound"), ("egress", "outbound")):
            if key not in body:
                if key == "egress":  # AWS's default: all outbound allowed
                    rules.append(SgRule(f"{sg_name}-out-all", "outbound", "all", PortRange(0, 65535),
                                        peer_cidr=ipaddress.IPv4Network("0.0.0.0/0"),
                                        description="AWS default: all outbound traffic"))
                elif str(sg_name) == "default":  # the VPC's default group admits its own members
                    rules.append(SgRule("default-in-all", "inbound", "all", PortRange(0, 65535), peer_sg="default",
                                        description="AWS default group: all traffic from members of this group"))
                continue
            entries = body.get(key) or []
            if len(entries) > SG_RULES_PER_DIRECTION:
                c.add(f"{path}.{key}", f"{len(entries)} {direction} rules, over the quota of {SG_RULES_PER_DIRECTION}",
                      "merge rules, or reference a security group instead of many CIDRs")
            for i, r in enumerate(entries):
                rp = f"{path}.{key}[{i}]"
                if not c.keys(rp, r, SG_RULE_KEYS):
                    continue
                if sum(k in r for k in ("cidr", "sg", "prefix_list")) != 1:
                    c.add(rp, "a security-group rule needs exactly one of cidr:, sg: or prefix_list:",
                          "cidr: 0.0.0.0/0 for anyone, sg: web-sg for members of a group, prefix_list: <name>")
                    continue
                if "prefix_list" in r and str(r["prefix_list"]) not in prefix_lists:
                    c.add(f"{rp}.prefix_list", f"unknown prefix list {r['prefix_list']!r}",
                          f"define it under prefix_lists: (known: {', '.join(prefix_lists) or 'none'})")
                    continue
                if "sg" in r and str(r["sg"]) not in sg_names:
                    close = difflib.get_close_matches(str(r["sg"]), sorted(sg_names), n=1)
                    c.add(f"{rp}.sg", f"unknown security group {r['sg']!r}",
                          f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(sg_names))}")
                    continue
                ports = c.attempt(f"{rp}.ports", lambda r=r: PortRange.parse(r.get("ports", "all")))
                cidr = c.attempt(f"{rp}.cidr", lambda r=r: parse_cidr(r["cidr"], f"{sg_name} rule CIDR")) if "cidr" in r else None
                if ports is None or ("cidr" in r and cidr is None):
                    continue
                rid = str(r.get("id") or _sg_rule_id(str(sg_name), direction, r))
                if rid in seen_ids:
                    k = 2
                    while f"{rid}-{k}" in seen_ids:
                        k += 1
                    rid = f"{rid}-{k}"
                seen_ids.add(rid)
                rule = c.attempt(rp, lambda r=r, rid=rid, ports=ports, cidr=cidr, direction=direction: SgRule(
                    rid, direction, str(r.get("protocol", "tcp")), ports, peer_cidr=cidr,
                    peer_sg=str(r["sg"]) if "sg" in r else None, description=str(r.get("description", "")),
                    enabled=bool(r.get("enabled", True)), seed_checkpoint=r.get("seed_checkpoint"),
                    peer_prefix_list=str(r["prefix_list"]) if "prefix_list" in r else None,
                    prefix_cidrs=prefix_lists.get(str(r.get("prefix_list")), ())))
                if rule is None:
                    continue
                sig = (rule.direction, rule.protocol, rule.ports, rule.peer)
                if sig in seen_sig:
                    c.add(rp, f"{sg_name}: this rule duplicates {seen_sig[sig]} ({rule.protocol} {rule.ports} "
                              f"{'from' if direction == 'inbound' else 'to'} {rule.peer})",
                          "AWS refuses a rule identical to an existing one: delete one and merge their descriptions")
                    continue
                seen_sig[sig] = rule.id
                rules.append(rule)
        security_groups.append(SecurityGroup(str(sg_name), tuple(rules), str(body.get("description", ""))))

    # network ACLs
    nacls: list[NetworkAcl] = []
    for nacl_name, body in (raw.get("nacls") or {}).items():
        path = f"nacls.{nacl_name}"
        if not c.keys(path, body, NACL_KEYS):
            continue
        rules_n: list[NaclRule] = []
        for direction in ("inbound", "outbound"):
            if body.get("default") and direction not in body:  # the VPC's default NACL allows everything
                rules_n.append(NaclRule(str(nacl_name), 100, direction, "allow", "all", PortRange(0, 65535),
                                        ipaddress.IPv4Network("0.0.0.0/0"), "AWS default NACL: all traffic"))
                continue
            entries = body.get(direction) or []
            if len(entries) + 1 > NACL_RULES_PER_DIRECTION:
                c.add(f"{path}.{direction}",
                      f"{len(entries)} {direction} rules plus the * rule is over the quota of "
                      f"{NACL_RULES_PER_DIRECTION} per direction",
                      "the quota counts the * rule; merge rules (wider CIDRs or port ranges) or ask AWS to raise it (max 40)")
            numbers: dict[int, int] = {}
            for i, r in enumerate(entries):
                rp = f"{path}.{direction}[{i}]"
                if not c.keys(rp, r, NACL_RULE_KEYS, {"number", "action", "cidr"}):
                    continue
                ports = c.attempt(f"{rp}.ports", lambda r=r: PortRange.parse(r.get("ports", "all")))
                cidr = c.attempt(f"{rp}.cidr", lambda r=r: parse_cidr(r.get("cidr"), f"{nacl_name} rule CIDR"))
                if ports is None or cidr is None:
                    continue
                number = r.get("number")
                rule = c.attempt(f"{rp}.number" if not isinstance(number, int) or not 1 <= number <= 32766 else rp,
                                 lambda r=r, ports=ports, cidr=cidr, direction=direction: NaclRule(
                    str(nacl_name), r.get("number"), direction, str(r.get("action", "")).lower(),
                    str(r.get("protocol", "tcp")), ports, cidr, str(r.get("description", "")),
                    bool(r.get("enabled", True)), r.get("seed_checkpoint")))
                if rule is None:
                    continue
                if rule.number in numbers:
                    c.add(f"{rp}.number", f"{nacl_name} has two {direction} rules numbered {rule.number}",
                          f"rule numbers are unique per direction; {direction}[{numbers[rule.number]}] already uses it")
                    continue
                numbers[rule.number] = i
                rules_n.append(rule)
        nacls.append(NetworkAcl(str(nacl_name), tuple(rules_n), str(body.get("description", ""))))
    nacl_names = {n.name for n in nacls}

    # subnets
    subnets: list[Subnet] = []
    for sn, body in (raw.get("subnets") or {}).items():
        path = f"subnets.{sn}"
        if not c.keys(path, body, SUBNET_KEYS, SUBNET_KEYS):
            continue
        cidr = c.attempt(f"{path}.cidr", lambda body=body: parse_cidr(body.get("cidr"), f"subnet {sn} CIDR"))
        if body.get("az") not in azs:
            c.add(f"{path}.az", f"subnet {sn}: unknown availability zone {body.get('az')!r}",
                  f"use one of {', '.join(azs)} (the azs: list)")
        if body.get("tier") not in ("public", "app", "db"):
            c.add(f"{path}.tier", f"subnet {sn}: tier {body.get('tier')!r} is unknown", "use public, app or db")
        if body.get("route_table") not in rt_names:
            c.add(f"{path}.route_table", f"subnet {sn}: unknown route table {body.get('route_table')!r}",
                  f"known: {', '.join(sorted(rt_names))}")
        if body.get("nacl") not in nacl_names:
            c.add(f"{path}.nacl", f"subnet {sn}: unknown network ACL {body.get('nacl')!r}",
                  f"known: {', '.join(sorted(nacl_names))}")
        if cidr is None:
            continue
        if vpc_cidr is not None and not cidr.subnet_of(vpc_cidr):
            c.add(f"{path}.cidr", f"subnet {sn} {cidr} lies outside the VPC {vpc_cidr}", "pick a CIDR inside the VPC")
        for other in subnets:
            if cidr.overlaps(other.cidr):
                c.add(f"{path}.cidr", f"subnet {sn} {cidr} overlaps subnet {other.name} {other.cidr}",
                      "subnets of one VPC may not overlap: pick another range")
        subnets.append(Subnet(str(sn), cidr, str(body.get("az")), body.get("tier"), str(body.get("route_table")),
                              str(body.get("nacl"))))
    subnet_by = {s.name: s for s in subnets}
    used_ips: dict[ipaddress.IPv4Address, str] = {}

    def place(path: str, who: str, ip: Any, subnet: Any) -> ipaddress.IPv4Address | None:
        addr = c.attempt(f"{path}.ip", lambda: _ip(ip, f"{who} address"))
        sub = subnet_by.get(str(subnet))
        if sub is None:
            c.add(f"{path}.subnet", f"{who}: unknown subnet {subnet!r}", f"known: {', '.join(subnet_by)}")
            return addr
        if addr is None:
            return None
        if addr not in sub.cidr:
            inside = next((s for s in subnets if addr in s.cidr), None)
            c.add(f"{path}.ip", f"subnet {sub.name!r} {sub.cidr} does not contain {who} {addr}",
                  (f"{addr} lies in {inside.name} {inside.cidr}: use that subnet or an address in {sub.cidr}"
                   if inside else f"pick an address inside {sub.cidr}, or add a subnet that contains {addr}"))
        else:
            if sub.is_reserved(addr):
                c.add(f"{path}.ip", f"{who} {addr} is one of the five addresses AWS reserves in {sub.cidr}",
                      RESERVED_HINT)
        if addr in used_ips:
            c.add(f"{path}.ip", f"{who} {addr} is already used by {used_ips[addr]}", "give each ENI its own address")
        used_ips[addr] = who
        return addr

    def sg_list(path: str, who: str, values: Any) -> tuple[str, ...]:
        names = tuple(str(v) for v in (values or []))
        if not names:
            c.add(path, f"{who} has no security group", "every ENI has at least one security group")
        if len(names) > SGS_PER_ENI:
            c.add(path, f"{who} has {len(names)} security groups, over the quota of {SGS_PER_ENI} per ENI",
                  "merge groups (the quota can be raised to 16)")
        for n in names:
            if n not in sg_names:
                close = difflib.get_close_matches(n, sorted(sg_names), n=1)
                c.add(path, f"{who}: unknown security group {n!r}",
                      f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(sg_names))}")
        return names

    # instances
    instances: list[Instance] = []
    for iname, body in (raw.get("instances") or {}).items():
        path = f"instances.{iname}"
        if not c.keys(path, body, INSTANCE_KEYS, {"ip", "subnet", "sgs"}):
            continue
        addr = place(path, f"instance {iname!r}", body.get("ip"), body.get("subnet"))
        sgs = sg_list(f"{path}.sgs", f"instance {iname!r}", body.get("sgs"))
        listens = c.attempt(f"{path}.listens", lambda body=body: tuple(_port(p, "listening port") for p in body.get("listens", [3000])))
        os_name = str(body.get("os", "linux"))
        if os_name not in ("linux", "windows", "macos"):
            c.add(f"{path}.os", f"instance {iname!r}: os {os_name!r} is unknown", "use linux, windows or macos")
            os_name = "linux"
        if addr is not None and listens is not None:
            instances.append(Instance(str(iname), addr, str(body.get("subnet")), sgs, listens, os_name,
                                      str(body.get("label", ""))))

    # load balancer
    lb = raw.get("load_balancer") or {}
    alb = None
    if c.keys("load_balancer", lb, LB_KEYS, {"name", "dns_name", "sgs", "nodes", "listeners", "target_group"}):
        if "elastic_ip" in lb:
            c.add("load_balancer.elastic_ip", "an Application Load Balancer cannot have an Elastic IP",
                  "remove elastic_ip: clients reach the ALB through its DNS name (a Network Load Balancer can have one)")
        lb_sgs = sg_list("load_balancer.sgs", "the load balancer", lb.get("sgs"))
        nodes: list[AlbNode] = []
        for i, n in enumerate(lb.get("nodes") or []):
            p = f"load_balancer.nodes[{i}]"
            if not c.keys(p, n, {"name", "subnet", "ip", "public_ip"}, {"name", "subnet", "ip", "public_ip"}):
                continue
            addr = place(p, f"ALB node {n.get('name')!r}", n.get("ip"), n.get("subnet"))
            pub = c.attempt(f"{p}.public_ip", lambda n=n: _ip(n.get("public_ip"), "public address"))
            sub = subnet_by.get(str(n.get("subnet")))
            if sub is not None and sub.tier != "public":
                c.add(f"{p}.subnet", f"ALB node {n.get('name')!r} sits in {sub.name}, which is not a public subnet",
                      "an internet-facing ALB's nodes live in public subnets")
            if addr is not None and pub is not None:
                nodes.append(AlbNode(str(n.get("name")), str(n.get("subnet")), addr, pub))
        node_azs = {subnet_by[n.subnet].az for n in nodes if n.subnet in subnet_by}
        if len(node_azs) < 2:
            c.add("load_balancer.nodes", f"the ALB has nodes in {len(node_azs)} AZ(s)",
                  "an Application Load Balancer needs subnets in at least two AZs: add a public subnet and node in another AZ")
        listeners: list[Listener] = []
        for i, l in enumerate(lb.get("listeners") or []):
            p = f"load_balancer.listeners[{i}]"
            if not c.keys(p, l, {"port", "protocol", "action", "redirect_port", "certificate"}, {"port", "protocol", "action"}):
                continue
            port = c.attempt(f"{p}.port", lambda l=l: _port(l.get("port"), "listener port"))
            if l.get("action") not in ("forward", "redirect"):
                c.add(f"{p}.action", f"listener action {l.get('action')!r} is unknown", "use forward or redirect")
                continue
            if port is not None:
                listeners.append(Listener(port, str(l.get("protocol")), l.get("action"), l.get("redirect_port"),
                                          str(l.get("certificate", ""))))
        tg = lb.get("target_group") or {}
        targets: tuple[str, ...] = ()
        hc = HealthCheck()
        tg_port = 3000
        if c.keys("load_balancer.target_group", tg, {"name", "port", "targets", "health_check", "protocol"}, {"name", "port", "targets"}):
            tg_port = c.attempt("load_balancer.target_group.port", lambda: _port(tg.get("port"), "target port")) or 3000
            inames = {i.name for i in instances} | set(map(str, (raw.get("instances") or {})))
            targets = tuple(str(t) for t in tg.get("targets") or [])
            for t in targets:
                if t not in inames:
                    c.add("load_balancer.target_group.targets", f"target {t!r} is not an instance", f"known: {', '.join(sorted(inames))}")
            h = tg.get("health_check") or {}
            if c.keys("load_balancer.target_group.health_check", h, HC_KEYS):
                hp = "load_balancer.target_group.health_check"
                nums = {k: _num(c, f"{hp}.{k}", h.get(k), getattr(HealthCheck(), k))
                        for k in ("port", "interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold")}
                hc = HealthCheck(protocol=str(h.get("protocol", "HTTP")), path=str(h.get("path", "/")), **nums)
                for prob in check_health_check(hc):
                    c.add(f"load_balancer.target_group.health_check.{prob.path}", prob.message, prob.hint)
        alb = LoadBalancer(str(lb.get("name")), str(lb.get("dns_name")), lb_sgs, tuple(nodes), tuple(listeners),
                           str(tg.get("name", "")), tg_port, targets, hc, bool(lb.get("cross_zone", True)),
                           _num(c, "load_balancer.idle_timeout_s", lb.get("idle_timeout_s"), 60),
                           _num(c, "load_balancer.connect_timeout_s", lb.get("connect_timeout_s"), 10))

    # database
    db = raw.get("database") or {}
    database = None
    if c.keys("database", db, DB_KEYS, {"name", "endpoint", "port", "sgs", "instances", "subnet_group"}):
        db_sgs = sg_list("database.sgs", "the database", db.get("sgs"))
        port = c.attempt("database.port", lambda: _port(db.get("port"), "database port")) or 5432
        group = tuple(str(s) for s in db.get("subnet_group") or [])
        for s in group:
            if s not in subnet_by:
                c.add("database.subnet_group", f"unknown subnet {s!r} in the DB subnet group", f"known: {', '.join(subnet_by)}")
        if len({subnet_by[s].az for s in group if s in subnet_by}) < 2:
            c.add("database.subnet_group", "the DB subnet group spans fewer than two AZs",
                  "an RDS subnet group needs subnets in at least two AZs")
        dbi: list[DbInstance] = []
        for i, d in enumerate(db.get("instances") or []):
            p = f"database.instances[{i}]"
            if not c.keys(p, d, {"name", "role", "ip", "subnet"}, {"name", "role", "ip", "subnet"}):
                continue
            addr = place(p, f"database instance {d.get('name')!r}", d.get("ip"), d.get("subnet"))
            if str(d.get("subnet")) not in group:
                c.add(f"{p}.subnet", f"database instance {d.get('name')!r} is outside the DB subnet group",
                      f"use one of {', '.join(group)}")
            if d.get("role") not in ("primary", "standby"):
                c.add(f"{p}.role", f"role {d.get('role')!r} is unknown", "use primary or standby")
                continue
            if addr is not None:
                dbi.append(DbInstance(str(d.get("name")), d.get("role"), addr, str(d.get("subnet"))))
        multi = bool(db.get("multi_az", False))
        roles = [d.role for d in dbi]
        if roles.count("primary") != 1:
            c.add("database.instances", f"{roles.count('primary')} primary instances", "exactly one instance has role: primary")
        if multi and "standby" not in roles:
            c.add("database.multi_az", "multi_az is true but there is no standby", "add an instance with role: standby in another AZ")
        if not multi and "standby" in roles:
            c.add("database.multi_az", "a standby exists but multi_az is false", "set multi_az: true or remove the standby")
        fo = db.get("failover_s", [60, 120])
        if not (isinstance(fo, (list, tuple)) and len(fo) == 2):
            c.add("database.failover_s", f"failover_s {fo!r} is not a [low, high] pair of seconds", "write [60, 120]")
            fo = [60, 120]
        fo = [_num(c, f"database.failover_s[{i}]", v, d) for i, (v, d) in enumerate(zip(fo, (60, 120)))]
        database = Database(str(db.get("name")), str(db.get("engine", "postgres")), str(db.get("version", "15")),
                            str(db.get("endpoint")), port, db_sgs, multi, tuple(dbi), group,
                            (fo[0], fo[1]), _num(c, "database.endpoint_ttl_s", db.get("endpoint_ttl_s"), 5))

    # DNS
    records: list[DnsRecord] = []
    dns = raw.get("dns") or {}
    zones = dns.get("zones") or {}
    edge_raw = raw.get("edge") or {}
    alias_targets = {str(lb.get("dns_name")), str(edge_raw.get("domain"))}
    for i, r in enumerate(dns.get("records") or []):
        p = f"dns.records[{i}]"
        if not c.keys(p, r, RECORD_KEYS, {"zone", "name", "type", "target"}):
            continue
        zone = str(r.get("zone"))
        if zone not in zones:
            c.add(f"{p}.zone", f"unknown zone {zone!r}", f"known: {', '.join(zones)}")
            continue
        rname = str(r.get("name")).rstrip(".")
        rtype = str(r.get("type")).upper()
        alias = bool(r.get("alias", False))
        if not (rname == zone or rname.endswith("." + zone)):
            c.add(f"{p}.name", f"record {rname!r} does not belong to zone {zone!r}", f"use a name ending in {zone}")
        if rtype == "CNAME" and rname == zone:
            c.add(f"{p}.type", f"a CNAME at the zone apex {zone!r} is invalid",
                  "the apex already holds SOA and NS records: use an alias A record (Route 53 alias) instead")
        if rtype not in ("A", "AAAA", "CNAME", "TXT", "MX"):
            c.add(f"{p}.type", f"record type {rtype!r} is not supported here", "use A (alias), AAAA or CNAME")
        if rtype == "A" and not alias:
            try:
                ipaddress.IPv4Address(str(r.get("target")))
            except ValueError:
                c.add(f"{p}.target", f"a plain A record needs an IPv4 address, got {r.get('target')!r}",
                      "to point a name at an AWS resource by its DNS name, make it an alias (alias: true)")
        if alias and str(r.get("target")) not in alias_targets:
            c.add(f"{p}.target", f"alias {rname!r} points at {r.get('target')!r}, which is no resource in this topology",
                  f"an alias must target an existing resource: {', '.join(sorted(alias_targets))}")
        ttl = _num(c, f"{p}.ttl_s", r.get("ttl_s"), 60 if alias else 300)
        records.append(DnsRecord(zone, rname, rtype, str(r.get("target")), alias, ttl,
                                 bool((zones.get(zone) or {}).get("private", False)), str(r.get("purpose", ""))))

    edge = None
    if edge_raw:
        if c.keys("edge", edge_raw, {"distribution", "domain", "bucket", "origin_access", "default_ttl_s", "bucket_public"}):
            edge = Edge(str(edge_raw.get("distribution")), str(edge_raw.get("domain")), str(edge_raw.get("bucket")),
                        str(edge_raw.get("origin_access", "OAC")), _num(c, "edge.default_ttl_s", edge_raw.get("default_ttl_s"), 3600),
                        bool(edge_raw.get("bucket_public", False)))

    client_ip = c.attempt("client.ip", lambda: _ip((raw.get("client") or {}).get("ip", "203.0.113.10"), "client address"))

    differences = []
    for i, d in enumerate(raw.get("differences") or []):
        p = f"differences[{i}]"
        if not c.keys(p, d, {"id", "what", "seed_says", "here", "why", "found_by", "patch"}, {"id", "what", "why", "found_by"}):
            continue
        differences.append(Difference(str(d["id"]), str(d["what"]), str(d.get("seed_says", "")), str(d.get("here", "")),
                                      str(d["why"]), d["found_by"], tuple(tuple(x) for x in d.get("patch") or ())))

    if c.problems:
        raise ValidationError(c.problems, file)
    assert vpc_cidr is not None and alb is not None and database is not None and client_ip is not None
    topo = Topology(
        name=name, description=str(raw.get("description", "")), region=str(raw.get("region", "us-east-1")),
        vpc_cidr=vpc_cidr, azs=azs, subnets=tuple(subnets), route_tables=tuple(route_tables),
        internet_gateway=str(igw) if igw else None, security_groups=tuple(security_groups), nacls=tuple(nacls),
        instances=tuple(instances), alb=alb, database=database, records=tuple(records), edge=edge,
        client_ip=client_ip, differences=tuple(differences), source=file,
    )
    return topo


def check_health_check(hc: HealthCheck) -> list[Problem]:
    """AWS's bounds for an ALB target-group health check."""
    out = []
    if not 5 <= hc.interval_s <= 300:
        out.append(Problem("interval_s", f"health-check interval {hc.interval_s} s is outside 5-300 s", "AWS's default is 30 s"))
    if not 2 <= hc.timeout_s <= 120:
        out.append(Problem("timeout_s", f"health-check timeout {hc.timeout_s} s is outside 2-120 s", "AWS's default is 5 s"))
    elif hc.timeout_s >= hc.interval_s:
        out.append(Problem("timeout_s", f"health-check timeout {hc.timeout_s} s is not shorter than the interval {hc.interval_s} s",
                           "the timeout must be shorter than the interval"))
    for k in ("healthy_threshold", "unhealthy_threshold"):
        v = getattr(hc, k)
        if not 2 <= v <= 10:
            out.append(Problem(k, f"{k.replace('_', ' ')} {v} is outside 2-10", "AWS allows 2-10 consecutive checks"))
    return out


def check_quotas(topo: Topology) -> list[Problem]:
    """Quota problems of an already-built topology (used by what-ifs that add rules)."""
    out = []
    for n in topo.nacls:
        for d in ("inbound", "outbound"):
            count = len([r for r in n.rules if r.direction == d]) + 1
            if count > NACL_RULES_PER_DIRECTION:
                out.append(Problem(f"nacls.{n.name}.{d}", f"network ACL {n.name} would have {count} {d} rules "
                                   f"(with *), over the quota of {NACL_RULES_PER_DIRECTION}",
                                   "merge rules or remove one first"))
    for g in topo.security_groups:
        for d in ("inbound", "outbound"):
            count = len([r for r in g.rules if r.direction == d])
            if count > SG_RULES_PER_DIRECTION:
                out.append(Problem(f"security_groups.{g.name}", f"security group {g.name} would have {count} {d} rules, "
                                   f"over the quota of {SG_RULES_PER_DIRECTION}", "merge rules"))
    return out
