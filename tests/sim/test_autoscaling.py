"""Laws of an Auto Scaling group over time (tierlab.sim.autoscaling), on seed-asg: six API servers
across two zones behind the seed's ALB."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck as HypothesisHealthCheck
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.sim.autoscaling import (
    EVENT_COLUMNS,
    FRAME_COLUMNS,
    ZONE_COLUMNS,
    InstanceFailure,
    RollingDeploy,
    SetDesired,
    ZoneOutage,
    auto_scaling_timeline,
    instance_failure_timeline,
    rolling_deploy_timeline,
    zone_outage_timeline,
)

TOPO = tl.load("seed-asg")
GROUP = TOPO.auto_scaling_group()
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HypothesisHealthCheck.too_slow])
REPLACING = ("asg-unhealthy", "terminating", "launch")


def _moments(tl_, every_s=15.0):
    t = 0.0
    while t <= tl_.duration_s:
        yield t
        t += every_s


# ------------------------------------------------------------------ shape of the answer


def test_frames_have_the_documented_columns_and_every_row_a_reason():
    x = zone_outage_timeline(TOPO, duration_s=300)
    f, z, e = x.frame(), x.zones(), x.events()
    assert list(f.columns) == FRAME_COLUMNS and list(z.columns) == ZONE_COLUMNS and list(e.columns) == EVENT_COLUMNS
    assert len(f) == 301 and len(z) == 301 * 2
    assert f["reason"].str.len().min() > 0 and e["reason"].str.len().min() > 0
    assert x.members_frame()["name"].tolist()[:6] == list(GROUP.instances)


def test_a_quiet_timeline_keeps_every_member_healthy():
    x = auto_scaling_timeline(TOPO, duration_s=120)
    f = x.frame()
    assert (f["healthy"] == GROUP.desired).all() and (f["failing_share"] == 0).all()
    assert x.events().empty


# ------------------------------------------------------------------ law: desired stays within [min, max]


@FEW
@given(st.lists(st.tuples(st.integers(0, 600), st.integers(-2, 12)), max_size=4))
def test_desired_stays_within_min_and_max(requests):
    happenings = [SetDesired(t_s=t, desired=d) for t, d in requests]
    if any(not GROUP.min_size <= d <= GROUP.max_size for _, d in requests):
        with pytest.raises(tl.ParameterError, match="outside min_size..max_size"):
            auto_scaling_timeline(TOPO, happenings, duration_s=900)
        return
    x = auto_scaling_timeline(TOPO, happenings, duration_s=900)
    f = x.frame()
    assert f["desired"].between(GROUP.min_size, GROUP.max_size).all()
    last = f.iloc[-1]
    if not requests or max(t for t, _ in requests) <= 600:  # time enough to settle
        assert last["healthy"] == last["desired"], last["reason"]


def test_a_scale_in_terminates_exactly_the_surplus_and_launches_nothing():
    """9 -> 2: seven members drain, two keep serving; no launch. (Each scale-in's termination used to
    refill the group at once, so 9 -> 2 terminated all nine and launched 21: 503s for a minute.)"""
    x = auto_scaling_timeline(TOPO, [SetDesired(t_s=10, desired=9), SetDesired(t_s=400, desired=2)], duration_s=900)
    e = x.events()
    later = e[e["t_s"] >= 400]
    assert (later["kind"] == "terminating").sum() == 7 and (later["kind"] == "launch").sum() == 0
    f = x.frame().set_index("t_s")
    assert f.loc[401.0, "healthy"] == 2 and str(f.loc[401.0, "status"]) == "200"
    assert len(x.topology_at(900).instances) == 2


# ------------------------------------------------------------------ law: a zone outage with ELB checks


@pytest.mark.parametrize("az", TOPO.azs)
@pytest.mark.parametrize("t0", [10.0, 37.0])
def test_after_a_zone_outage_healthy_capacity_returns_to_desired_in_the_other_zone(az, t0):
    x = zone_outage_timeline(TOPO, az, t0_s=t0, duration_s=600)
    assert x.health_check_type == "ELB"
    back = x.healthy_again_s()
    assert back is not None and back - t0 <= x.replacement_bound_s("host-down"), x.events().to_string()
    launched = [m for m in x.members if m.name not in GROUP.instances]
    assert len(launched) == GROUP.desired // 2 and {m.az for m in launched} == set(TOPO.azs) - {az}
    after = x.snapshot_at(back)
    assert [z.healthy for z in after.zones if z.az == az] == [0]
    assert sum(z.healthy for z in after.zones) == GROUP.desired


def test_during_a_zone_outage_the_alb_keeps_serving_from_the_other_zone():
    x = zone_outage_timeline(TOPO, "us-east-1a", t0_s=10, duration_s=400)
    f = x.frame().set_index("t_s")
    assert f.loc[9, "failing_share"] == 0
    assert 0 < f.loc[11, "failing_share"] <= 0.5 and f.loc[11, "status"] == "504"  # dead targets still chosen
    assert (f.loc[60:, "failing_share"] == 0).all()  # deregistered at the EC2 status check, before the ALB's verdict
    assert (f.loc[60:, "fail_open_nodes"] == 0).all()


# ------------------------------------------------------------------ law: EC2 checks never replace an app failure


@FEW
@given(st.sampled_from(GROUP.instances), st.sampled_from(["crash", "check-only"]), st.floats(0, 200))
def test_ec2_type_never_replaces_an_instance_failing_only_elb_checks(instance, failure, t0):
    x = instance_failure_timeline(TOPO, instance, failure=failure, t0_s=t0, health_check_type="EC2", duration_s=700)
    assert not [e for e in x.event_log if e.kind in REPLACING], x.events().to_string()
    assert next(m for m in x.members if m.name == instance).draining_s is None
    assert "alb-unhealthy" in {e.kind for e in x.event_log}  # the ALB did take it out
    assert x.frame()["healthy"].iloc[-1] == GROUP.desired - 1


@pytest.mark.parametrize("failure", ["crash", "check-only"])
def test_elb_type_replaces_the_same_failure(failure):
    x = instance_failure_timeline(TOPO, "node-api-2", failure=failure, t0_s=10, duration_s=600)
    assert [e.instance for e in x.event_log if e.kind == "asg-unhealthy"] == ["node-api-2"]
    assert x.healthy_again_s() - 10 <= x.replacement_bound_s(failure)


def test_a_dead_host_is_replaced_under_either_type():
    for kind in ("EC2", "ELB"):
        x = instance_failure_timeline(TOPO, "node-api-3", failure="host-down", health_check_type=kind, duration_s=400)
        assert any(e.kind == "ec2-impaired" for e in x.event_log)
        assert x.healthy_again_s() - 10 <= x.replacement_bound_s("host-down")


def test_the_shallow_check_hides_a_broken_database_path_from_both_types():
    x = instance_failure_timeline(TOPO, failure="db-unreachable", duration_s=400)
    assert not [e for e in x.event_log if e.kind in REPLACING]
    assert (x.frame().set_index("t_s").loc[20:, "failing_share"] > 0).all()
    deep = instance_failure_timeline(TOPO, failure="db-unreachable", duration_s=400, check="deep")
    assert [e.instance for e in deep.event_log if e.kind == "asg-unhealthy"] == [GROUP.instances[0]]


def test_every_target_failing_only_its_check_makes_the_alb_fail_open():
    x = auto_scaling_timeline(TOPO, [InstanceFailure(t_s=10, instance=m, failure="check-only") for m in GROUP.instances],
                              health_check_type="EC2", duration_s=300)
    last = x.frame().iloc[-1]
    assert last["fail_open_nodes"] == len(TOPO.alb.nodes) and last["failing_share"] == 0
    assert "fail open" in last["reason"]


def test_the_grace_period_does_not_delay_replacing_a_long_running_instance():
    quick = instance_failure_timeline(TOPO, failure="crash", grace_period_s=0, duration_s=400)
    slow = instance_failure_timeline(TOPO, failure="crash", grace_period_s=3000, duration_s=400)
    assert quick.healthy_again_s() == slow.healthy_again_s()


# ------------------------------------------------------------------ law: draining targets get no new requests


def test_during_a_rolling_deploy_no_new_request_goes_to_a_draining_target():
    x = rolling_deploy_timeline(TOPO)
    drained = 0
    for s in x.snapshots:
        draining = {n for n, state in s.targets if state == "draining"}
        drained += bool(draining)
        for _node, rot in s.rotation:
            assert not draining & set(rot), (s.t_s, draining, rot)
        assert not draining & set(x.topology_at(s.t_s).alb.targets)
    assert drained > 0
    assert {m.version for m in x.members if m.terminated_s is None} == {"v2"}
    assert any(e.kind == "deploy-done" for e in x.event_log)


def test_a_rolling_deploy_keeps_capacity_within_one_of_desired_and_serving():
    x = rolling_deploy_timeline(TOPO)
    f = x.frame()
    assert (f["healthy"] >= GROUP.desired - 1).all() and (f["failing_share"] == 0).all()


def test_a_draining_target_is_terminated_after_the_deregistration_delay():
    x = rolling_deploy_timeline(TOPO, deregistration_delay_s=120)
    for m in x.members:
        if m.draining_s is not None and m.terminated_s is not None:
            assert m.terminated_s - m.draining_s == 120


# ------------------------------------------------------------------ law: the journey follows the instances of the moment


@pytest.mark.parametrize("make", [
    lambda: zone_outage_timeline(TOPO, "us-east-1b", duration_s=450),
    lambda: rolling_deploy_timeline(TOPO, deregistration_delay_s=60, duration_s=900),
])
def test_the_journey_at_t_only_passes_through_instances_that_exist_at_t(make):
    x = make()
    for t in _moments(x, 30.0):
        topo = x.topology_at(t)
        alive = set(x.instances_at(t))
        assert {i.name for i in topo.instances} == alive
        trace = tl.journey(topo)
        assert {p.target for p in trace.pairs} <= alive
        assert {p.target for p in trace.pairs} == set(x.targets_at(t))
        if x.targets_at(t):
            assert trace.success_share == 1.0  # launched servers land where the seed's rules admit them


def test_topology_at_refuses_a_time_outside_the_timeline():
    x = auto_scaling_timeline(TOPO, duration_s=60)
    with pytest.raises(tl.ParameterError, match="outside this timeline"):
        x.topology_at(61)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("happening, text", [
    (InstanceFailure(t_s=5, instance="node-api-9"), "neither a member"),
    (InstanceFailure(t_s=5, instance="node-api-1", failure="meltdown"), "unknown failure"),
    (ZoneOutage(t_s=5, az="us-east-1z"), "no availability zone 'us-east-1z'"),
    (SetDesired(t_s=5, desired=10), "desired 10 is outside min_size..max_size"),
    (RollingDeploy(t_s=5, batch=0), "batch=0"),
    (ZoneOutage(t_s=-1, az="us-east-1a"), "not a time"),
])
def test_bad_happenings_are_refused_with_a_hint(happening, text):
    with pytest.raises(tl.ParameterError, match=text) as exc:
        auto_scaling_timeline(TOPO, [happening])
    assert exc.value.hint


def test_a_topology_without_a_group_says_how_to_get_one():
    with pytest.raises(tl.TopologyError, match="no Auto Scaling groups") as exc:
        zone_outage_timeline(tl.load("seed"))
    assert "seed-asg" in exc.value.hint


def test_bad_settings_are_refused():
    with pytest.raises(tl.ParameterError, match="health_check_type 'HTTP'"):
        auto_scaling_timeline(TOPO, health_check_type="HTTP")
    with pytest.raises(tl.ParameterError, match="deregistration_delay_s"):
        auto_scaling_timeline(TOPO, deregistration_delay_s=4000)


def test_the_timeline_is_a_pure_function():
    a = zone_outage_timeline(TOPO, duration_s=200)
    b = zone_outage_timeline(replace(TOPO), duration_s=200)
    assert a.event_log == b.event_log and a.snapshots == b.snapshots


def test_an_app_tier_outage_leaves_the_zone_itself_up_for_the_journey():
    x = zone_outage_timeline(tl.load("seed-vpc"), "us-east-1a", t0_s=10, duration_s=200)
    later = x.topology_at(200)
    assert later.zones_down == ()
    assert all(later.subnet(i.subnet).az == "us-east-1b" for i in later.instances if i.name in later.alb.targets)
    whole = later.with_zone_down("us-east-1a")  # the whole zone: its ALB node goes too
    assert tl.journey(later).success_share == 1.0 and tl.journey(whole).success_share < 1.0


@pytest.mark.parametrize("grace", [0, 300])
def test_the_grace_period_holds_back_replacing_a_new_instance_until_it_ends(grace):
    # the zone outage launches api-asg-1 at t=60 (InService at 90); it crashes at t=130
    x = auto_scaling_timeline(TOPO, [ZoneOutage(t_s=10, az="us-east-1a"),
                                     InstanceFailure(t_s=130, instance="api-asg-1", failure="crash")],
                              grace_period_s=grace, duration_s=700)
    new = next(m for m in x.members if m.name == "api-asg-1")
    out = max(e.t_s for e in x.event_log if e.kind == "alb-unhealthy" and e.instance == "api-asg-1")
    assert new.draining_s == (max(out, new.in_service_s + grace))
    assert any(e.kind == "grace" for e in x.event_log) == (grace > 0)


def test_a_failure_of_an_instance_not_launched_yet_changes_nothing():
    x = auto_scaling_timeline(TOPO, [InstanceFailure(t_s=20, instance="api-asg-4")], duration_s=60)
    assert [e.kind for e in x.event_log] == ["no-such-instance"]
