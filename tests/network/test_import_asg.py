"""Auto Scaling groups in, from Terraform and from describe-auto-scaling-groups: the group is the
model's AutoScalingGroup (sizes, subnets, health check), its members are the ALB's targets, a group
changes no verdict of the same servers as fixed instances, and a bad value is a TierlabError naming
the resource and the attribute."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.errors import TierlabError

ROOT = Path(__file__).resolve().parents[2]
THREE_TIER = ROOT / "data" / "terraform" / "three-tier"
SEED_JSON = ROOT / "data" / "aws" / "seed"
SEED_ASG_JSON = ROOT / "data" / "aws" / "seed-asg"  # seed-asg built through boto3 on moto

#: three-tier's three fixed servers (aws_instance.api + attachments) become a group of three.
ASG_TF = """
resource "aws_launch_template" "api" {
  name                   = "api-server-v1"
  image_id               = "ami-0123456789abcdef0"
  instance_type          = "t3.small"
  vpc_security_group_ids = [aws_security_group.web.id]
}

resource "aws_autoscaling_group" "api" {
  name                = "node-api"
  min_size            = MIN
  max_size            = MAX
  desired_capacity    = DESIRED
  vpc_zone_identifier = SUBNETS
  target_group_arns   = [aws_lb_target_group.web.arn]
  health_check_type   = "ELB"
  launch_template {
    id      = aws_launch_template.api.id
    version = "$Latest"
  }
}
"""


def _project(tmp_path: Path, *, lo: int = 2, hi: int = 6, want: int = 3,
             subnets: str = "module.network.app_subnet_ids") -> Path:
    dst = tmp_path / "asg-project"
    shutil.copytree(THREE_TIER, dst, ignore=shutil.ignore_patterns("expect.yaml"))
    main = (dst / "main.tf").read_text()
    main = re.sub(r'resource "aws_instance" "api" \{.*?\n\}\n', "", main, flags=re.S)
    main = re.sub(r'resource "aws_lb_target_group_attachment" "web" \{.*?\n\}\n', "", main, flags=re.S)
    assert "aws_instance" not in main and "target_group_attachment" not in main
    tf = ASG_TF.replace("MIN", str(lo)).replace("MAX", str(hi)).replace("DESIRED", str(want))
    (dst / "main.tf").write_text(main + tf.replace("SUBNETS", subnets))
    return dst


def _verdicts(topo: tl.Topology) -> list[tuple[object, ...]]:
    out = []
    for os_name in tl.OSES:
        for db in ("primary", "standby"):
            tr = tl.journey(topo, os=os_name, database=db)
            out.append((os_name, db, tr.ok, round(tr.success_share, 6),
                        sorted((b.component, b.step, b.code) for b in tr.blocks),
                        sorted((p.status, p.healthy) for p in tr.pairs)))
    return out


def test_a_terraform_group_is_the_models_group_and_its_members_the_albs_targets(tmp_path):
    imp = tl.from_terraform(_project(tmp_path))
    topo = imp.topology
    g = topo.auto_scaling_group("node-api")
    assert (g.min_size, g.max_size, g.desired) == (2, 6, 3)
    assert g.health_check_type == "ELB" and g.grace_period_s == 300  # Terraform's default
    assert g.target_group == topo.alb.target_group
    assert set(g.subnets) == {s.name for s in topo.subnets if s.tier == "app"}
    assert g.template.name == "api-server-v1" and g.template.sgs == ("web-sg",)
    assert g.instances == ("node-api-1", "node-api-2", "node-api-3")
    assert set(topo.alb.targets) == set(g.instances)
    members = {i.name: i for i in topo.instances if i.name in g.instances}
    zones = [next(s.az for s in topo.subnets if s.name == m.subnet) for m in members.values()]
    assert max(zones.count(z) for z in zones) - min(zones.count(z) for z in set(zones)) <= 1
    assert all(ipaddress_in(m.ip, next(s.cidr for s in topo.subnets if s.name == m.subnet)) for m in members.values())
    status = dict((addr, st) for _, addr, st in imp.resources)
    assert status["aws_autoscaling_group.api"] == "parsed"
    assert any(n.resource == "aws_autoscaling_group.api" and "assign" in n.assumption for n in imp.notes)


def ipaddress_in(ip: object, cidr: object) -> bool:
    import ipaddress

    return ipaddress.IPv4Address(str(ip)) in ipaddress.IPv4Network(str(cidr))


def test_a_group_changes_no_verdict_of_the_same_servers_as_fixed_instances(tmp_path):
    grouped = tl.from_terraform(_project(tmp_path)).topology
    fixed = tl.from_terraform(THREE_TIER).topology
    assert not fixed.auto_scaling_groups and grouped.auto_scaling_groups
    assert [(i.name, i.subnet, i.sgs) for i in grouped.instances] == [(i.name, i.subnet, i.sgs) for i in fixed.instances]
    assert _verdicts(grouped) == _verdicts(fixed)


@pytest.mark.parametrize("kw, attribute", [
    ({"want": 9, "hi": 6}, "desired_capacity"),
    ({"lo": 5, "hi": 3, "want": 4}, "max_size"),
    ({"subnets": '["subnet-0nothere", module.network.app_subnet_ids[0]]'}, "vpc_zone_identifier"),
])
def test_a_bad_group_is_an_error_naming_the_resource_and_attribute(tmp_path, kw, attribute):
    with pytest.raises(TierlabError) as exc:
        tl.from_terraform(_project(tmp_path, **kw))
    text = str(exc.value)
    assert f"main.tf: aws_autoscaling_group.api {attribute} (auto_scaling_groups.node-api." in text
    assert "Traceback" not in text


def _aws_folder(tmp_path: Path, **over: object) -> Path:
    """The moto-built seed plus the describe-auto-scaling-groups answer of a group running its servers
    (the response shape of the AutoScaling API reference: AutoScalingGroups[])."""
    dst = tmp_path / "aws"
    shutil.copytree(SEED_JSON, dst)
    reservations = json.loads((dst / "describe-instances.json").read_text())["Reservations"]
    health = json.loads((dst / "describe-target-health--web-servers-tg.json").read_text())["TargetHealthDescriptions"]
    targets = {h["Target"]["Id"] for h in health}
    insts = [i for r in reservations for i in r["Instances"] if i["InstanceId"] in targets]
    assert len(insts) >= 2
    subnets = json.loads((dst / "describe-subnets.json").read_text())["Subnets"]
    tgs = json.loads((dst / "describe-target-groups.json").read_text())["TargetGroups"]
    member_subnets = sorted({i["SubnetId"] for i in insts if i["SubnetId"] in {s["SubnetId"] for s in subnets}})
    group = {
        "AutoScalingGroupName": "api-asg",
        "AutoScalingGroupARN": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/api-asg",
        "LaunchTemplate": {"LaunchTemplateId": "lt-0abc", "LaunchTemplateName": "api-server-v1", "Version": "$Latest"},
        "MinSize": 2, "MaxSize": 4, "DesiredCapacity": len(insts), "DefaultCooldown": 300,
        "AvailabilityZones": sorted({i["Placement"]["AvailabilityZone"] for i in insts}),
        "LoadBalancerNames": [], "TargetGroupARNs": [tgs[0]["TargetGroupArn"]],
        "HealthCheckType": "ELB", "HealthCheckGracePeriod": 120,
        "Instances": [{"InstanceId": i["InstanceId"], "AvailabilityZone": i["Placement"]["AvailabilityZone"],
                       "LifecycleState": "InService", "HealthStatus": "Healthy", "ProtectedFromScaleIn": False}
                      for i in insts],
        "CreatedTime": "2026-12-01T00:00:00Z", "VPCZoneIdentifier": ",".join(member_subnets),
        "TerminationPolicies": ["Default"], "NewInstancesProtectedFromScaleIn": False,
    }
    group.update(over)
    (dst / "describe-auto-scaling-groups.json").write_text(json.dumps({"AutoScalingGroups": [group]}, indent=1))
    return dst


def test_an_aws_group_has_the_instances_it_runs_and_the_seeds_verdicts(tmp_path):
    imp = tl.from_aws(_aws_folder(tmp_path))
    topo = imp.topology
    g = topo.auto_scaling_group("api-asg")
    assert (g.min_size, g.max_size, g.desired, g.health_check_type, g.grace_period_s) == (2, 4, 3, "ELB", 120)
    seed = tl.load("seed")
    assert set(g.instances) == {i.name for i in seed.instances if i.name in seed.alb.targets} == set(topo.alb.targets)
    assert set(g.subnets) == {i.subnet for i in seed.instances if i.name in seed.alb.targets}
    assert _verdicts(topo) == _verdicts(seed)


def test_an_aws_group_with_an_unknown_subnet_is_an_error_naming_it(tmp_path):
    with pytest.raises(TierlabError) as exc:
        tl.from_aws(_aws_folder(tmp_path, VPCZoneIdentifier="subnet-0nothere"))
    assert "VPCZoneIdentifier" in str(exc.value) and "subnet-0nothere" in str(exc.value)


@pytest.mark.slow  # moto's EC2, ELB and Auto Scaling backends: ~3 s of CPU, like the other moto tests
def test_the_hand_written_group_has_the_shape_moto_answers(tmp_path):
    """The describe-auto-scaling-groups answer above uses only keys the API (as moto serves it) returns."""
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subs = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{k}.0/24", AvailabilityZone=f"us-east-1{z}")
                ["Subnet"]["SubnetId"] for k, z in ((2, "a"), (12, "b"))]
        sg = ec2.create_security_group(GroupName="web-sg", Description="web", VpcId=vpc)["GroupId"]
        tg = boto3.client("elbv2", region_name="us-east-1").create_target_group(
            Name="web-servers-tg", Protocol="HTTP", Port=3000, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
        ec2.create_launch_template(LaunchTemplateName="api-server-v1", LaunchTemplateData={
            "ImageId": "ami-12c6146b", "InstanceType": "t3.small", "SecurityGroupIds": [sg]})
        asg = boto3.client("autoscaling", region_name="us-east-1")
        asg.create_auto_scaling_group(
            AutoScalingGroupName="api-asg", LaunchTemplate={"LaunchTemplateName": "api-server-v1", "Version": "$Latest"},
            MinSize=2, MaxSize=4, DesiredCapacity=2, VPCZoneIdentifier=",".join(subs), TargetGroupARNs=[tg],
            HealthCheckType="ELB", HealthCheckGracePeriod=120)
        real = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    ours = json.loads((_aws_folder(tmp_path) / "describe-auto-scaling-groups.json").read_text())["AutoScalingGroups"][0]
    assert set(ours) <= set(real) and set(ours["Instances"][0]) <= set(real["Instances"][0])
    # the committed fixture (scripts/make_aws_fixtures.py, on moto) has exactly the keys moto answers now
    committed = json.loads((SEED_ASG_JSON / "describe-auto-scaling-groups.json").read_text())["AutoScalingGroups"][0]
    assert set(committed) == set(real) and set(committed["Instances"][0]) == set(real["Instances"][0])
    assert real["VPCZoneIdentifier"] == ",".join(subs) and len(real["Instances"]) == real["DesiredCapacity"] == 2


def _aws_group_of(topo: tl.Topology) -> tl.AutoScalingGroup:
    """The model's group as the AWS outputs can tell it: what the servers listen on is the app's
    configuration, so the template listens on the target group's port only."""
    from dataclasses import replace

    g = topo.auto_scaling_groups[0]
    return replace(g, template=replace(g.template, listens=(topo.alb.target_port,)))


def test_the_committed_seed_asg_outputs_import_as_its_group_with_its_verdicts():
    """data/aws/seed-asg: the describe outputs of seed-asg built on moto (the group created empty, its
    members launched from its template in the model's subnets and attached): the same group, members,
    target group and verdicts; the seed's own outputs hold moto's answer for an account with no group."""
    want = tl.load("seed-asg")
    imp = tl.from_aws(SEED_ASG_JSON)
    assert imp.topology.auto_scaling_groups == (_aws_group_of(want),)
    assert [(i.name, i.ip, i.subnet) for i in imp.topology.instances] == [(i.name, i.ip, i.subnet) for i in want.instances]
    assert _verdicts(imp.topology) == _verdicts(want)
    assert json.loads((SEED_JSON / "describe-auto-scaling-groups.json").read_text()) == {"AutoScalingGroups": []}
    assert tl.from_aws(SEED_JSON).topology.auto_scaling_groups == ()


@pytest.mark.slow
def test_the_generator_rebuilds_the_seed_asg_outputs_with_the_same_group(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_aws_fixtures
    finally:
        sys.path.pop(0)
    folder = make_aws_fixtures.make("seed-asg", tmp_path)
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(p.name for p in SEED_ASG_JSON.glob("*.json"))
    back = tl.from_aws(folder).topology
    assert back.auto_scaling_groups == (_aws_group_of(tl.load("seed-asg")),)
    assert _verdicts(back) == _verdicts(tl.load("seed-asg"))
