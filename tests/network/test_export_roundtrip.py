"""Export -> import gives the same evaluation: for generated topologies (what-ifs of the seed and of
the corpus), the Terraform module tierlab writes imports back with identical journey verdicts."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck as HC
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.exporters import terraform_diff, to_aws_cli, write_terraform

CORPUS = Path(__file__).resolve().parents[2] / "data" / "terraform"
SEED = tl.load("seed")


def verdicts(topo):
    out = []
    for os_name in tl.OSES:
        for db in (("primary", "standby") if topo.database.multi_az else ("primary",)):
            tr = tl.journey(topo, os=os_name, database=db)
            out.append((os_name, db, tr.ok, round(tr.success_share, 6),
                        sorted((b.component, b.step, b.code, tuple(r for r in b.rule_ids if "-star" in r or "-in-" in r
                                                                      or "-out-" in r)) for b in tr.blocks),
                        sorted((p.status or 0, p.healthy) for p in tr.pairs)))
    return out


SEED_ASG = tl.load("seed-asg")


def without_labels(topo):
    """What Terraform cannot hold and changes no verdict: the servers' display labels."""
    return tuple(replace(i, label="") for i in topo.instances)


def group_verdicts(topo):
    """What the Auto Scaling timeline says for what-ifs of the group: a failure, a zone outage, a deploy."""
    if not topo.auto_scaling_groups:
        return []
    g = topo.auto_scaling_groups[0]
    zone = topo.subnet(g.subnets[-1]).az
    out = []
    for happenings in ([tl.InstanceFailure(t_s=30, instance=g.instances[0])], [tl.ZoneOutage(t_s=30, az=zone)],
                       [tl.RollingDeploy(t_s=10)]):
        x = tl.auto_scaling_timeline(topo, happenings, duration_s=600)
        rows = x.frame().to_dict("records")
        for row in rows:  # the ALB's nodes are AWS's to name: the k-th node, not its name
            for k, node in enumerate(topo.alb.nodes):
                row["reason"] = row["reason"].replace(node.name, f"ALB node {k + 1}")
        out.append(rows)
    return out


EXTRA_PORTS = [22, 80, 443, 3000, 8080, 9100]


@st.composite
def extra_ports(draw, topo):
    """Fixed servers (not launched by a group) listening on ports of their own besides the target port or
    instead of it (22 for SSH, 9100 for metrics, nothing at all), some opened in web-sg from the VPC."""
    members = {m for g in topo.auto_scaling_groups for m in g.instances}
    fixed = [i for i in topo.instances if i.name not in members]
    if not fixed or not draw(st.booleans()):
        return topo
    changed = []
    for i in topo.instances:
        if i.name in members or not draw(st.booleans()):
            changed.append(i)
            continue
        ports = draw(st.lists(st.sampled_from(EXTRA_PORTS), max_size=3, unique=True))
        changed.append(replace(i, listens=tuple(ports)))
    topo = replace(topo, instances=tuple(changed))
    for port in draw(st.lists(st.sampled_from(EXTRA_PORTS), max_size=2, unique=True)):
        try:
            topo = topo.add_sg_rule("web-sg", "inbound", ports=port, cidr=str(topo.vpc_cidr))
        except tl.RuleError:
            pass  # the same rule is there already
    return topo


def server_verdicts(topo):
    """Who reaches each fixed server on each port it or a what-if might use: the browser, each ALB node
    (by position: AWS names the nodes) and the other servers; a port nothing listens on is refused."""
    members = {m for g in topo.auto_scaling_groups for m in g.instances}
    sources = ["internet"] + [n.name for n in topo.alb.nodes] + [i.name for i in topo.instances]
    out = []
    for dst in (i.name for i in topo.instances if i.name not in members):
        for k, src in enumerate(sources):
            if src == dst:
                continue
            for port in EXTRA_PORTS:
                r = tl.can_reach(topo, src, dst, port)
                codes = sorted(c.code or "" for c in r.flow.checks if not c.passed)
                out.append((dst, f"ALB node {k}" if 1 <= k <= len(topo.alb.nodes) else src, port,
                            r.ok, round(r.share, 6), codes))
    return out


@st.composite
def what_ifs(draw):
    """A what-if of the seed (fixed servers, or an Auto Scaling group of them) that Terraform can express:
    rules switched off, deleted, changed, added; the group's sizes, health check and grace period."""
    topo = draw(st.sampled_from([SEED, SEED_ASG]))
    subnets = [str(s.cidr) for s in topo.subnets] + [str(topo.vpc_cidr), "0.0.0.0/0", "10.0.2.0/23"]
    rules = [r.id for r in topo.rules()]
    for rid in draw(st.lists(st.sampled_from(rules), max_size=3, unique=True)):
        kind = draw(st.sampled_from(["off", "delete", "ports", "cidr", "action"]))
        r = topo.rule(rid)
        try:
            if kind == "off":
                topo = topo.switch_off(rid)
            elif kind == "delete":
                topo = topo.without_rule(rid)
            elif kind == "ports":
                lo = draw(st.sampled_from([22, 443, 1024, 3000, 5432, 32768, 49152]))
                topo = topo.change_rule(rid, ports=f"{lo}-{draw(st.sampled_from([lo, 65535]))}")
            elif kind == "cidr":
                topo = topo.change_rule(rid, cidr=draw(st.sampled_from(subnets)))
            elif kind == "action" and isinstance(r, tl.NaclRule):
                topo = topo.change_rule(rid, action="deny" if r.action == "allow" else "allow")
        except tl.RuleError:
            pass  # a twin of another rule in its group: AWS refuses it, so does the model
    if draw(st.booleans()):
        try:
            topo = topo.add_sg_rule(draw(st.sampled_from(["web-sg", "database-sg", "alb-public-sg"])),
                                    draw(st.sampled_from(["inbound", "outbound"])),
                                    ports=draw(st.sampled_from([22, 443, 3000, 5432, "1024-65535"])),
                                    cidr=draw(st.sampled_from(subnets)))
        except tl.RuleError:
            pass  # AWS refuses a duplicate: so does the model
    topo = draw(extra_ports(topo))
    if topo.auto_scaling_groups and draw(st.booleans()):
        g = topo.auto_scaling_groups[0]
        g = replace(g, min_size=draw(st.integers(0, g.desired)), max_size=draw(st.integers(g.desired, 12)),
                    health_check_type=draw(st.sampled_from(["EC2", "ELB"])),
                    grace_period_s=draw(st.sampled_from([0, 60, 300])))
        topo = topo.with_auto_scaling_group(g)
    return topo


@settings(max_examples=8, deadline=None, suppress_health_check=[HC.too_slow, HC.data_too_large])
@given(topo=what_ifs())
def test_export_then_import_gives_identical_verdicts(topo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    write_terraform(topo, folder)
    back = tl.from_terraform(folder).topology
    assert verdicts(back) == verdicts(topo)
    assert back.auto_scaling_groups == topo.auto_scaling_groups
    assert [(i.name, i.ip, i.subnet, i.sgs, i.listens) for i in back.instances] == \
        [(i.name, i.ip, i.subnet, i.sgs, i.listens) for i in topo.instances]  # tierlab:listens carries the ports
    assert server_verdicts(back) == server_verdicts(topo)

    def content(t):
        return sorted((r.direction, r.protocol, str(r.ports), getattr(r, "peer", ""), str(getattr(r, "cidr", "")),
                       getattr(r, "action", "allow"), getattr(r, "number", 0)) for r in t.rules() if r.enabled)

    assert content(back) == content(topo)  # every rule that exists in AWS, and nothing else


def test_a_corpus_project_survives_export_and_import(tmp_path):
    for name in ("broken-nacl", "public-targets", "port-mismatch"):
        topo = tl.from_terraform(CORPUS / name).topology
        write_terraform(topo, tmp_path / name)
        assert verdicts(tl.from_terraform(tmp_path / name).topology) == verdicts(topo), name


def test_the_diff_of_a_fix_names_only_what_changed():
    fixed = SEED.change_rule("nacl-private-app-in-101", cidr="10.0.11.0/24").without_rule("web-sg-in-22")
    diff = terraform_diff(SEED, fixed)
    assert diff.count("\n-") >= 1 and "web_sg_in_22" in diff
    assert "aws_subnet" not in diff


def test_aws_cli_script_names_every_enabled_rule_and_parses():
    topo = SEED.switch_off("web-sg-in-22")
    text = to_aws_cli(topo)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            shlex.split(line)
    for g in topo.security_groups:
        for r in g.rules:
            assert (f"# {r.id}" in text) is True
    assert "create-network-acl-entry" in text and text.count("create-network-acl-entry") == len(
        [r for n in topo.nacls for r in n.rules if r.enabled]) + len([r for n in topo.nacls for r in n.rules if not r.enabled])


def test_nat_gateways_and_endpoints_survive_export_and_import(tmp_path):
    """seed-vpc (a NAT per zone, an S3 gateway endpoint, four interface endpoints) through main.tf and
    back: the same verdicts, NATs, endpoints (ENI addresses pinned by subnet_configuration), routes to
    the NATs and VPC DNS attributes; only the Elastic IPs are AWS's to choose."""
    topo = tl.load("seed-vpc")
    write_terraform(topo, tmp_path)
    imp = tl.from_terraform(tmp_path)
    back = imp.topology
    assert verdicts(back) == verdicts(topo)
    assert [(n.name, n.subnet, n.private_ip) for n in back.nat_gateways] == \
        [(n.name, n.subnet, n.private_ip) for n in topo.nat_gateways]
    assert back.vpc_endpoints == topo.vpc_endpoints
    routes = {rt.name: sorted(map(str, rt.routes)) for rt in topo.route_tables}
    assert {rt.name: sorted(map(str, rt.routes)) for rt in back.route_tables if rt.name in routes} == routes
    assert (back.dns_support, back.dns_hostnames) == (topo.dns_support, topo.dns_hostnames)
    assert any("prefix list are read from the account" in n.message and n.affects_verdicts for n in imp.notes)


def test_aws_cli_script_creates_nat_gateways_and_endpoints_in_order():
    text = to_aws_cli(tl.load("seed-vpc"))
    order = [text.index(k) for k in ("create-subnet", "create-nat-gateway", "--nat-gateway-id", "create-security-group",
                                     "--vpc-endpoint-type Interface")]
    assert order == sorted(order)  # a NAT needs its subnet, a route its NAT, an interface endpoint its SGs
    assert text.count("create-vpc-endpoint") == 5 and text.count("allocate-address") == 2


@pytest.mark.parametrize("name", ["seed-asg", "seed-vpc"])
def test_an_auto_scaling_group_survives_export_and_import(tmp_path, name):
    """The group is written as aws_launch_template + aws_autoscaling_group (its members are AWS's to launch,
    not aws_instance resources) and comes back as the same AutoScalingGroup, the same servers (the
    tierlab:members tag carries their names and addresses), the same journeys and the same timelines."""
    topo = tl.load(name)
    text = write_terraform(topo, tmp_path).read_text()
    g = topo.auto_scaling_groups[0]
    assert 'resource "aws_autoscaling_group"' in text and 'resource "aws_launch_template"' in text
    assert "aws_instance" not in text and "aws_lb_target_group_attachment" not in text
    for attr in ("min_size", "max_size", "desired_capacity", "vpc_zone_identifier", "health_check_type",
                 "health_check_grace_period", "target_group_arns"):
        assert attr in text, attr
    imp = tl.from_terraform(tmp_path)
    back = imp.topology
    assert back.auto_scaling_groups == topo.auto_scaling_groups
    assert without_labels(back) == without_labels(topo) and back.alb.targets == topo.alb.targets
    assert verdicts(back) == verdicts(topo)
    assert group_verdicts(back) == group_verdicts(topo)
    status = {addr: st for _, addr, st in imp.resources}
    assert status[f"aws_autoscaling_group.{g.safe_id.replace('-', '_')}"] == "parsed"


def test_without_the_members_tag_a_group_gets_named_members_and_the_same_verdicts(tmp_path):
    """A project tierlab did not write (no tierlab:members tag): members <group>-1..N, balanced over the
    zones, at addresses tierlab assigns, noted; the group and the verdicts are the same."""
    topo = SEED_ASG
    text = write_terraform(topo, tmp_path).read_text()
    (tmp_path / "main.tf").write_text(text.replace('"tierlab:', '"other:'))
    imp = tl.from_terraform(tmp_path)
    back = imp.topology
    g, bg = topo.auto_scaling_groups[0], back.auto_scaling_groups[0]
    assert bg.instances == tuple(f"{g.name}-{k}" for k in range(1, g.desired + 1))
    assert replace(bg, instances=g.instances, template=replace(bg.template, listens=g.template.listens)) == g
    assert verdicts(back) == verdicts(topo)
    assert any("tierlab assigns" in n.assumption for n in imp.notes)


def test_aws_cli_script_creates_the_group_not_its_members():
    topo = SEED_ASG
    text = to_aws_cli(topo)
    g = topo.auto_scaling_groups[0]
    assert "run-instances" not in text and "register-targets" not in text  # AWS launches and registers them
    order = [text.index(k) for k in ("create-target-group", "create-launch-template", "create-auto-scaling-group")]
    assert order == sorted(order)
    line = next(l for l in text.splitlines() if "create-auto-scaling-group" in l)
    args = shlex.split(line)
    for flag, want in (("--min-size", g.min_size), ("--max-size", g.max_size), ("--desired-capacity", g.desired),
                       ("--health-check-type", g.health_check_type),
                       ("--health-check-grace-period", g.grace_period_s), ("--target-group-arns", "$TG")):
        assert args[args.index(flag) + 1] == str(want), flag
    assert args[args.index("--vpc-zone-identifier") + 1] == ",".join(f"$SUBNET_{s.upper().replace('-', '_')}"
                                                                     for s in g.subnets)
