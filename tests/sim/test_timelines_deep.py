"""The deep health check (notebook 08, mistake 3): a /health that queries the database also fails
when the server's database path breaks; for every other failure it behaves like the shallow one."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck as HypothesisHealthCheck
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.views import charts
from tierlab.sim import timelines as T
from tierlab.network.topology import HealthCheck

from strategies import health_checks

SEED = tl.load("seed")
LAW = settings(max_examples=60, deadline=None, suppress_health_check=[HypothesisHealthCheck.too_slow])


@LAW
@given(hc=health_checks(), t0=st.integers(0, 600), f1=st.floats(0, 0.999), f2=st.floats(0, 0.999))
def test_a_deep_check_removes_a_server_that_lost_its_database_as_fast_as_a_crashed_one(hc, t0, f1, f2):
    phases = {"alb-node-az1": f1 * hc.interval_s, "alb-node-az2": f2 * hc.interval_s}
    end = t0 + (hc.unhealthy_threshold + 2) * hc.interval_s
    kw = dict(t0_s=t0, duration_s=end, settings=hc, phases_s=phases)
    deep = T.health_check_timeline(SEED, failure="db-unreachable", check="deep", **kw)
    crash = T.health_check_timeline(SEED, failure="crash", **kw)
    assert deep.removed_s() == crash.removed_s()
    assert all(v is not None for v in deep.removed_s().values())
    assert T.removal_window_s(hc, "db-unreachable", "deep") == T.removal_window_s(hc, "crash")
    shallow = T.health_check_timeline(SEED, failure="db-unreachable", **kw)
    assert all(v is None for v in shallow.removed_s().values())
    assert T.removal_window_s(hc, "db-unreachable") == (float("inf"), float("inf"))


@pytest.mark.parametrize("failure", ["crash", "host-down", "check-only"])
def test_for_every_other_failure_deep_and_shallow_agree(failure):
    deep = T.health_check_timeline(SEED, failure=failure, check="deep", recover_s=150)
    shallow = T.health_check_timeline(SEED, failure=failure, recover_s=150)
    assert deep.frame().equals(shallow.frame())
    assert deep.checks().equals(shallow.checks())


def test_the_deep_check_says_why_it_fails():
    deep = T.health_check_timeline(SEED, failure="db-unreachable", check="deep")
    fails = deep.checks().query("result == 'fail'")
    assert len(fails) and fails["reason"].str.contains("deep /health cannot reach the database").all()
    assert "deep /health" in deep.summary().set_index("metric").loc["removal window", "reason"]


def test_when_the_database_itself_fails_every_deep_check_fails_and_the_alb_fails_open():
    together = T.health_check_timeline(SEED, failure="db-unreachable", check="deep", failed="all")
    f = together.frame()
    after = f[f["t_s"] >= together.t0_s]
    assert (after["failing_share"] == 1.0).all()          # the database is down: no request can succeed
    assert f["fail_open_nodes"].max() == len(SEED.alb.nodes)  # ... and the ALB sends to every target anyway
    assert after["nodes_routing"].min() == len(SEED.alb.nodes)


def test_without_a_health_check_the_summary_says_nothing_is_removed():
    none = T.health_check_timeline(SEED, failure="crash", health_check=False)
    row = none.summary().set_index("metric").loc["removal window"]
    assert row["value"] == "never" and "no health check" in row["reason"]


def test_an_unknown_check_is_a_clear_error():
    with pytest.raises(tl.TierlabError, match="unknown health check 'deeper'"):
        T.health_check_timeline(SEED, failure="db-unreachable", check="deeper")
    with pytest.raises(tl.TierlabError, match="unknown health check"):
        T.removal_window_s(SEED.alb.health_check, "crash", "medium")


def test_the_chart_names_the_deep_check():
    import matplotlib
    matplotlib.use("Agg")
    ax = charts.health_check_chart(T.health_check_timeline(SEED, failure="db-unreachable", check="deep"))
    assert "deep /health" in ax.get_title()
    import matplotlib.pyplot as plt
    plt.close("all")
