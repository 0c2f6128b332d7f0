"""Connection tracking (DESIGN.md AWS semantics 4) and the default SG / NACL / prefix lists (2, 3, 7)."""

import tierlab as tl
from tierlab.network.tracking import connection_tracking


def test_seed_flows_are_tracked():
    df = connection_tracking(tl.load("seed"), "internet", "alb-node-az1", 443)
    row = df.set_index("eni").loc["alb-node-az1"]
    # alb-public-sg allows 443 from anywhere, but its outbound is only 3000 to web-sg: tracked
    assert row.tracked and "survive" in row.if_rule_removed
    assert (df.reason.str.len() > 10).all()


def test_open_both_ways_is_untracked_and_cut_at_once():
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    del raw["security_groups"]["alb-public-sg"]["egress"]  # AWS default: all traffic to 0.0.0.0/0
    t = tl.load_dict(raw)
    row = connection_tracking(t, "internet", "alb-node-az1", 443).set_index("eni").loc["alb-node-az1"]
    assert not row.tracked and "cut at once" in row.if_rule_removed


def test_sg_reference_is_tracked():
    row = connection_tracking(tl.load("seed"), "node-api-1", "rds-primary", 5432).set_index("eni").loc["rds-primary"]
    assert row.tracked and row.rules == "database-sg-in-5432"


def test_default_security_group_admits_its_own_members_and_default_nacl_allows_all():
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    raw["security_groups"]["default"] = {"description": "the VPC's default group"}
    raw["nacls"]["nacl-default"] = {"default": True}
    raw["subnets"]["private-app-az1"]["nacl"] = "nacl-default"
    raw["subnets"]["private-app-az2"]["nacl"] = "nacl-default"
    raw["instances"]["node-api-1"]["sgs"] = ["web-sg", "default"]
    raw["instances"]["node-api-2"]["sgs"] = ["web-sg", "default"]
    t = tl.load_dict(raw)
    assert {r.id for r in t.security_group("default").rules} == {"default-in-all", "default-out-all"}
    assert tl.can_reach(t, "node-api-2", "node-api-1", 3000).ok  # members reach each other
    assert not tl.can_reach(t, "node-api-3", "node-api-1", 3000).ok  # node-api-3 is not a member
    assert len(t.nacl("nacl-default").rules) == 2 and all(r.action == "allow" for r in t.nacl("nacl-default").rules)
    # a custom NACL with no rules denies everything
    raw["nacls"]["nacl-empty"] = {}
    raw["subnets"]["private-app-az2"]["nacl"] = "nacl-empty"
    t2 = tl.load_dict(raw)
    assert not tl.journey(t2).ok


def test_prefix_list_peer():
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    raw["prefix_lists"] = {"pl-partners": ["198.51.100.0/24"]}
    raw["security_groups"]["alb-public-sg"]["ingress"][1] = {"ports": 443, "prefix_list": "pl-partners"}
    t = tl.load_dict(raw)
    assert not tl.journey(t).ok  # the client 203.0.113.10 is not a partner
    raw["prefix_lists"]["pl-partners"].append("203.0.113.0/24")
    assert tl.journey(tl.load_dict(raw)).ok
    raw["security_groups"]["alb-public-sg"]["ingress"][1]["prefix_list"] = "pl-nope"
    try:
        tl.load_dict(raw)
    except tl.ValidationError as e:
        assert any("unknown prefix list 'pl-nope'" in p.message for p in e.problems)
    else:
        raise AssertionError("an unknown prefix list must be refused")


def test_tcp_on_every_port_to_anywhere_also_makes_the_flow_untracked():
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    raw["security_groups"]["alb-public-sg"]["egress"] = [{"ports": "0-65535", "cidr": "0.0.0.0/0"}]
    t = tl.load_dict(raw)
    row = connection_tracking(t, "internet", "alb-node-az1", 443).set_index("eni").loc["alb-node-az1"]
    assert not row.tracked
    raw["security_groups"]["alb-public-sg"]["egress"] = [{"ports": "1024-65535", "cidr": "0.0.0.0/0"}]
    row = connection_tracking(tl.load_dict(raw), "internet", "alb-node-az1", 443).set_index("eni").loc["alb-node-az1"]
    assert row.tracked  # not every port: tracked
