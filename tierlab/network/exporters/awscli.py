"""Topology -> AWS CLI commands (a bash script), in the order AWS needs them.

Each created id is kept in a shell variable (``--query ... --output text``), so later commands
refer to it; what AWS assigns (ALB and RDS addresses) is left to AWS. Switched-off rules are
left out. An Auto Scaling group is a launch template and ``aws autoscaling
create-auto-scaling-group`` registering with the target group: AWS launches its members (they are
not ``run-instances``), so their addresses are AWS's to choose. The script is meant to be read and
adapted, then run with ``bash -euo pipefail``.
"""

from __future__ import annotations

import re
import shlex

from ..autoscaling import DEREGISTRATION_DELAY_S
from ..rules import NaclRule, SgRule
from ..topology import Topology, require_topology
from .terraform import listens_tag, members_tag

__all__ = ["to_aws_cli"]

_PROTO = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "all": "-1"}
_NACL_PROTO = {"tcp": "6", "udp": "17", "icmp": "1", "all": "-1"}


def _var(kind: str, name: str) -> str:
    return f"{kind}_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _tag(name: str) -> str:
    return shlex.quote(f"Key=Name,Value={name}")


def _perm(r: SgRule) -> str:
    parts = [f"IpProtocol={_PROTO[r.protocol]}"]
    if r.protocol in ("tcp", "udp"):
        parts += [f"FromPort={r.ports.lo}", f"ToPort={r.ports.hi}"]
    elif r.protocol == "icmp":
        parts += ["FromPort=-1", "ToPort=-1"]
    if r.peer_cidr is not None:
        parts.append(f"IpRanges=[{{CidrIp={r.peer_cidr}}}]")
    elif r.peer_sg is not None:
        parts.append(f"UserIdGroupPairs=[{{GroupId=${_var('SG', r.peer_sg)}}}]")
    else:
        parts.append(f"PrefixListIds=[{{PrefixListId=${_var('PL', str(r.peer_prefix_list))}}}]")
    return '"' + ",".join(parts) + '"'


def to_aws_cli(topo: Topology) -> str:
    """The topology as a bash script of ``aws`` commands."""
    topo = require_topology(topo, "to_aws_cli")
    q = shlex.quote
    L = [f"#!/usr/bin/env bash\n# {topo.name}: exported by tierlab. Region {topo.region}.\nset -euo pipefail\n"
         f"export AWS_DEFAULT_REGION={q(topo.region)}\n",
         f"VPC=$(aws ec2 create-vpc --cidr-block {topo.vpc_cidr} --tag-specifications "
         f"'ResourceType=vpc,Tags=[{{Key=Name,Value={topo.name}}}]' --query Vpc.VpcId --output text)"]
    if topo.internet_gateway:
        L += [f"IGW=$(aws ec2 create-internet-gateway --query InternetGateway.InternetGatewayId --output text)",
              "aws ec2 attach-internet-gateway --internet-gateway-id $IGW --vpc-id $VPC"]
    L.append("\n# subnets")
    for s in topo.subnets:
        v = _var("SUBNET", s.name)
        L += [f"{v}=$(aws ec2 create-subnet --vpc-id $VPC --cidr-block {s.cidr} --availability-zone {s.az} "
              f"--query Subnet.SubnetId --output text)", f"aws ec2 create-tags --resources ${v} --tags {_tag(s.name)}"]
    if topo.nat_gateways:
        L.append("\n# NAT gateways: an Elastic IP each, in a public subnet (zonal; USD 0.045/hour + 0.045/GB in us-east-1)")
    for nat in topo.nat_gateways:
        v = _var("NAT", nat.name)
        L += [f"{v}_EIP=$(aws ec2 allocate-address --domain vpc --query AllocationId --output text)",
              f"{v}=$(aws ec2 create-nat-gateway --subnet-id ${_var('SUBNET', nat.subnet)} --allocation-id ${v}_EIP "
              f"--private-ip-address {nat.private_ip} --query NatGateway.NatGatewayId --output text)",
              f"aws ec2 create-tags --resources ${v} --tags {_tag(nat.name)}",
              f"aws ec2 wait nat-gateway-available --nat-gateway-ids ${v}"]
    L.append("\n# route tables (the local route is implicit)")
    for rt in topo.route_tables:
        v = _var("RT", rt.name)
        L += [f"{v}=$(aws ec2 create-route-table --vpc-id $VPC --query RouteTable.RouteTableId --output text)",
              f"aws ec2 create-tags --resources ${v} --tags {_tag(rt.name)}"]
        for route in rt.routes:
            if route.target in {n.name for n in topo.nat_gateways}:
                L.append(f"aws ec2 create-route --route-table-id ${v} --destination-cidr-block {route.destination} "
                         f"--nat-gateway-id ${_var('NAT', route.target)}")
            elif route.target != "local":
                L.append(f"aws ec2 create-route --route-table-id ${v} --destination-cidr-block {route.destination} "
                         "--gateway-id $IGW")
        for s in topo.subnets:
            if s.route_table == rt.name:
                L.append(f"aws ec2 associate-route-table --route-table-id ${v} --subnet-id ${_var('SUBNET', s.name)}")
    L.append("\n# network ACLs: rules, then each subnet moved from the default NACL to its own")
    for n in topo.nacls:
        v = _var("ACL", n.name)
        L += [f"{v}=$(aws ec2 create-network-acl --vpc-id $VPC --query NetworkAcl.NetworkAclId --output text)",
              f"aws ec2 create-tags --resources ${v} --tags {_tag(n.name)}"]
        for entry in sorted(n.rules, key=lambda x: (x.direction, x.number)):
            L.append(_nacl_entry(v, entry))
        for s in topo.subnets:
            if s.nacl == n.name:
                sv = _var("SUBNET", s.name)
                L.append(f"aws ec2 replace-network-acl-association --network-acl-id ${v} --association-id "
                         f"$(aws ec2 describe-network-acls --filters Name=association.subnet-id,Values=${sv} --query "
                         f"\"NetworkAcls[0].Associations[?SubnetId=='${sv}'].NetworkAclAssociationId\" --output text)")
    L.append("\n# security groups: created first (rules may name each other), AWS's default egress revoked, rules added")
    for g in topo.security_groups:
        v = _var("SG", g.name)
        if g.name == "default":
            L.append(f"{v}=$(aws ec2 describe-security-groups --filters Name=vpc-id,Values=$VPC Name=group-name,Values=default "
                     "--query 'SecurityGroups[0].GroupId' --output text)")
            continue
        L += [f"{v}=$(aws ec2 create-security-group --vpc-id $VPC --group-name {q(g.name)} --description "
              f"{q(g.description or g.name)} --query GroupId --output text)",
              f"aws ec2 revoke-security-group-egress --group-id ${v} --ip-permissions "
              "'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]'"]
    for g in topo.security_groups:
        v = _var("SG", g.name)
        for r in g.rules:
            if not r.enabled:
                L.append(f"# {r.id} is switched off in the model: not created")
                continue
            verb = "authorize-security-group-ingress" if r.direction == "inbound" else "authorize-security-group-egress"
            L.append(f"aws ec2 {verb} --group-id ${v} --ip-permissions {_perm(r)}  # {r.id}")
    if topo.vpc_endpoints:
        L.append("\n# VPC endpoints: gateway (routes to the service's prefix list) and interface (ENIs + SGs + private DNS)")
        if topo.dns_hostnames:
            L.append("aws ec2 modify-vpc-attribute --vpc-id $VPC --enable-dns-hostnames '{\"Value\":true}'")
    for e in topo.vpc_endpoints:
        svc = e.service_name(topo.region)
        v = _var("VPCE", e.name)
        if e.type == "gateway":
            tables = " ".join("$" + _var("RT", r) for r in e.route_tables)
            L.append(f"{v}=$(aws ec2 create-vpc-endpoint --vpc-id $VPC --vpc-endpoint-type Gateway --service-name {svc} "
                     f"--route-table-ids {tables} --query VpcEndpoint.VpcEndpointId --output text)")
        else:
            subnets = " ".join("$" + _var("SUBNET", x.subnet) for x in e.enis)
            sgs = " ".join("$" + _var("SG", g) for g in e.sgs)
            pinned = " ".join(f"SubnetId=${_var('SUBNET', x.subnet)},Ipv4={x.ip}" for x in e.enis)
            L.append(f"{v}=$(aws ec2 create-vpc-endpoint --vpc-id $VPC --vpc-endpoint-type Interface --service-name {svc} "
                     f"--subnet-ids {subnets} --security-group-ids {sgs} "
                     f"{'--private-dns-enabled' if e.private_dns else '--no-private-dns-enabled'} "
                     f"--subnet-configurations {pinned} --query VpcEndpoint.VpcEndpointId --output text)")
        L.append(f"aws ec2 create-tags --resources ${v} --tags {_tag(e.name)}")
    L.append("\n# servers (the tierlab:listens tag carries the ports each listens on: application configuration)")
    members = {m for g in topo.auto_scaling_groups for m in g.instances}
    for i in topo.instances:
        if i.name in members:
            continue  # launched by its Auto Scaling group
        v = _var("I", i.name)
        L.append(f"{v}=$(aws ec2 run-instances --image-id \"$AMI\" --instance-type t3.small --subnet-id ${_var('SUBNET', i.subnet)} "
                 f"--private-ip-address {i.ip} --security-group-ids {' '.join('$' + _var('SG', g) for g in i.sgs)} "
                 f"--tag-specifications 'ResourceType=instance,Tags=[{{Key=Name,Value={i.name}}},"
                 f"{{Key=tierlab:listens,Value=\"{listens_tag(i.listens)}\"}}]' "
                 "--query 'Instances[0].InstanceId' --output text)")
    L += _lb(topo) + _asg(topo) + _db(topo)
    return "\n".join(L) + "\n"


def _nacl_entry(v: str, r: NaclRule) -> str:
    way = "--egress" if r.direction == "outbound" else "--ingress"
    ports = f" --port-range From={r.ports.lo},To={r.ports.hi}" if r.protocol in ("tcp", "udp") else ""
    icmp = " --icmp-type-code Code=-1,Type=-1" if r.protocol == "icmp" else ""
    line = (f"aws ec2 create-network-acl-entry --network-acl-id ${v} {way} --rule-number {r.number} "
            f"--protocol {_NACL_PROTO[r.protocol]} --rule-action {r.action} --cidr-block {r.cidr}{ports}{icmp}")
    return line if r.enabled else f"# switched off in the model: {line}"


def _lb(topo: Topology) -> list[str]:
    lb, hc = topo.alb, topo.alb.health_check
    L = ["\n# the load balancer (AWS places a node in each subnet), its target group and listeners",
         f"ALB=$(aws elbv2 create-load-balancer --name {lb.name[:32]} --type application --scheme internet-facing "
         f"--subnets {' '.join('$' + _var('SUBNET', n.subnet) for n in lb.nodes)} --security-groups "
         f"{' '.join('$' + _var('SG', g) for g in lb.sgs)} --query 'LoadBalancers[0].LoadBalancerArn' --output text)",
         f"TG=$(aws elbv2 create-target-group --name {lb.target_group[:32]} --protocol HTTP --port {lb.target_port} "
         f"--vpc-id $VPC --health-check-protocol {hc.protocol} --health-check-path {shlex.quote(hc.path)} "
         f"--health-check-port {'traffic-port' if hc.port == lb.target_port else hc.port} "
         f"--health-check-interval-seconds {hc.interval_s} --health-check-timeout-seconds {hc.timeout_s} "
         f"--healthy-threshold-count {hc.healthy_threshold} --unhealthy-threshold-count {hc.unhealthy_threshold} "
         "--query 'TargetGroups[0].TargetGroupArn' --output text)"]
    if lb.deregistration_delay_s != DEREGISTRATION_DELAY_S:  # AWS's default otherwise
        L.append("aws elbv2 modify-target-group-attributes --target-group-arn $TG --attributes "
                 f"Key=deregistration_delay.timeout_seconds,Value={lb.deregistration_delay_s}")
    members = {m for g in topo.auto_scaling_groups if g.target_group for m in g.instances}
    fixed = [t for t in lb.targets if t not in members]  # a group registers its own members
    if fixed:
        L.append("aws elbv2 register-targets --target-group-arn $TG --targets "
                 + " ".join(f"Id=${_var('I', t)},Port={lb.target_port}" for t in fixed))
    for l in lb.listeners:
        if l.action == "forward":
            act = "Type=forward,TargetGroupArn=$TG"
        else:
            act = f"'Type=redirect,RedirectConfig={{Protocol=HTTPS,Port={l.redirect_port},StatusCode=HTTP_301}}'"
        cert = " --certificates CertificateArn=\"$CERTIFICATE_ARN\"" if l.protocol == "HTTPS" else ""
        L.append(f"aws elbv2 create-listener --load-balancer-arn $ALB --protocol {l.protocol} --port {l.port}{cert} "
                 f"--default-actions {act}")
    return L


def _asg(topo: Topology) -> list[str]:
    """Each group: a launch template, then the group (AWS launches and registers its members)."""
    L = []
    for g in topo.auto_scaling_groups:
        t, v = g.template, _var("LT", g.name)
        sgs = ",".join(f'\\"${_var("SG", x)}\\"' for x in t.sgs)
        data = f'"{{\\"ImageId\\":\\"$AMI\\",\\"InstanceType\\":\\"t3.small\\",\\"SecurityGroupIds\\":[{sgs}]}}"'
        tags = shlex.quote(f"Key=tierlab:members,Value={members_tag(topo, g.instances)},PropagateAtLaunch=false")
        L += [f"\n# Auto Scaling group {g.name}: AWS launches its {g.desired} members over the zones of its subnets "
              f"(they listen on {', '.join(map(str, t.listens))}: application configuration)",
              f"{v}=$(aws ec2 create-launch-template --launch-template-name {shlex.quote(t.name)} "
              f"--launch-template-data {data} --query LaunchTemplate.LaunchTemplateId --output text)",
              f"aws autoscaling create-auto-scaling-group --auto-scaling-group-name {shlex.quote(g.name)} "
              f"--launch-template 'LaunchTemplateId='${v}',Version=$Latest' --min-size {g.min_size} "
              f"--max-size {g.max_size} --desired-capacity {g.desired} --vpc-zone-identifier "
              f"\"{','.join('$' + _var('SUBNET', s) for s in g.subnets)}\" --health-check-type {g.health_check_type} "
              f"--health-check-grace-period {g.grace_period_s}"
              + (" --target-group-arns $TG" if g.target_group else "") + f" --tags {tags}"]
    return L


def _db(topo: Topology) -> list[str]:
    db = topo.database
    return ["\n# the database (RDS picks its subnets and addresses within the group)",
            f"aws rds create-db-subnet-group --db-subnet-group-name {db.name}-subnets --db-subnet-group-description "
            f"'the database subnets' --subnet-ids {' '.join('$' + _var('SUBNET', s) for s in db.subnet_group)}",
            f"aws rds create-db-instance --db-instance-identifier {db.name} --engine {db.engine} --engine-version {db.version} "
            f"--db-instance-class db.t3.medium --allocated-storage 20 --port {db.port} "
            f"{'--multi-az' if db.multi_az else '--no-multi-az'} --db-subnet-group-name {db.name}-subnets "
            f"--vpc-security-group-ids {' '.join('$' + _var('SG', g) for g in db.sgs)} --master-username app "
            "--manage-master-user-password"]
