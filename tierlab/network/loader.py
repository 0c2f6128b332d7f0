"""YAML -> Topology, with validation that reports every problem at once.

One reader per YAML section (``_read_route_tables``, ``_read_security_groups``, ...); each
records its problems with their YAML path (``nacls.nacl-public.inbound[2].cidr``) and a hint,
and returns what it could read so that later sections can refer to it. Every limit (ranges,
quotas, reserved addresses) is checked by :mod:`tierlab.network.limits`, the same functions the
what-ifs call, so a value refused here is refused there with the same message.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..errors import Problem, ScenarioError, TierlabError, ValidationError
from ..paths import data_path
from . import limits
from .readfile import read_yaml
from .rules import Direction, NaclRule, NetworkAcl, PortRange, SecurityGroup, SgRule
from .autoscaling import (DEREGISTRATION_DELAY_BOUNDS, DEREGISTRATION_DELAY_S, AutoScalingGroup, LaunchTemplate,
                          group_problems)
from .gateways import EndpointEni, NatGateway, PrefixList, VpcEndpoint, gateway_problems
from .topology import (
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
    sg_duplicate,
)

__all__ = ["load", "load_file", "load_dict", "topology_names", "apply_patch", "check_quotas", "check_health_check",
           "read_yaml"]

T = TypeVar("T")
Net = ipaddress.IPv4Network
IP = ipaddress.IPv4Address

TOP_KEYS = {
    "name", "description", "region", "vpc", "azs", "internet_gateway", "client", "route_tables",
    "subnets", "security_groups", "nacls", "instances", "load_balancer", "database", "dns", "edge",
    "differences", "prefix_lists", "auto_scaling_groups", "nat_gateways", "vpc_endpoints",
}
REQUIRED_TOP = {"name", "vpc", "azs", "subnets", "route_tables", "security_groups", "nacls", "instances",
                "load_balancer", "database"}
SUBNET_KEYS = {"cidr", "az", "tier", "route_table", "nacl"}
SG_KEYS = {"description", "ingress", "egress"}
SG_RULE_KEYS = {"id", "protocol", "ports", "cidr", "sg", "prefix_list", "description", "enabled", "seed_checkpoint"}
NACL_KEYS = {"description", "inbound", "outbound", "default"}
NACL_RULE_KEYS = {"number", "action", "protocol", "ports", "cidr", "description", "enabled", "seed_checkpoint"}
INSTANCE_KEYS = {"ip", "subnet", "sgs", "listens", "os", "label"}
LB_KEYS = {"name", "dns_name", "sgs", "nodes", "listeners", "target_group", "cross_zone", "idle_timeout_s",
           "elastic_ip", "connect_timeout_s"}
LB_REQUIRED = {"name", "dns_name", "sgs", "nodes", "listeners", "target_group"}
NODE_KEYS = {"name", "subnet", "ip", "public_ip"}
LISTENER_KEYS = {"port", "protocol", "action", "redirect_port", "certificate"}
TG_KEYS = {"name", "port", "targets", "health_check", "protocol", "deregistration_delay_s"}
HC_KEYS = {"protocol", "path", "port", "interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold"}
DB_KEYS = {"name", "engine", "version", "endpoint", "port", "sgs", "multi_az", "subnet_group", "instances",
           "failover_s", "endpoint_ttl_s"}
DB_REQUIRED = {"name", "endpoint", "port", "sgs", "instances", "subnet_group"}
DBI_KEYS = {"name", "role", "ip", "subnet"}
RECORD_KEYS = {"zone", "name", "type", "target", "alias", "ttl_s", "purpose"}
EDGE_KEYS = {"distribution", "domain", "bucket", "origin_access", "default_ttl_s", "bucket_public"}
ASG_KEYS = {"subnets", "min_size", "max_size", "desired", "health_check_type", "grace_period_s", "target_group",
            "instances", "launch_template"}
ASG_REQUIRED = {"subnets", "min_size", "max_size", "desired", "launch_template"}
TEMPLATE_KEYS = {"name", "sgs", "listens", "os", "pending_s", "boot_s"}
NAT_KEYS = {"subnet", "elastic_ip", "private_ip", "description"}
VPCE_KEYS = {"service", "type", "route_tables", "prefix_list", "subnets", "sgs", "private_dns", "description"}
ENI_KEYS = {"subnet", "ip"}
PL_KEYS = {"service", "cidrs", "description"}
VPC_KEYS = {"cidr", "dns_support", "dns_hostnames"}
DIFF_KEYS = {"id", "what", "seed_says", "here", "why", "found_by", "patch"}
SEED_HINT = "compare with data/topologies/seed.yaml"


def topology_names() -> list[str]:
    """Names of the topologies shipped in ``data/topologies``."""
    return sorted(p.stem for p in data_path("topologies").glob("*.yaml"))


def load(name_or_path: str | Path = "seed") -> Topology:
    """Load a topology by name (``seed``, ``seed-as-written``) or from a YAML file path."""
    if not isinstance(name_or_path, (str, Path)):
        raise ScenarioError(f"{limits.printable(repr(name_or_path), 60)} is not a topology name or a path",
                            "pass a name such as 'seed' or the path of a YAML file")
    text = str(name_or_path)
    if text.strip() == "" or "\x00" in text:
        raise ScenarioError(f"{limits.printable(repr(text), 60)} is not a topology name or a path",
                            f"pass a name ({', '.join(topology_names())}) or the path of a YAML file")
    p = Path(name_or_path)
    try:
        is_file = p.suffix in (".yaml", ".yml") or p.exists() or "/" in text
    except OSError:  # a name too long for the file system, and the like
        is_file = True
    if is_file:
        return load_file(p)
    candidate = data_path("topologies", f"{text}.yaml")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", text) or not candidate.exists():
        names = topology_names()
        close = difflib.get_close_matches(text, names, n=1)
        raise ScenarioError(
            f"no topology named {limits.printable(repr(text), 80)}",
            (f"did you mean {close[0]!r}? " if close else "") + f"known: {', '.join(names)}",
        )
    return load_file(candidate)


def load_file(path: Path | str) -> Topology:
    """Read and validate one topology file (every problem reported at once)."""
    raw = read_yaml(Path(path))
    return load_dict(raw, file=limits.printable(str(path), 300))


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


def apply_patch(raw: dict[str, Any], patch: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    """A deep copy of ``raw`` with each ``(path, value)`` set; ``[+]`` appends to a list.

    ``raw`` is never changed: a patch that does not fit (not a ``[path, value]`` pair, a key or index the
    topology does not have) is a ScenarioError naming the entry, raised before anything is returned."""
    if not isinstance(patch, (list, tuple)):
        raise ScenarioError(f"a patch is a list of [path, value] pairs, got {limits._show(patch)}",
                            "write e.g. [[\"security_groups[1].rules[0].ports\", 443]]", path="patch")
    out = copy.deepcopy(raw)
    for i, entry in enumerate(patch):
        if not isinstance(entry, (list, tuple)) or len(entry) != 2 or not isinstance(entry[0], str):
            raise ScenarioError(f"patch entry {limits._show(entry)} is not a [path, value] pair",
                                "write [\"subnets[0].cidr\", \"10.0.9.0/24\"]: a key path, then the value",
                                path=f"patch[{i}]")
        path, value = entry
        try:
            keys = _split_path(path)
            if not keys:
                raise KeyError(path)
            node: Any = out
            for k in keys[:-1]:
                node = node[k]
            last = keys[-1]
            if last == "+":
                node.append(copy.deepcopy(value))
            else:
                node[last] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            raise ScenarioError(f"patch path {limits.printable(repr(path), 80)} is not in the topology",
                                "check the key names and list indexes against the topology file",
                                path=f"patch[{i}]") from None
    return out


# --------------------------------------------------------------------------- the collector


class _Collector:
    """Problems found so far, and small readers that record a problem instead of raising."""

    MAX_PROBLEMS = 200  # enough to fix a file by; beyond it they are only counted

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.more = 0
        self.missing: set[str] = set()  # paths reported as a missing key

    def add(self, path: str, message: str, hint: str = "") -> None:
        if self.under_missing(path):  # "missing key 'vpc'" says it all: not also "VPC CIDR None is not valid"
            return
        if message.startswith("missing key "):
            self.missing.add(path)
        if len(self.problems) >= self.MAX_PROBLEMS:
            self.more += 1
            return
        self.problems.append(Problem(limits.printable(path, 200), limits.printable(message, 500),
                                     limits.printable(hint, 500)))

    def under_missing(self, path: str) -> bool:
        """``path`` is a missing key reported already, or lies inside one: what follows from it is no news."""
        return any(path == m or path.startswith((m + ".", m + "[")) for m in self.missing)

    def has_problem(self, path: str) -> bool:
        """A problem was reported at ``path`` or inside it (e.g. ``subnets.public-az1``)."""
        return any(p.path == path or p.path.startswith((path + ".", path + "[")) for p in self.problems)

    def all_problems(self) -> list[Problem]:
        more = [Problem("", f"... and {self.more} more problem(s)", "fix the ones above first")] if self.more else []
        return self.problems + more

    def attempt(self, path: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except TierlabError as exc:
            self.add(path, exc.message, exc.hint)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            self.add(path, f"cannot read this value ({type(exc).__name__}: {exc})", SEED_HINT)
        return None

    def keys(self, path: str, mapping: Any, allowed: set[str], required: set[str] | frozenset[str] = frozenset()) -> bool:
        if not isinstance(mapping, dict):
            self.add(path, f"expected a mapping, found {type(mapping).__name__}", "write key: value pairs")
            return False
        for k in mapping:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), sorted(allowed), n=1)
                self.add(
                    f"{path}.{k}" if path else str(k),
                    f"unknown key {limits._show(k)}",
                    f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(sorted(allowed))}",
                )
        for k in sorted(required):
            if k not in mapping:
                self.add(f"{path}.{k}" if path else k, f"missing key {k!r}", "see data/topologies/seed.yaml")
        return True

    def mapping(self, path: str, value: Any, quota: tuple[str, int] | None = None) -> dict[Any, Any]:
        """A section that holds named entries (``name: {...}``); ``{}`` (and a problem) when it does not.

        ``quota`` (what, how many): over it, a problem and only the first entries are read."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"expected a mapping of named entries, found {type(value).__name__}",
                     "write name: followed by its settings, one entry per name")
            return {}
        if not self._within(path, len(value), quota):
            return dict(list(value.items())[: (quota or ("", limits.ENTRIES_READ))[1]])
        return value

    def listing(self, path: str, value: Any, quota: tuple[str, int] | None = None) -> list[Any]:
        """A section that holds a list (``- ...`` lines); ``[]`` (and a problem) when it does not."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"expected a list, found {type(value).__name__}", "start each entry with '- '")
            return []
        if not self._within(path, len(value), quota):
            return value[: (quota or ("", limits.ENTRIES_READ))[1]]
        return value

    def _within(self, path: str, count: int, quota: tuple[str, int] | None) -> bool:
        what, most = quota or ("entries", limits.ENTRIES_READ)
        return self.attempt(path, lambda: limits.entry_count(what, count, most, aws=quota is not None)) is not None

    def number(self, path: str, value: Any, default: int, what: str, lo: int | None = None,
               hi: int | None = None) -> int:
        """A whole number within bounds, or a problem at ``path`` (and ``default``, to go on)."""
        if value is None:
            return default
        got = self.attempt(path, lambda: limits.whole_number(value, what, lo, hi))
        return default if got is None else got

    def text(self, path: str, value: Any, default: str = "") -> str:
        """A plain value as text (names, descriptions); a list or mapping is a problem."""
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            self.add(path, f"expected a single value, found a {type(value).__name__}", "write one name or sentence")
            return default
        return limits.printable(str(value), 2000)


def _name(key: Any) -> str:
    return limits.printable(str(key), 200)


# --------------------------------------------------------------------------- the sections


@dataclass
class _Vpc:
    name: str
    cidr: Net | None
    azs: tuple[str, ...]
    igw: str | None
    dns_support: bool = True
    dns_hostnames: bool = False


def _read_vpc(c: _Collector, raw: dict[Any, Any], file: str) -> _Vpc:
    name = c.text("name", raw.get("name"), Path(file).stem if file else "topology")
    vpc = raw.get("vpc") or {}
    if not isinstance(vpc, dict):
        c.add("vpc", f"expected a mapping, found {type(vpc).__name__}", "write vpc: {cidr: 10.0.0.0/16}")
        vpc = {}
    c.keys("vpc", vpc, VPC_KEYS)
    cidr = c.attempt("vpc.cidr", lambda: limits.cidr(vpc.get("cidr"), "VPC CIDR"))
    # AWS's defaults for a VPC you create ("DNS attributes for your VPC"): support on, hostnames off
    dns = {k: vpc.get(k, d) for k, d in (("dns_support", True), ("dns_hostnames", False))}
    for k, v in dns.items():
        if not isinstance(v, bool):
            c.add(f"vpc.{k}", f"{k} {limits._show(v)} is not true or false", f"write {k}: true")
    azs_raw = raw.get("azs") or []
    if not isinstance(azs_raw, list):
        c.add("azs", f"expected a list of availability zones, found {limits._show(azs_raw)}",
              "write azs: [us-east-1a, us-east-1b]")
        azs_raw = []
    azs = tuple(_name(a) for a in azs_raw)
    if len(azs) < 2:
        c.add("azs", f"only {len(azs)} availability zone(s)", "an ALB and an RDS subnet group each need two AZs")
    igw = raw.get("internet_gateway")
    return _Vpc(name, cidr, azs, _name(igw) if igw else None, dns["dns_support"] is True, dns["dns_hostnames"] is True)


def _read_routes(c: _Collector, path: str, rt_name: str, routes: Any, vpc: _Vpc) -> list[Route]:
    parsed: list[Route] = []
    if not isinstance(routes or [], list):
        c.add(path, f"route table {rt_name} is not a list of routes", "write - {destination: ..., target: ...} lines")
        routes = []
    for i, r in enumerate(c.listing(path, routes, (f"routes in route table {rt_name}", limits.ROUTES_PER_TABLE))):
        rp = f"{path}[{i}]"
        if not c.keys(rp, r, {"destination", "target"}, {"destination", "target"}):
            continue
        dest = c.attempt(f"{rp}.destination", lambda: limits.cidr(r.get("destination"), "route destination"))
        target = _name(r.get("target"))  # what a target may be: gateways.route_target_problems (one place)
        if dest is not None:
            parsed.append(Route(dest, target))
    if vpc.cidr is not None and not any(r.target == "local" and r.destination == vpc.cidr for r in parsed):
        c.add(path, f"route table {rt_name} has no local route for the VPC {vpc.cidr}",
              "every route table has an undeletable local route: add {destination: VPC CIDR, target: local}")
    return parsed


def _read_route_tables(c: _Collector, raw: dict[Any, Any], vpc: _Vpc) -> list[RouteTable]:
    tables: list[RouteTable] = []
    for rt_name, routes in c.mapping("route_tables", raw.get("route_tables"), ("route tables in the VPC", limits.ROUTE_TABLES_PER_VPC)).items():
        path = f"route_tables.{_name(rt_name)}"
        tables.append(RouteTable(_name(rt_name), tuple(_read_routes(c, path, _name(rt_name), routes, vpc))))
    return tables


def _read_prefix_lists(c: _Collector, raw: dict[Any, Any]) -> dict[str, PrefixList]:
    """Named sets of CIDRs that security-group rules and gateway endpoints refer to: a list of CIDRs, or
    ``{service: s3, cidrs: [...]}`` for an AWS-managed list."""
    out: dict[str, PrefixList] = {}
    for pl_name, body in c.mapping("prefix_lists", raw.get("prefix_lists")).items():
        path, name = f"prefix_lists.{_name(pl_name)}", _name(pl_name)
        service = ""
        if isinstance(body, dict):
            if not c.keys(path, body, PL_KEYS, {"cidrs"}):
                continue
            service = c.text(f"{path}.service", body.get("service"))
            body, path = body.get("cidrs"), f"{path}.cidrs"
        parsed = [c.attempt(f"{path}[{i}]", lambda: limits.cidr(v, f"prefix list {name} entry"))
                  for i, v in enumerate(c.listing(path, body))]
        out[name] = PrefixList(name=name, cidrs=tuple(x for x in parsed if x is not None), service=service)
    return out


def _read_nat_gateways(c: _Collector, raw: dict[Any, Any]) -> list[NatGateway]:
    """The ``nat_gateways:`` section: shapes here; where a NAT may live, in gateways.gateway_problems."""
    out: list[NatGateway] = []
    for key, body in c.mapping("nat_gateways", raw.get("nat_gateways")).items():
        name, path = _name(key), f"nat_gateways.{_name(key)}"
        if not c.keys(path, body, NAT_KEYS, {"subnet", "private_ip"}):
            continue
        who = f"NAT gateway {name!r}"
        eip = body.get("elastic_ip")
        eip_addr = c.attempt(f"{path}.elastic_ip", lambda: limits.address(eip, f"{who} Elastic IP")) if eip else None
        private = c.attempt(f"{path}.private_ip", lambda: limits.address(body.get("private_ip"), f"{who} private_ip"))
        if private is None or (eip and eip_addr is None):
            continue
        out.append(NatGateway(name=name, subnet=_name(body.get("subnet")), elastic_ip=eip_addr, private_ip=private))
    return out


def _read_endpoint_enis(c: _Collector, path: str, who: str, value: Any) -> list[EndpointEni]:
    out: list[EndpointEni] = []
    for i, e in enumerate(c.listing(path, value)):
        if not c.keys(f"{path}[{i}]", e, ENI_KEYS, ENI_KEYS):
            continue
        ip = c.attempt(f"{path}[{i}].ip", lambda: limits.address(e.get("ip"), f"{who} ENI address"))
        if ip is not None:
            out.append(EndpointEni(subnet=_name(e.get("subnet")), ip=ip))
    return out


def _read_vpc_endpoints(c: _Collector, raw: dict[Any, Any]) -> list[VpcEndpoint]:
    """The ``vpc_endpoints:`` section (gateway: route_tables + prefix_list; interface: subnets + sgs)."""
    out: list[VpcEndpoint] = []
    for key, body in c.mapping("vpc_endpoints", raw.get("vpc_endpoints")).items():
        name, path = _name(key), f"vpc_endpoints.{_name(key)}"
        if not c.keys(path, body, VPCE_KEYS, {"service", "type"}):
            continue
        kind = body.get("type")
        if kind not in ("gateway", "interface"):
            c.add(f"{path}.type", f"VPC endpoint {name!r}: type {limits._show(kind)} is unknown",
                  "use gateway (S3, DynamoDB) or interface")
            continue
        dns = body.get("private_dns", True)
        if not isinstance(dns, bool):
            c.add(f"{path}.private_dns", f"private_dns {limits._show(dns)} is not true or false", "write private_dns: true")
        out.append(VpcEndpoint(
            name=name, service=c.text(f"{path}.service", body.get("service")), type=kind,
            route_tables=tuple(map(_name, c.listing(f"{path}.route_tables", body.get("route_tables")))),
            prefix_list=c.text(f"{path}.prefix_list", body.get("prefix_list")),
            enis=tuple(_read_endpoint_enis(c, f"{path}.subnets", f"VPC endpoint {name!r}", body.get("subnets"))),
            sgs=tuple(map(_name, c.listing(f"{path}.sgs", body.get("sgs")))), private_dns=dns is not False))
    return out


@dataclass
class _SgContext:
    group: str
    sg_names: set[str]
    prefix_lists: dict[str, PrefixList]
    seen_ids: set[str] = field(default_factory=set)
    seen_sig: dict[tuple[object, ...], SgRule] = field(default_factory=dict)


def _sg_default_rule(group: str, direction: Direction) -> SgRule | None:
    """AWS's defaults when a direction is left out: all outbound; the default group admits its members."""
    if direction == "outbound":
        return SgRule(id=f"{group}-out-all", direction="outbound", protocol="all", ports=PortRange(0, 65535),
                      peer_cidr=ipaddress.IPv4Network("0.0.0.0/0"), description="AWS default: all outbound traffic")
    if group == "default":
        return SgRule(id="default-in-all", direction="inbound", protocol="all", ports=PortRange(0, 65535),
                      peer_sg="default", description="AWS default group: all traffic from members of this group")
    return None


def _sg_peer_ok(c: _Collector, rp: str, r: dict[Any, Any], ctx: _SgContext) -> bool:
    if sum(k in r for k in ("cidr", "sg", "prefix_list")) != 1:
        c.add(rp, "a security-group rule needs exactly one of cidr:, sg: or prefix_list:",
              "cidr: 0.0.0.0/0 for anyone, sg: web-sg for members of a group, prefix_list: <name>")
        return False
    if "prefix_list" in r and _name(r["prefix_list"]) not in ctx.prefix_lists:
        c.add(f"{rp}.prefix_list", f"unknown prefix list {limits._show(r['prefix_list'])}",
              f"define it under prefix_lists: (known: {', '.join(ctx.prefix_lists) or 'none'})")
        return False
    if "sg" in r and _name(r["sg"]) not in ctx.sg_names:
        close = difflib.get_close_matches(_name(r["sg"]), sorted(ctx.sg_names), n=1)
        c.add(f"{rp}.sg", f"unknown security group {limits._show(r['sg'])}",
              f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(ctx.sg_names))}")
        return False
    return True


def _read_sg_rule(c: _Collector, rp: str, r: Any, direction: Direction, ctx: _SgContext) -> SgRule | None:
    if not c.keys(rp, r, SG_RULE_KEYS) or not _sg_peer_ok(c, rp, r, ctx):
        return None
    ports = c.attempt(f"{rp}.ports", lambda: PortRange.parse(r.get("ports", "all")))
    cidr = c.attempt(f"{rp}.cidr", lambda: limits.cidr(r["cidr"], f"{ctx.group} rule CIDR")) if "cidr" in r else None
    if ports is None or ("cidr" in r and cidr is None):
        return None
    rid = _name(r.get("id") or f"{ctx.group}-{'in' if direction == 'inbound' else 'out'}-{ports}")
    if rid in ctx.seen_ids:
        k = 2
        while f"{rid}-{k}" in ctx.seen_ids:
            k += 1
        rid = f"{rid}-{k}"
    ctx.seen_ids.add(rid)
    checkpoint = c.number(f"{rp}.seed_checkpoint", r.get("seed_checkpoint"), 0, "seed_checkpoint", 1) or None
    rule = c.attempt(rp, lambda: SgRule(
        id=rid, direction=direction, protocol=r.get("protocol", "tcp"), ports=ports, peer_cidr=cidr,
        peer_sg=_name(r["sg"]) if "sg" in r else None, description=c.text(f"{rp}.description", r.get("description")),
        enabled=bool(r.get("enabled", True)), seed_checkpoint=checkpoint,
        peer_prefix_list=_name(r["prefix_list"]) if "prefix_list" in r else None,
        prefix_cidrs=ctx.prefix_lists[_name(r["prefix_list"])].cidrs if "prefix_list" in r else ()))
    if rule is None:
        return None
    sig = (rule.direction, rule.protocol, rule.ports, rule.peer)
    if sig in ctx.seen_sig:
        err = sg_duplicate(ctx.group, ctx.seen_sig[sig])
        c.add(rp, err.message, err.hint)
        return None
    ctx.seen_sig[sig] = rule
    return rule


def _read_security_groups(c: _Collector, raw: dict[Any, Any], prefix_lists: dict[str, PrefixList]
                          ) -> list[SecurityGroup]:
    sg_raw = c.mapping("security_groups", raw.get("security_groups"), ("security groups in the VPC", limits.SGS_PER_VPC))
    sg_names = set(map(_name, sg_raw))  # names first: rules may refer to groups defined later
    groups: list[SecurityGroup] = []
    for sg_key, body in sg_raw.items():
        sg_name, path = _name(sg_key), f"security_groups.{_name(sg_key)}"
        if not c.keys(path, body, SG_KEYS):
            continue
        ctx = _SgContext(sg_name, sg_names, prefix_lists)
        rules: list[SgRule] = []
        for key, direction in (("ingress", "inbound"), ("egress", "outbound")):
            d: Direction = "inbound" if direction == "inbound" else "outbound"
            if key not in body:
                default = _sg_default_rule(sg_name, d)
                rules.extend([default] if default else [])
                continue
            entries = c.listing(f"{path}.{key}", body.get(key))
            if c.attempt(f"{path}.{key}", lambda: limits.sg_rule_count(sg_name, d, len(entries))) is None:
                entries = entries[: limits.SG_RULES_PER_DIRECTION + 1]
            for i, r in enumerate(entries):
                rule = _read_sg_rule(c, f"{path}.{key}[{i}]", r, d, ctx)
                if rule is not None:
                    rules.append(rule)
        groups.append(SecurityGroup(sg_name, tuple(rules), c.text(f"{path}.description", body.get("description"))))
    return groups


def _read_nacl_rules(c: _Collector, path: str, nacl: str, direction: Direction, entries: list[Any]) -> list[NaclRule]:
    if c.attempt(path, lambda: limits.nacl_rule_count(nacl, direction, len(entries))) is None:
        entries = entries[: limits.NACL_RULES_PER_DIRECTION]
    rules: list[NaclRule] = []
    numbers: dict[int, int] = {}
    for i, r in enumerate(entries):
        rp = f"{path}[{i}]"
        if not c.keys(rp, r, NACL_RULE_KEYS, {"number", "action", "cidr"}):
            continue
        ports = c.attempt(f"{rp}.ports", lambda: PortRange.parse(r.get("ports", "all")))
        cidr = c.attempt(f"{rp}.cidr", lambda: limits.cidr(r.get("cidr"), f"{nacl} rule CIDR"))
        number = c.attempt(f"{rp}.number", lambda: limits.nacl_rule_number(r.get("number"), nacl, direction))
        if ports is None or cidr is None or number is None:
            continue
        checkpoint = c.number(f"{rp}.seed_checkpoint", r.get("seed_checkpoint"), 0, "seed_checkpoint", 1) or None
        rule = c.attempt(rp, lambda: NaclRule(
            nacl=nacl, number=number, direction=direction, action=r.get("action", ""),
            protocol=r.get("protocol", "tcp"), ports=ports, cidr=cidr,
            description=c.text(f"{rp}.description", r.get("description")), enabled=bool(r.get("enabled", True)),
            seed_checkpoint=checkpoint))
        if rule is None:
            continue
        if rule.number in numbers:
            used = [e["number"] for e in entries if isinstance(e, dict) and type(e.get("number")) is int]
            err = limits.nacl_number_taken(nacl, direction, rule.number, holder=rule.id, used=used)
            c.add(f"{rp}.number", err.message, f"{direction}[{numbers[rule.number]}] already uses it; {err.hint}")
            continue
        numbers[rule.number] = i
        rules.append(rule)
    return rules


def _read_nacls(c: _Collector, raw: dict[Any, Any]) -> list[NetworkAcl]:
    nacls: list[NetworkAcl] = []
    for key, body in c.mapping("nacls", raw.get("nacls"), ("network ACLs in the VPC", limits.NACLS_PER_VPC)).items():
        name, path = _name(key), f"nacls.{_name(key)}"
        if not c.keys(path, body, NACL_KEYS):
            continue
        rules: list[NaclRule] = []
        directions: tuple[Direction, Direction] = ("inbound", "outbound")
        for d in directions:
            direction = str(d)
            if body.get("default") and direction not in body:  # the VPC's default NACL allows everything
                rules.append(NaclRule(nacl=name, number=100, direction=d, action="allow", protocol="all",
                                      ports=PortRange(0, 65535), cidr=ipaddress.IPv4Network("0.0.0.0/0"),
                                      description="AWS default NACL: all traffic"))
                continue
            rules += _read_nacl_rules(c, f"{path}.{direction}", name, d, c.listing(f"{path}.{direction}",
                                                                                  body.get(direction)))
        nacls.append(NetworkAcl(name, tuple(rules), c.text(f"{path}.description", body.get("description"))))
    return nacls


def _overlaps(subnets: list[tuple[str, Subnet]]) -> list[tuple[str, Subnet, Subnet]]:
    """Each subnet that overlaps one before it in address order (sorted sweep: n log n, not n²)."""
    out: list[tuple[str, Subnet, Subnet]] = []
    widest: Subnet | None = None  # of the subnets so far, the one that reaches highest
    for path, s in sorted(subnets, key=lambda ps: (int(ps[1].cidr.network_address), ps[1].cidr.prefixlen)):
        if widest is not None and s.cidr.network_address <= widest.cidr.broadcast_address:
            out.append((path, s, widest))
        if widest is None or s.cidr.broadcast_address > widest.cidr.broadcast_address:
            widest = s
    return out


def _read_subnet(c: _Collector, path: str, sn: str, body: dict[Any, Any], vpc: _Vpc, rt_names: set[str],
                 nacl_names: set[str]) -> Subnet | None:
    cidr = c.attempt(f"{path}.cidr", lambda: limits.cidr(body.get("cidr"), f"subnet {sn} CIDR"))
    az, tier, rt, nacl = (body.get(k) for k in ("az", "tier", "route_table", "nacl"))
    if az not in vpc.azs:
        c.add(f"{path}.az", f"subnet {sn}: unknown availability zone {limits._show(az)}",
              f"use one of {', '.join(vpc.azs)} (the azs: list)")
    checked_tier = c.attempt(f"{path}.tier", lambda: limits.tier(tier, sn))
    if rt not in rt_names:
        c.add(f"{path}.route_table", f"subnet {sn}: unknown route table {limits._show(rt)}",
              f"known: {', '.join(sorted(rt_names))}")
    if nacl not in nacl_names:
        c.add(f"{path}.nacl", f"subnet {sn}: unknown network ACL {limits._show(nacl)}",
              f"known: {', '.join(sorted(nacl_names))}")
    if cidr is None:
        return None
    if vpc.cidr is not None and not cidr.subnet_of(vpc.cidr):
        c.add(f"{path}.cidr", f"subnet {sn} {cidr} lies outside the VPC {vpc.cidr}", "pick a CIDR inside the VPC")
    return Subnet(name=sn, cidr=cidr, az=_name(az), tier=checked_tier or "app", route_table=_name(rt),
                  nacl=_name(nacl))


def _read_subnets(c: _Collector, raw: dict[Any, Any], vpc: _Vpc, rt_names: set[str], nacl_names: set[str]
                  ) -> list[Subnet]:
    section = c.mapping("subnets", raw.get("subnets"))
    if c.attempt("subnets", lambda: limits.subnet_count(len(section))) is None:
        return []
    read: list[tuple[str, Subnet]] = []
    for key, body in section.items():
        sn, path = _name(key), f"subnets.{_name(key)}"
        if not c.keys(path, body, SUBNET_KEYS, SUBNET_KEYS):
            continue
        s = _read_subnet(c, path, sn, body, vpc, rt_names, nacl_names)
        if s is not None:
            read.append((path, s))
    for path, s, other in _overlaps(read):
        c.add(f"{path}.cidr", f"subnet {s.name} {s.cidr} overlaps subnet {other.name} {other.cidr}",
              "subnets of one VPC may not overlap: pick another range")
    return [s for _, s in read]


class _Placer:
    """Puts ENIs (servers, ALB nodes, DB instances) into subnets: address, reserved range, uniqueness, SGs."""

    def __init__(self, c: _Collector, subnets: list[Subnet], sg_names: set[str]) -> None:
        self.c = c
        self.subnets = subnets
        self.by_name = {s.name: s for s in subnets}
        self.sg_names = sg_names
        self.used: dict[IP, str] = {}

    def broken(self, subnet: Any) -> bool:
        """``subnet`` is defined in the file but could not be read (its own problem is reported)."""
        return isinstance(subnet, str) and self.c.has_problem(f"subnets.{_name(subnet)}")

    def place(self, path: str, who: str, ip: Any, subnet: Any) -> IP | None:
        c = self.c
        addr = c.attempt(f"{path}.ip", lambda: limits.address(ip, f"{who} address"))
        sub = self.by_name.get(_name(subnet)) if isinstance(subnet, str) else None
        if sub is None:
            if not self.broken(subnet):  # a subnet the file defines, with a problem of its own reported above
                c.add(f"{path}.subnet", f"{who}: unknown subnet {limits._show(subnet)}",
                      f"known: {', '.join(self.by_name)}")
            return addr
        if addr is None:
            return None
        inside = next((s for s in self.subnets if addr in s.cidr), None)
        hint = (f"{addr} lies in {inside.name} {inside.cidr}: use that subnet or an address in {sub.cidr}"
                if inside else f"pick an address inside {sub.cidr}, or add a subnet that contains {addr}")
        c.attempt(f"{path}.ip", lambda: limits.in_subnet(who, addr, sub.name, sub.cidr, hint=hint))
        if addr in self.used:
            c.add(f"{path}.ip", f"{who} {addr} is already used by {self.used[addr]}", "give each ENI its own address")
        self.used[addr] = who
        return addr

    def sg_list(self, path: str, who: str, values: Any) -> tuple[str, ...]:
        names = tuple(_name(v) for v in self.c.listing(path, values))
        if not names:
            self.c.add(path, f"{who} has no security group", "every ENI has at least one security group")
        self.c.attempt(path, lambda: limits.sgs_per_eni(who, len(names)))
        for n in names:
            if n not in self.sg_names:
                close = difflib.get_close_matches(n, sorted(self.sg_names), n=1)
                self.c.add(path, f"{who}: unknown security group {n!r}",
                           f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(self.sg_names))}")
        return names


def _read_instances(c: _Collector, raw: dict[Any, Any], placer: _Placer) -> list[Instance]:
    instances: list[Instance] = []
    for key, body in c.mapping("instances", raw.get("instances")).items():
        name, path = _name(key), f"instances.{_name(key)}"
        if not c.keys(path, body, INSTANCE_KEYS, {"ip", "subnet", "sgs"}):
            continue
        who = f"instance {name!r}"
        addr = placer.place(path, who, body.get("ip"), body.get("subnet"))
        sgs = placer.sg_list(f"{path}.sgs", who, body.get("sgs"))
        ports = c.listing(f"{path}.listens", body.get("listens", [3000]))
        listens = c.attempt(f"{path}.listens", lambda: tuple(limits.single_port(p, "listening port") for p in ports))
        os_name = c.attempt(f"{path}.os", lambda: limits.os_name(body.get("os", "linux"), who))
        if addr is not None and listens is not None and os_name is not None:
            instances.append(Instance(name=name, ip=addr, subnet=_name(body.get("subnet")), sgs=sgs, listens=listens,
                                      os=os_name,
                                      label=c.text(f"{path}.label", body.get("label"))))
    return instances


def _read_alb_nodes(c: _Collector, lb: dict[Any, Any], placer: _Placer) -> list[AlbNode]:
    nodes: list[AlbNode] = []
    for i, n in enumerate(c.listing("load_balancer.nodes", lb.get("nodes"))):
        p = f"load_balancer.nodes[{i}]"
        if not c.keys(p, n, NODE_KEYS, NODE_KEYS):
            continue
        who = f"ALB node {limits._show(n.get('name'))}"
        addr = placer.place(p, who, n.get("ip"), n.get("subnet"))
        pub = c.attempt(f"{p}.public_ip", lambda: limits.address(n.get("public_ip"), "public address"))
        sub = placer.by_name.get(_name(n.get("subnet")))
        if sub is not None and sub.tier != "public":
            c.add(f"{p}.subnet", f"{who} sits in {sub.name}, which is not a public subnet",
                  "an internet-facing ALB's nodes live in public subnets")
        if addr is not None and pub is not None:
            nodes.append(AlbNode(_name(n.get("name")), _name(n.get("subnet")), addr, pub))
    node_azs = {placer.by_name[n.subnet].az for n in nodes if n.subnet in placer.by_name}
    named = [n.get("subnet") for n in c.listing("load_balancer.nodes", lb.get("nodes")) if isinstance(n, dict)]
    if len(node_azs) < 2 and not any(placer.broken(s) for s in named):
        c.add("load_balancer.nodes", f"the ALB has nodes in {len(node_azs)} AZ(s)",
              "an Application Load Balancer needs subnets in at least two AZs: add a public subnet and node in another AZ")
    return nodes


def _read_listeners(c: _Collector, lb: dict[Any, Any]) -> list[Listener]:
    listeners: list[Listener] = []
    for i, entry in enumerate(c.listing("load_balancer.listeners", lb.get("listeners"), ("listeners on the load balancer", limits.LISTENERS_PER_ALB))):
        p = f"load_balancer.listeners[{i}]"
        if not c.keys(p, entry, LISTENER_KEYS, {"port", "protocol", "action"}):
            continue
        port = c.attempt(f"{p}.port", lambda: limits.single_port(entry.get("port"), "listener port"))
        redirect = entry.get("redirect_port")
        if redirect is not None:
            redirect = c.attempt(f"{p}.redirect_port", lambda: limits.single_port(redirect, "redirect port"))
        action = entry.get("action")
        if action not in ("forward", "redirect"):
            c.add(f"{p}.action", f"listener action {limits._show(action)} is unknown", "use forward or redirect")
            continue
        if port is not None:
            listeners.append(Listener(port, c.text(f"{p}.protocol", entry.get("protocol")), action, redirect,
                                      c.text(f"{p}.certificate", entry.get("certificate"))))
    return listeners


def _read_health_check(c: _Collector, h: Any) -> HealthCheck:
    hp = "load_balancer.target_group.health_check"
    if not c.keys(hp, h, HC_KEYS):
        return HealthCheck()
    defaults = asdict(HealthCheck())
    settings = {k: h.get(k, default) for k, default in defaults.items()}
    problems = limits.health_check_problems(settings)
    for prob in problems:
        c.add(f"{hp}.{prob.path}", prob.message, prob.hint)
    return HealthCheck() if problems else HealthCheck.from_settings(settings)


def _read_target_group(c: _Collector, lb: dict[Any, Any], instance_names: set[str]
                       ) -> tuple[str, int, tuple[str, ...], HealthCheck]:
    tg = lb.get("target_group") or {}
    if not c.keys("load_balancer.target_group", tg, TG_KEYS, {"name", "port", "targets"}):
        return "", 3000, (), HealthCheck()
    port = c.attempt("load_balancer.target_group.port", lambda: limits.single_port(tg.get("port"), "target port"))
    targets = tuple(_name(t) for t in c.listing("load_balancer.target_group.targets", tg.get("targets"),
                                                  ("targets in the target group", limits.TARGETS_PER_GROUP)))
    for t in targets:
        if t not in instance_names:
            c.add("load_balancer.target_group.targets", f"target {t!r} is not an instance",
                  f"known: {', '.join(sorted(instance_names))}")
    hc = _read_health_check(c, tg.get("health_check") or {})
    return c.text("load_balancer.target_group.name", tg.get("name")), port or 3000, targets, hc


def _read_load_balancer(c: _Collector, raw: dict[Any, Any], placer: _Placer, instance_names: set[str]
                        ) -> LoadBalancer | None:
    lb = raw.get("load_balancer") or {}
    if not c.keys("load_balancer", lb, LB_KEYS, LB_REQUIRED):
        return None
    if "elastic_ip" in lb:
        c.add("load_balancer.elastic_ip", "an Application Load Balancer cannot have an Elastic IP",
              "remove elastic_ip: clients reach the ALB through its DNS name (a Network Load Balancer can have one)")
    sgs = placer.sg_list("load_balancer.sgs", "the load balancer", lb.get("sgs"))
    nodes = _read_alb_nodes(c, lb, placer)
    listeners = _read_listeners(c, lb)
    tg_name, tg_port, targets, hc = _read_target_group(c, lb, instance_names)
    tg = lb.get("target_group")
    delay = tg.get("deregistration_delay_s") if isinstance(tg, dict) else None
    return LoadBalancer(
        name=c.text("load_balancer.name", lb.get("name")), dns_name=c.text("load_balancer.dns_name", lb.get("dns_name")),
        sgs=sgs, nodes=tuple(nodes), listeners=tuple(listeners), target_group=tg_name, target_port=tg_port,
        targets=targets, health_check=hc, cross_zone=bool(lb.get("cross_zone", True)),
        idle_timeout_s=c.number("load_balancer.idle_timeout_s", lb.get("idle_timeout_s"), 60,
                                "load balancer idle_timeout_s", 1, 4000),
        connect_timeout_s=c.number("load_balancer.connect_timeout_s", lb.get("connect_timeout_s"), 10,
                                   "load balancer connect_timeout_s", 1, 3600),
        deregistration_delay_s=c.number("load_balancer.target_group.deregistration_delay_s", delay,
                                        DEREGISTRATION_DELAY_S, "target group deregistration_delay_s",
                                        *DEREGISTRATION_DELAY_BOUNDS))


def _read_launch_template(c: _Collector, p: str, t: Any) -> LaunchTemplate | None:
    if not c.keys(p, t, TEMPLATE_KEYS, {"sgs"}):
        return None
    d = LaunchTemplate(sgs=())
    ports = c.listing(f"{p}.listens", t.get("listens", list(d.listens)))
    return LaunchTemplate(name=c.text(f"{p}.name", t.get("name"), d.name),
                          sgs=tuple(_name(g) for g in c.listing(f"{p}.sgs", t.get("sgs"))),
                          listens=tuple(ports), os=t.get("os", d.os),
                          pending_s=t.get("pending_s", d.pending_s), boot_s=t.get("boot_s", d.boot_s))


def _read_auto_scaling_groups(c: _Collector, raw: dict[Any, Any], subnets: list[Subnet], instances: list[Instance],
                              sg_names: set[str], alb: LoadBalancer | None) -> list[AutoScalingGroup]:
    """``auto_scaling_groups: {name: {subnets, min_size, max_size, desired, ...}}``: checked by
    :func:`autoscaling.group_problems`, the same function ``Topology.with_auto_scaling_group`` calls."""
    groups: list[AutoScalingGroup] = []
    taken: dict[str, str] = {}
    for key, body in c.mapping("auto_scaling_groups", raw.get("auto_scaling_groups")).items():
        name, path = _name(key), f"auto_scaling_groups.{_name(key)}"
        if not c.keys(path, body, ASG_KEYS, ASG_REQUIRED):
            continue
        template = _read_launch_template(c, f"{path}.launch_template", body.get("launch_template"))
        if template is None:
            continue
        tg = body.get("target_group")
        g = AutoScalingGroup(
            name=name, subnets=tuple(_name(s) for s in c.listing(f"{path}.subnets", body.get("subnets"))),
            min_size=body.get("min_size"), max_size=body.get("max_size"), desired=body.get("desired"),
            template=template, instances=tuple(_name(i) for i in c.listing(f"{path}.instances", body.get("instances"))),
            health_check_type=body.get("health_check_type", "EC2"),
            # left out: the API's default (0 s), as from the CLI, an SDK or CloudFormation (Terraform's is 300)
            grace_period_s=body.get("grace_period_s", 0), target_group=None if tg is None else _name(tg))
        problems = group_problems(g, subnet_azs={s.name: s.az for s in subnets},
                                  instance_subnets={i.name: i.subnet for i in instances}, sg_names=sg_names,
                                  target_group=alb.target_group if alb is not None else "", taken=taken)
        for prob in problems:
            c.add(f"{path}.{prob.path}", prob.message, prob.hint)
        taken.update({m: name for m in g.instances})
        if not problems:  # checked: the ports are ports now
            groups.append(replace(g, template=replace(template, listens=tuple(
                limits.single_port(p, "listening port") for p in template.listens))))
    return groups


def _read_db_instances(c: _Collector, db: dict[Any, Any], placer: _Placer, group: tuple[str, ...]) -> list[DbInstance]:
    out: list[DbInstance] = []
    for i, d in enumerate(c.listing("database.instances", db.get("instances"))):
        p = f"database.instances[{i}]"
        if not c.keys(p, d, DBI_KEYS, DBI_KEYS):
            continue
        who = f"database instance {limits._show(d.get('name'))}"
        addr = placer.place(p, who, d.get("ip"), d.get("subnet"))
        if _name(d.get("subnet")) not in group:
            c.add(f"{p}.subnet", f"{who} is outside the DB subnet group", f"use one of {', '.join(group)}")
        role = d.get("role")
        if role not in ("primary", "standby"):
            c.add(f"{p}.role", f"role {limits._show(role)} is unknown", "use primary or standby")
            continue
        if addr is not None:
            out.append(DbInstance(_name(d.get("name")), role, addr, _name(d.get("subnet"))))
    return out


def _read_failover(c: _Collector, value: Any) -> tuple[int, int]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        c.add("database.failover_s", f"failover_s {limits._show(value)} is not a [low, high] pair of seconds",
              "write [60, 120]")
        return (60, 120)
    lo, hi = (c.number(f"database.failover_s[{i}]", v, d, "database failover_s", 0, 3600)
              for i, (v, d) in enumerate(zip(value, (60, 120))))
    if lo > hi:
        c.add("database.failover_s", f"failover_s [{lo}, {hi}] runs backwards", f"write [{hi}, {lo}]")
    return (lo, hi)


def _read_database(c: _Collector, raw: dict[Any, Any], placer: _Placer) -> Database | None:
    db = raw.get("database") or {}
    if not c.keys("database", db, DB_KEYS, DB_REQUIRED):
        return None
    sgs = placer.sg_list("database.sgs", "the database", db.get("sgs"))
    port = c.attempt("database.port", lambda: limits.single_port(db.get("port"), "database port")) or 5432
    group = tuple(_name(s) for s in c.listing("database.subnet_group", db.get("subnet_group")))
    for s in group:
        if s not in placer.by_name and not placer.broken(s):
            c.add("database.subnet_group", f"unknown subnet {s!r} in the DB subnet group",
                  f"known: {', '.join(placer.by_name)}")
    if len({placer.by_name[s].az for s in group if s in placer.by_name}) < 2 and not any(map(placer.broken, group)):
        c.add("database.subnet_group", "the DB subnet group spans fewer than two AZs",
              "an RDS subnet group needs subnets in at least two AZs")
    instances = _read_db_instances(c, db, placer, group)
    multi = bool(db.get("multi_az", False))
    roles = [d.role for d in instances]
    if roles.count("primary") != 1:
        c.add("database.instances", f"{roles.count('primary')} primary instances", "exactly one instance has role: primary")
    if multi and "standby" not in roles:
        c.add("database.multi_az", "multi_az is true but there is no standby", "add an instance with role: standby in another AZ")
    if not multi and "standby" in roles:
        c.add("database.multi_az", "a standby exists but multi_az is false", "set multi_az: true or remove the standby")
    return Database(
        name=c.text("database.name", db.get("name")), engine=c.text("database.engine", db.get("engine"), "postgres"),
        version=c.text("database.version", db.get("version"), "15"),
        endpoint=c.text("database.endpoint", db.get("endpoint")), port=port, sgs=sgs, multi_az=multi,
        instances=tuple(instances), subnet_group=group, failover_s=_read_failover(c, db.get("failover_s", [60, 120])),
        endpoint_ttl_s=c.number("database.endpoint_ttl_s", db.get("endpoint_ttl_s"), 5, "database endpoint_ttl_s",
                                0, limits.TTL_MAX))


def _check_record(c: _Collector, p: str, r: dict[Any, Any], zone: str, rname: str, rtype: str, alias: bool,
                  alias_targets: set[str]) -> None:
    if not (rname == zone or rname.endswith("." + zone)):
        c.add(f"{p}.name", f"record {rname!r} does not belong to zone {zone!r}", f"use a name ending in {zone}")
    if rtype == "CNAME" and rname == zone:
        c.add(f"{p}.type", f"a CNAME at the zone apex {zone!r} is invalid",
              "the apex already holds SOA and NS records: use an alias A record (Route 53 alias) instead")
    if rtype not in ("A", "AAAA", "CNAME", "TXT", "MX"):
        c.add(f"{p}.type", f"record type {rtype!r} is not supported here", "use A (alias), AAAA or CNAME")
    target = _name(r.get("target"))
    if rtype == "A" and not alias:
        try:
            ipaddress.IPv4Address(target)
        except ValueError:
            c.add(f"{p}.target", f"a plain A record needs an IPv4 address, got {limits._show(r.get('target'))}",
                  "to point a name at an AWS resource by its DNS name, make it an alias (alias: true)")
    if alias and target not in alias_targets:
        c.add(f"{p}.target", f"alias {rname!r} points at {limits._show(r.get('target'))}, which is no resource in "
              f"this topology", f"an alias must target an existing resource: {', '.join(sorted(alias_targets))}")


def _read_dns(c: _Collector, raw: dict[Any, Any]) -> list[DnsRecord]:
    dns = raw.get("dns") or {}
    if not c.keys("dns", dns, {"zones", "records"}):
        return []
    zones = c.mapping("dns.zones", dns.get("zones"))
    lb, edge = raw.get("load_balancer"), raw.get("edge")
    alias_targets = {_name(x.get("dns_name")) for x in (lb,) if isinstance(x, dict)}
    alias_targets |= {_name(x.get("domain")) for x in (edge,) if isinstance(x, dict)}
    records: list[DnsRecord] = []
    for i, r in enumerate(c.listing("dns.records", dns.get("records"))):
        p = f"dns.records[{i}]"
        if not c.keys(p, r, RECORD_KEYS, {"zone", "name", "type", "target"}):
            continue
        zone = _name(r.get("zone"))
        if zone not in zones:
            c.add(f"{p}.zone", f"unknown zone {zone!r}", f"known: {', '.join(map(_name, zones))}")
            continue
        rname, rtype, alias = _name(r.get("name")).rstrip("."), _name(r.get("type")).upper(), bool(r.get("alias", False))
        _check_record(c, p, r, zone, rname, rtype, alias, alias_targets)
        ttl = c.attempt(f"{p}.ttl_s", lambda: limits.ttl(r.get("ttl_s", 60 if alias else 300),
                                                                          "record ttl_s"))
        zone_body = zones.get(zone)
        private = bool(zone_body.get("private", False)) if isinstance(zone_body, dict) else False
        records.append(DnsRecord(zone=zone, name=rname, type=rtype, target=_name(r.get("target")), alias=alias,
                                 ttl_s=300 if ttl is None else ttl, private=private,
                                 purpose=c.text(f"{p}.purpose", r.get("purpose"))))
    return records


def _read_edge(c: _Collector, raw: dict[Any, Any]) -> Edge | None:
    e = raw.get("edge")
    if not e or not c.keys("edge", e, EDGE_KEYS):
        return None
    access = e.get("origin_access", "OAC")
    c.attempt("edge.origin_access", lambda: limits.origin_access(access))
    ttl = c.attempt("edge.default_ttl_s", lambda: limits.ttl(e.get("default_ttl_s", 3600), "edge default_ttl_s"))
    return Edge(distribution=c.text("edge.distribution", e.get("distribution")), domain=c.text("edge.domain", e.get("domain")),
                bucket=c.text("edge.bucket", e.get("bucket")), origin_access=_name(access),
                default_ttl_s=3600 if ttl is None else ttl, bucket_public=bool(e.get("bucket_public", False)))


def _read_differences(c: _Collector, raw: dict[Any, Any]) -> list[Difference]:
    out: list[Difference] = []
    for i, d in enumerate(c.listing("differences", raw.get("differences"))):
        p = f"differences[{i}]"
        required = {"id", "what", "why", "found_by"}
        if not c.keys(p, d, DIFF_KEYS, required) or not required <= set(d):
            continue
        found_by = d["found_by"]
        if found_by not in ("evaluator", "validation", "note"):
            c.add(f"{p}.found_by", f"found_by {limits._show(found_by)} is unknown", "use evaluator, validation or note")
            continue
        patch = c.listing(f"{p}.patch", d.get("patch"))
        if not all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) for x in patch):
            c.add(f"{p}.patch", "a patch is a list of [path, value] pairs", "write - [nacls.x.inbound[0].ports, 80]")
            continue
        out.append(Difference(id=_name(d["id"]), what=c.text(f"{p}.what", d["what"]),
                              seed_says=c.text(f"{p}.seed_says", d.get("seed_says")),
                              here=c.text(f"{p}.here", d.get("here")), why=c.text(f"{p}.why", d["why"]),
                              found_by=found_by, patch=tuple((x[0], x[1]) for x in patch)))
    return out


# --------------------------------------------------------------------------- the whole file


def load_dict(raw: Any, file: str = "") -> Topology:
    """Build a Topology from parsed YAML, raising ValidationError with every problem at once."""
    try:
        return _load_dict(raw, file)
    except TierlabError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        # a shape the readers did not foresee: still a message, never a traceback
        text = limits.printable(f"{type(exc).__name__}: {exc}", 300)
        raise ValidationError([Problem("", f"cannot read this topology ({text})",
                                       "compare the file with data/topologies/seed.yaml")], file) from None


def _load_dict(raw: Any, file: str = "") -> Topology:
    c = _Collector()
    if not isinstance(raw, dict):
        raise ValidationError([Problem("", "the file is not a mapping of sections", "see data/topologies/seed.yaml")], file)
    c.keys("", raw, TOP_KEYS, REQUIRED_TOP)
    vpc = _read_vpc(c, raw, file)
    route_tables = _read_route_tables(c, raw, vpc)
    prefix_lists = _read_prefix_lists(c, raw)
    security_groups = _read_security_groups(c, raw, prefix_lists)
    nacls = _read_nacls(c, raw)
    subnets = _read_subnets(c, raw, vpc, {r.name for r in route_tables}, {n.name for n in nacls})
    placer = _Placer(c, subnets, {g.name for g in security_groups})
    instances = _read_instances(c, raw, placer)
    instance_names = {i.name for i in instances} | set(map(_name, c.mapping("instances", raw.get("instances"))))
    alb = _read_load_balancer(c, raw, placer, instance_names)
    groups = _read_auto_scaling_groups(c, raw, subnets, instances, {g.name for g in security_groups}, alb)
    if alb is not None:  # attaching a target group to a group registers its instances (AWS does the same)
        joining = tuple(m for g in groups if g.target_group is not None for m in g.instances if m not in alb.targets)
        alb = replace(alb, targets=alb.targets + joining)
    database = _read_database(c, raw, placer)
    records = _read_dns(c, raw)
    edge = _read_edge(c, raw)
    client = raw.get("client") or {}
    client_ip = c.attempt("client.ip", lambda: limits.address(
        client.get("ip", "203.0.113.10") if isinstance(client, dict) else client, "client address"))
    differences = _read_differences(c, raw)
    nats, endpoints = _read_nat_gateways(c, raw), _read_vpc_endpoints(c, raw)
    for prob in gateway_problems(  # the same checks Topology makes on construction
            vpc_cidr=vpc.cidr, subnets={s.name: s for s in subnets}, route_tables={r.name: r.routes for r in route_tables},
            igw=vpc.igw, nats=nats, endpoints=endpoints, prefix_lists=prefix_lists,
            sg_names={g.name for g in security_groups}, taken=placer.used):
        c.add(prob.path, prob.message, prob.hint)
    if c.problems:
        raise ValidationError(c.all_problems(), file)
    assert vpc.cidr is not None and alb is not None and database is not None and client_ip is not None
    return Topology(
        name=vpc.name, description=c.text("description", raw.get("description")),
        region=c.text("region", raw.get("region"), "us-east-1"), vpc_cidr=vpc.cidr, azs=vpc.azs,
        subnets=tuple(subnets), route_tables=tuple(route_tables), internet_gateway=vpc.igw,
        security_groups=tuple(security_groups), nacls=tuple(nacls), instances=tuple(instances), alb=alb,
        database=database, records=tuple(records), edge=edge, client_ip=client_ip, differences=tuple(differences),
        source=file, auto_scaling_groups=tuple(groups),
        nat_gateways=tuple(nats), vpc_endpoints=tuple(endpoints), prefix_lists=tuple(prefix_lists.values()),
        dns_support=vpc.dns_support, dns_hostnames=vpc.dns_hostnames,
    )


def check_health_check(hc: HealthCheck) -> list[Problem]:
    """AWS's bounds for an ALB target-group health check (see :func:`limits.health_check_problems`)."""
    return limits.health_check_problems(asdict(hc))


def check_quotas(topo: Topology) -> list[Problem]:
    """Quota problems of an already-built topology (see :meth:`Topology.check_quotas`)."""
    return topo.quota_problems()

