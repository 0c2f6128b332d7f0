"""Write ``data/aws/<topology>/``: the seed built through boto3 on moto, saved as the describe outputs.

The fixtures of ``tl.from_aws`` are real API response shapes, not hand-typed JSON: this script
creates every resource of a tierlab topology with boto3 against moto's in-process AWS, then
saves what the describe calls return (``describe-subnets.json`` ...), filtered to the VPC, as
`aws ec2 describe-subnets --filters Name=vpc-id,Values=...` would.

    .venv/bin/python scripts/make_aws_fixtures.py [seed seed-asg] [--out data/aws]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _clean(resp: dict) -> dict:
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    resp.pop("NextToken", None)
    return json.loads(json.dumps(resp, default=str))


def build(topo, region: str):
    """Create ``topo`` through boto3 (inside moto) and return the describe outputs, by file name."""
    import boto3

    ec2 = boto3.client("ec2", region_name=region)
    elb = boto3.client("elbv2", region_name=region)
    rds = boto3.client("rds", region_name=region)
    acm = boto3.client("acm", region_name=region)

    def tag(rid: str, name: str) -> None:
        ec2.create_tags(Resources=[rid], Tags=[{"Key": "Name", "Value": name}])

    vpc = ec2.create_vpc(CidrBlock=str(topo.vpc_cidr))["Vpc"]["VpcId"]
    tag(vpc, topo.name)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    tag(igw, topo.internet_gateway or "igw")
    subnet = {}
    for s in topo.subnets:
        subnet[s.name] = ec2.create_subnet(VpcId=vpc, CidrBlock=str(s.cidr), AvailabilityZone=s.az)["Subnet"]["SubnetId"]
        tag(subnet[s.name], s.name)
    for rt in topo.route_tables:
        rid = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        tag(rid, rt.name)
        for r in rt.routes:
            if r.target == topo.internet_gateway:
                ec2.create_route(RouteTableId=rid, DestinationCidrBlock=str(r.destination), GatewayId=igw)
        for s in topo.subnets:
            if s.route_table == rt.name:
                ec2.associate_route_table(RouteTableId=rid, SubnetId=subnet[s.name])
    assoc = {a["SubnetId"]: a["NetworkAclAssociationId"]
             for n in ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]
             for a in n["Associations"]}
    proto = {"tcp": "6", "udp": "17", "icmp": "1", "all": "-1"}
    for n in topo.nacls:
        nid = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        tag(nid, n.name)
        for r in n.rules:
            kw = {"PortRange": {"From": r.ports.lo, "To": r.ports.hi}} if r.protocol in ("tcp", "udp") else {}
            ec2.create_network_acl_entry(NetworkAclId=nid, RuleNumber=r.number, Protocol=proto[r.protocol],
                                         RuleAction=r.action, Egress=r.direction == "outbound",
                                         CidrBlock=str(r.cidr), **kw)
        for s in topo.subnets:
            if s.nacl == n.name:
                ec2.replace_network_acl_association(AssociationId=assoc[subnet[s.name]], NetworkAclId=nid)
    sg = {}
    for g in topo.security_groups:
        sg[g.name] = ec2.create_security_group(GroupName=g.name, Description=g.description or g.name, VpcId=vpc)["GroupId"]
    for g in topo.security_groups:
        gid = sg[g.name]
        current = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissionsEgress"]
        if current:
            ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=current)
        for r in g.rules:
            perm = {"IpProtocol": proto[r.protocol]}
            if r.protocol in ("tcp", "udp"):
                perm.update(FromPort=r.ports.lo, ToPort=r.ports.hi)
            if r.peer_cidr is not None:
                perm["IpRanges"] = [{"CidrIp": str(r.peer_cidr), "Description": r.description[:200]}]
            elif r.peer_sg is not None:
                perm["UserIdGroupPairs"] = [{"GroupId": sg[r.peer_sg]}]
            if r.direction == "inbound":
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
            else:
                ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[perm])
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    template = {}  # member -> its group's launch template id
    for g in topo.auto_scaling_groups:
        lt = ec2.create_launch_template(LaunchTemplateName=g.template.name, LaunchTemplateData={
            "ImageId": ami, "InstanceType": "t3.small", "SecurityGroupIds": [sg[x] for x in g.template.sgs]})
        template.update({m: lt["LaunchTemplate"]["LaunchTemplateId"] for m in g.instances})
    iid = {}
    for i in topo.instances:
        kw = {"LaunchTemplate": {"LaunchTemplateId": template[i.name]}} if i.name in template else {"ImageId": ami}
        out = ec2.run_instances(MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=subnet[i.subnet],
                                PrivateIpAddress=str(i.ip), SecurityGroupIds=[sg[g] for g in i.sgs], **kw)
        iid[i.name] = out["Instances"][0]["InstanceId"]
        tag(iid[i.name], i.name)
    lb = topo.alb
    arn = elb.create_load_balancer(Name=lb.name, Subnets=[subnet[n.subnet] for n in lb.nodes],
                                   SecurityGroups=[sg[g] for g in lb.sgs], Scheme="internet-facing",
                                   Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    hc = lb.health_check
    tg = elb.create_target_group(Name=lb.target_group, Protocol="HTTP", Port=lb.target_port, VpcId=vpc,
                                 HealthCheckProtocol=hc.protocol, HealthCheckPath=hc.path, HealthCheckPort=str(hc.port),
                                 HealthCheckIntervalSeconds=hc.interval_s, HealthCheckTimeoutSeconds=hc.timeout_s,
                                 HealthyThresholdCount=hc.healthy_threshold, UnhealthyThresholdCount=hc.unhealthy_threshold,
                                 TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    fixed = [t for t in lb.targets if t not in template]  # a group registers its own members
    if fixed:
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": iid[t], "Port": lb.target_port} for t in fixed])
    groups = _auto_scaling_groups(topo, subnet, template, iid, tg, region)
    cert = acm.request_certificate(DomainName="*.myapp.com")["CertificateArn"]
    for l in lb.listeners:
        if l.action == "forward":
            act = {"Type": "forward", "TargetGroupArn": tg}
        else:
            act = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": str(l.redirect_port),
                                                          "StatusCode": "HTTP_301"}}
        kw = {"Certificates": [{"CertificateArn": cert}]} if l.protocol == "HTTPS" else {}
        elb.create_listener(LoadBalancerArn=arn, Protocol=l.protocol, Port=l.port, DefaultActions=[act], **kw)
    db = topo.database
    rds.create_db_subnet_group(DBSubnetGroupName=f"{db.name}-subnets", DBSubnetGroupDescription="the database subnets",
                               SubnetIds=[subnet[s] for s in db.subnet_group])
    prim = db.instance("primary")
    az = {"AvailabilityZone": topo.subnet(prim.subnet).az} if prim and not db.multi_az else {}
    rds.create_db_instance(DBInstanceIdentifier=db.name, Engine=db.engine, EngineVersion=db.version,
                           DBInstanceClass="db.t3.medium", AllocatedStorage=20, MultiAZ=db.multi_az,
                           DBSubnetGroupName=f"{db.name}-subnets", VpcSecurityGroupIds=[sg[g] for g in db.sgs],
                           MasterUsername="app", MasterUserPassword="change-me-please", Port=db.port, **az)
    only = [{"Name": "vpc-id", "Values": [vpc]}]
    return {
        "describe-vpcs": ec2.describe_vpcs(VpcIds=[vpc]),
        "describe-subnets": ec2.describe_subnets(Filters=only),
        "describe-route-tables": ec2.describe_route_tables(Filters=only),
        "describe-internet-gateways": ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}]),
        "describe-security-groups": ec2.describe_security_groups(Filters=only),
        "describe-network-acls": ec2.describe_network_acls(Filters=only),
        "describe-instances": ec2.describe_instances(Filters=only),
        "describe-nat-gateways": ec2.describe_nat_gateways(Filters=only),
        "describe-vpc-endpoints": ec2.describe_vpc_endpoints(Filters=only),
        "describe-network-interfaces": ec2.describe_network_interfaces(Filters=only),
        "describe-load-balancers": elb.describe_load_balancers(LoadBalancerArns=[arn]),
        "describe-target-groups": elb.describe_target_groups(LoadBalancerArn=arn),
        f"describe-target-health--{lb.target_group}": elb.describe_target_health(TargetGroupArn=tg),
        "describe-listeners": elb.describe_listeners(LoadBalancerArn=arn),
        "describe-db-instances": rds.describe_db_instances(DBInstanceIdentifier=db.name),
        "describe-auto-scaling-groups": groups,
    }


def _auto_scaling_groups(topo, subnet: dict, template: dict, iid: dict, tg: str, region: str) -> dict:
    """Each group as AWS runs it, its members in the model's subnets at the model's addresses: the
    group is created empty and the members, launched from its template, are attached (AttachInstances,
    which raises the desired capacity by one each and registers them with the target group). moto
    launches a group's own instances in its first subnet only; AWS balances the zones, as the model does.
    Returns the describe-auto-scaling-groups answer for this VPC's groups."""
    import boto3

    asg = boto3.client("autoscaling", region_name=region)
    for g in topo.auto_scaling_groups:
        asg.create_auto_scaling_group(
            AutoScalingGroupName=g.name, LaunchTemplate={"LaunchTemplateId": template[g.instances[0]],
                                                         "Version": "$Latest"},
            MinSize=0, MaxSize=g.max_size, DesiredCapacity=0, VPCZoneIdentifier=",".join(subnet[s] for s in g.subnets),
            HealthCheckType=g.health_check_type, HealthCheckGracePeriod=g.grace_period_s,
            **({"TargetGroupARNs": [tg]} if g.target_group else {}))
        asg.attach_instances(AutoScalingGroupName=g.name, InstanceIds=[iid[m] for m in g.instances])
        asg.update_auto_scaling_group(AutoScalingGroupName=g.name, MinSize=g.min_size)
    ours = set(subnet.values())
    resp = asg.describe_auto_scaling_groups()
    resp["AutoScalingGroups"] = [g for g in resp["AutoScalingGroups"]
                                 if set(str(g.get("VPCZoneIdentifier", "")).split(",")) <= ours]
    return resp


def make(name: str, out_root: Path) -> Path:
    """Build topology ``name`` on moto and write its describe outputs under ``out_root/name``."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from moto import mock_aws

    import tierlab as tl

    topo = tl.load(name)
    with mock_aws():
        docs = build(topo, topo.region)
    folder = out_root / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for fname, resp in docs.items():
        (folder / f"{fname}.json").write_text(json.dumps(_clean(resp), indent=1, sort_keys=True) + "\n")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=["seed", "seed-asg"])
    ap.add_argument("--out", default=str(ROOT / "data" / "aws"))
    args = ap.parse_args()
    for n in args.names:
        folder = make(n, Path(args.out))
        print(f"wrote {folder}: {len(list(folder.glob('*.json')))} files")


if __name__ == "__main__":
    main()
