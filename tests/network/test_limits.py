"""One place for AWS's limits: the loader and every what-if refuse the same values with the same message.

Each case writes one bad value twice: into a topology file (the loader must report it) and as a
what-if on the loaded seed (``Topology.add_*``/``change_rule``/``with_*``, ``tl.edge.what_if``,
``tl.dns.move_alb`` and the course's what-if specs). The what-if must raise a TierlabError whose
message is one of the loader's problems, word for word.
"""

from __future__ import annotations

import ipaddress

import pytest

import tierlab as tl
from tierlab.course.scenarios import apply_whatif
from tierlab.network import limits
from tierlab.network.topology import Instance

SEED_RAW = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
SEED = tl.load("seed")
IP = ipaddress.IPv4Address


def nacl_entry(**over):
    return {"number": 120, "action": "allow", "ports": 8080, "cidr": "0.0.0.0/0", **over}


def add_nacl(t, **over):
    e = nacl_entry(**over)
    return t.add_nacl_rule("nacl-public", "inbound", number=e["number"], action=e["action"], ports=e["ports"],
                           cidr=e["cidr"], **({"protocol": e["protocol"]} if "protocol" in e else {}))


def nacl_spec(**over):
    return lambda t: apply_whatif(t, {"add_nacl": [{"nacl": "nacl-public", "direction": "inbound",
                                                    **nacl_entry(**over)}]})


def sg_entry(**over):
    return {"ports": 8080, "cidr": "0.0.0.0/0", **over}


def add_sg(t, **over):
    return t.add_sg_rule("web-sg", "inbound", **sg_entry(**over))


def server(**over):
    fields = {"name": "node-api-4", "ip": IP("10.0.2.46"), "subnet": "private-app-az1", "sgs": ("web-sg",), **over}
    return Instance(**fields)


def server_yaml(**over):
    body = {"ip": "10.0.2.46", "subnet": "private-app-az1", "sgs": ["web-sg"], **over}
    return {k: (str(v) if isinstance(v, IP) else list(v) if isinstance(v, tuple) else v) for k, v in body.items()}


def health(**over):
    return [(f"load_balancer.target_group.health_check.{k}", v) for k, v in over.items()]


def many_nacl_rules(n):
    return [{"number": 200 + i, "action": "allow", "ports": 1000 + i, "cidr": "10.0.0.0/16"} for i in range(n)]


def add_many_nacl_rules(t, n):
    for i in range(n):
        t = t.add_nacl_rule("nacl-private-db", "inbound", number=200 + i, action="allow", ports=1000 + i,
                            cidr="10.0.0.0/16")
    return t


def add_many_sg_rules(t, n):
    for i in range(n):
        t = t.add_sg_rule("web-sg", "inbound", ports=1000 + i, cidr="10.0.0.0/16")
    return t


# (id, the patch that writes the bad value into seed.yaml, what-ifs that ask for the same value)
CASES = [
    ("nacl number 0", [("nacls.nacl-public.inbound[+]", nacl_entry(number=0))],
     [lambda t: add_nacl(t, number=0), lambda t: t.change_rule("nacl-public-in-100", number=0), nacl_spec(number=0)]),
    ("nacl number 32767", [("nacls.nacl-public.inbound[+]", nacl_entry(number=32767))],
     [lambda t: add_nacl(t, number=32767), nacl_spec(number=32767)]),
    ("nacl number as text", [("nacls.nacl-public.inbound[+]", nacl_entry(number="ten"))],
     [lambda t: add_nacl(t, number="ten"), lambda t: t.change_rule("nacl-public-in-100", number="ten")]),
    ("nacl number taken", [("nacls.nacl-public.inbound[+]", nacl_entry(number=105))],
     [lambda t: add_nacl(t, number=105), lambda t: t.change_rule("nacl-public-in-110", number=105),
      nacl_spec(number=105)]),
    ("nacl action", [("nacls.nacl-public.inbound[+]", nacl_entry(action="maybe"))],
     [lambda t: add_nacl(t, action="maybe"), nacl_spec(action="maybe")]),
    ("nacl protocol", [("nacls.nacl-public.inbound[+]", nacl_entry(protocol="sctp"))],
     [lambda t: add_nacl(t, protocol="sctp")]),
    ("nacl quota counts the * rule", [("nacls.nacl-private-db.inbound", many_nacl_rules(20))],
     [lambda t: add_many_nacl_rules(t.without_rule("nacl-private-db-in-100"), 20)]),
    ("sg quota", [("security_groups.web-sg.ingress", [sg_entry(ports=1000 + i) for i in range(61)])],
     [lambda t: add_many_sg_rules(t.without_rule("web-sg-in-3000").without_rule("web-sg-in-22"), 61)]),
    ("port outside 0-65535", [("security_groups.web-sg.ingress[+]", sg_entry(ports=70000))],
     [lambda t: add_sg(t, ports=70000), lambda t: t.change_rule("web-sg-in-22", ports=70000),
      lambda t: apply_whatif(t, {"add_sg": [{"group": "web-sg", "direction": "inbound", **sg_entry(ports=70000)}]})]),
    ("port 0 alone", [("security_groups.web-sg.ingress[+]", sg_entry(ports=0))],
     [lambda t: add_sg(t, ports=0), lambda t: add_nacl(t, ports=0)]),
    ("port range backwards", [("nacls.nacl-public.inbound[+]", nacl_entry(ports="9000-8000"))],
     [lambda t: add_nacl(t, ports="9000-8000"), lambda t: t.change_rule("nacl-public-in-100", ports="9000-8000")]),
    ("sg protocol", [("security_groups.web-sg.ingress[+]", sg_entry(protocol="sctp"))],
     [lambda t: add_sg(t, protocol="sctp")]),
    ("sg rule duplicated", [("security_groups.web-sg.ingress[+]", sg_entry(ports=22, cidr="198.51.100.7/32"))],
     [lambda t: add_sg(t, ports=22, cidr="198.51.100.7/32")]),
    ("sg unknown peer group", [("security_groups.web-sg.ingress[+]", {"ports": 8080, "sg": "web-gs"})],
     [lambda t: t.add_sg_rule("web-sg", "inbound", ports=8080, sg="web-gs")]),
    ("sg CIDR without prefix", [("security_groups.web-sg.ingress[+]", sg_entry(cidr="10.0.2.0"))],
     [lambda t: add_sg(t, cidr="10.0.2.0"), lambda t: t.change_rule("web-sg-in-22", cidr="10.0.2.0")]),
    ("nacl CIDR without prefix", [("nacls.nacl-public.inbound[+]", nacl_entry(cidr="10.0.2.0"))],
     [lambda t: add_nacl(t, cidr="10.0.2.0"), lambda t: t.change_rule("nacl-public-in-100", cidr="10.0.2.0"),
      nacl_spec(cidr="10.0.2.0")]),
    ("CIDR with host bits", [("nacls.nacl-public.inbound[+]", nacl_entry(cidr="10.0.2.1/23"))],
     [lambda t: add_nacl(t, cidr="10.0.2.1/23"), lambda t: t.change_rule("nacl-public-in-100", cidr="10.0.2.1/23")]),
    ("route destination without prefix", [("route_tables.rt-public[1].destination", "0.0.0.0")],
     [lambda t: t.without_route("rt-public", "0.0.0.0"),
      lambda t: apply_whatif(t, {"without_route": [{"table": "rt-public", "destination": "0.0.0.0"}]})]),
    ("reserved address (network + 1)", [("instances.node-api-4", server_yaml(ip="10.0.2.1"))],
     [lambda t: t.with_instance(server(ip=IP("10.0.2.1")))]),
    ("reserved address (broadcast)", [("instances.node-api-4", server_yaml(ip="10.0.2.255"))],
     [lambda t: t.with_instance(server(ip=IP("10.0.2.255")))]),
    ("address outside its subnet", [("instances.node-api-4", server_yaml(ip="10.0.3.46"))],
     [lambda t: t.with_instance(server(ip=IP("10.0.3.46")))]),
    ("address already used", [("instances.node-api-4", server_yaml(ip="10.0.2.45"))],
     [lambda t: t.with_instance(server(ip=IP("10.0.2.45")))]),
    ("sgs per ENI", [("instances.node-api-4", server_yaml(sgs=["web-sg"] * 6))],
     [lambda t: t.with_instance(server(sgs=("web-sg",) * 6))]),
    ("unknown sg on an ENI", [("instances.node-api-4", server_yaml(sgs=["web-sgg"]))],
     [lambda t: t.with_instance(server(sgs=("web-sgg",)))]),
    ("unknown os", [("instances.node-api-4", server_yaml(os="beos"))],
     [lambda t: t.with_instance(server(os="beos"))]),
    ("listening on port 0", [("instances.node-api-4", server_yaml(listens=[0]))],
     [lambda t: t.with_instance(server(listens=(0,)))]),
    ("health-check interval too short", health(interval_s=4), [lambda t: t.with_health_check(interval_s=4)]),
    ("health-check interval too long", health(interval_s=301), [lambda t: t.with_health_check(interval_s=301)]),
    ("health-check timeout too short", health(timeout_s=1), [lambda t: t.with_health_check(timeout_s=1)]),
    ("health-check timeout not below the interval", health(timeout_s=30),
     [lambda t: t.with_health_check(timeout_s=30)]),
    ("health-check threshold", health(healthy_threshold=11), [lambda t: t.with_health_check(healthy_threshold=11)]),
    ("health-check fraction", health(interval_s=30.5), [lambda t: t.with_health_check(interval_s=30.5)]),
    ("health-check infinity", health(interval_s=float("inf")),
     [lambda t: t.with_health_check(interval_s=float("inf"))]),
    ("health-check bool", health(unhealthy_threshold=True), [lambda t: t.with_health_check(unhealthy_threshold=True)]),
    ("health-check port 0", health(port=0), [lambda t: t.with_health_check(port=0)]),
    ("health-check path", health(path="health"), [lambda t: t.with_health_check(path="health")]),
    ("edge TTL negative", [("edge.default_ttl_s", -1)], [lambda t: tl.edge.what_if(t, default_ttl_s=-1)]),
    ("edge TTL text", [("edge.default_ttl_s", "1h")], [lambda t: tl.edge.what_if(t, default_ttl_s="1h")]),
    ("edge origin access", [("edge.origin_access", "public")], [lambda t: tl.edge.what_if(t, origin_access="public")]),
    ("ALB public address", [("load_balancer.nodes[1].public_ip", "12.34.56")],
     [lambda t: tl.dns.move_alb(t, ["12.34.56.80", "12.34.56"])]),
]


def loader_messages(patch):
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(tl.apply_patch(SEED_RAW, patch), file="case.yaml")
    return [p.message for p in exc.value.problems]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_what_if_refuses_what_the_loader_refuses_with_the_same_message(case):
    _, patch, whatifs = case
    refused = loader_messages(patch)
    for whatif in whatifs:
        with pytest.raises(tl.TierlabError) as exc:
            whatif(SEED)
        assert exc.value.message in refused, f"what-if said {exc.value.message!r}; the loader said {refused}"
        assert exc.value.hint, "every refusal says what to do"


def test_settings_are_parameter_errors_and_rules_are_rule_errors():
    with pytest.raises(tl.ParameterError):
        SEED.with_health_check(timeout_s=30)
    with pytest.raises(ValueError):  # a ParameterError is a ValueError too
        SEED.with_health_check(interval_s=-5)
    with pytest.raises(tl.RuleError):
        SEED.add_nacl_rule("nacl-public", "inbound", number=0, action="allow", ports=80, cidr="0.0.0.0/0")


def test_the_nacl_quota_counts_the_star_rule_and_nineteen_fit():
    t = add_many_nacl_rules(SEED.without_rule("nacl-private-db-in-100"), 19)
    assert len(t.nacl("nacl-private-db").ordered("inbound")) == 19
    assert tl.load_dict(tl.apply_patch(SEED_RAW, [("nacls.nacl-private-db.inbound", many_nacl_rules(19))]))


def test_the_subnet_quota_is_two_hundred_per_vpc():
    subnets = {f"s{i}": {"cidr": f"10.0.{i}.0/24", "az": "us-east-1a", "tier": "app", "route_table": "rt-private",
                         "nacl": "nacl-private-app"} for i in range(limits.SUBNETS_PER_VPC + 1)}
    assert "over the quota of 200 per VPC" in " ".join(loader_messages([("subnets", subnets)]))


def test_every_overlap_among_4000_subnets_is_found():
    """4,000 subnets that all overlap a /8 and each other not at all: each overlap found, no false one.

    The speed (n log n, not a pair-by-pair scan) is measured by benchmarks/bench_input_limits.py, not here.
    """
    from tierlab.network.loader import _overlaps
    from tierlab.network.topology import Subnet

    def sub(name, cidr):
        return (f"subnets.{name}", Subnet(name=name, cidr=ipaddress.IPv4Network(cidr), az="us-east-1a", tier="app",
                                          route_table="rt-private", nacl="nacl-private-app"))

    many = [sub(f"s{i}", f"10.{i // 256}.{i % 256}.0/24") for i in range(4000)] + [sub("wide", "10.0.0.0/8")]
    found = _overlaps(many)
    assert len(found) == 4000 and all(other.name == "wide" for _, _, other in found)
    assert _overlaps(many[:4000]) == [] and _overlaps([]) == []


@pytest.mark.parametrize("value,ok", [("10.0.2.0/24", True), ("10.0.2.0", False), ("10.0.2.0/33", False),
                                      ("0.0.0.0/0", True), ("10.0.2.7/24", False), (None, False), (["x"], False)])
def test_a_cidr_needs_an_explicit_prefix_and_no_host_bits(value, ok):
    if ok:
        assert str(limits.cidr(value)) == value
    else:
        with pytest.raises(tl.RuleError):
            limits.cidr(value)


def test_port_zero_only_starts_a_range():
    assert tl.PortRange.parse("0-65535") == tl.PortRange(0, 65535)
    assert tl.PortRange.parse("0-1023").lo == 0
    for bad in (0, "0", [0, 0]):
        with pytest.raises(tl.RuleError, match="port 0"):
            tl.PortRange.parse(bad)
    with pytest.raises(tl.RuleError, match="outside 1-65535"):
        limits.single_port(0, "listener port")


def test_ttls_are_never_negative():
    assert limits.ttl(0) == 0
    with pytest.raises(tl.ParameterError, match="outside 0-2147483647"):
        limits.ttl(-1, "record ttl_s")
    assert "record ttl_s -5 is outside" in " ".join(loader_messages([("dns.records[0].ttl_s", -5)]))


@pytest.mark.parametrize("spec", [{"add_sg": True}, {"add_nacl": 5}, {"without_route": "x"}, {"change": [1]},
                                  {"switch_off": 7}, {True: 1}, {"with_route": [{"table": "rt-public"}]},
                                  {"with_route": [{"table": "rt-public", "destination": "0.0.0.0/0", "target": "nat-x"}]},
                                  {"zones_down": ["us-east-9z"]}, {"zones_down": 3}])
def test_a_what_if_spec_of_the_wrong_shape_is_a_scenario_error(spec):
    with pytest.raises(tl.ScenarioError) as exc:
        apply_whatif(SEED, spec, file="ex.yaml", path="whatif")
    assert exc.value.hint and "ex.yaml" in exc.value.message


def test_route_and_zone_what_ifs_are_the_topologys_own_methods():
    """Written as data (exercises, puzzles) or called in Python, a route change and a zone outage are one thing."""
    vpc = tl.load("seed-vpc")
    spec = {"with_route": [{"table": "rt-private-az2", "destination": "0.0.0.0/0", "target": "nat-az1"}],
            "zones_down": ["us-east-1a"]}
    by_hand = vpc.with_route("rt-private-az2", "0.0.0.0/0", "nat-az1").with_zone_down("us-east-1a")
    assert apply_whatif(vpc, spec) == by_hand
    assert not tl.can_reach(by_hand, "node-api-2", "internet", 443).ok
    assert tl.can_reach(vpc.with_zone_down("us-east-1a"), "node-api-2", "internet", 443).ok
