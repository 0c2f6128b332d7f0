"""Terraform resources (from HCL or ``terraform show -json``) -> the topology dict the loader reads.

The dict has the shape of ``data/topologies/seed.yaml`` and goes through
:func:`tierlab.load_dict`, so limits and messages are the loader's. Terraform's own semantics
are applied here: a security group created by Terraform has no egress rule unless one is
declared; ``aws_default_security_group`` / ``aws_default_network_acl`` remove every rule they
do not declare; a subnet with no explicit association uses the VPC's main route table and
default network ACL. Anything the model cannot express (NAT gateways, endpoints, Auto Scaling,
an NLB) is a note that says what was assumed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..assumptions import LeftOutRule
from .hclexpr import Unknown, is_unknown
from .report import Notes
from .terraform import Resource

__all__ = ["Builder", "proto", "port_span"]

ENGINE_PORTS = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "mariadb": 3306, "aurora-mysql": 3306,
                "sqlserver-ex": 1433, "sqlserver-se": 1433, "oracle-se2": 1521}
PROTOCOLS = {"-1": "all", "all": "all", "6": "tcp", "tcp": "tcp", "17": "udp", "udp": "udp", "1": "icmp", "icmp": "icmp"}


def proto(v: Any) -> str | None:
    return PROTOCOLS.get(str(v).lower()) if v is not None and not isinstance(v, Unknown) else None


def port_span(protocol: str, lo: Any, hi: Any) -> Any:
    if protocol in ("all", "icmp"):
        return "all"
    try:
        a, b = int(lo), int(hi)
    except (TypeError, ValueError):
        return None
    if (a, b) in ((0, 0), (-1, -1), (0, 65535)):
        return "all"
    return a if a == b else f"{a}-{b}"


def _peers(v: Any) -> list[Any]:
    """The peers of a rule attribute: a value known only after apply is one unknown peer, never none."""
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple, set)) else [v]


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s or "x"


@dataclass
class _Rt:
    name: str
    routes: list[dict[str, Any]] = field(default_factory=list)


class Builder:
    """Reads resources, writes the topology dict and notes; ``origin`` maps dict paths to resources."""

    def __init__(self, resources: list[Resource], notes: Notes, name: str, region: str = "us-east-1") -> None:
        self.res = resources
        self.notes = notes
        self.name = name
        self.region = region
        self.by_id: dict[str, Resource] = {}
        for r in resources:
            self.by_id[r.id] = r
            self.by_id[r.address] = r
            for k in ("arn", "name"):
                v = r.attrs.get(k)
                if isinstance(v, str) and v and k == "arn":
                    self.by_id.setdefault(v, r)
        self.names: dict[str, str] = {}
        self.used_names: set[str | tuple[str, str]] = set()  # fixed names, and (namespace, name) pairs
        self.origin: dict[str, tuple[str, str]] = {}
        self.used_ips: set[ipaddress.IPv4Address] = set()
        self.extras: dict[str, list[Any]] = {"nat_gateways": [], "endpoints": [], "auto_scaling": [],
                                        "public_instances": [], "not_modelled_routes": []}
        self.understood: dict[str, str] = {}
        self.nat_names: dict[str, str] = {}
        self.endpoint_names: dict[str, str] = {}
        self.listens_tagged: set[str] = set()  # servers whose tierlab:listens tag says what they listen on

    # ---------------------------------------------------------------- helpers
    def of(self, *types: str) -> list[Resource]:
        return [r for r in self.res if r.type in types]

    def ref(self, value: Any, *types: str) -> Resource | None:
        if not isinstance(value, str):
            return None
        base = value
        for suffix in (".default_security_group_id", ".default_network_acl_id", ".main_route_table_id",
                       ".default_route_table_id", ".dns_name"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        r = self.by_id.get(base)
        if r is None and "." in base and base.rsplit(".", 1)[0] in self.by_id:  # aws_x.y.some_computed_attr
            r = self.by_id[base.rsplit(".", 1)[0]]
        if r is None and ":" in base:  # an ARN or a name
            r = next((x for x in self.res if x.attrs.get("arn") == base), None)
        if r is None:
            r = next((x for x in self.res if x.attrs.get("name") == base and (not types or x.type in types)), None)
        return r if r is not None and (not types or r.type in types) else None

    def note(self, r: Resource | None, attribute: str, status: str, message: str, assumption: str = "",
             affects: bool = False, rule: LeftOutRule | None = None) -> None:
        self.notes.add(r.file if r else "", r.address if r else "", attribute, status, message,  # type: ignore[arg-type]
                       assumption, affects, rule)

    def name_of(self, r: Resource, fallback: str = "") -> str:
        if r.address in self.names:
            return self.names[r.address]
        fixed = {"aws_default_network_acl": "default-nacl", "aws_default_route_table": "main-route-table"}.get(r.type)
        if fixed and fixed not in self.used_names:
            self.used_names.add(fixed)
            self.names[r.address] = fixed
            return fixed
        raw_tags = r.attrs.get("tags")
        tags: dict[str, Any] = raw_tags if isinstance(raw_tags, dict) else {}
        cand = [tags.get("Name"), r.attrs.get("identifier"), r.attrs.get("name") if r.type != "aws_instance" else None]
        base = next((c for c in cand if isinstance(c, str) and c and not is_unknown(c) and not c.startswith("aws_")
                     and not c.startswith("module.")), None)
        if base is None:
            addr = re.sub(r"^(module\.[^.]+\.)*", lambda m: m.group(0).replace("module.", ""), r.address)
            parts = addr.replace(r.type + ".", "").replace('"', "")
            base = fallback + "-" + parts if fallback and not parts.startswith(fallback) else parts
        name = _slug(base)
        if name == "default" and r.type != "aws_default_security_group":
            name = "default-" + _slug(r.type.replace("aws_", ""))
        space = _SPACE.get(r.type, r.type)
        n, k = name, 2
        while (space, n) in self.used_names or n in self.used_names:
            n, k = f"{name}-{k}", k + 1
        self.used_names.add((space, n))
        self.names[r.address] = n
        return n

    def listify(self, v: Any) -> list[Any]:
        if v is None or isinstance(v, Unknown):
            return []
        return list(v) if isinstance(v, (list, tuple, set)) else [v]

    def listed(self, r: Resource, attr: str, assumed: str) -> list[Any]:
        """A list attribute; when the whole of it is known only after apply (or to the account), a note that
        says what is assumed instead and that verdicts involving it depend on it, never a silent empty list."""
        v = r.attrs.get(attr)
        if isinstance(v, Unknown):
            self.note(r, attr, "partly", f"{attr} is not known offline ({v.reason})",
                      f"{assumed}: every verdict involving it depends on this assumption", True)
            self.mark(r, "partly")
            return []
        return self.listify(v)

    def known(self, r: Resource, attr: str, default: Any = None, *, affects: bool = True, what: str = "") -> Any:
        v = r.attrs.get(attr, default)
        if isinstance(v, Unknown):
            self.note(r, attr, "partly", f"{attr} is not known offline ({v.reason})", what or "left out", affects)
            return None
        return v

    def mark(self, r: Resource, status: str = "parsed") -> None:
        order = {"parsed": 0, "partly": 1, "not understood": 2}
        if order[status] >= order.get(self.understood.get(r.address, "parsed"), 0):
            self.understood[r.address] = status

    def next_ip(self, cidr: ipaddress.IPv4Network, start: int = 10) -> ipaddress.IPv4Address:
        for k in range(start, cidr.num_addresses - 1):
            ip = cidr.network_address + k
            if ip not in self.used_ips:
                self.used_ips.add(ip)
                return ip
        return cidr.network_address + 4

    # ---------------------------------------------------------------- network
    def vpc(self) -> Resource:
        from ...errors import TopologyError

        vpcs = self.of("aws_vpc")
        if not vpcs:
            remote = [n for n in self.notes.items if "registry or remote module" in n.message]
            if remote:
                raise TopologyError(
                    f"no aws_vpc in these files: {remote[0].resource} ({remote[0].file}) comes from a registry module, "
                    "which is not fetched offline",
                    "run `terraform show -json > show.json` after apply (or on a saved plan) and import show.json")
            unreadable = [n for n in self.notes.items if n.resource == "(file)" and n.status == "not understood"
                          and n.message.startswith("not valid")]
            if unreadable:
                first = unreadable[0]
                raise TopologyError(
                    f"no aws_vpc in the files tierlab could read: {first.file} is {first.message}"
                    + (f" (and {len(unreadable) - 1} more file(s) could not be read)" if len(unreadable) > 1 else ""),
                    f"fix the syntax of {first.file} (the VPC may be declared there), then import again")
            raise TopologyError("no aws_vpc in these files: nothing to evaluate",
                                "import the folder that declares the VPC (or `terraform show -json` output)")
        chosen = vpcs[0]
        if len(vpcs) > 1:
            lbs = self.of("aws_lb", "aws_alb")
            for v in vpcs:
                subs = [s for s in self.of("aws_subnet") if self.ref(s.attrs.get("vpc_id"), "aws_vpc") is v]
                if any(self.ref(x, "aws_subnet") in subs for lb in lbs for x in self.listify(lb.attrs.get("subnets"))):
                    chosen = v
                    break
            for v in vpcs:
                if v is not chosen:
                    self.note(v, "", "not understood", "tierlab models one VPC: this one is left out",
                              f"the VPC of the load balancer, {chosen.address}", True)
                    self.mark(v, "not understood")
        self.mark(chosen)
        return chosen

    def cidr_from_subnets(self, vpc: Resource, value: Any) -> str:
        """A VPC whose CIDR is not known offline (an IPAM pool, a data source): the smallest block that holds
        its subnets, noted as the assumption it is; with no subnet CIDR known either, nothing can be evaluated."""
        from ...errors import TopologyError

        nets = []
        for s in self.of("aws_subnet"):
            try:
                if self.in_vpc(s, vpc) and isinstance(s.attrs.get("cidr_block"), str):
                    nets.append(ipaddress.IPv4Network(s.attrs["cidr_block"], strict=True))
            except ValueError:
                continue
        if not nets:
            raise TopologyError(f"{vpc.file}: the CIDR of {vpc.address} is not known offline and none of its subnets' is "
                                "either: nothing can be evaluated", "give cidr_block a literal or a variable with a "
                                "default, or import `terraform show -json` of the state after apply")
        block = nets[0]
        while not all(n.subnet_of(block) for n in nets):
            block = block.supernet()
        why = value.reason if isinstance(value, Unknown) else "no cidr_block (an IPAM pool assigns it)"
        self.note(vpc, "cidr_block", "partly", f"the VPC's CIDR is not known offline ({why})",
                  f"{block}, the smallest block that holds its subnets: a verdict on an address of the VPC outside "
                  "them (the local route, a rule naming the VPC's CIDR) depends on this assumption", True)
        self.mark(vpc, "partly")
        return str(block)

    def in_vpc(self, r: Resource, vpc: Resource) -> bool:
        v = r.attrs.get("vpc_id")
        if isinstance(v, str):
            target = self.ref(v, "aws_vpc")
            return target is vpc or (target is None and v == vpc.id)
        return True  # unknown: keep it, the caller notes it

    def subnets(self, vpc: Resource, vpc_cidr: ipaddress.IPv4Network) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        self.subnet_res: dict[str, Resource] = {}
        for s in self.of("aws_subnet"):
            if not self.in_vpc(s, vpc):
                self.note(s, "vpc_id", "not understood", "in another VPC", "left out")
                self.mark(s, "not understood")
                continue
            cidr = self.known(s, "cidr_block", what="the subnet is left out")
            try:
                ipaddress.IPv4Network(str(cidr), strict=True)
            except ValueError as exc:
                if cidr is not None:
                    self.note(s, "cidr_block", "not understood", f"{cidr!r} is not an IPv4 CIDR ({exc})",
                              "the subnet is left out", True)
                cidr = None
            if cidr is None:
                self.mark(s, "not understood")
                continue
            az = s.attrs.get("availability_zone")
            if not isinstance(az, str) or not az:
                az = s.attrs.get("availability_zone_id")
            if not isinstance(az, str) or not az:
                self.note(s, "availability_zone", "partly", "no availability zone is given (AWS picks one)",
                          "zones assigned in turn, a then b", True)
                az = f"{self.region}{'ab'[len(out) % 2]}"
            name = self.name_of(s)
            out[name] = {"cidr": str(cidr), "az": az, "tier": "app", "route_table": None, "nacl": None}
            self.subnet_res[s.address] = s
            self.origin[f"subnets.{name}"] = (s.file, s.address)
            if s.attrs.get("map_public_ip_on_launch") is True:
                self.extras.setdefault("public_ip_subnets", []).append(name)
            self.mark(s)
        return out

    def subnet_name(self, value: Any) -> str | None:
        r = self.ref(value, "aws_subnet")
        return self.names.get(r.address) if r is not None and r.address in self.subnet_res else None

    def gateways(self, vpc: Resource) -> str | None:
        igws = [g for g in self.of("aws_internet_gateway") if self.in_vpc(g, vpc)]
        for a in self.of("aws_internet_gateway_attachment"):
            g = self.ref(a.attrs.get("internet_gateway_id"), "aws_internet_gateway")
            if g is not None and self.ref(a.attrs.get("vpc_id"), "aws_vpc") is vpc and g not in igws:
                igws.append(g)
            self.mark(a)
        for g in igws:
            self.mark(g)
        for e in self.of("aws_eip"):
            inst = self.ref(e.attrs.get("instance"), "aws_instance")
            if inst is not None:
                self.extras["public_instances"].append(self.name_of(inst))
            self.mark(e)
        for e in self.of("aws_eip_association"):
            inst = self.ref(e.attrs.get("instance_id"), "aws_instance")
            if inst is not None:
                self.extras["public_instances"].append(self.name_of(inst))
            self.mark(e)
        if len(igws) > 1:
            self.note(igws[1], "", "not understood", "a VPC has at most one internet gateway", "the first is used", True)
        return self.name_of(igws[0]) if igws else None

    def nat_gateways(self, subnets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from .gwbuild import nat_gateways

        return nat_gateways(self, subnets)

    def vpc_endpoints(self, subnets: dict[str, dict[str, Any]], prefix_lists: dict[str, Any]) -> dict[str, dict[str, Any]]:
        from .gwbuild import vpc_endpoints

        return vpc_endpoints(self, subnets, prefix_lists)

    def route_tables(self, vpc: Resource, vpc_cidr: ipaddress.IPv4Network, igw: str | None,
                     subnets: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
        tables: dict[str, _Rt] = {}
        main: str | None = None
        rt: Resource | None
        for rt in self.of("aws_route_table", "aws_default_route_table"):
            if rt.type == "aws_route_table" and not self.in_vpc(rt, vpc):
                continue
            name = self.name_of(rt)
            tables[rt.address] = _Rt(name)
            self.origin[f"route_tables.{name}"] = (rt.file, rt.address)
            for i, route in enumerate(self.listed(rt, "route", "none of its inline routes")):
                if isinstance(route, dict):
                    self.route(rt, tables[rt.address], route, igw, f"route[{i}]")
            if rt.type == "aws_default_route_table":
                main = rt.address
            self.mark(rt, self.understood.get(rt.address, "parsed"))
        for r in self.of("aws_route"):
            rt = self.ref(r.attrs.get("route_table_id"), "aws_route_table", "aws_default_route_table", "aws_vpc")
            if rt is not None and rt.type == "aws_vpc":  # aws_vpc.x.main_route_table_id
                rt = None
                main_key = "(main)"
                tables.setdefault(main_key, _Rt(self._main_name()))
                self.route(r, tables[main_key], r.attrs, igw, "")
                self.mark(r, self.understood.get(r.address, "parsed"))
                main = main or main_key
                continue
            if rt is None or rt.address not in tables:
                self.note(r, "route_table_id", "not understood", "its route table is not in these files", "left out", True)
                self.mark(r, "not understood")
                continue
            self.route(r, tables[rt.address], r.attrs, igw, "")
            self.mark(r, self.understood.get(r.address, "parsed"))
        for a in self.of("aws_main_route_table_association"):
            rt = self.ref(a.attrs.get("route_table_id"), "aws_route_table")
            if rt is not None and rt.address in tables:
                main = rt.address
                self.mark(a)
        if main is None:
            main = "(main)"
            tables.setdefault(main, _Rt(self._main_name()))
        self.main_rt = tables[main].name
        assoc: dict[str, str] = {}
        for a in self.of("aws_route_table_association"):
            rt = self.ref(a.attrs.get("route_table_id"), "aws_route_table", "aws_default_route_table")
            sub = self.subnet_name(a.attrs.get("subnet_id"))
            if a.attrs.get("gateway_id") is not None and sub is None:
                self.note(a, "gateway_id", "partly", "an edge association (gateway route table) is not modelled", "ignored")
                self.mark(a, "partly")
                continue
            unknown = [k for k in ("subnet_id", "route_table_id") if isinstance(a.attrs.get(k), Unknown)]
            if unknown and (rt is None or sub is None):
                table = tables[rt.address].name if rt is not None and rt.address in tables else "its route table"
                self.note(a, unknown[0], "partly", f"which {'subnet' if unknown[0] == 'subnet_id' else 'route table'} "
                          "it associates is known only after apply", f"no association: the subnet meant for {table} "
                          "(if any) uses the main route table instead, so every verdict through it depends on this "
                          "assumption", True)
                self.mark(a, "partly")
                continue
            if rt is None or rt.address not in tables or sub is None:
                self.note(a, "", "not understood", "its subnet or route table is not in these files", "ignored", True)
                self.mark(a, "not understood")
                continue
            assoc[sub] = tables[rt.address].name
            self.mark(a)
        for sn, body in subnets.items():
            body["route_table"] = assoc.get(sn, self.main_rt)
            if sn not in assoc:
                self.implicit_main = getattr(self, "implicit_main", []) + [sn]
        out = {}
        for t in tables.values():
            routes = [{"destination": str(vpc_cidr), "target": "local"}]
            seen = {str(vpc_cidr)}
            for rte in t.routes:
                if rte["destination"] not in seen:
                    routes.append(rte)
                    seen.add(rte["destination"])
            out[t.name] = routes
        return out

    def _main_name(self) -> str:
        n = "main-route-table"
        self.used_names.add(n)
        return n

    def route(self, owner: Resource, rt: _Rt, route: dict[str, Any], igw: str | None, attr: str) -> None:
        dest = route.get("cidr_block", route.get("destination_cidr_block"))
        vpce = self.ref(route.get("vpc_endpoint_id") or route.get("gateway_id"), "aws_vpc_endpoint")
        if route.get("destination_prefix_list_id") and vpce is not None and vpce.address in self.endpoint_names:
            return  # the route a gateway endpoint adds: the endpoint's route tables say where it is
        if dest is None or route.get("ipv6_cidr_block") or route.get("destination_ipv6_cidr_block"):
            if route.get("destination_prefix_list_id") or route.get("ipv6_cidr_block") or route.get("destination_ipv6_cidr_block"):
                self.note(owner, attr or "destination", "partly", "IPv6 and prefix-list routes are not modelled", "ignored")
                self.mark(owner, "partly")
            return
        if isinstance(dest, Unknown):
            self.note(owner, attr or "destination_cidr_block", "partly", f"destination not known offline ({dest})",
                      "route left out", True)
            self.mark(owner, "partly")
            return
        gw = route.get("gateway_id")
        g = self.ref(gw, "aws_internet_gateway")
        if g is not None or (isinstance(gw, str) and gw.startswith("igw-")):
            if igw is None:
                self.note(owner, attr or "gateway_id", "not understood", "the route points at an internet gateway not in this VPC",
                          "left out", True)
                return
            rt.routes.append({"destination": str(dest), "target": igw})
            return
        if isinstance(gw, str) and gw == "local":
            return
        nat = self.ref(route.get("nat_gateway_id"), "aws_nat_gateway")
        if nat is not None and nat.address in self.nat_names:
            rt.routes.append({"destination": str(dest), "target": self.nat_names[nat.address]})
            return
        target = next((f"{k} {route[k]}" for k in ("nat_gateway_id", "vpc_endpoint_id", "transit_gateway_id",
                                                    "vpc_peering_connection_id", "network_interface_id",
                                                    "egress_only_gateway_id", "gateway_id", "instance_id")
                       if route.get(k)), "an unknown target")
        self.extras["not_modelled_routes"].append({"route_table": rt.name, "destination": str(dest), "target": target})
        self.note(owner, attr or "destination_cidr_block", "partly",
                  f"route {dest} -> {target}: only local and internet-gateway routes are in the model",
                  "dropped: flows that need it show NO_ROUTE_TO_DESTINATION", True)
        self.mark(owner, "partly")

    # ---------------------------------------------------------------- network ACLs
    def nacl_entry(self, owner: Resource, e: dict[str, Any], attr: str) -> dict[str, Any] | None:
        p = proto(e.get("protocol"))
        number = e.get("rule_no", e.get("rule_number"))
        action = e.get("action", e.get("rule_action"))
        cidr = e.get("cidr_block")
        if e.get("ipv6_cidr_block"):
            self.note(owner, attr, "partly", "an IPv6 NACL rule: the model is IPv4", "ignored (IPv4 verdicts unchanged)")
            self.mark(owner, "partly")
            return None
        if any(isinstance(x, Unknown) for x in (p, number, action, cidr, e.get("from_port"), e.get("to_port"))):
            self.note(owner, attr, "partly", "part of this NACL rule is not known offline", "rule left out", True)
            self.mark(owner, "partly")
            return None
        if p is None:
            self.note(owner, f"{attr}.protocol", "not understood", f"protocol {e.get('protocol')!r} is not tcp, udp, icmp or -1",
                      "rule left out", True)
            self.mark(owner, "partly")
            return None
        ports = port_span(p, e.get("from_port", 0), e.get("to_port", 0))
        return {"number": number, "action": str(action).lower(), "protocol": p, "ports": ports, "cidr": cidr}

    def nacls(self, vpc: Resource, subnets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        assoc: dict[str, str] = {}
        by_addr: dict[str, str] = {}
        default_name = None
        for n in self.of("aws_network_acl", "aws_default_network_acl"):
            if n.type == "aws_network_acl" and not self.in_vpc(n, vpc):
                continue
            name = self.name_of(n)
            by_addr[n.address] = name
            self.origin[f"nacls.{name}"] = (n.file, n.address)
            body: dict[str, list[Any]] = {"inbound": [], "outbound": []}
            for key, direction in (("ingress", "inbound"), ("egress", "outbound")):
                for i, e in enumerate(self.listed(n, key, f"none of its inline {key} rules")):
                    if isinstance(e, dict):
                        entry = self.nacl_entry(n, e, f"{key}[{i}]")
                        if entry is not None:
                            body[direction].append(entry)
            out[name] = body
            for s in self.listed(n, "subnet_ids", "no subnet is associated through it (they keep the default NACL)"):
                sn = self.subnet_name(s)
                if sn:
                    assoc[sn] = name
            if n.type == "aws_default_network_acl":
                default_name = name
                if n.file.endswith(".tf"):
                    self.note(n, "", "parsed", "Terraform removes every rule of the default NACL that it does not declare",
                          "only the declared rules")
            self.mark(n, self.understood.get(n.address, "parsed"))
        for r in self.of("aws_network_acl_rule"):
            acl = self.ref(r.attrs.get("network_acl_id"), "aws_network_acl", "aws_default_network_acl", "aws_vpc")
            if acl is not None and acl.type == "aws_vpc":
                self.note(r, "network_acl_id", "partly", "a rule on the default NACL that Terraform does not manage",
                          "AWS's default NACL keeps its allow-all rules (#100) as well", False)
                name = self._default_nacl(out)
                default_name = name
            elif acl is None or acl.address not in by_addr:
                self.note(r, "network_acl_id", "not understood", "its network ACL is not in these files", "left out", True)
                self.mark(r, "not understood")
                continue
            else:
                name = by_addr[acl.address]
            egress = r.attrs.get("egress", False)
            entry = self.nacl_entry(r, r.attrs, "")
            if entry is not None:
                out[name]["outbound" if egress is True else "inbound"].append(entry)
                self.mark(r)
        for a in self.of("aws_network_acl_association"):
            acl = self.ref(a.attrs.get("network_acl_id"), "aws_network_acl", "aws_default_network_acl")
            sn = self.subnet_name(a.attrs.get("subnet_id"))
            if acl is None or sn is None or acl.address not in by_addr:
                self.note(a, "", "not understood", "its subnet or network ACL is not in these files", "ignored", True)
                self.mark(a, "not understood")
                continue
            assoc[sn] = by_addr[acl.address]
            self.mark(a)
        for sn, sub_body in subnets.items():
            if sn in assoc:
                sub_body["nacl"] = assoc[sn]
            else:
                sub_body["nacl"] = default_name or self._default_nacl(out)
        return out

    def _default_nacl(self, out: dict[str, dict[str, Any]]) -> str:
        name = "default-nacl"
        if name not in out:
            out[name] = {"default": True, "description": "the VPC's default network ACL (AWS: allow all)"}
            self.used_names.add(name)
        elif "default" in out[name]:
            pass
        return name

    # ---------------------------------------------------------------- security groups
    def sg_name(self, value: Any) -> str | None:
        r = self.ref(value, "aws_security_group", "aws_default_security_group", "aws_vpc")
        if r is None:
            return None
        if r.type == "aws_vpc" or r.type == "aws_default_security_group":
            self.default_sg_used = True
            return "default"
        return self.names.get(r.address)

    def sg_rules(self, owner: Resource, e: dict[str, Any], attr: str, own: str, kind: str) -> list[dict[str, Any]]:
        """One Terraform rule (inline block, aws_security_group_rule or the newer per-rule resource) -> rules."""
        p = proto(e.get("ip_protocol", e.get("protocol")))
        way = "inbound" if kind == "ingress" else "outbound"
        if p is None:
            v = e.get("ip_protocol", e.get("protocol"))
            self.note(owner, f"{attr}.protocol", "partly" if isinstance(v, Unknown) else "not understood",
                      f"protocol {v} is not tcp, udp, icmp or -1", "rule left out", True,
                      LeftOutRule(group=own, direction=way, protocol="all", ports="all"))
            self.mark(owner, "partly")
            return []
        lo, hi = e.get("from_port"), e.get("to_port")
        if isinstance(lo, Unknown) or isinstance(hi, Unknown):
            self.note(owner, attr, "partly", "its ports are not known offline", "rule left out", True,
                      LeftOutRule(group=own, direction=way, protocol=p, ports="all"))
            self.mark(owner, "partly")
            return []
        if p in ("tcp", "udp") and lo is None and hi is None:
            self.note(owner, attr, "not understood", "a tcp/udp rule without from_port/to_port", "rule left out", True)
            return []
        ports = port_span(p, lo if lo is not None else 0, hi if hi is not None else lo if lo is not None else 0)
        desc = e.get("description")
        base = {"protocol": p, "ports": ports}
        if isinstance(desc, str) and desc:
            base["description"] = desc
        out: list[dict[str, Any]] = []
        rule = f"{'inbound' if kind == 'ingress' else 'outbound'} {p} {ports}"
        left_out = (f"the {rule} rule is left out for that peer: what only it would allow is reported blocked, "
                    "so every verdict involving it depends on this assumption")
        missing = LeftOutRule(group=own, direction=way, protocol=p, ports=str(ports))
        cidrs = _peers(e.get("cidr_blocks")) + _peers(e.get("cidr_ipv4"))
        for c in cidrs:
            if isinstance(c, Unknown):
                self.note(owner, attr or ("cidr_ipv4" if "cidr_ipv4" in e else "cidr_blocks"), "partly",
                          f"the {rule} rule's CIDR is not known offline ({c.reason})", left_out, True, missing)
                self.mark(owner, "partly")
                continue
            out.append({**base, "cidr": c})
        groups = (_peers(e.get("security_groups")) + _peers(e.get("source_security_group_id"))
                  + _peers(e.get("referenced_security_group_id")))
        if e.get("self") is True:
            groups.append(f"(self:{own})")
        for g in groups:
            name = own if isinstance(g, str) and g.startswith("(self:") else self.sg_name(g)
            if isinstance(g, Unknown):
                self.note(owner, attr or "referenced_security_group_id", "partly",
                          f"the {rule} rule's security group is not known offline ({g.reason})", left_out, True, missing)
                self.mark(owner, "partly")
                continue
            if name is None:
                self.note(owner, attr, "not understood", f"the security group {g} is not in these files",
                          "that peer left out", True, missing)
                self.mark(owner, "partly")
                continue
            out.append({**base, "sg": name})
        for pl in _peers(e.get("prefix_list_ids")) + _peers(e.get("prefix_list_id")):
            plr = None if isinstance(pl, Unknown) else self.ref(pl, "aws_ec2_managed_prefix_list")
            if plr is not None:
                out.append({**base, "prefix_list": self.name_of(plr)})
            else:
                self.note(owner, attr, "partly", f"prefix list {pl} is AWS-managed or not in these files: its CIDRs are not known offline",
                          "that peer left out", True, missing)
                self.mark(owner, "partly")
        if e.get("ipv6_cidr_blocks") or e.get("cidr_ipv6"):
            self.note(owner, attr, "partly", "IPv6 peers are not modelled", "ignored (IPv4 verdicts unchanged)")
        return out

    def security_groups(self, vpc: Resource) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        self.default_sg_used = False
        by_addr: dict[str, str] = {}
        groups = [g for g in self.of("aws_security_group") if self.in_vpc(g, vpc)]
        for g in groups:
            by_addr[g.address] = self.name_of(g)
        defaults = self.of("aws_default_security_group")
        for g in defaults:
            by_addr[g.address] = "default"
            self.names[g.address] = "default"
        for g in groups + defaults:
            name = by_addr[g.address]
            self.origin[f"security_groups.{name}"] = (g.file, g.address)
            body: dict[str, Any] = {"ingress": [], "egress": []}
            desc = g.attrs.get("description")
            if isinstance(desc, str):
                body["description"] = desc
            for key in ("ingress", "egress"):
                for i, e in enumerate(self.listed(g, key, f"none of its inline {key} rules")):
                    if isinstance(e, dict):
                        body[key].extend(self.sg_rules(g, e, f"{key}[{i}]", name, key))
            out[name] = body
            self.mark(g, self.understood.get(g.address, "parsed"))
            if g.type == "aws_default_security_group" and g.file.endswith(".tf"):
                self.note(g, "", "parsed", "Terraform removes every rule of the default security group that it does not declare",
                          "only the declared rules")
        for r in self.of("aws_security_group_rule", "aws_vpc_security_group_ingress_rule",
                         "aws_vpc_security_group_egress_rule"):
            target = self.sg_name(r.attrs.get("security_group_id"))
            if target is None or target not in out and target != "default":
                self.note(r, "security_group_id", "not understood", "its security group is not in these files",
                          "left out", True)
                self.mark(r, "not understood")
                continue
            if target == "default" and "default" not in out:
                out["default"] = self._aws_default_sg()
            kind = r.attrs.get("type") if r.type == "aws_security_group_rule" else (
                "ingress" if r.type.endswith("ingress_rule") else "egress")
            if kind not in ("ingress", "egress"):
                self.note(r, "type", "not understood", f"type {kind!r} is not ingress or egress", "left out", True)
                continue
            rules = self.sg_rules(r, r.attrs, "", target, kind)
            for rule in rules:
                rule["id"] = None  # the loader names it
                rule.pop("id")
            out[target][kind].extend(rules)
            self.mark(r, self.understood.get(r.address, "parsed"))
        return out

    def _aws_default_sg(self) -> dict[str, Any]:
        return {"description": "the VPC's default security group (AWS: all from itself in, all out)",
                "ingress": [{"protocol": "all", "ports": "all", "sg": "default"}],
                "egress": [{"protocol": "all", "ports": "all", "cidr": "0.0.0.0/0"}]}

    def dedupe(self, sgs: dict[str, dict[str, Any]]) -> None:
        """AWS refuses a rule identical to another of the same group: the second fails at apply."""
        for name, body in sgs.items():
            for key in ("ingress", "egress"):
                seen: dict[tuple[Any, ...], int] = {}
                kept = []
                for i, r in enumerate(body.get(key) or []):
                    sig = (r.get("protocol"), str(r.get("ports")), r.get("cidr"), r.get("sg"), r.get("prefix_list"))
                    if sig in seen:
                        file, addr = self.origin.get(f"security_groups.{name}", ("", name))
                        self.notes.add(file, addr, key, "partly",
                                       f"two identical {key} rules ({r.get('protocol')} {r.get('ports')} "
                                       f"{r.get('cidr') or r.get('sg') or r.get('prefix_list')}): AWS refuses the second at apply",
                                       "one rule", False)
                        continue
                    seen[sig] = i
                    kept.append(r)
                body[key] = kept

    # ---------------------------------------------------------------- compute
    def eni_sgs(self, owner: Resource, values: Any, attr: str) -> list[str]:
        vals = values if isinstance(values, (list, tuple)) else self.listify(values)
        if isinstance(values, Unknown):
            self.note(owner, attr, "partly", f"security groups not known offline ({values.reason})",
                      "the VPC's default security group", True)
            vals = []
        names = []
        for v in vals:
            n = self.sg_name(v)
            if n is None:
                self.note(owner, attr, "not understood", f"security group {v} is not in these files", "left out", True)
                continue
            names.append(n)
        if not names:
            if not vals and not isinstance(values, Unknown):
                self.note(owner, attr or "vpc_security_group_ids", "parsed",
                          "no security group given: AWS attaches the VPC's default security group", "default")
            self.default_sg_used = True
            names = ["default"]
        return names

    def place(self, owner: Resource, subnets: dict[str, dict[str, Any]], sn: str, ip: Any) -> str:
        cidr = ipaddress.IPv4Network(subnets[sn]["cidr"])
        if isinstance(ip, str) and ip:
            try:
                addr = ipaddress.IPv4Address(ip)
                self.used_ips.add(addr)
                return str(addr)
            except ValueError:
                pass
        addr = self.next_ip(cidr)
        self.note(owner, "private_ip", "parsed", "AWS assigns the private address at launch",
                  f"{addr} (any address of {sn} gives the same verdicts unless a rule splits {cidr})")
        return str(addr)

    def listens_tag(self, i: Resource) -> list[int] | None:
        """The ports the ``tierlab:listens`` tag (tierlab's own export) says a server listens on; None
        without the tag, or when the tag is not a list of ports (noted, the usual guess is made)."""
        from .asgbuild import LISTENS_TAG, _tag

        raw = _tag(i, LISTENS_TAG)
        if raw is None:
            return None
        words = raw.split()
        if all(w.isdigit() and 0 < int(w) < 65536 for w in words) and len(set(words)) == len(words) <= 64:
            return [int(w) for w in words]
        self.note(i, "tags", "parsed", f"the {LISTENS_TAG} tag {raw[:60]!r} is not a list of distinct ports",
                  "the ports of the target group, or those its security groups admit")
        return None

    def instances(self, subnets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        self.inst_names: dict[str, str] = {}
        for i in self.of("aws_instance"):
            sn = self.subnet_name(i.attrs.get("subnet_id"))
            if sn is None:
                self.note(i, "subnet_id", "not understood", "no subnet of this VPC (a default-VPC instance?)",
                          "left out", True)
                self.mark(i, "not understood")
                continue
            name = self.name_of(i)
            sgs = self.eni_sgs(i, i.attrs.get("vpc_security_group_ids", []), "vpc_security_group_ids")
            out[name] = {"ip": self.place(i, subnets, sn, i.attrs.get("private_ip")), "subnet": sn, "sgs": sgs,
                         "listens": []}
            tagged = self.listens_tag(i)
            if tagged is not None:
                out[name]["listens"] = tagged
                self.listens_tagged.add(name)
            self.origin[f"instances.{name}"] = (i.file, i.address)
            self.inst_names[i.address] = name
            pub = i.attrs.get("associate_public_ip_address")
            if pub is True or (pub is None and sn in self.extras.get("public_ip_subnets", [])):
                self.extras["public_instances"].append(name)
            self.mark(i)
        return out

    def auto_scaling(self, subnets: dict[str, dict[str, Any]], instances: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
        """Each ASG with its members (``desired`` launched ones, or the ones AWS reports): target group -> names."""
        from .asgbuild import PendingGroup, observed_group, terraform_group

        tg_members: dict[str, list[str]] = {}
        self.asg_pending: list[PendingGroup] = []
        for a in self.of("aws_autoscaling_group"):
            g: PendingGroup | None
            if isinstance(a.attrs.get("_observed"), list):  # AWS JSON: the instances it really runs are there
                names = [self.inst_names[i] for i in a.attrs["_observed"] if i in self.inst_names]
                g = observed_group(self, a, names, instances)
                if g is None:
                    self.note(a, "Instances", "partly", "the group runs no instance of describe-instances",
                              "left out: no member to evaluate")
                    self.mark(a, "partly")
                    continue
            else:
                subs, unknown = [], []
                for v in self.listed(a, "vpc_zone_identifier", "none of these subnets"):
                    sn = self.subnet_name(v)
                    if sn:
                        subs.append(sn)
                    elif isinstance(v, str) and v and "${" not in v and not v.startswith("data."):
                        unknown.append(v)  # a subnet id of no subnet here: the loader says so
                    else:
                        self.note(a, "vpc_zone_identifier", "partly", f"a subnet known only after apply ({v!r})",
                                  "left out of the group", True)
                lt = None
                for key in ("launch_template", "mixed_instances_policy"):
                    spec = a.attrs.get(key)
                    if isinstance(spec, list) and spec and isinstance(spec[0], dict):
                        lt = self.ref(spec[0].get("id", spec[0].get("name")), "aws_launch_template")
                if lt is None and isinstance(a.attrs.get("launch_configuration"), str):
                    lt = self.ref(a.attrs.get("launch_configuration"), "aws_launch_configuration")
                sg_values: Any = []
                if lt is not None:
                    sg_values = lt.attrs.get("vpc_security_group_ids", lt.attrs.get("security_groups", []))
                    nis = lt.attrs.get("network_interfaces")
                    if not sg_values and isinstance(nis, list) and nis and isinstance(nis[0], dict):
                        sg_values = nis[0].get("security_groups", [])
                    self.mark(lt)
                if not subs and not unknown:
                    self.note(a, "vpc_zone_identifier", "not understood", "no subnet of this VPC", "left out", True)
                    self.mark(a, "not understood")
                    continue
                sgs = self.eni_sgs(lt or a, sg_values, "vpc_security_group_ids")
                g = terraform_group(self, a, subs, unknown, lt, sgs, subnets, instances)
            for tg in self.listed(a, "target_group_arns", "no target group: its members are no target"):
                t = self.ref(tg, "aws_lb_target_group", "aws_alb_target_group")
                if t is not None:
                    if not isinstance(a.attrs.get("_observed"), list):  # AWS JSON: describe-target-health has them
                        tg_members.setdefault(t.address, []).extend(g.instances)
                    g.target_groups.append(t.address)
            self.asg_pending.append(g)
            self.asg_names = getattr(self, "asg_names", {})
            self.asg_names[a.address] = g.instances
        for att in self.of("aws_autoscaling_attachment"):
            asg = self.ref(att.attrs.get("autoscaling_group_name"), "aws_autoscaling_group")
            t = self.ref(att.attrs.get("lb_target_group_arn", att.attrs.get("alb_target_group_arn")),
                         "aws_lb_target_group", "aws_alb_target_group")
            if asg is not None and t is not None:
                tg_members.setdefault(t.address, []).extend(getattr(self, "asg_names", {}).get(asg.address, []))
                for g in self.asg_pending:
                    if g.res is asg:
                        g.target_groups.append(t.address)
                self.mark(att)
        return tg_members

    # ---------------------------------------------------------------- load balancer
    def _lb_rank(self, lb: Resource) -> tuple[Any, ...]:
        app = lb.attrs.get("load_balancer_type", "application") in ("application", None)
        public = lb.attrs.get("internal") is not True
        has443 = any(self.ref(l.attrs.get("load_balancer_arn"), "aws_lb", "aws_alb") is lb
                     and l.attrs.get("port") == 443 for l in self.of("aws_lb_listener", "aws_alb_listener"))
        return (public, app, has443)

    def choose_lb(self, prefer: str | None) -> tuple[Resource | None, str]:
        lbs = self.of("aws_lb", "aws_alb")
        if not lbs:
            return None, "no load balancer in these files"
        if prefer:
            hit = next((l for l in lbs if prefer in (l.address, self.name_of(l), l.attrs.get("name"))), None)
            if hit is not None:
                return hit, f"{prefer} as asked"
        ranked = sorted(lbs, key=self._lb_rank, reverse=True)
        best = ranked[0]
        why = "the internet-facing application load balancer" if self._lb_rank(best)[:2] == (True, True) else \
            "the only load balancer (not an internet-facing ALB)"
        if len(ranked) > 1:
            others = ", ".join(self.name_of(l) for l in ranked[1:])
            why += f"; also found {others}: pass lb='{self.name_of(ranked[1])}' to follow another"
            for l in ranked[1:]:
                kind = l.attrs.get("load_balancer_type") or "application"
                msg = "tierlab follows one load balancer on the journey"
                if kind != "application":
                    msg += f"; a {kind} load balancer is not in tierlab's model"
                self.note(l, "", "partly", msg, f"not on the journey ({self.name_of(best)} is)", False)
                self.mark(l, "partly")
        return best, why

    def health_check(self, tg: Resource, tg_port: int) -> dict[str, Any]:
        hcs = self.listify(tg.attrs.get("health_check"))
        h = hcs[0] if hcs and isinstance(hcs[0], dict) else {}
        if h.get("enabled") is False:
            self.note(tg, "health_check.enabled", "partly",
                      "health checks cannot be switched off for instance targets", "AWS's default checks", True)
        port = h.get("port", "traffic-port")
        try:
            port = tg_port if port in (None, "traffic-port") else int(port)
        except (TypeError, ValueError):
            port = tg_port
        out = {"protocol": str(h.get("protocol") or "HTTP"), "path": str(h.get("path") or "/"), "port": port}
        for key, attr, default in (("interval_s", "interval", 30), ("timeout_s", "timeout", 5),
                                   ("healthy_threshold", "healthy_threshold", 5),
                                   ("unhealthy_threshold", "unhealthy_threshold", 2)):
            v = h.get(attr)
            out[key] = v if isinstance(v, int) and not isinstance(v, bool) else default
        return out

    def load_balancer(self, subnets: dict[str, dict[str, Any]], instances: dict[str, dict[str, Any]],
                      tg_members: dict[str, list[str]],
                      prefer: str | None) -> tuple[dict[str, Any] | None, list[str]]:
        lb, why = self.choose_lb(prefer)
        self.lb_why = why
        if lb is None:
            return None, []
        name = self.name_of(lb)
        if lb.attrs.get("load_balancer_type") not in (None, "application"):
            self.note(lb, "load_balancer_type", "partly",
                      f"a {lb.attrs.get('load_balancer_type')} load balancer is not in tierlab's model",
                      "evaluated as if it were an ALB (an NLB keeps client addresses and needs no SG unless given one)", True)
            self.mark(lb, "partly")
        if lb.attrs.get("internal") is True:
            self.note(lb, "internal", "partly", "an internal load balancer: the journey from the internet cannot reach it",
                      "evaluated from the internet anyway, as the journey is defined", True)
        named = [self.subnet_name(s) for s in self.listed(lb, "subnets", "no node in these subnets")]
        for m in self.listify(lb.attrs.get("subnet_mapping")):
            if isinstance(m, dict):
                named.append(self.subnet_name(m.get("subnet_id")))
        subs = [s for s in dict.fromkeys(named) if s]
        if not subs:
            self.note(lb, "subnets", "not understood", "none of its subnets is in this VPC", "no nodes", True)
        nodes = []
        raw_nodes = lb.attrs.get("_nodes")  # AWS import: subnet id -> (private ip, public ip) of the real node
        seen_nodes: dict[str, Any] = raw_nodes if isinstance(raw_nodes, dict) else {}
        sub_ids = {self.names.get(r.address): r.id for r in self.subnet_res.values()}
        for k, sn in enumerate(subs):
            real = seen_nodes.get(sub_ids.get(sn, ""))
            ip = real[0] if real and real[0] else str(self.next_ip(ipaddress.IPv4Network(subnets[sn]["cidr"])))
            pub = real[1] if real and real[1] else f"192.0.2.{10 + k}"
            nodes.append({"name": f"{name}-node-{subnets[sn]['az'][-2:].strip('-')}-{k + 1}", "subnet": sn,
                          "ip": ip, "public_ip": pub})
            subnets[sn]["tier"] = "public"
        if nodes and not all(seen_nodes.get(sub_ids.get(n["subnet"], "")) for n in nodes):
            self.note(lb, "", "parsed", "AWS places one node per subnet and assigns its addresses",
                      ", ".join(f"{n['name']} {n['ip']} / public {n['public_ip']}" for n in nodes))
        if lb.attrs.get("load_balancer_type") in (None, "application") or lb.attrs.get("security_groups"):
            sgs = self.eni_sgs(lb, lb.attrs.get("security_groups", []), "security_groups")
        else:  # an NLB without security groups filters nothing itself (its targets' groups do)
            sgs = ["nlb-no-security-group"]
            self.nlb_open = True
            self.note(lb, "security_groups", "partly", "a network load balancer without security groups filters nothing",
                      "an allow-all group nlb-no-security-group stands for 'no group'", False)
        listeners, tg = self.listeners(lb)
        if tg is None:  # nothing forwards the journey's request: still show the servers behind the ALB
            tg = self._some_target_group(lb)
        tg_name, tg_port, targets, hc = "none", 80, [], {}
        if tg is not None:
            tg_name = self.name_of(tg)
            port_attr = tg.attrs.get("port")
            tg_port = port_attr if isinstance(port_attr, int) else 80
            if tg.attrs.get("target_type") not in (None, "instance"):
                self.note(tg, "target_type", "partly", f"target_type {tg.attrs.get('target_type')!r}: targets matched by address",
                          "targets whose address matches an instance", True)
            targets = list(tg_members.get(tg.address, []))
            for att in self.of("aws_lb_target_group_attachment", "aws_alb_target_group_attachment"):
                if self.ref(att.attrs.get("target_group_arn"), "aws_lb_target_group", "aws_alb_target_group") is not tg:
                    continue
                tid = att.attrs.get("target_id")
                inst = self.ref(tid, "aws_instance")
                nm = self.inst_names.get(inst.address) if inst is not None else next(
                    (n for n, b in instances.items() if b["ip"] == tid), None)
                if nm is None:
                    self.note(att, "target_id", "not understood", f"target {tid} is not an instance of these files",
                              "left out", True)
                    continue
                if att.attrs.get("port") not in (None, tg_port):
                    self.note(att, "port", "partly", f"a per-target port {att.attrs.get('port')} differs from the group's {tg_port}",
                              f"the group's port {tg_port}", True)
                targets.append(nm)
                self.mark(att)
            hc = self.health_check(tg, tg_port)
            delay = tg.attrs.get("deregistration_delay")
            if isinstance(delay, str) and delay.isdigit():
                delay = int(delay)  # the provider takes it as a string too
            if isinstance(delay, int) and not isinstance(delay, bool):
                self.tg_delay = delay
            self.mark(tg)
        for t in targets:
            if t in self.listens_tagged:
                continue  # tierlab's own export says what it listens on
            for p in (tg_port, hc.get("port", tg_port)):
                if p not in instances[t]["listens"]:
                    instances[t]["listens"].append(p)
        if any(t not in self.listens_tagged for t in targets):
            self.note(lb, "", "parsed", "what a server listens on is application configuration, not Terraform",
                      f"each target listens on the target group's port {tg_port}" +
                      (f" and the health-check port {hc.get('port')}" if hc.get("port") != tg_port else ""))
        dns = lb.attrs.get("dns_name")
        dns = dns if isinstance(dns, str) and dns.endswith(".amazonaws.com") else f"{name}-1234.{self.region}.elb.amazonaws.com"
        body: dict[str, Any] = {"name": name, "dns_name": dns, "sgs": sgs, "nodes": nodes,
                "listeners": listeners, "target_group": {"name": tg_name, "port": tg_port, "targets": targets}}
        if hc:
            body["target_group"]["health_check"] = hc
        if getattr(self, "tg_delay", None) is not None:
            body["target_group"]["deregistration_delay_s"] = self.tg_delay
        idle = lb.attrs.get("idle_timeout")
        if isinstance(idle, int) and not isinstance(idle, bool):
            body["idle_timeout_s"] = idle
        if lb.attrs.get("enable_cross_zone_load_balancing") is False:
            body["cross_zone"] = False
        self.origin["load_balancer"] = (lb.file, lb.address)
        self.mark(lb, self.understood.get(lb.address, "parsed"))
        return body, targets

    def _some_target_group(self, lb: Resource) -> Resource | None:
        """A target group some rule of ``lb``'s listeners forwards to, else the only one with targets."""
        mine = {l.address for l in self.of("aws_lb_listener", "aws_alb_listener")
                if self.ref(l.attrs.get("load_balancer_arn"), "aws_lb", "aws_alb") is lb}
        for r in self.of("aws_lb_listener_rule", "aws_alb_listener_rule"):
            owner = self.ref(r.attrs.get("listener_arn"), "aws_lb_listener", "aws_alb_listener")
            for act in self.listify(r.attrs.get("action")) if owner is not None and owner.address in mine else []:
                tg = self.ref(act.get("target_group_arn"), "aws_lb_target_group", "aws_alb_target_group") \
                    if isinstance(act, dict) else None
                if tg is not None:
                    self.note(lb, "", "partly", "no listener forwards the journey's request to a target group",
                              f"the servers of {self.name_of(tg)} (forwarded to by {r.address}) stand behind it", False)
                    return tg
        attached = [t for t in self.of("aws_lb_target_group", "aws_alb_target_group")
                    if any(self.ref(a.attrs.get("target_group_arn"), "aws_lb_target_group", "aws_alb_target_group") is t
                           for a in self.of("aws_lb_target_group_attachment", "aws_alb_target_group_attachment"))]
        if len(attached) == 1:
            self.note(lb, "", "partly", "no listener forwards the journey's request to a target group",
                      f"the servers of {self.name_of(attached[0])}, the only group with targets, stand behind it", False)
            return attached[0]
        return None

    def listeners(self, lb: Resource) -> tuple[list[dict[str, Any]], Resource | None]:
        """The load balancer's listeners; each acts as the journey's POST /api/users meets it (its
        first matching listener rule, else its default action); the target group of 443 is followed."""
        from .lbrules import effective_action

        out: list[dict[str, Any]] = []
        chosen: Resource | None = None
        for l in self.of("aws_lb_listener", "aws_alb_listener"):
            if self.ref(l.attrs.get("load_balancer_arn"), "aws_lb", "aws_alb") is not lb:
                continue
            port, protocol = l.attrs.get("port"), l.attrs.get("protocol") or "HTTP"
            if not isinstance(port, int):
                self.note(l, "port", "partly", "the listener's port is not known offline", "left out", True)
                continue
            act, owner, attr = effective_action(self, lb, l)
            kind = act.get("type")
            if kind == "forward":
                tg = self.ref(act.get("target_group_arn"), "aws_lb_target_group", "aws_alb_target_group")
                if tg is None:
                    fw = self.listify(act.get("forward"))
                    groups = self.listify(fw[0].get("target_group")) if fw and isinstance(fw[0], dict) else []
                    tg = self.ref(groups[0].get("arn"), "aws_lb_target_group") if groups and isinstance(groups[0], dict) else None
                    if len(groups) > 1:
                        self.note(owner, f"{attr}.forward", "partly", "weighted forwarding to several target groups",
                                  "the first group only", True)
                if tg is not None and (chosen is None or port == 443):
                    if chosen is not None and tg is not chosen:
                        self.note(l, "", "partly", "tierlab follows one target group",
                                  f"the group of the 443 listener, {self.name_of(tg)}", False)
                    chosen = tg
                out.append({"port": port, "protocol": str(protocol), "action": "forward"})
                if protocol == "HTTPS" and l.attrs.get("certificate_arn") is not None:
                    out[-1]["certificate"] = "ACM certificate"
            elif kind == "redirect":
                red = self.listify(act.get("redirect"))
                rport: Any = red[0].get("port") if red and isinstance(red[0], dict) else "443"
                try:
                    rp = int(rport)
                except (TypeError, ValueError):
                    rp = 443
                out.append({"port": port, "protocol": str(protocol), "action": "redirect", "redirect_port": rp})
            else:
                self.note(owner, f"{attr}.type", "partly", f"a {kind} action is not modelled",
                          "the listener is left out (connections to it are refused)", True)
                self.mark(owner, "partly")
                continue
            self.mark(l)
        return out, chosen

    # ---------------------------------------------------------------- database
    def choose_db(self, sgs: dict[str, dict[str, Any]], target_sgs: set[str], prefer: str | None) -> tuple[Resource | None, str]:
        dbs = self.of("aws_db_instance")
        for c in self.of("aws_rds_cluster", "aws_rds_cluster_instance"):
            self.note(c, "", "not understood", "Aurora clusters are not modelled", "left out", True)
            self.mark(c, "not understood")
        if not dbs:
            return None, "no aws_db_instance in these files"
        if prefer:
            hit = next((d for d in dbs if prefer in (d.address, self.name_of(d), d.attrs.get("identifier"))), None)
            if hit is not None:
                return hit, f"{prefer} as asked"
        primaries = [d for d in dbs if not d.attrs.get("replicate_source_db")]
        for d in dbs:
            if d.attrs.get("replicate_source_db"):
                self.note(d, "replicate_source_db", "partly", "read replicas are not modelled", "left out", False)
                self.mark(d, "partly")

        def pointed(d: Resource) -> int:
            mine = {self.sg_name(v) for v in self.listify(d.attrs.get("vpc_security_group_ids"))} or {"default"}
            score = 0
            for t in target_sgs:
                score += sum(1 for r in sgs.get(t, {}).get("egress", []) if r.get("sg") in mine)
            for m in mine:
                score += sum(1 for r in (sgs.get(m, {}) if m is not None else {}).get("ingress", []) if r.get("sg") in target_sgs)
            return score

        ranked = sorted(primaries or dbs, key=pointed, reverse=True)
        best = ranked[0]
        score = pointed(best)
        why = ("the database the targets' security groups point at" if score else
               "the first database (no security-group rule links it to the targets)")
        if len(ranked) > 1:
            why += f"; also found {', '.join(self.name_of(d) for d in ranked[1:])}: pass database='{self.name_of(ranked[1])}'"
            for d in ranked[1:]:
                self.note(d, "", "partly", "tierlab follows one database on the journey", f"{self.name_of(best)} is", False)
        return best, why

    def database(self, db: Resource, subnets: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        name = self.name_of(db)
        grp = self.ref(db.attrs.get("db_subnet_group_name"), "aws_db_subnet_group")
        named = [self.subnet_name(s) for s in self.listed(grp, "subnet_ids", "none of these subnets")] if grp is not None else []
        group = [s for s in named if s]
        if grp is not None:
            self.mark(grp)
            self.origin["database.subnet_group"] = (grp.file, grp.address)
        if not group:
            self.note(db, "db_subnet_group_name", "not understood", "no DB subnet group in this VPC (AWS would use the default VPC)",
                      "the database is left out", True)
            self.mark(db, "not understood")
            return None
        for s in group:
            subnets[s]["tier"] = "db"
        engine = str(db.attrs.get("engine") or "postgres")
        port = db.attrs.get("port") if isinstance(db.attrs.get("port"), int) else ENGINE_PORTS.get(engine, 5432)
        multi = db.attrs.get("multi_az") is True
        az = db.attrs.get("availability_zone")
        ordered = sorted(group, key=lambda s: (subnets[s]["az"] != az, subnets[s]["az"]))
        prim = ordered[0]
        insts = [{"name": f"{name}-primary", "role": "primary", "subnet": prim,
                  "ip": str(self.next_ip(ipaddress.IPv4Network(subnets[prim]["cidr"]), 42))}]
        if multi:
            other = next((s for s in ordered if subnets[s]["az"] != subnets[prim]["az"]), None)
            if other is not None:
                insts.append({"name": f"{name}-standby", "role": "standby", "subnet": other,
                              "ip": str(self.next_ip(ipaddress.IPv4Network(subnets[other]["cidr"]), 42))})
        self.note(db, "", "parsed", "RDS picks the subnets and addresses of its instances",
                  ", ".join(f"{i['role']} {i['ip']} in {i['subnet']}" for i in insts))
        ver = db.attrs.get("engine_version")
        body = {"name": name, "engine": engine, "version": str(ver) if isinstance(ver, (str, int, float)) else "",
                "endpoint": f"{name}.c123xyz.{self.region}.rds.amazonaws.com", "port": port,
                "sgs": self.eni_sgs(db, db.attrs.get("vpc_security_group_ids", []), "vpc_security_group_ids"),
                "multi_az": multi and len(insts) == 2, "subnet_group": group, "instances": insts}
        self.origin["database"] = (db.file, db.address)
        self.mark(db, self.understood.get(db.address, "parsed"))
        return body

    # ---------------------------------------------------------------- DNS
    def dns(self, lb: dict[str, Any]) -> tuple[dict[str, Any], str]:
        zones: dict[str, dict[str, Any]] = {}
        records = []
        host = ""
        for z in self.of("aws_route53_zone"):
            if isinstance(z.attrs.get("name"), str):
                zones[z.address] = {"name": z.attrs["name"].rstrip("."), "private": bool(self.listify(z.attrs.get("vpc")))}
                self.mark(z)
        for r in self.of("aws_route53_record"):
            zres = self.ref(r.attrs.get("zone_id"), "aws_route53_zone")
            alias = [a for a in self.listify(r.attrs.get("alias")) if isinstance(a, dict)]
            target = alias[0].get("name") if alias else None
            lbr = self.ref(target, "aws_lb", "aws_alb") if isinstance(target, str) else None
            if zres is None or zres.address not in zones or lbr is None or self.names.get(lbr.address) != lb["name"]:
                self.note(r, "", "partly", "only the alias record of the journey's load balancer is read", "ignored")
                self.mark(r, "partly")
                continue
            rname = r.attrs.get("name")
            zone = zones[zres.address]["name"]
            if not isinstance(rname, str):
                continue
            rname = rname.rstrip(".")
            if not rname.endswith(zone):
                rname = f"{rname}.{zone}"
            records.append({"zone": zone, "name": rname, "type": str(r.attrs.get("type", "A")), "alias": True,
                            "target": lb["dns_name"], "ttl_s": 60, "purpose": "API requests to the load balancer"})
            host = host or rname
            self.mark(r)
        if not records:
            self.notes.add("", "(dns)", "", "partly", "no Route 53 alias record points at the load balancer",
                           "clients use api.example.com, an alias of the load balancer's DNS name", False)
            return ({"zones": {"example.com": {"private": False}},
                     "records": [{"zone": "example.com", "name": "api.example.com", "type": "A", "alias": True,
                                  "target": lb["dns_name"], "ttl_s": 60, "purpose": "assumed by the importer"}]},
                    "api.example.com")
        return {"zones": {v["name"]: {"private": v["private"]} for v in zones.values()}, "records": records}, host

    # ---------------------------------------------------------------- the whole
    def build(self, *, lb: str | None = None, database: str | None = None) -> tuple[dict[str, Any], dict[str, Any], str]:
        """The topology dict, the tiers chosen for the journey, and the API host name."""
        from ...errors import TopologyError

        vpc = self.vpc()
        vpc_cidr_v = vpc.attrs.get("cidr_block")
        if isinstance(vpc_cidr_v, Unknown) or vpc_cidr_v is None:
            vpc_cidr_v = self.cidr_from_subnets(vpc, vpc_cidr_v)
        try:
            vpc_cidr = ipaddress.IPv4Network(str(vpc_cidr_v), strict=False)
        except ValueError as exc:
            raise TopologyError(f"{vpc.file}: {vpc.address} cidr_block {str(vpc_cidr_v)!r} is not an IPv4 CIDR ({exc})",
                                "write it as a.b.c.d/n") from None
        subnets = self.subnets(vpc, vpc_cidr)
        azs = sorted({b["az"] for b in subnets.values()})
        if azs:
            self.region = re.sub(r"[a-z]$", "", azs[0]) or self.region
        igw = self.gateways(vpc)
        nats = self.nat_gateways(subnets)
        self.endpoint_names = {e.address: self.name_of(e) for e in self.of("aws_vpc_endpoint")
                               if str(e.attrs.get("vpc_endpoint_type") or "Gateway").lower() == "gateway"}
        sgs = self.security_groups(vpc)
        route_tables = self.route_tables(vpc, vpc_cidr, igw, subnets)
        prefix_lists: dict[str, Any] = {}
        endpoints = self.vpc_endpoints(subnets, prefix_lists)
        nacls = self.nacls(vpc, subnets)
        for pl in self.of("aws_ec2_managed_prefix_list"):
            prefix_lists[self.name_of(pl)] = [e.get("cidr") for e in self.listify(pl.attrs.get("entry"))
                                              if isinstance(e, dict) and isinstance(e.get("cidr"), str)]
            self.mark(pl)
        instances = self.instances(subnets)
        tg_members = self.auto_scaling(subnets, instances)
        lb_body, targets = self.load_balancer(subnets, instances, tg_members, lb)
        for rule in self.of("aws_lb_listener_rule", "aws_alb_listener_rule"):
            if rule.address not in self.understood:
                self.note(rule, "listener_arn", "parsed", "a rule of a listener that is not on the journey",
                          "not evaluated")
                self.mark(rule)
        target_sgs = {g for t in targets for g in instances[t]["sgs"]}
        db_res, db_why = self.choose_db(sgs, target_sgs, database)
        db_body = self.database(db_res, subnets) if db_res is not None else None
        for t in targets:
            subnets[instances[t]["subnet"]]["tier"] = "app" if subnets[instances[t]["subnet"]]["tier"] != "public" else "public"
        public_rts = {n for n, routes in route_tables.items()
                      if any(r["destination"] == "0.0.0.0/0" and r["target"] == igw for r in routes)}
        for sn, body in subnets.items():
            if body["tier"] == "app" and body["route_table"] in public_rts and not any(
                    instances[t]["subnet"] == sn for t in targets):
                body["tier"] = "public"
        for name, body in instances.items():  # servers that are no target: the ports their groups admit
            if not body["listens"] and name not in self.listens_tagged:
                ports = sorted({r["ports"] for g in body["sgs"] for r in sgs.get(g, {}).get("ingress", [])
                                if isinstance(r.get("ports"), int)})
                body["listens"] = ports[:8]
        if getattr(self, "nlb_open", False):
            sgs["nlb-no-security-group"] = {
                "description": "stands for an NLB without security groups (nothing filtered)",
                "ingress": [{"protocol": "all", "ports": "all", "cidr": "0.0.0.0/0"}],
                "egress": [{"protocol": "all", "ports": "all", "cidr": "0.0.0.0/0"}]}
        if getattr(self, "default_sg_used", False) and "default" not in sgs:
            sgs["default"] = self._aws_default_sg()
            self.notes.add("", "(default security group)", "", "parsed",
                           "AWS's default security group is used and not managed by Terraform",
                           "AWS's rules: all traffic from members of the group in, all traffic out")
        self.dedupe(sgs)
        self.check_nat_hint(route_tables, subnets)
        raw: dict[str, Any] = {
            "name": self.name, "description": f"imported from Terraform ({len(self.res)} resources)",
            "region": self.region, "vpc": {"cidr": str(vpc_cidr)}, "azs": azs, "route_tables": route_tables,
            "subnets": subnets, "security_groups": sgs, "nacls": nacls, "instances": instances,
        }
        if igw:
            raw["internet_gateway"] = igw
        self.asg_section(raw, lb_body, subnets, instances)
        if nats:
            raw["nat_gateways"] = nats
        if endpoints:
            raw["vpc_endpoints"] = endpoints
        for key, attr, default in (("dns_support", "enable_dns_support", True),
                                   ("dns_hostnames", "enable_dns_hostnames", False)):
            v = vpc.attrs.get(attr)
            raw["vpc"][key] = v if isinstance(v, bool) else default
        if prefix_lists:
            raw["prefix_lists"] = prefix_lists
        host = ""
        if lb_body is not None:
            raw["load_balancer"] = lb_body
            raw["dns"], host = self.dns(lb_body)
        if db_body is not None:
            raw["database"] = db_body
        tiers = {"load_balancer": lb_body["name"] if lb_body else None, "load_balancer_why": self.lb_why,
                 "target_group": lb_body["target_group"]["name"] if lb_body else None, "targets": targets,
                 "database": db_body["name"] if db_body else None, "database_why": db_why,
                 "summary": (f"internet -> {lb_body['name'] if lb_body else '?'} -> {len(targets)} target(s) -> "
                             f"{db_body['name'] if db_body else '?'}"),
                 "tiers": {sn: b["tier"] for sn, b in subnets.items()}}
        for r in self.res:
            if r.address not in self.understood:
                self.note(r, "", "not understood", f"{r.type} is not read by tierlab", "ignored",
                          r.type in _NETWORK_TYPES)
                self.understood[r.address] = "not understood"
        return raw, tiers, host

    def asg_section(self, raw: dict[str, Any], lb_body: dict[str, Any] | None, subnets: dict[str, dict[str, Any]],
                    instances: dict[str, dict[str, Any]]) -> None:
        from .asgbuild import groups_section

        tg_name_of = {t.address: self.name_of(t) for t in self.of("aws_lb_target_group", "aws_alb_target_group")}
        groups = groups_section(self, getattr(self, "asg_pending", []), subnets, instances,
                                lb_body["target_group"]["name"] if lb_body else None, tg_name_of)
        if groups:
            raw["auto_scaling_groups"] = groups

    def check_nat_hint(self, route_tables: dict[str, list[Any]], subnets: dict[str, dict[str, Any]]) -> None:
        """Subnets using the implicit main route table: say so (a classic surprise)."""
        for sn in getattr(self, "implicit_main", []):
            file, addr = self.origin.get(f"subnets.{sn}", ("", sn))
            self.notes.add(file, addr, "route_table", "parsed",
                           "no explicit route-table association: the subnet uses the VPC's main route table",
                           self.main_rt)


#: Names must be unique within a kind: these kinds share one (the endpoints a journey names).
_SPACE = {"aws_instance": "endpoint", "aws_autoscaling_group": "endpoint", "aws_db_instance": "endpoint",
          "aws_security_group": "sg", "aws_default_security_group": "sg",
          "aws_network_acl": "nacl", "aws_default_network_acl": "nacl", "aws_route_table": "rt",
          "aws_default_route_table": "rt"}

#: Types that decide packets: ignoring one of them could change a verdict.
_NETWORK_TYPES = {"aws_network_interface", "aws_network_interface_sg_attachment", "aws_ec2_transit_gateway",
                  "aws_vpc_peering_connection", "aws_flow_log", "aws_vpn_gateway", "aws_egress_only_internet_gateway",
                  "aws_networkfirewall_firewall", "aws_vpc_ipv4_cidr_block_association",
                  "aws_network_interface_attachment", "aws_route53_resolver_rule"}
