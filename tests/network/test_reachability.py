"""Reachability questions: can A reach B, who can reach B, what a rule opens."""

import pytest

import tierlab as tl


def test_can_reach_names_every_blocking_point():
    t = tl.load("seed")
    r = tl.can_reach(t, "node-api-1", "internet", 443)
    assert not r.ok
    codes = {c.code for c in r.flow.blocking}
    assert "NO_ROUTE_TO_DESTINATION" in codes  # a private subnet has no way out without NAT
    assert "NO_ROUTE_TO_DESTINATION" in r.reason and len(r.frame()) == len(r.flow.checks)


def test_who_can_reach_the_database_on_seed_is_the_api_servers_only():
    df = tl.who_can_reach(tl.load("seed"), "rds-primary", 5432)
    assert set(df[df.reaches].source) == {"node-api-1", "node-api-2", "node-api-3"}
    assert df["reason"].str.len().min() > 10
    internet = df.set_index("source").loc["internet"]
    assert not internet.reaches and internet.code == "NO_ROUTE_TO_DESTINATION"


def test_zero_slash_zero_on_5432_exposes_the_database_to_any_host_the_nacls_let_through():
    t = tl.load("seed")
    wide = t.add_sg_rule("database-sg", "inbound", ports=5432, cidr="0.0.0.0/0")
    before = set(tl.who_can_reach(t, "rds-primary", 5432).query("reaches").source)
    after = set(tl.who_can_reach(wide, "rds-primary", 5432).query("reaches").source)
    assert before < after
    assert "any-host-in-private-app-az1" in after - before
    assert "internet" not in after  # no route from the internet: the other layers still hold
    opened = tl.what_opens(wide, "database-sg-in-5432-2")
    assert "any-host-in-private-app-az1" in set(opened.source)
    assert (opened.with_rule > opened.without_rule).all()


def test_what_opens_the_web_sg_rule():
    df = tl.what_opens(tl.load("seed"), "web-sg-in-3000")
    assert set(df.source) == {"alb-node-az1", "alb-node-az2"}
    assert set(df.destination) == {"node-api-1", "node-api-2", "node-api-3"}


def test_web_sg_egress_to_anywhere_on_5432_lets_the_servers_reach_any_host_on_5432():
    t = tl.load("seed")
    loose = t.change_rule("web-sg-out-5432", cidr="0.0.0.0/0")
    target = "any-host-in-private-db-az1"
    probe = next(p for p in tl.network.reachability.probe_hosts(t) if p.name == target)
    assert tl.evaluate_flow(loose, loose.endpoint("node-api-1"), probe, 5432).checks[0].verdict == "allow"
    assert tl.evaluate_flow(t, t.endpoint("node-api-1"), probe, 5432).checks[0].verdict == "deny"


def test_an_instance_without_a_public_address_cannot_use_the_internet_gateway():
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    raw["subnets"]["private-app-az1"]["route_table"] = "rt-public"  # a "public" subnet for Server 1
    raw["nacls"]["nacl-private-app"]["outbound"].append({"number": 200, "action": "allow", "ports": 443, "cidr": "0.0.0.0/0"})
    raw["nacls"]["nacl-private-app"]["inbound"].append({"number": 200, "action": "allow", "ports": "1024-65535", "cidr": "0.0.0.0/0"})
    r = tl.can_reach(tl.load_dict(raw), "node-api-1", "internet", 443)
    assert not r.ok and "no public IPv4 address" in r.reason


def test_icmp_needs_no_listener():
    t = tl.load("seed").add_sg_rule("web-sg", "inbound", ports="all", protocol="icmp", sg="alb-public-sg")
    t = t.add_sg_rule("alb-public-sg", "outbound", ports="all", protocol="icmp", sg="web-sg")
    for n in ("nacl-public", "nacl-private-app"):
        for d in ("inbound", "outbound"):
            t = t.add_nacl_rule(n, d, number=5, action="allow", ports="all", cidr="10.0.0.0/16", protocol="icmp")
    r = tl.can_reach(t, "alb-node-az1", "node-api-1", 0, protocol="icmp")
    assert r.ok, r.reason


def test_who_can_reach_compare_puts_each_versions_who_can_reach_side_by_side():
    seed = tl.load("seed")
    as_cidr = seed.change_rule("web-sg-in-3000", cidr="10.0.1.0/24")
    both = tl.who_can_reach_compare({"sg": seed, "cidr": as_cidr}, "node-api-1", 3000)
    for label, topo in (("sg", seed), ("cidr", as_cidr)):
        alone = tl.who_can_reach(topo, "node-api-1", 3000)
        assert list(both["source"]) == list(alone["source"]) and list(both[label]) == list(alone["reaches"])
    row = both.set_index("source")
    assert row.loc["alb-node-az2", "reason"] == "reaches only under sg"  # the CIDR shuts out the second node
    assert row.loc["any-host-in-public-az1", "reason"] == "reaches only under cidr"  # and lets in its neighbours
    assert row.loc["alb-node-az1", "reason"] == "reaches under every version"
    with pytest.raises(tl.TierlabError, match="no topologies"):
        tl.who_can_reach_compare({}, "node-api-1", 3000)
