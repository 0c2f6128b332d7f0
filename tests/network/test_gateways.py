"""NAT gateways, VPC endpoints and route targets: the loader and the model refuse the same things, with the
same message (one validation function, tierlab.network.gateways.gateway_problems)."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

import tierlab as tl

RAW = tl.read_yaml(tl.data_path("topologies", "seed-vpc.yaml"))
VPC = tl.load("seed-vpc")


def problems(*patch):
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(tl.apply_patch(RAW, list(patch)))
    return exc.value.problems


def one(probs, path, text):
    hits = [p for p in probs if path in p.path and text in p.message]
    assert hits, f"expected {path!r} / {text!r}, got {[str(p) for p in probs]}"
    assert all(h.hint for h in hits)
    return hits[0]


def test_seed_vpc_loads_with_a_nat_per_zone_and_endpoints():
    assert {n.name: VPC.subnet(n.subnet).az for n in VPC.nat_gateways} == {"nat-az1": "us-east-1a", "nat-az2": "us-east-1b"}
    assert {e.service for e in VPC.vpc_endpoints} == {"s3", "ssm", "ssmmessages", "ec2messages", "secretsmanager"}
    assert VPC.dns_support and VPC.dns_hostnames
    rt = VPC.routes_of("rt-private-az1")
    s3 = ipaddress.IPv4Address("52.216.8.10")
    assert rt.lookup(s3).target == "vpce-s3"  # longest prefix: /15 beats 0.0.0.0/0
    assert rt.lookup(ipaddress.IPv4Address("198.51.100.20")).target == "nat-az1"
    assert VPC.route_table("rt-private-az1").lookup(s3).target == "nat-az1"  # the table as written has no pl route


def test_seed_files_are_unchanged_by_the_new_sections():
    for name in ("seed", "seed-as-written"):
        t = tl.load(name)
        assert t.nat_gateways == () and t.vpc_endpoints == ()


@pytest.mark.parametrize("patch, path, text", [
    (["route_tables.rt-private-az1[1].target", "nat-az9"], "route_tables.rt-private-az1[1].target", "'nat-az9' is not in this topology"),
    (["nat_gateways.nat-az1.subnet", "private-app-az1"], "nat_gateways.nat-az1.subnet", "is not a public subnet"),
    (["nat_gateways.nat-az1", {"subnet": "public-az1", "private_ip": "10.0.1.20"}], "nat_gateways.nat-az1.elastic_ip", "has no Elastic IP"),
    (["nat_gateways.nat-az1.elastic_ip", "10.0.1.99"], "nat_gateways.nat-az1.elastic_ip", "is a private address"),
    (["nat_gateways.nat-az1.private_ip", "10.0.2.20"], "nat_gateways.nat-az1.private_ip", "does not contain"),
    (["nat_gateways.nat-az1.private_ip", "10.0.1.10"], "nat_gateways.nat-az1.private_ip", "already used by ALB node"),
    (["nat_gateways.nat-az1.subnet", "nowhere"], "nat_gateways.nat-az1.subnet", "unknown subnet"),
    (["route_tables.rt-private-az1[+]", {"destination": "10.0.5.0/24", "target": "nat-az1"}], "destination", "points VPC addresses at NAT gateway"),
    (["route_tables.rt-private-az1[+]", {"destination": "1.2.3.0/24", "target": "vpce-s3"}], "target", "names gateway endpoint"),
    (["route_tables.rt-private-az1[+]", {"destination": "1.2.3.0/24", "target": "vpce-ssm"}], "target", "is not a route target"),
    (["vpc_endpoints.vpce-s3.prefix_list", "pl-nope"], "vpc_endpoints.vpce-s3.prefix_list", "unknown prefix list"),
    (["vpc_endpoints.vpce-s3.route_tables", ["rt-nope"]], "vpc_endpoints.vpce-s3.route_tables", "unknown route table"),
    (["vpc_endpoints.vpce-s3.service", "ssm"], "vpc_endpoints.vpce-s3.service", "no gateway endpoint for service"),
    (["vpc_endpoints.vpce-ssm.sgs", []], "vpc_endpoints.vpce-ssm.sgs", "has no security group"),
    (["vpc_endpoints.vpce-ssm.subnets[1].subnet", "private-app-az1"], "vpc_endpoints.vpce-ssm.subnets[1].subnet", "two subnets in us-east-1a"),
    (["vpc_endpoints.vpce-ssm.subnets[0].ip", "10.0.2.45"], "vpc_endpoints.vpce-ssm.subnets[0].ip", "already used by instance 'node-api-1'"),
    (["vpc_endpoints.vpce-ssm.type", "tunnel"], "vpc_endpoints.vpce-ssm.type", "is unknown"),
    (["vpc.dns_hostnames", "yes"], "vpc.dns_hostnames", "is not true or false"),
    (["nat_gateways.vpce-ssm", {"subnet": "public-az2", "elastic_ip": "192.0.2.13", "private_ip": "10.0.11.21"}], "vpce-ssm", "already used by NAT gateway"),
])
def test_each_mistake_is_a_problem_with_its_path_and_a_hint(patch, path, text):
    one(problems(patch), path, text)


def test_the_model_refuses_what_the_loader_refuses_with_the_same_message():
    """One validation path: a what-if that builds the same mistake raises the loader's message."""
    loader = one(problems(["nat_gateways.nat-az1.subnet", "private-app-az1"]), "nat_gateways.nat-az1.subnet", "not a public")
    bad = dataclasses.replace(VPC.nat_gateway("nat-az1"), subnet="private-app-az1")
    with pytest.raises(tl.TopologyError) as exc:
        VPC.with_nat_gateway(bad)
    assert (exc.value.message, exc.value.hint) == (loader.message, loader.hint)
    loader = one(problems(["route_tables.rt-private-az1[1].target", "nat-az9"]), "target", "is not in this topology")
    with pytest.raises(tl.TopologyError) as exc:
        VPC.with_route("rt-private-az1", "0.0.0.0/0", "nat-az9")
    assert exc.value.message == loader.message
    with pytest.raises(tl.TopologyError, match="is not in this topology"):
        dataclasses.replace(VPC, nat_gateways=())  # routes still point at the NATs


def test_what_ifs_on_nat_and_endpoints():
    one_nat = VPC.with_route("rt-private-az2", "0.0.0.0/0", "nat-az1")
    assert one_nat.route_table("rt-private-az2").lookup(ipaddress.IPv4Address("8.8.8.8")).target == "nat-az1"
    with pytest.raises(tl.TopologyError, match="still send traffic"):
        VPC.without_nat_gateway("nat-az1")
    assert not VPC.without_vpc_endpoint("vpce-s3").routes_of("rt-private-az1").routes[-1].prefix_list
    assert VPC.change_vpc_endpoint("vpce-ssm", private_dns=False).vpc_endpoint("vpce-ssm").private_dns is False
    with pytest.raises(tl.ParameterError, match="cannot change"):
        VPC.change_vpc_endpoint("vpce-ssm", service="kms")
    with pytest.raises(tl.TopologyError, match="no availability zone"):
        VPC.with_zone_down("us-east-1z")
    assert VPC.with_zone_down("us-east-1a").zones_down == ("us-east-1a",)
    with pytest.raises(tl.TopologyError, match="no NAT gateway named"):
        VPC.nat_gateway("nat-az3")


def test_exporters_write_nat_gateways_and_endpoints_not_internet_gateway_routes():
    tf = tl.to_terraform(VPC)
    assert 'resource "aws_nat_gateway" "nat_az1"' in tf and "nat_gateway_id         = aws_nat_gateway.nat_az1.id" in tf
    assert "aws_internet_gateway.nat_az1" not in tf
    assert 'service_name      = "com.amazonaws.us-east-1.s3"' in tf and "private_dns_enabled = true" in tf
    cli = tl.to_aws_cli(VPC)
    assert "--nat-gateway-id $NAT_NAT_AZ2" in cli and "create-nat-gateway --subnet-id $SUBNET_PUBLIC_AZ2" in cli
    assert "--vpc-endpoint-type Interface --service-name com.amazonaws.us-east-1.ssm" in cli
    assert tl.to_terraform(tl.load("seed")).count("aws_nat_gateway") == 0
