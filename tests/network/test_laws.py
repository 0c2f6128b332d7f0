"""Laws of the evaluator, as property tests over what-ifs of the seed topologies."""

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.evaluate import evaluate_flow

TOPOS = {name: tl.load(name) for name in ("seed", "seed-as-written")}
CIDRS = ["0.0.0.0/0", "10.0.0.0/16", "10.0.2.0/23", "10.0.4.0/24", "10.0.5.0/24", "10.0.11.0/24", "203.0.113.0/24"]
PORT_SPECS = ["22", "80", "443", "3000", "5432", "1024-65535", "32768-60999", "49152-65535", "all"]


def shares(topo, os="linux", database="primary"):
    """Every flow the journey makes, plus reachability probes, as {name: share}."""
    tr = tl.journey(topo, os=os, database=database)
    out = {f"pair:{p.name}": p.share for p in tr.pairs}
    for src in ("node-api-1", "node-api-3", "alb-node-az2", "internet"):
        for dst, port in (("rds-primary", 5432), ("rds-standby", 5432), ("node-api-2", 3000), ("alb-node-az1", 443)):
            out[f"{src}->{dst}:{port}"] = tl.can_reach(topo, src, dst, port).share
    return out


sg_rule = st.fixed_dictionaries({
    "group": st.sampled_from(["alb-public-sg", "web-sg", "database-sg"]),
    "direction": st.sampled_from(["inbound", "outbound"]),
    "ports": st.sampled_from(PORT_SPECS),
    "peer": st.one_of(st.sampled_from(CIDRS).map(lambda c: ("cidr", c)),
                      st.sampled_from(["alb-public-sg", "web-sg", "database-sg"]).map(lambda g: ("sg", g))),
})


def add(topo, r):
    kind, value = r["peer"]
    try:
        return topo.add_sg_rule(r["group"], r["direction"], ports=r["ports"], **{kind: value})
    except tl.RuleError:  # identical to an existing rule: AWS refuses it, nothing to check
        return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(TOPOS)), sg_rule, st.sampled_from(tl.OSES))
def test_law_adding_an_sg_rule_never_removes_reachability(name, rule, os):
    before = TOPOS[name]
    after = add(before, rule)
    if after is None:
        return
    b, a = _base_shares(name, os), shares(after, os)
    assert all(a[k] >= b[k] for k in b), {k: (b[k], a[k]) for k in b if a[k] < b[k]}


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(list(TOPOS)), st.lists(st.tuples(st.sampled_from(PORT_SPECS), st.sampled_from(CIDRS)), max_size=4))
def test_law_database_sg_outbound_rules_change_nothing(name, extra):
    base = TOPOS[name]
    import dataclasses
    sg = base.security_group("database-sg")
    stripped = dataclasses.replace(base, security_groups=tuple(
        dataclasses.replace(g, rules=g.rules_in("inbound")) if g.name == "database-sg" else g
        for g in base.security_groups))
    grown = stripped
    for ports, cidr in extra:
        try:
            grown = grown.add_sg_rule("database-sg", "outbound", ports=ports, cidr=cidr)
        except tl.RuleError:
            pass
    assert sg.rules_in("outbound") == ()  # the seed already has none: RDS answers, it never calls out
    for os in tl.OSES:
        expected = _pairs_of(name, os)
        assert tl.journey(stripped, os=os).as_dict()["pairs"] == expected
        assert tl.journey(grown, os=os).as_dict()["pairs"] == expected


@functools.cache
def _base_shares(name: str, os: str) -> dict:
    """``shares`` of an unchanged topology, once per (topology, OS): the 'before' side of every example."""
    return shares(TOPOS[name], os)


@functools.cache
def _pairs_of(name: str, os: str) -> list:
    """The unchanged topology's journey, once per (topology, OS): every example compares against the same one."""
    return tl.journey(TOPOS[name], os=os).as_dict()["pairs"]


nacl_rule = st.tuples(st.integers(1, 32766), st.sampled_from(["allow", "deny"]), st.sampled_from(PORT_SPECS),
                      st.sampled_from(CIDRS), st.sampled_from(["inbound", "outbound"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(nacl_rule, min_size=1, max_size=5), st.sampled_from([3000, 5432, 22]))
def test_law_a_nacl_never_affects_traffic_inside_its_own_subnet(rules, port):
    base = (TOPOS["seed"].add_sg_rule("web-sg", "inbound", ports="all", sg="web-sg")
            .add_sg_rule("web-sg", "outbound", ports="all", sg="web-sg"))
    changed = base
    for number, action, ports, cidr, direction in rules:
        try:
            changed = changed.add_nacl_rule("nacl-private-app", direction, number=number, action=action,
                                            ports=ports, cidr=cidr)
        except tl.RuleError:
            pass
    changed = changed.switch_off(*[r.id for r in changed.nacl("nacl-private-app").rules if r.action == "allow"][:2])
    s, d = base.endpoint("node-api-2"), base.endpoint("node-api-3")  # both in private-app-az2
    before = evaluate_flow(base, s, d, port)
    after = evaluate_flow(changed, changed.endpoint("node-api-2"), changed.endpoint("node-api-3"), port)
    assert [c.verdict for c in after.checks] == [c.verdict for c in before.checks]
    assert all(c.verdict == "skip" for c in after.checks if c.kind == "nacl")
    if port == 3000:  # the servers listen there: the connection works whatever the NACL says
        assert after.ok


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([r.id for r in TOPOS["seed"].rules()]))
def test_law_switching_a_rule_off_never_adds_reachability(rule_id):
    t = TOPOS["seed"]
    b, a = _base_shares("seed", "linux"), shares(t.switch_off(rule_id))
    assert all(a[k] <= b[k] for k in b)


def test_law_blocked_checks_name_a_rule_or_the_default():
    t = TOPOS["seed-as-written"]
    for c in tl.journey(t).checks:
        if c.kind in ("nacl", "sg") and c.verdict in ("deny", "partial"):
            assert c.code in ("SUBNET_ACL_RESTRICTION", "ENI_SG_RULES_MISMATCH")
            if c.kind == "nacl":
                assert c.rule_ids  # an explicit DENY or the * default
