"""Rules: port ranges, NACL first-match over port ranges, security-group matching, laws."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.rules import NaclRule, NetworkAcl, PortRange, nacl_decide

NET = ipaddress.IPv4Network
IP = ipaddress.IPv4Address


@pytest.mark.parametrize("text,lo,hi", [(443, 443, 443), ("1024-65535", 1024, 65535), ("all", 0, 65535), ([1, 2], 1, 2)])
def test_port_range_parse(text, lo, hi):
    assert PortRange.parse(text) == PortRange(lo, hi)


@pytest.mark.parametrize("bad", ["http", "1-2-3", -1, 65536, True])
def test_bad_ports_are_rule_errors(bad):
    with pytest.raises(tl.RuleError):
        PortRange.parse(bad)


def acl(*rules):
    return NetworkAcl("n", tuple(NaclRule(nacl="n", number=num, direction="inbound", action=act, protocol="tcp", ports=PortRange.parse(p), cidr=NET(c))
                                 for num, act, p, c in rules))


def test_first_match_wins_by_number_not_by_order():
    a = acl((200, "allow", "all", "0.0.0.0/0"), (100, "deny", "5432", "10.0.0.0/8"))
    d = nacl_decide(a, "inbound", "tcp", IP("10.0.2.45"), PortRange(5432, 5432))
    assert d.verdict == "deny" and d.segments[0].rule.number == 100


def test_nothing_matches_means_the_star_rule_denies():
    d = nacl_decide(acl((100, "allow", "443", "0.0.0.0/0")), "inbound", "tcp", IP("1.2.3.4"), PortRange(80, 80))
    assert d.verdict == "deny" and d.segments[0].rule is None and d.rule_ids == ["n-in-star"]


def test_partial_share_of_an_ephemeral_range():
    d = nacl_decide(acl((100, "allow", "49152-65535", "0.0.0.0/0")), "inbound", "tcp", IP("1.2.3.4"),
                    tl.EPHEMERAL["linux"])
    assert d.verdict == "partial"
    assert d.share == pytest.approx((60999 - 49152 + 1) / (60999 - 32768 + 1))


ports = st.integers(0, 65535)
cidrs = st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "10.0.2.0/23", "10.0.2.0/24", "10.0.5.0/24", "192.168.0.0/16"])
# a rule's range may start at 0 but never be port 0 alone (AWS: 0 only as the start of a range)
rule_st = st.tuples(st.integers(1, 32766), st.sampled_from(["allow", "deny"]), ports, st.integers(1, 65535), cidrs)


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_st, max_size=8, unique_by=lambda r: r[0]), st.sampled_from(["10.0.2.45", "10.0.5.42", "8.8.8.8"]),
       ports)
def test_law_the_lowest_numbered_matching_rule_decides(rules, ip, port):
    built = acl(*[(n, a, f"{min(p, q)}-{max(p, q)}", c) for n, a, p, q, c in rules])
    d = nacl_decide(built, "inbound", "tcp", IP(ip), PortRange(port, port))
    matching = sorted((r for r in built.rules if IP(ip) in r.cidr and r.ports.contains(port)), key=lambda r: r.number)
    expected = matching[0].action if matching else "deny"
    assert d.verdict == expected
    assert (d.segments[0].rule is None) == (not matching)
    if matching:
        assert d.segments[0].rule.number == matching[0].number


@settings(max_examples=200, deadline=None)
@given(ports, ports, ports, ports, st.sampled_from(list(tl.EPHEMERAL)))
def test_law_a_narrower_ephemeral_rule_never_lets_more_connections_through(a, b, c, d, os):
    outer = PortRange(min(a, b), max(a, b))
    lo, hi = sorted((min(max(c, outer.lo), outer.hi), min(max(d, outer.lo), outer.hi)))
    inner = PortRange(lo, hi)
    eph = tl.EPHEMERAL[os]
    wide = nacl_decide(acl((100, "allow", outer, "0.0.0.0/0")), "inbound", "tcp", IP("1.2.3.4"), eph)
    narrow = nacl_decide(acl((100, "allow", inner, "0.0.0.0/0")), "inbound", "tcp", IP("1.2.3.4"), eph)
    assert narrow.share <= wide.share


def test_safe_ids_have_no_hyphens():
    for r in tl.load("seed").rules():
        assert "-" not in r.safe_id and r.safe_id.replace("_", "").isalnum()
