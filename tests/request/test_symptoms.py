"""What the browser gets in the odd cases AWS really produces: partial port ranges, a redirect-only or
missing listener, no DNS record, an empty target group, health checks on another port."""

import dataclasses

import pytest

import tierlab as tl


@pytest.fixture(scope="module")
def seed():
    return tl.load("seed")


def test_two_nacls_passing_disjoint_parts_of_the_ephemeral_range_pass_nothing(seed):
    t = (seed.change_rule("nacl-private-db-out-100", ports="32768-45000")
             .change_rule("nacl-private-app-in-110", ports="45001-60999"))
    trace = tl.journey(t)
    assert trace.success_share == 0.0  # no port passes both NACLs
    assert trace.pairs[0].db.share == 0.0


def test_overlapping_partial_reply_rules_pass_their_intersection(seed):
    t = (seed.change_rule("nacl-private-db-out-100", ports="32768-50000")
             .change_rule("nacl-private-app-in-110", ports="40000-60999"))
    expected = (50000 - 40000 + 1) / (60999 - 32768 + 1)
    assert tl.journey(t).pairs[0].db.share == pytest.approx(expected)


def test_a_redirect_only_https_listener_never_reaches_a_server(seed):
    lb = seed.alb
    t = dataclasses.replace(seed, alb=dataclasses.replace(lb, listeners=tuple(
        dataclasses.replace(l, action="redirect", redirect_port=8443) if l.port == 443 else l for l in lb.listeners)))
    trace = tl.journey(t)
    assert not trace.ok and trace.success_share == 0
    assert all(p.status == 301 for p in trace.pairs)
    assert {b.code for b in trace.blocks} == {"ELBV2_LISTENER_REQUIRES_TG_ACCEPT"}


def test_no_https_listener_is_refused(seed):
    t = dataclasses.replace(seed, alb=dataclasses.replace(seed.alb, listeners=tuple(
        l for l in seed.alb.listeners if l.port != 443)))
    trace = tl.journey(t)
    assert not trace.ok and all("refused" in p.symptom for p in trace.pairs)


def test_a_dns_failure_fails_every_pair(seed):
    t = dataclasses.replace(seed, records=tuple(r for r in seed.records if r.name != "api.myapp.com"))
    trace = tl.journey(t)
    assert not any(p.ok for p in trace.pairs)
    assert all(p.status is None and "no request is sent" in p.symptom for p in trace.pairs)


def test_partly_dropped_replies_from_a_healthy_target(seed):
    t = seed.change_rule("nacl-private-app-out-110", ports="1024-50000")
    p = tl.journey(t).pair("alb-node-az1", "node-api-1")
    assert p.healthy and p.chosen and 0 < p.share < 1
    assert p.status == 504 and "keeps choosing it" in p.symptom and "stops choosing" not in p.symptom


def test_an_empty_target_group_is_a_503(seed):
    t = dataclasses.replace(seed, alb=dataclasses.replace(seed.alb, targets=()))
    trace = tl.journey(t)
    assert not trace.ok and trace.success_share == 0
    assert [b.code for b in trace.blocks] == ["ELBV2_LISTENER_HAS_NO_TG"]
    assert "503" in trace.summary()


def test_health_checks_on_another_port_decide_health(seed):
    t = seed.with_health_check(port=9999)  # nothing listens there and no rule allows it
    trace = tl.journey(t)
    assert not any(p.healthy for p in trace.pairs)
    assert all(p.chosen for p in trace.pairs)  # every target unhealthy: the ALB fails open
    assert trace.ok  # requests on 3000 still work
