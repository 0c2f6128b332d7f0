"""AWS JSON in: the outputs of the describe calls, saved in one folder, to the topology dict.

Each describe output becomes the resource Terraform would have written (``describe-subnets``
-> ``aws_subnet`` with ``cidr_block``, ``availability_zone`` ...), so one builder serves
Terraform and AWS alike, with the same notes and the same validation. What the account shows
is taken as it is: real addresses, the default group's real rules, the instances an Auto
Scaling group really runs.

Files (the AWS CLI's ``--output json``; a name may carry ``--<suffix>``):

    describe-vpcs.json  describe-subnets.json  describe-route-tables.json
    describe-security-groups.json  describe-network-acls.json  describe-instances.json
    describe-nat-gateways.json  describe-vpc-endpoints.json  describe-network-interfaces.json
    describe-internet-gateways.json (optional)  get-managed-prefix-list-entries--<pl-id>.json
    describe-load-balancers.json  describe-target-groups.json  describe-listeners.json
    describe-target-health--<target-group-name>.json  describe-rules--<listener>.json (listener rules)
    describe-auto-scaling-groups.json
    describe-db-instances.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from ...errors import TopologyError
from ..readfile import read_import_text
from .build import Builder
from .report import Imported, Notes
from .terraform import Resource

__all__ = ["from_aws", "read_aws", "FILES"]

FILES = {
    "describe-vpcs": "Vpcs", "describe-subnets": "Subnets", "describe-route-tables": "RouteTables",
    "describe-security-groups": "SecurityGroups", "describe-network-acls": "NetworkAcls",
    "describe-instances": "Reservations", "describe-nat-gateways": "NatGateways",
    "describe-vpc-endpoints": "VpcEndpoints", "describe-network-interfaces": "NetworkInterfaces",
    "describe-internet-gateways": "InternetGateways", "get-managed-prefix-list-entries": "Entries",
    "describe-load-balancers": "LoadBalancers", "describe-target-groups": "TargetGroups",
    "describe-target-health": "TargetHealthDescriptions", "describe-listeners": "Listeners", "describe-rules": "Rules",
    "describe-auto-scaling-groups": "AutoScalingGroups", "describe-db-instances": "DBInstances",
}


def _tags(obj: dict[str, Any]) -> dict[Any, Any]:
    return {t.get("Key"): t.get("Value") for t in _list(obj.get("Tags")) if isinstance(t, dict)}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


class _Reader:
    def __init__(self, folder: Path, notes: Notes) -> None:
        self.folder = folder
        self.notes = notes
        self.out: list[Resource] = []
        self.docs: dict[str, list[tuple[str, str, Any]]] = {}
        for f in sorted(folder.glob("*.json")):
            base, _, suffix = f.stem.partition("--")
            if base not in FILES:
                self.notes.add(f.name, "(file)", "", "not understood", "not a describe output tierlab reads", "ignored")
                continue
            try:
                doc = json.loads(read_import_text(f, f.name))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self.notes.add(f.name, "(file)", "", "not understood", f"not valid JSON: {exc}",
                               "every resource of this file is missing", True)
                continue
            items = doc.get(FILES[base]) if isinstance(doc, dict) else None
            if not isinstance(items, list):
                self.notes.add(f.name, "(file)", FILES[base], "not understood",
                               f"no list under {FILES[base]!r} (is this the output of `aws ... {base}`?)",
                               "every resource of this file is missing", True)
                continue
            self.docs.setdefault(base, []).append((f.name, suffix, items))

    def items(self, base: str) -> Iterable[tuple[str, str, dict[str, Any]]]:
        for file, suffix, items in self.docs.get(base, []):
            for it in items:
                if isinstance(it, dict):
                    yield file, suffix, it
                else:
                    self.notes.add(file, "(file)", "", "partly", f"an entry is not an object: {str(it)[:60]}", "skipped")

    def add(self, rtype: str, rid: object, attrs: dict[str, Any], file: str) -> None:
        """``rid`` is whatever the describe output holds (maybe missing); it is kept as given in ``attrs``."""
        self.out.append(Resource(rtype, str(rid), {**attrs, "id": rid}, file, id=str(rid)))

    # ------------------------------------------------------------------ network
    def network(self) -> None:
        for file, _, v in self.items("describe-vpcs"):
            self.add("aws_vpc", v.get("VpcId"), {"cidr_block": v.get("CidrBlock"), "tags": _tags(v)}, file)
        for file, _, s in self.items("describe-subnets"):
            self.add("aws_subnet", s.get("SubnetId"), {
                "vpc_id": s.get("VpcId"), "cidr_block": s.get("CidrBlock"), "availability_zone": s.get("AvailabilityZone"),
                "map_public_ip_on_launch": bool(s.get("MapPublicIpOnLaunch")), "tags": _tags(s)}, file)
        igws: dict[str, str] = {}
        for file, _, g in self.items("describe-internet-gateways"):
            vpc = next((a.get("VpcId") for a in _list(g.get("Attachments")) if isinstance(a, dict)), None)
            igws[str(g.get("InternetGatewayId"))] = file
            self.add("aws_internet_gateway", g.get("InternetGatewayId"), {"vpc_id": vpc, "tags": _tags(g)}, file)
        for file, _, rt in self.items("describe-route-tables"):
            rid = rt.get("RouteTableId")
            routes = []
            for r in _list(rt.get("Routes")):
                if not isinstance(r, dict) or r.get("GatewayId") == "local":
                    continue
                gw = r.get("GatewayId")
                if isinstance(gw, str) and gw.startswith("igw-") and gw not in igws:
                    igws[gw] = file
                    self.add("aws_internet_gateway", gw, {"vpc_id": rt.get("VpcId")}, file)
                if isinstance(gw, str) and gw.startswith("vpce-"):
                    r = {**r, "VpcEndpointId": gw, "GatewayId": None}
                routes.append({"cidr_block": r.get("DestinationCidrBlock"), "gateway_id": r.get("GatewayId"),
                               "nat_gateway_id": r.get("NatGatewayId"), "vpc_endpoint_id": r.get("VpcEndpointId"),
                               "transit_gateway_id": r.get("TransitGatewayId"),
                               "vpc_peering_connection_id": r.get("VpcPeeringConnectionId"),
                               "network_interface_id": r.get("NetworkInterfaceId"),
                               "destination_prefix_list_id": r.get("DestinationPrefixListId"),
                               "ipv6_cidr_block": r.get("DestinationIpv6CidrBlock")})
            self.add("aws_route_table", rid, {"vpc_id": rt.get("VpcId"), "route": routes, "tags": _tags(rt)}, file)
            for a in _list(rt.get("Associations")):
                if not isinstance(a, dict):
                    continue
                aid = a.get("RouteTableAssociationId") or f"{rid}-assoc"
                if a.get("Main"):
                    self.add("aws_main_route_table_association", aid, {"vpc_id": rt.get("VpcId"), "route_table_id": rid}, file)
                elif a.get("SubnetId"):
                    self.add("aws_route_table_association", aid, {"subnet_id": a["SubnetId"], "route_table_id": rid}, file)
        for file, _, n in self.items("describe-network-acls"):
            entries: dict[str, list[dict[str, Any]]] = {"ingress": [], "egress": []}
            for e in _list(n.get("Entries")):
                if not isinstance(e, dict) or e.get("RuleNumber") == 32767:  # the * rule: always there
                    continue
                pr = e.get("PortRange") or {}
                entries["egress" if e.get("Egress") else "ingress"].append({
                    "rule_no": e.get("RuleNumber"), "action": e.get("RuleAction"), "protocol": e.get("Protocol"),
                    "from_port": pr.get("From", 0), "to_port": pr.get("To", 0), "cidr_block": e.get("CidrBlock"),
                    "ipv6_cidr_block": e.get("Ipv6CidrBlock")})
            subnets = [a.get("SubnetId") for a in _list(n.get("Associations")) if isinstance(a, dict)]
            kind = "aws_default_network_acl" if n.get("IsDefault") else "aws_network_acl"
            self.add(kind, n.get("NetworkAclId"), {"vpc_id": n.get("VpcId"), "subnet_ids": subnets, "tags": _tags(n),
                                                   **entries}, file)
            if kind == "aws_default_network_acl" and not _tags(n).get("Name"):
                self.out[-1].attrs["tags"] = {"Name": "default-nacl"}
        for file, suffix, e in self.items("get-managed-prefix-list-entries"):
            pl = next((r for r in self.out if r.id == suffix), None)
            if pl is None:
                self.add("aws_ec2_managed_prefix_list", suffix or "pl-unknown", {"name": suffix, "entry": []}, file)
                pl = self.out[-1]
            pl.attrs["entry"].append({"cidr": e.get("Cidr")})
        for file, _, g in self.items("describe-security-groups"):
            rules = {"ingress": _perms(g.get("IpPermissions")), "egress": _perms(g.get("IpPermissionsEgress"))}
            kind = "aws_default_security_group" if g.get("GroupName") == "default" else "aws_security_group"
            self.add(kind, g.get("GroupId"), {"vpc_id": g.get("VpcId"), "name": g.get("GroupName"),
                                              "description": g.get("Description"), "tags": _tags(g), **rules}, file)
        for file, _, n in self.items("describe-nat-gateways"):
            if n.get("State") in ("deleted", "deleting", "failed"):
                continue
            addr = next((a for a in _list(n.get("NatGatewayAddresses")) if isinstance(a, dict)), {})
            self.add("aws_nat_gateway", n.get("NatGatewayId"), {
                "subnet_id": n.get("SubnetId"), "vpc_id": n.get("VpcId"), "tags": _tags(n),
                "connectivity_type": n.get("ConnectivityType", "public"), "allocation_id": addr.get("AllocationId"),
                "public_ip": addr.get("PublicIp"), "private_ip": addr.get("PrivateIp")}, file)
        eni_ips = {str(i.get("NetworkInterfaceId")): (i.get("SubnetId"), i.get("PrivateIpAddress"))
                   for _, _, i in self.items("describe-network-interfaces") if isinstance(i, dict)}
        pl_of = {str(r.get("GatewayId")): r.get("DestinationPrefixListId") for _, _, rt in self.items("describe-route-tables")
                 for r in _list(rt.get("Routes")) if isinstance(r, dict) and r.get("DestinationPrefixListId")}
        for file, _, e in self.items("describe-vpc-endpoints"):
            enis = {eni_ips[x][0]: eni_ips[x][1] for x in _list(e.get("NetworkInterfaceIds")) if x in eni_ips}
            self.add("aws_vpc_endpoint", e.get("VpcEndpointId"), {
                "vpc_id": e.get("VpcId"), "service_name": e.get("ServiceName"), "tags": _tags(e),
                "vpc_endpoint_type": e.get("VpcEndpointType"), "route_table_ids": e.get("RouteTableIds"),
                "subnet_ids": e.get("SubnetIds"), "private_dns_enabled": e.get("PrivateDnsEnabled") is True,
                "security_group_ids": [g.get("GroupId") for g in _list(e.get("Groups")) if isinstance(g, dict)],
                "prefix_list_id": pl_of.get(str(e.get("VpcEndpointId"))), "_enis": enis}, file)

    # ------------------------------------------------------------------ compute
    def compute(self) -> None:
        for file, _, res in self.items("describe-instances"):
            for i in _list(res.get("Instances")):
                if not isinstance(i, dict) or _d(i.get("State")).get("Name") in ("terminated", "shutting-down"):
                    continue
                tags = _tags(i)
                self.add("aws_instance", i.get("InstanceId"), {
                    "subnet_id": i.get("SubnetId"), "private_ip": i.get("PrivateIpAddress"),
                    "vpc_security_group_ids": [g.get("GroupId") for g in _list(i.get("SecurityGroups")) if isinstance(g, dict)],
                    "associate_public_ip_address": bool(i.get("PublicIpAddress")), "tags": tags}, file)
        for file, _, a in self.items("describe-auto-scaling-groups"):
            self.add("aws_autoscaling_group", a.get("AutoScalingGroupARN") or a.get("AutoScalingGroupName"), {
                "name": a.get("AutoScalingGroupName"), "_observed": [x.get("InstanceId") for x in _list(a.get("Instances"))
                                                                     if isinstance(x, dict)],
                "health_check_type": a.get("HealthCheckType"), "target_group_arns": a.get("TargetGroupARNs"),
                "min_size": a.get("MinSize"), "max_size": a.get("MaxSize"), "desired_capacity": a.get("DesiredCapacity"),
                "vpc_zone_identifier": a.get("VPCZoneIdentifier"),
                "health_check_grace_period": a.get("HealthCheckGracePeriod"),
                "_template_name": _d(a.get("LaunchTemplate")).get("LaunchTemplateName") or _d(_d(_d(
                    a.get("MixedInstancesPolicy")).get("LaunchTemplate")).get("LaunchTemplateSpecification")).get(
                    "LaunchTemplateName")}, file)
        nodes: dict[str, dict[str, tuple[str | None, str | None]]] = {}
        for file, _, eni in self.items("describe-network-interfaces"):
            desc = str(eni.get("Description") or "")
            if desc.startswith("ELB "):  # "ELB app/<name>/<id>": one ENI per load-balancer node
                pub = _d(eni.get("Association")).get("PublicIp")
                nodes.setdefault(desc[4:], {})[str(eni.get("SubnetId"))] = (eni.get("PrivateIpAddress"), pub)
        for file, _, lb in self.items("describe-load-balancers"):
            arn = str(lb.get("LoadBalancerArn"))
            key = "/".join(arn.split(":loadbalancer/")[-1].split("/")[:3]) if ":loadbalancer/" in arn else ""
            self.add("aws_lb", arn, {
                "arn": arn, "name": lb.get("LoadBalancerName"), "load_balancer_type": lb.get("Type", "application"),
                "internal": lb.get("Scheme") == "internal", "security_groups": lb.get("SecurityGroups") or [],
                "subnets": [z.get("SubnetId") for z in _list(lb.get("AvailabilityZones")) if isinstance(z, dict)],
                "dns_name": lb.get("DNSName"), "_nodes": nodes.get(key, {})}, file)
        for file, _, tg in self.items("describe-target-groups"):
            tg_arn = tg.get("TargetGroupArn")
            self.add("aws_lb_target_group", tg_arn, {
                "arn": tg_arn, "name": tg.get("TargetGroupName"), "port": tg.get("Port"), "protocol": tg.get("Protocol"),
                "target_type": tg.get("TargetType", "instance"), "health_check": [{
                    "protocol": tg.get("HealthCheckProtocol"), "path": tg.get("HealthCheckPath"),
                    "port": tg.get("HealthCheckPort"), "interval": tg.get("HealthCheckIntervalSeconds"),
                    "timeout": tg.get("HealthCheckTimeoutSeconds"), "healthy_threshold": tg.get("HealthyThresholdCount"),
                    "unhealthy_threshold": tg.get("UnhealthyThresholdCount"), "enabled": tg.get("HealthCheckEnabled", True)}]},
                file)
        for file, suffix, th in self.items("describe-target-health"):
            group = next((r for r in self.out if r.type == "aws_lb_target_group"
                          and suffix in (r.attrs.get("name"), r.id)), None)
            if group is None:
                self.notes.add(file, "(file)", "", "not understood",
                               "which target group? name the file describe-target-health--<target-group-name>.json",
                               "targets not registered", True)
                continue
            t = _d(th.get("Target"))
            self.add("aws_lb_target_group_attachment", f"{group.attrs.get('name')}/{t.get('Id')}", {
                "target_group_arn": group.id, "target_id": t.get("Id"), "port": t.get("Port"),
                "_state": _d(th.get("TargetHealth")).get("State")}, file)
        for file, _, l in self.items("describe-listeners"):
            acts = [_action(a) for a in _list(l.get("DefaultActions")) if isinstance(a, dict)]
            self.add("aws_lb_listener", l.get("ListenerArn"), {
                "load_balancer_arn": l.get("LoadBalancerArn"), "port": l.get("Port"), "protocol": l.get("Protocol"),
                "certificate_arn": (_list(l.get("Certificates")) or [{}])[0].get("CertificateArn"),
                "default_action": acts}, file)
        for file, _, rule in self.items("describe-rules"):  # `aws elbv2 describe-rules --listener-arn ...`
            arn = str(rule.get("RuleArn") or "")
            if rule.get("IsDefault") or ":listener-rule/" not in arn:
                continue  # the default rule is the listener's default action
            listener = arn.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
            prio = rule.get("Priority")
            self.add("aws_lb_listener_rule", arn, {
                "listener_arn": listener, "priority": int(str(prio)) if str(prio).isdigit() else None,
                "action": [_action(a) for a in _list(rule.get("Actions")) if isinstance(a, dict)],
                "condition": [_condition(c) for c in _list(rule.get("Conditions")) if isinstance(c, dict)]}, file)
        for file, _, d in self.items("describe-db-instances"):
            grp = d.get("DBSubnetGroup") or {}
            gname = grp.get("DBSubnetGroupName") or f"{d.get('DBInstanceIdentifier')}-subnets"
            if not any(r.id == gname for r in self.out):
                self.add("aws_db_subnet_group", gname, {"name": gname, "subnet_ids": [
                    s.get("SubnetIdentifier") for s in _list(grp.get("Subnets")) if isinstance(s, dict)]}, file)
            self.add("aws_db_instance", d.get("DBInstanceIdentifier"), {
                "identifier": d.get("DBInstanceIdentifier"), "engine": d.get("Engine"), "engine_version": d.get("EngineVersion"),
                "multi_az": bool(d.get("MultiAZ")), "port": _d(d.get("Endpoint")).get("Port") or d.get("DbInstancePort"),
                "db_subnet_group_name": gname, "availability_zone": d.get("AvailabilityZone"),
                "vpc_security_group_ids": [g.get("VpcSecurityGroupId") for g in _list(d.get("VpcSecurityGroups"))
                                           if isinstance(g, dict)],
                "replicate_source_db": d.get("ReadReplicaSourceDBInstanceIdentifier")}, file)


def _action(a: dict[str, Any]) -> dict[str, Any]:
    """An ELB action as Terraform writes it (``type``, ``target_group_arn``, ``redirect``, ``forward``, ``order``)."""
    rc = _d(a.get("RedirectConfig"))
    fw = _d(a.get("ForwardConfig"))
    return {"type": str(a.get("Type", "")).lower(), "target_group_arn": a.get("TargetGroupArn"), "order": a.get("Order"),
            "redirect": [{"port": rc.get("Port")}] if rc else [],
            "forward": [{"target_group": [{"arn": g.get("TargetGroupArn")} for g in _list(fw.get("TargetGroups"))
                                          if isinstance(g, dict)]}] if fw else []}


_CONFIG = {"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig",
           "http-request-method": "HttpRequestMethodConfig", "source-ip": "SourceIpConfig"}


def _condition(c: dict[str, Any]) -> dict[str, Any]:
    """An ELB rule condition (``Field`` + its config) as Terraform's ``condition`` block."""
    field = str(c.get("Field", ""))
    key = field.replace("-", "_")
    if field in _CONFIG:
        values = _d(c.get(_CONFIG[field])).get("Values") or c.get("Values") or []
        return {key: [{"values": list(values)}]}
    if field == "http-header":
        cfg = _d(c.get("HttpHeaderConfig"))
        return {key: [{"http_header_name": cfg.get("HttpHeaderName"), "values": cfg.get("Values") or []}]}
    if field == "query-string":
        return {key: [{"value": [{"key": v.get("Key"), "value": v.get("Value")} for v in
                                 _list(_d(c.get("QueryStringConfig")).get("Values")) if isinstance(v, dict)]}]}
    return {key or "unknown": [{"values": c.get("Values") or []}]}


def _perms(perms: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in _list(perms):
        if not isinstance(p, dict):
            continue
        out.append({"protocol": p.get("IpProtocol"), "from_port": p.get("FromPort", 0), "to_port": p.get("ToPort", 0),
                    "cidr_blocks": [r.get("CidrIp") for r in _list(p.get("IpRanges")) if isinstance(r, dict)],
                    "security_groups": [g.get("GroupId") for g in _list(p.get("UserIdGroupPairs")) if isinstance(g, dict)],
                    "prefix_list_ids": [g.get("PrefixListId") for g in _list(p.get("PrefixListIds")) if isinstance(g, dict)],
                    "ipv6_cidr_blocks": [r.get("CidrIpv6") for r in _list(p.get("Ipv6Ranges")) if isinstance(r, dict)]})
    return out


def read_aws(folder: Path, notes: Notes) -> list[Resource]:
    r = _Reader(folder, notes)
    r.network()
    r.compute()
    return r.out


def from_aws(folder: str | Path, *, lb: str | None = None, database: str | None = None,
             name: str | None = None) -> Imported:
    """Import a folder of AWS describe-* JSON outputs (see the module docstring for the names)."""
    from . import finish

    p = Path(folder)
    if not p.is_dir():
        raise TopologyError(f"{p}: not a folder", "save each `aws ... describe-*` output as <command>.json in one folder")
    notes = Notes()
    resources = read_aws(p, notes)
    if not resources:
        raise TopologyError(f"{p}: no describe-*.json output tierlab can read", "see tierlab.network.importers.aws_json")
    b = Builder(resources, notes, name or p.resolve().name)
    raw, tiers, host = b.build(lb=lb, database=database)
    seen = [(r.file, r.address, b.understood.get(r.address, "parsed")) for r in resources]
    imp = finish(raw, notes, b.origin, tiers, seen, str(p), host, b)
    from dataclasses import replace

    return replace(imp, tiers={**imp.tiers, "extras": b.extras})


def _d(v: Any) -> dict[str, Any]:
    """``v`` if it is a mapping, else an empty one (a malformed file must not crash a reader)."""
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []
