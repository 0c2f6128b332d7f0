"""Topology -> a readable Terraform module (AWS provider 5.x syntax).

One ``main.tf``: the VPC, subnets, route tables and associations, network ACLs with one
``aws_network_acl_rule`` per entry, security groups with the newer per-rule resources
(``aws_vpc_security_group_ingress_rule`` / ``_egress_rule``), instances, the ALB with its target
group, attachments and listeners, each Auto Scaling group (an ``aws_launch_template`` and an
``aws_autoscaling_group`` registering with the target group; its members are launched by AWS, not
written as instances), the RDS instance and its subnet group, and the Route 53 alias. Switched-off
rules are left out (a comment says so): in AWS a rule exists or not.

What AWS cannot hold but the model does (the names and addresses of a group's members, the ports its
servers listen on) travels in tags (``tierlab:members`` on the group, ``tierlab:listens`` on the
template and on each fixed server) that the importer reads back; a project without them gets ``<group>-1..N`` at addresses
tierlab assigns, with a note.
What AWS assigns (the ALB's and the database's addresses) cannot be written; importing the
module back gives the same verdicts when rules do not split a subnet between addresses.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from ...errors import TierlabError
from ..limits import printable
from ..rules import NaclRule, SgRule
from ..topology import Topology, require_topology

__all__ = ["to_terraform", "write_terraform", "terraform_diff"]

_PROTO = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "all": "-1"}


def tf_id(name: str) -> str:
    """A Terraform resource name: letters, digits, underscores; never a leading digit."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return s if s[:1].isalpha() or s[:1] == "_" else f"r_{s}"


def _q(text: object) -> str:
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")
    return f'"{s}"'


def _block(kind: str, labels: tuple[str, ...], attrs: list[tuple[str, str]], blocks: tuple[str, ...] | list[str] = (),
           comment: str = "") -> str:
    head = " ".join([kind] + [f'"{l}"' for l in labels]) + " {"
    width = max((len(k) for k, _ in attrs), default=0)
    lines = [f"  {k.ljust(width)} = {v}" for k, v in attrs]
    for b in blocks:
        lines += ([""] if lines else []) + ["  " + l if l else "" for l in b.splitlines()]
    body = "\n".join(lines)
    return (f"# {comment}\n" if comment else "") + f"{head}\n{body}\n}}\n"


def _list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _ports(rule: SgRule | NaclRule) -> list[tuple[str, str]]:
    if rule.protocol in ("all",):
        return []
    if rule.protocol == "icmp":
        return [("from_port", "-1"), ("to_port", "-1")]
    return [("from_port", str(rule.ports.lo)), ("to_port", str(rule.ports.hi))]


def to_terraform(topo: Topology, *, ami: str = "ami-0123456789abcdef0") -> str:
    """The topology as one Terraform file (a string)."""
    topo = require_topology(topo, "to_terraform")
    out: list[str] = [
        f"# {topo.name}: exported by tierlab from the model (what AWS assigns, such as the load balancer's\n"
        f"# and the database's addresses, is left to AWS). Region {topo.region}.\n",
        _block("terraform", (), [], ['required_providers {\n  aws = {\n    source  = "hashicorp/aws"\n'
                                     '    version = ">= 5.30"\n  }\n}']),
        _block("provider", ("aws",), [("region", _q(topo.region))]),
        _block("variable", ("ami",), [("type", "string"), ("default", _q(ami))],
               comment="the servers' image (the model does not depend on it)"),
        _block("resource", ("aws_vpc", "main"), [("cidr_block", _q(topo.vpc_cidr)),
                                                 ("enable_dns_support", "true" if topo.dns_support else "false"),
                                                 ("enable_dns_hostnames", "true" if topo.dns_hostnames or not
                                                  topo.vpc_endpoints else "false"),
                                                 ("tags", f"{{ Name = {_q(topo.name)} }}")]),
    ]
    igw = topo.internet_gateway
    if igw:
        out.append(_block("resource", ("aws_internet_gateway", tf_id(igw)),
                          [("vpc_id", "aws_vpc.main.id"), ("tags", f"{{ Name = {_q(igw)} }}")]))
    for s in topo.subnets:
        out.append(_block("resource", ("aws_subnet", tf_id(s.name)), [
            ("vpc_id", "aws_vpc.main.id"), ("cidr_block", _q(s.cidr)), ("availability_zone", _q(s.az)),
            ("tags", f"{{ Name = {_q(s.name)}, Tier = {_q(s.tier)} }}")]))
    out += _gateways(topo)
    out += _routes(topo)
    out += _nacls(topo)
    out += _security_groups(topo)
    members = {m for g in topo.auto_scaling_groups for m in g.instances}
    for i in topo.instances:
        if i.name in members:
            continue  # launched by its Auto Scaling group
        out.append(_block("resource", ("aws_instance", tf_id(i.name)), [
            ("ami", "var.ami"), ("instance_type", _q("t3.small")), ("subnet_id", f"aws_subnet.{tf_id(i.subnet)}.id"),
            ("private_ip", _q(i.ip)), ("vpc_security_group_ids", _list([_sg_ref(g) for g in i.sgs])),
            ("tags", f"{{ Name = {_q(i.name)}, {_q('tierlab:listens')} = {_q(listens_tag(i.listens))} }}")],
            comment=f"listens on {', '.join(map(str, i.listens)) or 'nothing'} (application configuration, not Terraform: "
                    "the tierlab:listens tag carries it)"))
    out += _load_balancer(topo)
    out += _auto_scaling(topo)
    out += _database(topo)
    out += _dns(topo)
    return "\n".join(out)


def _sg_ref(name: str) -> str:
    return "aws_default_security_group.default.id" if name == "default" else f"aws_security_group.{tf_id(name)}.id"


def _gateways(topo: Topology) -> list[str]:
    """NAT gateways (each with its Elastic IP), prefix lists of your own, VPC endpoints."""
    out = []
    for n in topo.nat_gateways:
        out.append(_block("resource", ("aws_eip", tf_id(f"{n.name}_eip")), [("domain", _q("vpc")),
                          ("tags", f"{{ Name = {_q(str(n.name) + '-eip')} }}")],
                          comment=f"the Elastic IP of {n.name} ({n.elastic_ip} in the model; AWS assigns the real one)"))
        out.append(_block("resource", ("aws_nat_gateway", tf_id(n.name)), [
            ("allocation_id", f"aws_eip.{tf_id(f'{n.name}_eip')}.id"), ("subnet_id", f"aws_subnet.{tf_id(n.subnet)}.id"),
            ("private_ip", _q(n.private_ip)), ("tags", f"{{ Name = {_q(n.name)} }}")],
            comment=f"zonal NAT gateway of {topo.subnet(n.subnet).az} (USD 0.045/hour + 0.045/GB in us-east-1)"))
    managed = {e.prefix_list for e in topo.vpc_endpoints if e.type == "gateway"}
    for e in topo.vpc_endpoints:
        attrs = [("vpc_id", "aws_vpc.main.id"), ("service_name", _q(e.service_name(topo.region))),
                 ("vpc_endpoint_type", _q("Gateway" if e.type == "gateway" else "Interface"))]
        if e.type == "gateway":
            attrs.append(("route_table_ids", _list([f"aws_route_table.{tf_id(r)}.id" for r in e.route_tables])))
            comment = f"adds routes to {e.prefix_list} (AWS's managed list for {e.service}) in each table"
        else:
            attrs += [("subnet_ids", _list([f"aws_subnet.{tf_id(x.subnet)}.id" for x in e.enis])),
                      ("security_group_ids", _list([_sg_ref(g) for g in e.sgs])),
                      ("private_dns_enabled", "true" if e.private_dns else "false")]
            comment = f"ENIs at {', '.join(str(x.ip) for x in e.enis)}, given per subnet (else AWS assigns them)"
        pinned = [f"subnet_configuration {{\n  subnet_id = aws_subnet.{tf_id(x.subnet)}.id\n  ipv4      = {_q(x.ip)}\n}}"
                  for x in e.enis]
        out.append(_block("resource", ("aws_vpc_endpoint", tf_id(e.name)), attrs + [("tags", f"{{ Name = {_q(e.name)} }}")],
                          pinned, comment=comment))
    for pl in topo.prefix_lists:
        if pl.name not in managed and not pl.service:
            out.append(_block("resource", ("aws_ec2_managed_prefix_list", tf_id(pl.name)), [
                ("name", _q(pl.name)), ("address_family", _q("IPv4")), ("max_entries", str(max(1, len(pl.cidrs))))],
                [f"entry {{\n  cidr = {_q(c)}\n}}" for c in pl.cidrs]))
    return out


def _routes(topo: Topology) -> list[str]:
    out = []
    for rt in topo.route_tables:
        rid = tf_id(rt.name)
        out.append(_block("resource", ("aws_route_table", rid), [("vpc_id", "aws_vpc.main.id"),
                                                                  ("tags", f"{{ Name = {_q(rt.name)} }}")],
                          comment=f"route table {rt.name} (the local route {topo.vpc_cidr} is implicit)"))
        for r in rt.routes:
            if r.target == "local":
                continue
            nat = r.target in {n.name for n in topo.nat_gateways}
            out.append(_block("resource", ("aws_route", tf_id(f"{rt.name}_{r.destination}")), [
                ("route_table_id", f"aws_route_table.{rid}.id"), ("destination_cidr_block", _q(r.destination)),
                ("nat_gateway_id", f"aws_nat_gateway.{tf_id(r.target)}.id") if nat else
                ("gateway_id", f"aws_internet_gateway.{tf_id(r.target)}.id")]))
    for s in topo.subnets:
        out.append(_block("resource", ("aws_route_table_association", tf_id(s.name)), [
            ("subnet_id", f"aws_subnet.{tf_id(s.name)}.id"), ("route_table_id", f"aws_route_table.{tf_id(s.route_table)}.id")]))
    return out


def _nacls(topo: Topology) -> list[str]:
    out = []
    for n in topo.nacls:
        members = [f"aws_subnet.{tf_id(s.name)}.id" for s in topo.subnets if s.nacl == n.name]
        out.append(_block("resource", ("aws_network_acl", tf_id(n.name)), [
            ("vpc_id", "aws_vpc.main.id"), ("subnet_ids", _list(members)), ("tags", f"{{ Name = {_q(n.name)} }}")],
            comment=n.description or f"network ACL {n.name} (every list ends in the * DENY)"))
        for r in sorted(n.rules, key=lambda r: (r.direction, r.number)):
            if not r.enabled:
                out.append(f"# {r.id} ({r.describe()}) is switched off in the model: not exported\n")
                continue
            way = "in" if r.direction == "inbound" else "out"
            out.append(_block("resource", ("aws_network_acl_rule", tf_id(f"{n.name}_{way}_{r.number}")), [
                ("network_acl_id", f"aws_network_acl.{tf_id(n.name)}.id"), ("rule_number", str(r.number)),
                ("egress", "true" if r.direction == "outbound" else "false"), ("protocol", _q(_PROTO[r.protocol])),
                ("rule_action", _q(r.action)), ("cidr_block", _q(r.cidr)), *_ports(r)],
                comment=r.description or ""))
    return out


def _security_groups(topo: Topology) -> list[str]:
    out = []
    for g in topo.security_groups:
        if g.name == "default":
            out.append(_block("resource", ("aws_default_security_group", "default"), [("vpc_id", "aws_vpc.main.id")],
                              comment="the VPC's default group: Terraform removes every rule not declared below"))
        else:
            out.append(_block("resource", ("aws_security_group", tf_id(g.name)), [
                ("name", _q(g.name)), ("description", _q(g.description or g.name)), ("vpc_id", "aws_vpc.main.id")],
                comment="no inline rules: each rule is its own resource below (a Terraform-made group has no egress "
                        "unless one is declared)"))
        for r in g.rules:
            if not r.enabled:
                out.append(f"# {r.id} ({r.describe()}) is switched off in the model: not exported\n")
                continue
            kind = "aws_vpc_security_group_ingress_rule" if r.direction == "inbound" else "aws_vpc_security_group_egress_rule"
            peer: list[tuple[str, str]]
            if r.peer_cidr is not None:
                peer = [("cidr_ipv4", _q(r.peer_cidr))]
            elif r.peer_sg is not None:
                peer = [("referenced_security_group_id", _sg_ref(r.peer_sg))]
            else:
                peer = [("prefix_list_id", f"aws_ec2_managed_prefix_list.{tf_id(str(r.peer_prefix_list))}.id")]
            attrs = [("security_group_id", _sg_ref(g.name)), ("ip_protocol", _q(_PROTO[r.protocol])), *_ports(r), *peer]
            if r.description:
                attrs.append(("description", _q(r.description[:255])))
            out.append(_block("resource", (kind, tf_id(r.id)), attrs))
    pls = {r.peer_prefix_list: r.prefix_cidrs for g in topo.security_groups for r in g.rules if r.peer_prefix_list}
    for name, cidrs in pls.items():
        entries = [f"entry {{\n  cidr = {_q(c)}\n}}" for c in cidrs]
        out.append(_block("resource", ("aws_ec2_managed_prefix_list", tf_id(str(name))), [
            ("name", _q(name)), ("address_family", _q("IPv4")), ("max_entries", str(max(1, len(cidrs))))], entries))
    return out


def _load_balancer(topo: Topology) -> list[str]:
    lb = topo.alb
    lid = tf_id(lb.name)
    out = [_block("resource", ("aws_lb", lid), [
        ("name", _q(lb.name[:32])), ("load_balancer_type", _q("application")), ("internal", "false"),
        ("subnets", _list([f"aws_subnet.{tf_id(n.subnet)}.id" for n in lb.nodes])),
        ("security_groups", _list([_sg_ref(g) for g in lb.sgs])), ("idle_timeout", str(lb.idle_timeout_s)),
        ("enable_cross_zone_load_balancing", "true" if lb.cross_zone else "false")],
        comment="AWS places one node in each subnet and assigns its addresses")]
    hc = lb.health_check
    tg = tf_id(lb.target_group)
    out.append(_block("resource", ("aws_lb_target_group", tg), [
        ("name", _q(lb.target_group[:32])), ("port", str(lb.target_port)), ("protocol", _q("HTTP")),
        ("vpc_id", "aws_vpc.main.id"), ("deregistration_delay", str(lb.deregistration_delay_s))], [
        "health_check {\n" + "\n".join(f"  {k} = {v}" for k, v in (
            ("protocol", _q(hc.protocol)), ("path", _q(hc.path)),
            ("port", _q("traffic-port") if hc.port == lb.target_port else _q(hc.port)),
            ("interval", hc.interval_s), ("timeout", hc.timeout_s), ("healthy_threshold", hc.healthy_threshold),
            ("unhealthy_threshold", hc.unhealthy_threshold))) + "\n}"]))
    members = {m for g in topo.auto_scaling_groups if g.target_group for m in g.instances}
    for t in lb.targets:
        if t in members:
            continue  # its group registers it (target_group_arns)
        out.append(_block("resource", ("aws_lb_target_group_attachment", tf_id(f"{lb.target_group}_{t}")), [
            ("target_group_arn", f"aws_lb_target_group.{tg}.arn"), ("target_id", f"aws_instance.{tf_id(t)}.id"),
            ("port", str(lb.target_port))]))
    for l in lb.listeners:
        attrs = [("load_balancer_arn", f"aws_lb.{lid}.arn"), ("port", str(l.port)), ("protocol", _q(l.protocol))]
        if l.protocol == "HTTPS":
            attrs.append(("certificate_arn", "var.certificate_arn"))
        if l.action == "forward":
            act = f'default_action {{\n  type             = "forward"\n  target_group_arn = aws_lb_target_group.{tg}.arn\n}}'
        else:
            act = (f'default_action {{\n  type = "redirect"\n  redirect {{\n    port        = "{l.redirect_port}"\n'
                   f'    protocol    = "HTTPS"\n    status_code = "HTTP_301"\n  }}\n}}')
        out.append(_block("resource", ("aws_lb_listener", tf_id(f"{lb.name}_{l.port}")), attrs, [act]))
    if any(l.protocol == "HTTPS" for l in lb.listeners):
        out.insert(0, _block("variable", ("certificate_arn",), [("type", "string"),
                                                                ("default", _q("arn:aws:acm:REGION:ACCOUNT:certificate/ID"))],
                             comment="the ACM certificate of the HTTPS listener"))
    return out


def listens_tag(ports: tuple[int, ...]) -> str:
    """``3000 22``: the ports a server listens on, in the model's order (``""``: none)."""
    return " ".join(map(str, ports))


def members_tag(topo: Topology, names: tuple[str, ...]) -> str:
    """``node-api-1=10.0.2.45 node-api-2=...``: a group's members as the model names and places them."""
    ips = {i.name: i.ip for i in topo.instances}
    return " ".join(f"{n}={ips[n]}" for n in names)


def _auto_scaling(topo: Topology) -> list[str]:
    """Each group: its launch template and the group (sizes, subnets, health check, target group)."""
    out = []
    for g in topo.auto_scaling_groups:
        t = g.template
        lt = tf_id(f"{g.name}_{t.name}")
        out.append(_block("resource", ("aws_launch_template", lt), [
            ("name", _q(t.name)), ("image_id", "var.ami"), ("instance_type", _q("t3.small")),
            ("vpc_security_group_ids", _list([_sg_ref(x) for x in t.sgs])),
            ("tags", f"{{ {_q('tierlab:listens')} = {_q(listens_tag(t.listens))} }}")],
            comment=f"what {g.name} launches: {t.os}, listening on {', '.join(map(str, t.listens))} (application "
                    f"configuration); tierlab assumes {t.pending_s} s to InService and {t.boot_s} s to boot"))
        attrs = [("name", _q(g.name)), ("min_size", str(g.min_size)), ("max_size", str(g.max_size)),
                 ("desired_capacity", str(g.desired)),
                 ("vpc_zone_identifier", _list([f"aws_subnet.{tf_id(s)}.id" for s in g.subnets])),
                 ("health_check_type", _q(g.health_check_type)),
                 ("health_check_grace_period", str(g.grace_period_s))]
        if g.target_group is not None:
            attrs.append(("target_group_arns", _list([f"aws_lb_target_group.{tf_id(g.target_group)}.arn"])))
        tag = (f"tag {{\n  key                 = {_q('tierlab:members')}\n"
               f"  value               = {_q(members_tag(topo, g.instances))}\n  propagate_at_launch = false\n}}")
        out.append(_block("resource", ("aws_autoscaling_group", tf_id(g.name)), attrs, [
            f"launch_template {{\n  id      = aws_launch_template.{lt}.id\n  version = \"$Latest\"\n}}", tag],
            comment=f"AWS launches the {g.desired} members and balances them over the zones of its subnets "
                    "(grace period written out: Terraform's default is 300 s, the model's 0 s)"))
    return out


def _database(topo: Topology) -> list[str]:
    db = topo.database
    gid = tf_id(f"{db.name}_subnets")
    return [
        _block("resource", ("aws_db_subnet_group", gid), [
            ("name", _q(f"{db.name}-subnets")), ("subnet_ids", _list([f"aws_subnet.{tf_id(s)}.id" for s in db.subnet_group]))]),
        _block("resource", ("aws_db_instance", tf_id(db.name)), [
            ("identifier", _q(db.name)), ("engine", _q(db.engine)), ("engine_version", _q(db.version)),
            ("instance_class", _q("db.t3.medium")), ("allocated_storage", "20"), ("port", str(db.port)),
            ("multi_az", "true" if db.multi_az else "false"), ("db_subnet_group_name", f"aws_db_subnet_group.{gid}.name"),
            *_single_az(topo),
            ("vpc_security_group_ids", _list([_sg_ref(g) for g in db.sgs])), ("username", _q("app")),
            ("manage_master_user_password", "true"), ("skip_final_snapshot", "true")],
            comment="RDS picks the subnets and addresses of its instances"),
    ]


def _single_az(topo: Topology) -> list[tuple[str, str]]:
    prim = topo.database.instance("primary")
    if topo.database.multi_az or prim is None:
        return []
    return [("availability_zone", _q(topo.subnet(prim.subnet).az))]


def _dns(topo: Topology) -> list[str]:
    rec = next((r for r in topo.records if r.name == topo.api_host and r.alias and not r.private), None)
    if rec is None:
        return []
    return [
        _block("resource", ("aws_route53_zone", tf_id(rec.zone)), [("name", _q(rec.zone))]),
        _block("resource", ("aws_route53_record", tf_id(rec.name)), [
            ("zone_id", f"aws_route53_zone.{tf_id(rec.zone)}.zone_id"), ("name", _q(rec.name)), ("type", _q("A"))], [
            f"alias {{\n  name                   = aws_lb.{tf_id(topo.alb.name)}.dns_name\n"
            f"  zone_id                = aws_lb.{tf_id(topo.alb.name)}.zone_id\n  evaluate_target_health = true\n}}"]),
    ]


def _exported_by_tierlab(head: bytes) -> bool:
    return b": exported by tierlab" in head.split(b"\n", 1)[0]


def write_terraform(topo: Topology, folder: str | Path) -> Path:
    """Write ``main.tf`` into ``folder`` (created if needed); returns its path.

    Whole or not at all; a ``main.tf`` tierlab did not write (your own project's) is never replaced, and a
    symbolic link named ``main.tf`` is refused, not followed."""
    from ...paths import user_path, write_whole

    topo = require_topology(topo, "write_terraform")
    text = to_terraform(topo)
    if not str(folder).strip():
        raise TierlabError("write_terraform got an empty folder name", "name the folder, e.g. 'exported-tf'")
    p = user_path(folder)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: thousands of levels to make
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise TierlabError(f"Terraform folder {printable(str(p), 160)} cannot be made: {reason}",
                           "choose a folder you can write to") from None
    return write_whole(p / "main.tf", text, what="Terraform file", replace_if=_exported_by_tierlab)


def terraform_diff(before: Topology, after: Topology) -> str:
    """What changes between two topologies, as a unified diff of their exported main.tf."""
    a = to_terraform(before).splitlines(keepends=True)
    b = to_terraform(after).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, fromfile=f"{before.name}/main.tf", tofile=f"{after.name}/main.tf", n=2))
