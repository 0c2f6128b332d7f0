"""The exported AWS CLI script really runs: bash executes it unchanged, every ``aws`` command goes
through the real AWS CLI (awscli's driver) to moto's server on 127.0.0.1, and what the describe
calls then return is the topology (seed-vpc: the seed plus a NAT gateway per zone, gateway and
interface endpoints, and its API servers as an Auto Scaling group): the same subnets, routes, NAT
gateways, endpoints, NACL entries, security-group rules, servers, Auto Scaling group (launched and
registered by moto's autoscaling), load balancer and database, and, imported back with
``tl.from_aws``, the same group and the same verdicts."""

from __future__ import annotations

import json
import os
from dataclasses import replace
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.network.exporters import to_aws_cli
from tierlab.network.topology import Instance

pytest.importorskip("awscli", reason="the AWS CLI (pip install awscli) runs the exported script")
pytest.importorskip("flask_cors", reason="moto's server needs flask and flask-cors")

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from awscli_runner import SHIM  # noqa: E402
SEED = tl.load("seed-vpc")
_PROTO = {"tcp": "6", "udp": "17", "icmp": "1", "all": "-1"}


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # the kernel picks a free port
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _env(url: str, region: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=region, AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_PAGER="")
    return env


def _clients(url: str, region: str) -> dict:
    import boto3

    kw = {"endpoint_url": url, "region_name": region, "aws_access_key_id": "testing",
          "aws_secret_access_key": "testing"}
    return {n: boto3.client(n, **kw) for n in ("ec2", "elbv2", "rds", "acm", "autoscaling")}


def run_exported(topo: tl.Topology, url: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run ``to_aws_cli(topo)`` with bash as a user would (AMI and certificate given), every ``aws`` real."""
    c = _clients(url, topo.region)
    env = _env(url, topo.region)
    runner = subprocess.Popen([sys.executable, str(HERE / "awscli_runner.py")], env=env, stdout=subprocess.PIPE,
                              stderr=open(tmp / "aws.log", "w"), text=True)
    port = runner.stdout.readline().strip() if runner.stdout else ""
    try:
        assert port.isdigit(), (tmp / "aws.log").read_text()[-3000:]
        (tmp / "shim.sh").write_text(SHIM)
        (tmp / "create.sh").write_text(to_aws_cli(topo))
        env.update(BASH_ENV=str(tmp / "shim.sh"), TL_AWS_RUNNER_PORT=port,
                   AMI=c["ec2"].describe_images(Owners=["amazon"])["Images"][0]["ImageId"],
                   CERTIFICATE_ARN=c["acm"].request_certificate(DomainName="*.myapp.com")["CertificateArn"])
        done = subprocess.run(["bash", str(tmp / "create.sh")], env=env, capture_output=True, text=True, timeout=300)
    finally:
        if port.isdigit():
            with socket.create_connection(("127.0.0.1", int(port))) as s:
                s.sendall(b"1\0__quit__\0")
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()
    assert done.returncode == 0, (done.stderr[-2000:], (tmp / "aws.log").read_text()[-4000:])
    return done


def _name(tags: list | None) -> str:
    return next((t["Value"] for t in tags or [] if t["Key"] == "Name"), "")


def read_back(url: str, topo: tl.Topology) -> dict:
    """What AWS (moto) now holds for the VPC named ``topo.name``, in tierlab's terms."""
    c = _clients(url, topo.region)
    ec2 = c["ec2"]
    vpc = next(v for v in ec2.describe_vpcs()["Vpcs"] if _name(v.get("Tags")) == topo.name)["VpcId"]
    only = [{"Name": "vpc-id", "Values": [vpc]}]
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=only)["Subnets"]}
    sname = {sid: _name(s.get("Tags")) for sid, s in subnets.items()}
    groups = ec2.describe_security_groups(Filters=only)["SecurityGroups"]
    gname = {g["GroupId"]: g["GroupName"] for g in groups}
    out: dict = {"subnets": {sname[i]: (s["CidrBlock"], s["AvailabilityZone"]) for i, s in subnets.items()},
                 "routes": {}, "route_assoc": {}, "nacl_entries": {}, "nacl_assoc": {}, "sg_rules": {}}
    nat_name = {n["NatGatewayId"]: _name(n.get("Tags")) for n in ec2.describe_nat_gateways(Filters=only)["NatGateways"]}
    for rt in ec2.describe_route_tables(Filters=only)["RouteTables"]:
        if not _name(rt.get("Tags")):
            continue  # the VPC's own main route table: nothing of the topology's is in it
        out["routes"][_name(rt["Tags"])] = sorted(
            (r["DestinationCidrBlock"], "local" if r.get("GatewayId") == "local" else
             nat_name.get(r.get("NatGatewayId", ""), "igw"))
            for r in rt["Routes"] if "DestinationCidrBlock" in r)
        for a in rt.get("Associations", []):
            if a.get("SubnetId"):
                out["route_assoc"][sname[a["SubnetId"]]] = _name(rt["Tags"])
    for n in ec2.describe_network_acls(Filters=only)["NetworkAcls"]:
        if n.get("IsDefault"):
            continue
        name = _name(n.get("Tags"))
        out["nacl_entries"][name] = sorted(
            ("outbound" if e["Egress"] else "inbound", e["RuleNumber"], e["Protocol"], e["RuleAction"], e["CidrBlock"],
             (e["PortRange"]["From"], e["PortRange"]["To"]) if "PortRange" in e else None)
            for e in n["Entries"] if e["RuleNumber"] != 32767)
        for a in n["Associations"]:
            out["nacl_assoc"][sname[a["SubnetId"]]] = name
    for g in groups:
        rules = []
        for key, direction in (("IpPermissions", "inbound"), ("IpPermissionsEgress", "outbound")):
            for p in g[key]:
                ports = (p.get("FromPort"), p.get("ToPort")) if p["IpProtocol"] in ("tcp", "udp", "6", "17") else None
                rules += [(direction, p["IpProtocol"], ports, r["CidrIp"]) for r in p.get("IpRanges", [])]
                rules += [(direction, p["IpProtocol"], ports, "sg:" + gname[r["GroupId"]])
                          for r in p.get("UserIdGroupPairs", [])]
        out["sg_rules"][g["GroupName"]] = sorted(rules, key=str)
    running = [i for r in ec2.describe_instances(Filters=only)["Reservations"] for i in r["Instances"]]
    launched = {i["InstanceId"] for i in running
                if any(t["Key"] == "aws:autoscaling:groupName" for t in i.get("Tags") or [])}
    out["instances"] = {_name(i.get("Tags")): (sname[i["SubnetId"]], i["PrivateIpAddress"],
                                               sorted(gname[g["GroupId"]] for g in i["SecurityGroups"]),
                                               next((t["Value"] for t in i.get("Tags") or []
                                                     if t["Key"] == "tierlab:listens"), None))
                        for i in running if i["InstanceId"] not in launched}
    out["groups"] = {}
    for g in c["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"]:
        lt = ec2.describe_launch_template_versions(LaunchTemplateId=g["LaunchTemplate"]["LaunchTemplateId"])
        data = lt["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        members = [i for i in running if i["InstanceId"] in {m["InstanceId"] for m in g["Instances"]}]
        tags = {t["Key"]: t["Value"] for t in g.get("Tags", [])}
        out["groups"][g["AutoScalingGroupName"]] = {
            "sizes": (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]),
            "subnets": sorted(sname[x] for x in g["VPCZoneIdentifier"].split(",")),
            "health": (g["HealthCheckType"], g["HealthCheckGracePeriod"]),
            "target_groups": len(g.get("TargetGroupARNs", [])),
            "template": (g["LaunchTemplate"]["LaunchTemplateName"], sorted(gname[x] for x in data["SecurityGroupIds"])),
            "members": len(members), "members_in_its_subnets": all(
                i["SubnetId"] in g["VPCZoneIdentifier"].split(",") for i in members),
            "member_sgs": sorted({gname[x["GroupId"]] for i in members for x in i["SecurityGroups"]}),
            "members_tag": tags.get("tierlab:members", "").split()}
    out["nat_gateways"] = {_name(n.get("Tags")): sname[n["SubnetId"]]  # moto picks its own addresses
                           for n in ec2.describe_nat_gateways(Filters=only)["NatGateways"]}
    rtname = {rt["RouteTableId"]: _name(rt.get("Tags")) for rt in ec2.describe_route_tables(Filters=only)["RouteTables"]}
    enis = {i["NetworkInterfaceId"]: (sname[i["SubnetId"]], i["PrivateIpAddress"])
            for i in ec2.describe_network_interfaces(Filters=only)["NetworkInterfaces"]}
    out["endpoints"] = {_name(e.get("Tags")): (
        e["VpcEndpointType"].lower(), e["ServiceName"].rsplit(".", 1)[-1], sorted(rtname[r] for r in e.get("RouteTableIds", [])),
        sorted(enis[i][0] for i in e.get("NetworkInterfaceIds", []) if i in enis),
        sorted(gname[g["GroupId"]] for g in e.get("Groups", [])),
        e.get("PrivateDnsEnabled", False) if e["VpcEndpointType"] == "Interface" else False)  # moto says True for S3
        for e in ec2.describe_vpc_endpoints(Filters=only)["VpcEndpoints"]}
    out["vpc"] = vpc
    return out


def expected(topo: tl.Topology) -> dict:
    """The same view, from the model: only what the script creates (switched-off rules are not)."""
    out: dict = {"subnets": {s.name: (str(s.cidr), s.az) for s in topo.subnets},
                 "routes": {rt.name: sorted((str(r.destination), r.target if r.target == "local" or r.target in
                                             {n.name for n in topo.nat_gateways} else "igw")
                                            for r in rt.routes) for rt in topo.route_tables},
                 "route_assoc": {s.name: s.route_table for s in topo.subnets},
                 "nacl_entries": {n.name: sorted((r.direction, r.number, _PROTO[r.protocol], r.action, str(r.cidr),
                                                  (r.ports.lo, r.ports.hi) if r.protocol in ("tcp", "udp") else None)
                                                 for r in n.rules if r.enabled) for n in topo.nacls},
                 "nacl_assoc": {s.name: s.nacl for s in topo.subnets}, "sg_rules": {}}
    for g in topo.security_groups:
        rules = [(r.direction, "-1" if r.protocol == "all" else r.protocol,
                  (r.ports.lo, r.ports.hi) if r.protocol in ("tcp", "udp") else None,
                  str(r.peer_cidr) if r.peer_cidr is not None else f"sg:{r.peer_sg}")
                 for r in g.rules if r.enabled]
        out["sg_rules"][g.name] = sorted(rules, key=str)
    members = {m for g in topo.auto_scaling_groups for m in g.instances}
    out["instances"] = {i.name: (i.subnet, str(i.ip), sorted(i.sgs), " ".join(map(str, i.listens)))
                        for i in topo.instances if i.name not in members}
    out["groups"] = {g.name: {
        "sizes": (g.min_size, g.max_size, g.desired), "subnets": sorted(g.subnets),
        "health": (g.health_check_type, g.grace_period_s), "target_groups": 1 if g.target_group else 0,
        "template": (g.template.name, sorted(g.template.sgs)),
        "members": len(g.instances), "members_in_its_subnets": True,
        "member_sgs": sorted(g.template.sgs),
        "members_tag": [f"{i.name}={i.ip}" for i in topo.instances if i.name in g.instances]}
        for g in topo.auto_scaling_groups}
    out["nat_gateways"] = {n.name: n.subnet for n in topo.nat_gateways}
    out["endpoints"] = {e.name: (e.type, e.service, sorted(e.route_tables), sorted(x.subnet for x in e.enis),
                                 sorted(e.sgs), e.private_dns if e.type == "interface" else False)
                        for e in topo.vpc_endpoints}
    return out


@pytest.fixture(scope="module")
def seed_in_moto(moto_url, tmp_path_factory):
    topo = SEED.switch_off("web-sg-in-22")  # a switched-off rule is left out of the script
    # a fixed server beside the group, listening on ports of its own (its tierlab:listens tag carries them)
    topo = topo.with_instance(Instance(name="admin-1", ip="10.0.2.60", subnet="private-app-az1", sgs=("web-sg",),
                                          listens=(22, 9100)), target=False)
    run_exported(topo, moto_url, tmp_path_factory.mktemp("awscli"))
    return topo, read_back(moto_url, topo)


@pytest.mark.parametrize("part", ["subnets", "routes", "route_assoc", "nacl_entries", "nacl_assoc", "instances",
                                  "nat_gateways", "endpoints", "groups"])
def test_what_the_script_created_is_the_topology(seed_in_moto, part):
    topo, got = seed_in_moto
    assert got[part] == expected(topo)[part]


def test_security_groups_hold_exactly_the_enabled_rules_and_no_default_egress(seed_in_moto):
    topo, got = seed_in_moto
    want = expected(topo)["sg_rules"]
    for name, rules in want.items():
        assert got["sg_rules"][name] == rules, name
    assert not any(r[0] == "inbound" and r[2] == (22, 22) for r in got["sg_rules"]["web-sg"])  # switched off


def test_the_load_balancer_and_database_are_wired_as_in_the_model(seed_in_moto, moto_url):
    topo, got = seed_in_moto
    c = _clients(moto_url, topo.region)
    lb = c["elbv2"].describe_load_balancers(Names=[topo.alb.name[:32]])["LoadBalancers"][0]
    assert lb["Scheme"] == "internet-facing" and lb["VpcId"] == got["vpc"]
    listeners = c["elbv2"].describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert sorted((l["Port"], l["DefaultActions"][0]["Type"]) for l in listeners) == \
        sorted((l.port, l.action) for l in topo.alb.listeners)
    tg = c["elbv2"].describe_target_groups(Names=[topo.alb.target_group[:32]])["TargetGroups"][0]
    assert (tg["Port"], tg["HealthCheckPath"]) == (topo.alb.target_port, topo.alb.health_check.path)
    health = c["elbv2"].describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    ids = {i["InstanceId"]: _name(i.get("Tags")) for r in c["ec2"].describe_instances()["Reservations"]
           for i in r["Instances"]}
    for g in c["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"]:
        ids.update({m["InstanceId"]: f"member of {g['AutoScalingGroupName']}" for m in g["Instances"]})
    grouped = {m: f"member of {g.name}" for g in topo.auto_scaling_groups if g.target_group for m in g.instances}
    assert sorted(ids[h["Target"]["Id"]] for h in health) == sorted(grouped.get(t, t) for t in topo.alb.targets)
    db = c["rds"].describe_db_instances(DBInstanceIdentifier=topo.database.name)["DBInstances"][0]
    assert (db["Engine"], db["MultiAZ"], db["Endpoint"]["Port"] if "Endpoint" in db else db.get("DbInstancePort")) == \
        (topo.database.engine, topo.database.multi_az, topo.database.port)
    subnet_names = {s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]}
    assert len(subnet_names) == len(topo.database.subnet_group)


def test_imported_back_from_the_describe_outputs_it_gives_the_same_verdicts(seed_in_moto, moto_url, tmp_path):
    topo, got = seed_in_moto
    c = _clients(moto_url, topo.region)
    ec2, elb, rds = c["ec2"], c["elbv2"], c["rds"]
    only = [{"Name": "vpc-id", "Values": [got["vpc"]]}]
    lb = elb.describe_load_balancers(Names=[topo.alb.name[:32]])
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tgs = elb.describe_target_groups(LoadBalancerArn=arn)
    docs = {"describe-vpcs": ec2.describe_vpcs(VpcIds=[got["vpc"]]), "describe-subnets": ec2.describe_subnets(Filters=only),
            "describe-route-tables": ec2.describe_route_tables(Filters=only),
            "describe-internet-gateways": ec2.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [got["vpc"]]}]),
            "describe-security-groups": ec2.describe_security_groups(Filters=only),
            "describe-network-acls": ec2.describe_network_acls(Filters=only),
            "describe-instances": ec2.describe_instances(Filters=only),
            "describe-network-interfaces": ec2.describe_network_interfaces(Filters=only),
            "describe-nat-gateways": ec2.describe_nat_gateways(Filters=only),
            "describe-vpc-endpoints": ec2.describe_vpc_endpoints(Filters=only),
            "describe-load-balancers": lb, "describe-target-groups": tgs,
            "describe-listeners": elb.describe_listeners(LoadBalancerArn=arn),
            "describe-db-instances": rds.describe_db_instances(DBInstanceIdentifier=topo.database.name),
            "describe-auto-scaling-groups": c["autoscaling"].describe_auto_scaling_groups()}
    for tg in tgs["TargetGroups"]:
        docs[f"describe-target-health--{tg['TargetGroupName']}"] = elb.describe_target_health(
            TargetGroupArn=tg["TargetGroupArn"])
    # moto ignores --private-ip-address (NAT) and --subnet-configurations (endpoints) and invents addresses
    # outside the subnet; AWS honours both, so the addresses the script asked for are put back here
    asked = {n.name: str(n.private_ip) for n in topo.nat_gateways}
    for n in docs["describe-nat-gateways"]["NatGateways"]:
        n["NatGatewayAddresses"][0]["PrivateIp"] = asked[_name(n.get("Tags"))]
    eni_ip = {(e.name, x.subnet): str(x.ip) for e in topo.vpc_endpoints for x in e.enis}
    sname = {s["SubnetId"]: _name(s.get("Tags")) for s in docs["describe-subnets"]["Subnets"]}
    vpce_of = {i: _name(e.get("Tags")) for e in docs["describe-vpc-endpoints"]["VpcEndpoints"]
               for i in e.get("NetworkInterfaceIds", [])}
    for i in docs["describe-network-interfaces"]["NetworkInterfaces"]:
        if i["NetworkInterfaceId"] in vpce_of:
            i["PrivateIpAddress"] = eni_ip[(vpce_of[i["NetworkInterfaceId"]], sname[i["SubnetId"]])]
    # moto launches every member of a group in its first subnet, at addresses of its own; AWS balances them
    # over the zones: they are put where the model (the group's tierlab:members tag) has them
    _place_members_as_the_model(docs, topo, sname)
    for name, resp in docs.items():
        resp.pop("ResponseMetadata", None)
        (tmp_path / f"{name}.json").write_text(json.dumps(resp, default=str))
    back = tl.from_aws(tmp_path).topology
    for os_name in tl.OSES:
        a, b = tl.journey(topo, os=os_name), tl.journey(back, os=os_name)
        assert (a.ok, round(a.success_share, 6)) == (b.ok, round(b.success_share, 6)), os_name
        assert sorted((x.component, x.step) for x in a.blocks) == sorted((x.component, x.step) for x in b.blocks)
    assert [(n.name, n.subnet, n.private_ip) for n in back.nat_gateways] == \
        [(n.name, n.subnet, n.private_ip) for n in topo.nat_gateways]
    assert [(e.name, e.type, e.route_tables, e.enis, e.sgs) for e in back.vpc_endpoints] == \
        [(e.name, e.type, e.route_tables, e.enis, e.sgs) for e in topo.vpc_endpoints]
    def fixed(t):  # servers no group launched: AWS names a group's members, tierlab names these
        members = {m for g in t.auto_scaling_groups for m in g.instances}
        return [(i.name, i.ip, i.subnet, i.sgs, i.listens) for i in t.instances if i.name not in members]

    assert fixed(back) == fixed(topo)
    for port in (22, 3000, 9100):  # what the fixed server listens on decides: connected, or refused
        src = [next(i.name for i in t.instances if str(i.ip) == "10.0.2.45") for t in (topo, back)]  # a member
        a, b = tl.can_reach(topo, src[0], "admin-1", port), tl.can_reach(back, src[1], "admin-1", port)
        assert sorted(c.code or "" for c in a.flow.checks if not c.passed) == \
            sorted(c.code or "" for c in b.flow.checks if not c.passed), port
    # the group AWS runs is the model's group: only its members' names and addresses are AWS's
    for g in topo.auto_scaling_groups:
        got_g = back.auto_scaling_group(g.name)
        assert len(got_g.instances) == g.desired and set(got_g.instances) == set(back.alb.targets) - (
            set(topo.alb.targets) - set(g.instances))
        same = {"instances": got_g.instances, "template": replace(g.template, listens=got_g.template.listens)}
        assert got_g == replace(g, **same)
        assert set(got_g.template.listens) <= set(g.template.listens)


def _place_members_as_the_model(docs: dict, topo: tl.Topology, sname: dict[str, str]) -> None:
    sid = {v: k for k, v in sname.items()}
    reservations = docs["describe-instances"]["Reservations"]
    for g in docs["describe-auto-scaling-groups"]["AutoScalingGroups"]:
        tag = next(t["Value"] for t in g["Tags"] if t["Key"] == "tierlab:members")
        insts = {i.name: i for i in topo.instances}
        where = [insts[item.partition("=")[0]] for item in tag.split()]
        ids = [m["InstanceId"] for m in g["Instances"]]
        assert len(ids) == len(where)
        for m, inst in zip(g["Instances"], where):
            m["AvailabilityZone"] = topo.subnet(inst.subnet).az
            i = next(i for r in reservations for i in r["Instances"] if i["InstanceId"] == m["InstanceId"])
            i.update(SubnetId=sid[inst.subnet], PrivateIpAddress=str(inst.ip))
            i["Placement"]["AvailabilityZone"] = topo.subnet(inst.subnet).az
