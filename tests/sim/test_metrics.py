"""The ALB's CloudWatch metrics and alarms: laws AWS states, checked on the course's failures."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

import tierlab as tl
from tierlab.errors import ParameterError
from tierlab.sim import metrics as M

SEED = tl.load("seed")
SCENARIOS = tl.read_yaml(tl.data_path("scenarios", "checkpoints-off.yaml"))["scenarios"]
REQUEST_METRICS = [m for m in M.METRICS if m not in ("HealthyHostCount", "UnHealthyHostCount")]
RATE = 10.0


def _missing(v: float) -> bool:
    return isinstance(v, float) and math.isnan(v)


@pytest.mark.parametrize("rule", ["nacl-public-in-100", "alb-public-sg-in-443"])
def test_a_drop_in_front_of_the_alb_is_missing_data_not_zeros(rule):
    """AWS publishes ALB metrics only while requests reach it: after an SG/NACL drop in front, no request
    metric has a datapoint; the host counts (from health checks) still do, every minute."""
    m = M.whatif_metrics(SEED, SEED.switch_off(rule), at_s=120, duration_s=360)
    df = m.frame()
    before, after = df[df.t_s < 120], df[df.t_s >= 120]
    assert (before["RequestCount"] == RATE * 60).all()
    for col in REQUEST_METRICS:
        assert after[col].isna().all(), col
    assert (after["HealthyHostCount"] == 3).all() and (after["UnHealthyHostCount"] == 0).all()
    dp = m.datapoints()
    assert set(dp[dp.t_s >= 120]["metric"]) == {"HealthyHostCount", "UnHealthyHostCount"}


def test_counts_are_published_only_when_non_zero():
    """A healthy minute has no HTTPCode_ELB_5XX_Count datapoint (AWS: reported when non-zero)."""
    df = M.alb_metrics(SEED, duration_s=180).frame()
    assert df["HTTPCode_ELB_5XX_Count"].isna().all() and df["TargetConnectionErrorCount"].isna().all()
    assert (df["RequestCount"] == RATE * 60).all() and (df["HTTPCode_Target_2XX_Count"] == RATE * 60).all()
    assert (df["TargetResponseTime"] == 0.05).all()


def test_all_targets_unhealthy_fail_open_and_still_count():
    """web-sg drops the ALB's connections: every target turns unhealthy at both nodes, the ALB fails open and
    keeps choosing targets, so RequestCount keeps counting and every request is an ALB 504 with a
    connection error."""
    m = M.whatif_metrics(SEED, SEED.switch_off("web-sg-in-3000"), at_s=60, duration_s=600)
    last = m.frame().iloc[-1]
    assert last["UnHealthyHostCount"] == 3 and last["HealthyHostCount"] == 0
    assert last["RequestCount"] == RATE * 60
    assert last["HTTPCode_ELB_504_Count"] == last["RequestCount"] == last["TargetConnectionErrorCount"]
    assert _missing(last["HTTPCode_Target_2XX_Count"]) and _missing(last["TargetResponseTime"])


def test_request_count_counts_only_requests_with_a_chosen_target():
    """A target group with no targets: the ALB answers 503 without choosing one, so RequestCount has no
    datapoint while HTTPCode_ELB_503_Count counts every request."""
    empty = replace(SEED, alb=replace(SEED.alb, targets=()))
    df = M.alb_metrics(empty, duration_s=120).frame()
    assert df["RequestCount"].isna().all()
    assert (df["HTTPCode_ELB_503_Count"] == RATE * 60).all() and (df["HTTPCode_ELB_5XX_Count"] == RATE * 60).all()
    assert (df["HealthyHostCount"] == 0).all()


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["rule"] for s in SCENARIOS])
def test_elb_5xx_equals_the_requests_the_alb_answers_502_503_504(sc):
    """At steady state (health settled), HTTPCode_ELB_5XX_Count per minute is the share of requests the
    journey says the ALB answers 502/503/504, times the requests of a minute; it is also the sum of the
    502, 503 and 504 counts; and the targets' 2XX are the journey's successes."""
    topo = SEED.switch_off(sc["rule"])
    tr = tl.journey(topo)
    alb_5xx = sum(o.share for o in tr.outcomes if o.outcome.who == "ALB" and o.outcome.status in (502, 503, 504))
    row = M.alb_metrics(tr, duration_s=60).frame().iloc[0]
    got = 0.0 if _missing(row["HTTPCode_ELB_5XX_Count"]) else row["HTTPCode_ELB_5XX_Count"]
    assert got == round(alb_5xx * RATE * 60)
    parts = [0.0 if _missing(row[c]) else row[c] for c in ("HTTPCode_ELB_502_Count", "HTTPCode_ELB_503_Count",
                                                           "HTTPCode_ELB_504_Count")]
    assert got == sum(parts)
    ok = 0.0 if _missing(row["HTTPCode_Target_2XX_Count"]) else row["HTTPCode_Target_2XX_Count"]
    assert ok == round(tr.success_share * RATE * 60)
    if sc["status"] is None:  # a browser timeout: nothing reaches the ALB
        assert _missing(row["RequestCount"])


def test_each_course_failure_has_its_signature():
    df = M.scenario_metrics("checkpoints-off")
    assert len(df) == len(SCENARIOS)
    front = df[df["status"].isna()]
    assert front["RequestCount"].isna().all() and front["no-traffic fires"].all() and not front["alb-5xx fires"].any()
    behind = df[df["status"] == 504]
    assert behind["alb-5xx fires"].all() and not behind["no-traffic fires"].any()
    db = behind[behind["rule"].str.contains("db|5432")]
    assert (db["UnHealthyHostCount"] == 0).all()  # the shallow /health passes: only the 5XX show it
    assert (df["reason"].str.len() > 0).all()


def test_health_timeline_crash_shows_502s_until_every_node_removes_it():
    hc = tl.health_check_timeline(SEED, failure="crash", t0_s=30, duration_s=360)
    df = M.health_metrics(hc, SEED).frame()
    assert df.iloc[0]["HTTPCode_ELB_502_Count"] > 0 and df.iloc[0]["TargetConnectionErrorCount"] > 0
    last = df.iloc[-1]
    assert _missing(last["HTTPCode_ELB_502_Count"]) and last["UnHealthyHostCount"] == 1
    assert last["RequestCount"] == RATE * 60


def test_failover_is_504s_with_healthy_targets():
    fo = tl.failover_timeline(SEED, t0_s=30, duration_s=300)
    df = M.failover_metrics(fo, SEED).frame()
    during = df.iloc[1]
    assert during["HTTPCode_ELB_504_Count"] > 0 and _missing(during["HTTPCode_Target_5XX_Count"])
    assert during["HealthyHostCount"] == 3
    assert _missing(df.iloc[-1]["HTTPCode_ELB_504_Count"])


@pytest.mark.parametrize("treat,expected", [("missing", "INSUFFICIENT_DATA"), ("notBreaching", "OK"),
                                            ("breaching", "ALARM"), ("ignore", "ALARM")])
def test_alarm_treats_all_missing_data_as_configured(treat, expected):
    """AWS's table: with every datapoint of the evaluation range missing, ``missing`` -> INSUFFICIENT_DATA,
    ``notBreaching`` -> OK, ``breaching`` -> ALARM, ``ignore`` -> the state it had (here ALARM, from the
    5XX that came before the drop moved in front of the ALB)."""
    behind = SEED.switch_off("web-sg-in-3000")
    both = behind.switch_off("alb-public-sg-in-443")
    m = M.whatif_metrics(behind, both, at_s=240, duration_s=600)
    res = M.Alarm(metric="HTTPCode_ELB_5XX_Count", threshold=1, treat_missing_data=treat).evaluate(m)
    assert res.states[3] == "ALARM"  # the 5XX behind the ALB, before the drop moves in front
    assert res.states[-1] == expected


def test_alarm_on_partial_data_judges_present_points():
    a = M.Alarm(metric="RequestCount", threshold=1, evaluation_periods=3, datapoints_to_alarm=3)
    assert a._decide([None, 5.0, None], "OK")[0] == "ALARM"
    assert a._decide([0.5, 5.0, None], "ALARM")[0] == "OK"  # 1 of 2 present breaching
    b = M.Alarm(metric="RequestCount", threshold=10, evaluation_periods=3, datapoints_to_alarm=3)
    assert b._decide([None, 5.0, 20.0], "ALARM")[0] == "OK"


def test_bad_input_is_a_tierlab_error():
    with pytest.raises(ParameterError):
        M.Alarm(metric="Latency")
    with pytest.raises(ParameterError):
        M.Alarm(treat_missing_data="zero")
    with pytest.raises(ParameterError):
        M.Alarm(evaluation_periods=2, datapoints_to_alarm=3)
    with pytest.raises(ParameterError):
        M.alb_metrics(SEED, duration_s=10)
    with pytest.raises(ParameterError):
        M.whatif_metrics(SEED, SEED, at_s=900, duration_s=600)


def test_failure_signatures_tell_the_course_failures_apart():
    """Each failure's signature: in front of the ALB no request datapoint; a crash 502s with connection errors
    and an unhealthy host; a host down 504s with connection errors; the database unreachable 504s with every
    host healthy and no connection error; a broken /health no 5XX at all, one unhealthy host; a failover 504s."""
    df = M.failure_signatures().set_index("failure")
    assert df.loc["checkpoint 1 off", "RequestCount"] is None or math.isnan(df.loc["checkpoint 1 off", "RequestCount"])
    crash = df.loc["crash of node-api-1"]
    assert crash["HTTPCode_ELB_502_Count"] > 0 and crash["TargetConnectionErrorCount"] > 0
    down = df.loc["host-down of node-api-1"]
    assert down["HTTPCode_ELB_504_Count"] > 0 and down["TargetConnectionErrorCount"] > 0
    db = df.loc["db-unreachable of node-api-1"]
    assert db["HTTPCode_ELB_504_Count"] > 0 and _missing(db["TargetConnectionErrorCount"]) and db["UnHealthyHostCount"] == 0
    broken = df.loc["check-only of node-api-1"]
    assert _missing(broken["HTTPCode_ELB_5XX_Count"]) and broken["UnHealthyHostCount"] == 1 and not broken["alb-5xx fires"]
    assert df.loc["RDS Multi-AZ failover", "HTTPCode_ELB_504_Count"] > 0
    assert df.loc["checkpoint 5 off", "UnHealthyHostCount"] == 3  # every target out: fail open


def test_an_auto_scaling_crash_shows_502s_then_a_replacement():
    """An instance of the group crashes: its 502s (with connection errors) show until the ALB takes it out;
    by the end the group has replaced it and every host is healthy again."""
    A = pytest.importorskip("tierlab.sim.autoscaling")  # lands with the asg branch
    topo = tl.load("seed-asg")
    asg = A.instance_failure_timeline(topo, failure="crash", t0_s=30, duration_s=900)
    df = M.autoscaling_metrics(asg).frame()
    assert (df["HTTPCode_ELB_502_Count"].fillna(0) > 0).any()
    assert (df["TargetConnectionErrorCount"].fillna(0) == df["HTTPCode_ELB_502_Count"].fillna(0)).all()
    last = df.iloc[-1]
    assert _missing(last["HTTPCode_ELB_5XX_Count"]) and last["UnHealthyHostCount"] == 0
    assert last["HealthyHostCount"] == asg.snapshots[-1].healthy > 0
    with pytest.raises(ParameterError):
        M.autoscaling_metrics(object())
