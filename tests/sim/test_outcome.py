"""A blocked journey has no total: the latency model says the request fails and how long the user waits."""

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.request.symptoms import CONNECT_TIMEOUT_S
from tierlab.sim.latency import latency_model

RULE_IDS = sorted(r.id for r in tl.load("seed").rules())


@functools.cache
def seed():
    return tl.load("seed")


def test_a_journey_that_gets_through_has_a_total_and_no_failure():
    m = latency_model(seed())
    assert not m.failed and m.outcome.failures == () and m.outcome.wait_ms is None and m.outcome.status is None
    assert m.headline() == f"{m.total_ms:.0f} ms on average"


def test_database_sg_off_fails_with_a_504_after_the_albs_idle_timeout():
    topo = seed().switch_off("database-sg-in-5432")
    m = latency_model(topo, rtt_ms=80)
    assert m.failed and m.outcome.status == 504
    before = m.waterfall().set_index("step").loc[:"db-sg-in", "duration_ms"].sum()
    # the user waits for everything up to the drop, then for the ALB's idle timeout
    assert m.outcome.wait_ms == pytest.approx(before + topo.alb.idle_timeout_s * 1000)
    assert "fails" in m.headline() and "504" in m.headline() and "ms on average" not in m.headline()
    assert "fails" in repr(m) and "fails" in m._repr_html_()


@pytest.mark.parametrize("os", tl.OSES)
def test_a_drop_in_front_of_the_alb_is_a_browser_timeout(os):
    topo = seed().switch_off("nacl-public-in-100")
    m = latency_model(topo, trace=tl.journey(topo, os=os))
    assert m.failed and m.outcome.status is None and m.outcome.failures[0].kind == "timeout"
    assert m.outcome.wait_ms >= CONNECT_TIMEOUT_S[os] * 1000
    assert m.outcome.failures[0].timeout_ms == CONNECT_TIMEOUT_S[os] * 1000


def test_a_partly_blocked_journey_keeps_its_total_and_lists_each_failure():
    m = latency_model(tl.load("seed-as-written"))
    o = m.outcome
    assert not m.failed and o.partial and o.success_share == pytest.approx(1 / 3)
    assert sorted(f.wait_ms // 1000 for f in o.failures) == [10, 60]  # connect timeout, idle timeout
    assert o.failures[0].share >= o.failures[1].share
    assert "33% succeed" in m.headline()


def test_the_outcome_follows_the_model_through_with_params_and_presets():
    topo = seed().switch_off("database-sg-in-5432")
    m = latency_model(topo)
    assert m.with_params(rtt_ms=200).failed
    assert m.with_params(rtt_ms=200).outcome.wait_ms > m.outcome.wait_ms  # more time before the drop
    assert latency_model(topo, "seed").failed


def test_a_trace_of_another_topology_is_refused():
    with pytest.raises(tl.ParameterError, match="another topology"):
        latency_model(seed(), trace=tl.journey(tl.load("seed-as-written")))


@settings(max_examples=40, deadline=None)
@given(off=st.frozensets(st.sampled_from(RULE_IDS), max_size=2))
def test_the_request_fails_exactly_when_no_request_succeeds(off):
    topo = seed().switch_off(*sorted(off))
    trace = tl.journey(topo)
    m = latency_model(topo, trace=trace)
    assert m.failed == (trace.success_share == 0)
    assert m.outcome.success_share + sum(f.share for f in m.outcome.failures) == pytest.approx(1.0)
    assert bool(m.outcome.failures) == (trace.success_share < 1)
    for f in m.outcome.failures:  # nobody waits less than the path to the drop plus the timeout
        assert f.wait_ms >= f.timeout_ms >= 0
