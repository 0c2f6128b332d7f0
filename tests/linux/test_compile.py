"""The compiled rules, read as text: laws that need no root."""

from __future__ import annotations

import re

import tierlab as tl
from tierlab.linux import compile as C


def _all_text(topo):
    p = C.plan(topo)
    return "".join(C.nft_script(topo, p, k) for k in p.keys)


def test_every_enabled_rule_carries_its_id_as_a_comment():
    topo = tl.load("seed")
    text = _all_text(topo)
    for r in topo.rules():
        assert f'comment "{r.id}"' in text, r.id
    for rid in topo.default_rule_ids():
        assert f'comment "{rid}"' in text, rid


def test_a_switched_off_rule_disappears_and_only_its_chain_changes():
    topo = tl.load("seed")
    p = C.plan(topo)
    before = C.mutable_chains(topo, p)
    after = C.mutable_chains(topo.switch_off("nacl-private-db-in-100"), p)
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [("router", "nacl_nacl_private_db_in")]
    assert not any("nacl-private-db-in-100" in r for r in after[changed[0]])


def test_nacl_rules_run_lowest_number_first_and_end_in_the_star_drop():
    topo = tl.load("seed").add_nacl_rule("nacl-public", "inbound", number=50, action="deny", ports=443,
                                          cidr="203.0.113.0/24")
    rules = C.nacl_rules(topo.nacl("nacl-public"), "inbound")
    numbers = [int(m.group(1)) for r in rules if (m := re.search(r'nacl-public-in-(\d+)"', r))]
    assert numbers == sorted(numbers) and numbers[0] == 50
    assert rules[0].endswith('drop comment "nacl-public-in-50"')
    assert rules[-1] == 'counter drop comment "nacl-public-in-star"'
    assert all(r.split("counter ")[1].startswith(("return", "drop")) for r in rules)


def test_an_sg_reference_becomes_the_member_addresses():
    topo = tl.load("seed")
    p = C.plan(topo)
    rule = next(r for r in C.sg_rules(topo, p.host("rds-primary"), "inbound") if "database-sg-in-5432" in r)
    for name in ("node-api-1", "node-api-2", "node-api-3"):
        assert str(topo.endpoint(name).ip) in rule
    assert "th dport 5432" in rule and "accept" in rule


def test_each_route_table_is_a_linux_table_and_local_throws_to_main():
    topo = tl.load("seed")
    lines = C.route_lines(topo, C.plan(topo))
    assert "route add throw 10.0.0.0/16 table 100" in lines
    assert any(l.startswith("route add 0.0.0.0/0 via 203.0.113.10 dev igw onlink table 100") for l in lines)
    assert not any("0.0.0.0/0" in l and "table 101" in l for l in lines)  # rt-private: no way out


def test_limits_are_written_down():
    assert {k for k, _ in C.LIMITS} >= {"security groups", "untracked flows", "TLS"}


def test_without_root_the_reason_is_one_line(monkeypatch):
    from tierlab.linux import netns

    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    reason = netns.skip_reason()
    assert reason and "root" in reason and "\n" not in reason


def test_a_nat_gateway_is_a_namespace_that_masquerades_to_ports_1024_65535():
    topo = tl.load("seed-vpc")
    p = C.plan(topo)
    nat = p.host("nat-az1")
    assert (nat.kind, str(nat.ip), str(nat.public_ip), nat.sgs) == ("nat", "10.0.1.20", "192.0.2.11", ())
    text = C.nft_script(topo, p, "nat-az1")
    assert "masquerade to :1024-65535 fully-random" in text
    assert not any(k == "nat-az1" for k, _ in C.mutable_chains(topo, p))  # no security group to rewrite
    igw = C.nft_script(topo, p, "internet")
    assert "ip saddr 10.0.1.20 snat to 192.0.2.11" in igw  # the internet gateway gives it the Elastic IP


def test_private_routes_lead_to_their_zones_nat_and_s3_prefixes_to_the_gateway_endpoint():
    topo = tl.load("seed-vpc")
    p = C.plan(topo)
    lines = C.route_lines(topo, p)
    tables = dict(p.tables)
    nat1, nat2 = p.host("nat-az1"), p.host("nat-az2")
    assert f"route add 0.0.0.0/0 via 10.0.1.20 dev {nat1.iface} onlink table {tables['rt-private-az1']}" in lines
    assert f"route add 0.0.0.0/0 via 10.0.11.20 dev {nat2.iface} onlink table {tables['rt-private-az2']}" in lines
    s3 = p.gateway("vpce-s3")
    assert s3 is not None and "vpce-s3" in p.outside
    for cidr in ("52.216.0.0/15", "54.231.0.0/17"):
        for rt in ("rt-private-az1", "rt-private-az2"):
            assert f"route add {cidr} via {s3.link} dev {s3.iface} onlink table {tables[rt]}" in lines
    assert not any(f"table {tables['rt-private-db']}" in l and "0.0.0.0/0" in l for l in lines)


def test_interface_endpoints_are_enis_with_their_security_groups():
    topo = tl.load("seed-vpc")
    p = C.plan(topo)
    eni = p.host("vpce-ssm@private-app-az1")
    assert (eni.kind, str(eni.ip), eni.sgs, eni.listens) == ("vpce", "10.0.2.101", ("endpoints-sg",), (443,))
    rules = C.sg_rules(topo, eni, "inbound")
    assert len(rules) == 1 and "10.0.2.45" in rules[0] and "th dport 443" in rules[0]


def test_a_zone_outage_drops_everything_to_and_from_its_subnets_before_any_nacl():
    topo = tl.load("seed-vpc")
    p = C.plan(topo)
    assert C.mutable_chains(topo, p)[("router", "zones")] == []
    down = C.mutable_chains(topo.with_zone_down("us-east-1a"), p)[("router", "zones")]
    groups = dict(p.groups)
    az1 = sorted(groups[s.name] for s in topo.subnets if s.az == "us-east-1a")
    assert down == [f'meta iifgroup {{ {", ".join(map(str, az1))} }} counter drop comment "zone us-east-1a down"',
                    f'meta oifgroup {{ {", ".join(map(str, az1))} }} counter drop comment "zone us-east-1a down"']
    assert C.forward_rules(topo, p)[0] == "jump zones"


def test_replan_keeps_what_stays_and_gives_what_comes_a_fresh_interface():
    """An Auto Scaling group's members at two times: the ENIs that stay keep their router-side interface,
    a launched one gets an unused one, a terminated one goes; anything but an instance moving is refused."""
    import pytest

    from tierlab.errors import TierlabError

    base = tl.load("seed-asg")
    old = C.plan(base)
    later = tl.zone_outage_timeline(base).topology_at(900)  # zone a's three members replaced in zone b
    new, gone, born = C.replan(old, C.plan(later), len(old.hosts))
    assert {h.key for h in gone} == {"node-api-1", "node-api-4", "node-api-5"}
    assert {h.key for h in born} == {"api-asg-1", "api-asg-2", "api-asg-3"}
    stay = {h.key: h.iface for h in old.hosts if h.key not in {g.key for g in gone}}
    assert {h.key: h.iface for h in new.hosts if h.key in stay} == stay
    ifaces = [h.iface for h in (*old.hosts, *born)]
    assert len(set(ifaces)) == len(ifaces)  # no launched ENI takes an interface name still in use
    assert {h.subnet for h in born} == {"private-app-az2"}
    same, g2, b2 = C.replan(old, C.plan(base), len(old.hosts))
    assert (same, g2, b2) == (old, (), ())
    moved = base.change_rule("alb-public-sg-in-443", ports="8443")  # rules only: no ENI comes or goes
    assert C.replan(old, C.plan(moved), 99)[1:] == ((), ())
    import dataclasses
    import ipaddress

    n1, n2 = base.alb.nodes
    node_moved = dataclasses.replace(base, alb=dataclasses.replace(
        base.alb, nodes=(dataclasses.replace(n1, ip=ipaddress.IPv4Address("10.0.1.11")), n2)))
    with pytest.raises(TierlabError, match="moves alb-node-az1: the lab can launch and terminate instances"):
        C.replan(old, C.plan(node_moved), len(old.hosts))
    with pytest.raises(TierlabError, match="build a new lab"):
        C.replan(old, C.plan(tl.load("seed")), len(old.hosts))  # another topology altogether
