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


@pytest.mark.parametrize("name", ["seed", "seed-as-written"])
def test_the_summary_says_what_the_browser_gets_for_every_share_of_requests(name):
    """Law, over every rule switched off alone: a blocked summary ends with what the browser gets
    (status or timeout or refusal, after how long), one line per outcome of ``trace.outcomes`` with
    its share; the shares add up to 100 %, and a 200 is listed only when some requests succeed."""
    topo = tl.load(name)
    for rid in [r.id for r in topo.rules()]:
        trace = tl.journey(topo.switch_off(rid))
        text = trace.summary()
        if trace.ok:
            assert "What the browser gets" not in text
            continue
        tail = text.split("What the browser gets:\n", 1)[1].splitlines()
        assert len(tail) == len(trace.outcomes), (rid, text)
        for line, o in zip(tail, trace.outcomes):
            assert line.startswith(f"  - {o.share * 100:.0f}% of requests: {o.outcome.words()} — "), (rid, line)
            assert o.outcome.text in line
        assert sum(o.share for o in trace.outcomes) == pytest.approx(1.0)
        assert ("of requests: 200 —" in text) == (trace.success_share > 0), rid
        assert "Account created" not in text  # the summary tells what the browser gets, never the UI's wish


def test_the_summary_of_a_drop_in_front_of_the_alb_is_a_browser_timeout_not_an_http_error(seed):
    text = tl.journey(seed.switch_off("alb-public-sg-in-443")).summary()
    assert "100% of requests: timeout after 127 s — browser: connection timed out" in text
    assert "504" not in text and "502" not in text
