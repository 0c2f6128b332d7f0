"""Leaving the VPC: NAT gateways, gateway and interface endpoints, evaluated hop by hop, and their laws."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.evaluate import nat_on_path
from tierlab.network.reachability import outbound, session_manager

VPC = tl.load("seed-vpc")
SERVERS = [i.name for i in VPC.servers()]
NAT_TABLES = [r.name for r in VPC.route_tables if any(x.target.startswith("nat-") for x in r.routes)]
S3 = VPC.prefix_list("pl-s3")


def _public(n: int) -> ipaddress.IPv4Address | None:
    ip = ipaddress.IPv4Address(n)
    if ip.is_private or ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_unspecified:
        return None
    return None if ip in S3 else ip


public_ips = st.integers(1 << 24, (224 << 24) - 1).map(_public).filter(lambda x: x is not None)


def reach(topo, src, dst, port=443):
    return tl.can_reach(topo, src, dst if isinstance(dst, str) else str(dst), port)


# ---------------------------------------------------------------------------- the hop-by-hop answer


def test_a_private_server_reaches_the_internet_through_its_zones_nat_hop_by_hop():
    r = reach(VPC, "node-api-1", "internet")
    assert r.ok and r.share == 1.0
    rows = [(c.leg, c.kind, c.component, c.direction, c.at) for c in r.flow.checks]
    assert rows == [
        ("request", "sg", "web-sg", "outbound", ""), ("request", "nacl", "nacl-private-app", "outbound", ""),
        ("request", "route", "rt-private-az1", "", ""), ("request", "nacl", "nacl-public", "inbound", "nat-az1"),
        ("request", "nat", "nat-az1", "", "nat-az1"), ("request", "nacl", "nacl-public", "outbound", "nat-az1"),
        ("request", "route", "rt-public", "", "nat-az1"), ("request", "listener", "internet", "", ""),
        ("reply", "sg", "web-sg", "", ""), ("reply", "nacl", "nacl-public", "inbound", "nat-az1"),
        ("reply", "nat", "nat-az1", "", "nat-az1"), ("reply", "nacl", "nacl-public", "outbound", "nat-az1"),
        ("reply", "route", "rt-public", "", "nat-az1"), ("reply", "nacl", "nacl-private-app", "inbound", ""),
    ]
    nat_in = r.flow.checks[9]
    assert nat_in.ports == tl.PortRange(1024, 65535) and "nacl-public-in-130" in nat_in.rule_ids
    assert r.flow.checks[-1].ports == tl.EPHEMERAL["linux"]  # the server's own range on its own NACL
    assert all(c.reason for c in r.flow.checks)
    frame = r.frame()
    assert list(frame.columns) == ["leg", "kind", "component", "direction", "packet", "verdict", "share", "rule",
                                   "code", "reason"]
    assert "192.0.2.11" in frame.loc[4, "packet"]  # translated to the NAT's Elastic IP


def test_each_server_uses_its_own_zones_nat_and_the_seed_still_has_no_way_out():
    for s in SERVERS:
        nat = nat_on_path(VPC, VPC.endpoint(s), tl.network.reachability._as_destination(VPC, VPC.endpoint("internet")))
        assert VPC.subnet(nat.subnet).az == VPC.subnet(VPC.endpoint(s).subnet).az
    seed = tl.can_reach(tl.load("seed"), "node-api-1", "internet", 443)
    assert not seed.ok and "NO_ROUTE_TO_DESTINATION" in {c.code for c in seed.flow.blocking}


def test_outbound_frame_names_the_way_out_of_every_server():
    f = outbound(VPC)
    assert list(f.columns) == ["source", "destination", "address", "via", "reaches", "share", "blocked_at", "code",
                               "reason"]
    assert f["reaches"].all()
    via = {(r.source, r.destination): r.via for r in f.itertuples()}
    assert via[("node-api-1", "internet")] == "nat-az1" and via[("node-api-3", "internet")] == "nat-az2"
    assert via[("node-api-2", "s3")] == "vpce-s3" and via[("node-api-1", "ssm")] == "local"


def test_session_manager_needs_no_inbound_rule():
    assert not any(r.direction == "inbound" and r.ports.contains(22) for r in VPC.security_group("web-sg").rules
                   if r.peer_cidr is not None and r.peer_cidr.prefixlen == 0)
    f = session_manager(VPC.without_rule("web-sg-in-22"), "node-api-1")
    assert list(f["destination"]) == ["ssm", "ssmmessages", "ec2messages"] and f["reaches"].all()
    assert set(f["address"]) <= {str(e.ip) for e in VPC.service_enis}


def test_private_dns_decides_where_the_name_goes():
    r = reach(VPC, "node-api-1", "ssm")
    assert r.flow.checks[0].kind == "dns" and "10.0.2.101" in r.flow.checks[0].reason
    off = VPC.change_vpc_endpoint("vpce-ssm", private_dns=False)
    r = reach(off, "node-api-1", "ssm")
    assert r.ok and "private DNS is off" in r.flow.checks[0].reason
    assert nat_on_path(off, r.flow.src, r.flow.dst).name == "nat-az1"  # it leaves through the NAT instead
    no_nat = off.without_route("rt-private-az1", "0.0.0.0/0")
    r = reach(no_nat, "node-api-1", "ssm")
    assert not r.ok and r.flow.blocking[0].code == "NO_ROUTE_TO_DESTINATION"
    hostnames_off = VPC.with_vpc_dns(hostnames=False)
    assert "enableDnsHostnames" in reach(hostnames_off, "node-api-1", "ssm").flow.checks[0].reason
    r = reach(VPC.with_vpc_dns(support=False), "node-api-1", "ssm")
    assert not r.ok and [c.code for c in r.flow.checks] == ["DNS_RESOLUTION_FAILED"]


def test_an_interface_endpoint_needs_443_from_the_callers_in_its_sg():
    r = reach(VPC.without_rule("endpoints-sg-in-443"), "node-api-1", "ssm")
    assert not r.ok
    b = r.flow.blocking[0]
    assert (b.kind, b.component, b.direction, b.code) == ("sg", "endpoints-sg", "inbound", "ENI_SG_RULES_MISMATCH")


def test_a_zone_outage_takes_its_nat_and_endpoint_enis_with_it():
    down = VPC.with_zone_down("us-east-1a")
    assert reach(down, "node-api-2", "internet").ok  # its own zone's NAT
    shared = VPC.with_route("rt-private-az2", "0.0.0.0/0", "nat-az1").with_zone_down("us-east-1a")
    r = reach(shared, "node-api-2", "internet")
    assert not r.ok and r.flow.blocking[0].code == "NAT_GATEWAY_UNAVAILABLE"
    assert "ZONE_DOWN" in {c.code for c in reach(down, "node-api-2", "vpce-ssm@private-app-az1").flow.blocking}
    assert reach(down, "node-api-2", "ssm").ok  # private DNS answers with the ENI in the zone that is up


def test_a_zone_outage_takes_everything_in_it_servers_nodes_and_the_database():
    """Whatever lives in a zone that is down sends nothing and answers nothing: a journey at that moment shows
    it (before health checks, DNS or an RDS failover react; their timelines are in tierlab.sim)."""
    down = tl.load("seed").with_zone_down("us-east-1a")
    assert reach(down, "node-api-1", "internet").flow.blocking[0].code == "ZONE_DOWN"
    tr = tl.journey(down, database="standby")
    for p in tr.pairs:
        in_down_zone = "az1" in p.node or p.target == "node-api-1"
        assert p.ok != in_down_zone, p.name
    assert {b.code for b in tr.blocks} == {"ZONE_DOWN"}
    assert not tl.journey(down).ok  # the primary is in us-east-1a: nothing works until the failover


def test_errors_are_tierlab_errors():
    with pytest.raises(tl.TopologyError, match="AWS service"):
        tl.can_reach(VPC, "node-api-1", "sqs")
    with pytest.raises(tl.TopologyError, match="internet asking"):
        tl.can_reach(VPC, "internet", "ssm")
    with pytest.raises(tl.TierlabError):
        tl.can_reach(VPC, "node-api-1", "ssm", 0)


def test_flow_logs_of_a_nat_flow_stop_where_the_nat_subnet_drops_the_reply():
    from tierlab.request.flowlogs import flow_records

    ok = flow_records(reach(VPC, "node-api-1", "internet")).records
    assert [(r.endpoint, r.leg, r.action) for r in ok] == [("node-api-1", "request", "ACCEPT"), ("node-api-1", "reply", "ACCEPT")]
    broken = VPC.without_rule("nacl-public-in-130")
    recs = flow_records(reach(broken, "node-api-1", "internet")).records
    assert [(r.endpoint, r.leg) for r in recs] == [("node-api-1", "request")]  # the reply never reaches the server


# ---------------------------------------------------------------------------- laws


def _internet_flows(topo, dst):
    return {s: reach(topo, s, dst).ok for s in SERVERS}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NAT_TABLES), public_ips)
def test_law_removing_a_nat_route_cuts_exactly_the_internet_flows_of_that_tables_subnets(table, dst):
    before = _internet_flows(VPC, dst)
    after = _internet_flows(VPC.without_route(table, "0.0.0.0/0"), dst)
    for s in SERVERS:
        mine = VPC.subnet(VPC.endpoint(s).subnet).route_table == table
        assert after[s] == (before[s] and not mine), (s, table, dst)
    s3 = {s: reach(VPC.without_route(table, "0.0.0.0/0"), s, "s3").ok for s in SERVERS}
    assert all(s3.values())  # the gateway endpoint's flows never went through the NAT


ROUTINGS = {"own zone": {}, "all to nat-az1": {"rt-private-az2": "nat-az1"}, "all to nat-az2": {"rt-private-az1": "nat-az2"}}


@pytest.mark.parametrize("routing", list(ROUTINGS))
@pytest.mark.parametrize("down", [(), ("us-east-1a",), ("us-east-1b",), ("us-east-1a", "us-east-1b")])
def test_law_a_zone_outage_cuts_egress_exactly_where_the_route_points_at_its_nat(routing, down):
    topo = VPC
    for table, nat in ROUTINGS[routing].items():
        topo = topo.with_route(table, "0.0.0.0/0", nat)
    topo = topo.with_zone_down(*down) if down else topo
    for s in SERVERS:
        table = topo.subnet(topo.endpoint(s).subnet).route_table
        nat = next(r.target for r in topo.route_table(table).routes if str(r.destination) == "0.0.0.0/0")
        r = reach(topo, s, "internet")
        if topo.subnet(topo.endpoint(s).subnet).az in down:  # the server's own zone is down: it sends nothing
            assert r.flow.blocking[0].code == "ZONE_DOWN"
            continue
        # an up zone loses its egress exactly when its route points at the NAT of a zone that is down
        assert r.ok == (topo.subnet(topo.nat_gateway(nat).subnet).az not in down), (s, routing, down)
        if not r.ok:
            assert [b.code for b in r.flow.blocking] == ["NAT_GATEWAY_UNAVAILABLE"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(list(S3.cidrs)), st.integers(0, 2**17 - 1), st.sampled_from(NAT_TABLES))
def test_law_the_gateway_endpoints_route_wins_over_the_nat_for_the_services_prefixes(cidr, offset, table):
    ip = cidr.network_address + (offset % cidr.num_addresses)
    rt = VPC.routes_of(table)
    assert rt.lookup(ip).target == "vpce-s3"
    # longest prefix, not the kind of target: a more specific NAT route inside the list takes its addresses back
    inner = ipaddress.IPv4Network(f"{ip}/24", strict=False)
    more = VPC.with_route(table, str(inner), rt.lookup(ipaddress.IPv4Address("8.8.8.8")).target).routes_of(table)
    assert more.lookup(ip).target.startswith("nat-")
    assert more.lookup(cidr.network_address if cidr.network_address not in inner else cidr.broadcast_address).target == "vpce-s3"


@settings(max_examples=40, deadline=None)
@given(st.integers(1024, 32768), st.integers(60999, 65535))
def test_law_the_public_nacl_must_admit_the_nats_ports_not_the_servers(lo, hi):
    topo = VPC.change_rule("nacl-public-in-130", ports=f"{lo}-{hi}")
    r = reach(topo, "node-api-1", "internet")
    nat_in = next(c for c in r.flow.checks if c.leg == "reply" and c.at and c.kind == "nacl" and c.direction == "inbound")
    assert r.ok == (lo == 1024 and hi == 65535)
    assert r.share == pytest.approx((hi - lo + 1) / (65535 - 1024 + 1))
    assert nat_in.verdict == ("allow" if r.ok else "partial")
    own = next(c for c in r.flow.checks if c.leg == "reply" and not c.at and c.kind == "nacl")
    assert own.verdict == "allow"  # the server's own NACL admits its range either way: the NAT hop breaks it


def test_frames_of_nat_gateways_and_endpoints_have_a_reason():
    one_nat = VPC.with_route("rt-private-az2", "0.0.0.0/0", "nat-az1")
    f = one_nat.nat_gateways_frame()
    row = f.set_index("nat_gateway").loc["nat-az1"]
    assert row["route_tables"] == "rt-private-az1, rt-private-az2" and "us-east-1b" in row["reason"]
    assert not one_nat.with_zone_down("us-east-1a").nat_gateways_frame().set_index("nat_gateway").loc["nat-az1", "up"]
    e = VPC.vpc_endpoints_frame().set_index("endpoint")
    assert e.loc["vpce-s3", "type"] == "gateway" and "52.216.0.0/15" in e.loc["vpce-s3", "reason"]
    assert e.loc["vpce-ssm", "service"] == "com.amazonaws.us-east-1.ssm"
    assert "nat-az1 10.0.1.20" in VPC.subnets_frame().set_index("subnet").loc["public-az1", "holds"]


def test_a_server_in_a_zone_that_is_down_reaches_nothing():
    down = VPC.with_zone_down("us-east-1a")
    f = outbound(down)
    in_a = f["source"].map(lambda s: down.subnet(down.endpoint(s).subnet).az == "us-east-1a")
    assert in_a.any() and (~in_a).any()
    assert not f[in_a]["reaches"].any() and set(f[in_a]["code"]) == {"ZONE_DOWN"}
    assert f[~in_a]["reaches"].all()
