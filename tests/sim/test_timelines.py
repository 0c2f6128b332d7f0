"""Availability over time: health checks, RDS failover, the pool across a failover."""

import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck as HypothesisHealthCheck
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.sim import timelines as T
from tierlab.network.topology import HealthCheck

from strategies import health_checks

SEED = tl.load("seed")
AS_WRITTEN = tl.load("seed-as-written")
LAW = settings(max_examples=80, deadline=None, suppress_health_check=[HypothesisHealthCheck.too_slow])


def first_check_at_or_after(phase, interval, t):
    k = max(0, math.ceil((t - phase) / interval))
    return phase + k * interval


# ---------------------------------------------------------------------------- health checks: laws


@LAW
@given(hc=health_checks(), failure=st.sampled_from(["crash", "host-down"]),
       t0=st.integers(0, 600), phase_frac=st.floats(0, 0.999), phase2_frac=st.floats(0, 0.999))
def test_removal_time_is_what_interval_timeout_and_threshold_imply(hc, failure, t0, phase_frac, phase2_frac):
    phases = {"alb-node-az1": phase_frac * hc.interval_s, "alb-node-az2": phase2_frac * hc.interval_s}
    end = t0 + (hc.unhealthy_threshold + 2) * hc.interval_s + hc.timeout_s
    tl_ = T.health_check_timeline(SEED, failure=failure, t0_s=t0, duration_s=end, settings=hc, phases_s=phases)
    lo, hi = T.removal_window_s(hc, failure)
    timeout = hc.timeout_s if failure == "host-down" else 0
    for node, removed in tl_.removed_s().items():
        wait = first_check_at_or_after(phases[node], hc.interval_s, t0) - t0
        expected = wait + (hc.unhealthy_threshold - 1) * hc.interval_s + timeout
        assert removed - t0 == pytest.approx(expected)
        assert removed - t0 == pytest.approx(T.removal_delay_s(hc, failure, wait))
        assert lo - 1e-9 <= removed - t0 < hi + 1e-9
    assert (lo, hi) == ((hc.unhealthy_threshold - 1) * hc.interval_s + timeout,
                        hc.unhealthy_threshold * hc.interval_s + timeout)


@LAW
@given(hc=health_checks(), down_for=st.integers(0, 900), phase_frac=st.floats(0, 0.999))
def test_return_time_is_what_interval_and_healthy_threshold_imply(hc, down_for, phase_frac):
    phase = phase_frac * hc.interval_s
    t0 = 3.0
    recover = t0 + down_for + hc.unhealthy_threshold * hc.interval_s + hc.timeout_s  # removed before the fix
    end = recover + (hc.healthy_threshold + 2) * hc.interval_s
    tl_ = T.health_check_timeline(SEED, t0_s=t0, recover_s=recover, duration_s=end, settings=hc,
                                  phases_s={"alb-node-az1": phase, "alb-node-az2": phase})
    for node, back in tl_.returned_s().items():
        wait = first_check_at_or_after(phase, hc.interval_s, recover) - recover
        assert back - recover == pytest.approx(wait + (hc.healthy_threshold - 1) * hc.interval_s)
        rlo, rhi = T.return_window_s(hc)
        assert rlo - 1e-9 <= back - recover < rhi + 1e-9


@LAW
@given(hc=health_checks(), t0=st.integers(0, 300))
def test_a_dead_host_is_removed_exactly_one_timeout_later_than_a_crashed_process(hc, t0):
    kw = dict(t0_s=t0, settings=hc, duration_s=t0 + (hc.unhealthy_threshold + 2) * hc.interval_s + hc.timeout_s)
    crash = T.health_check_timeline(SEED, failure="crash", **kw).removed_s()
    dead = T.health_check_timeline(SEED, failure="host-down", **kw).removed_s()
    for node in crash:
        assert dead[node] - crash[node] == pytest.approx(hc.timeout_s)


# ---------------------------------------------------------------------------- health checks: the scenarios


def test_seed_settings_and_aws_defaults_come_from_the_topology_and_aws():
    f = T.health_check_settings(SEED).set_index("settings")
    hc = SEED.alb.health_check
    assert (hc.interval_s, hc.healthy_threshold, hc.unhealthy_threshold) == (30, 2, 3)  # the seed's own
    topo = f.loc["topology"]
    assert (topo["removal_min_s"], topo["removal_max_s"]) == (60, 90)
    assert (topo["return_min_s"], topo["return_max_s"]) == (30, 60)
    aws = f.loc["AWS default"]
    assert (aws["healthy_threshold"], aws["unhealthy_threshold"], aws["interval_s"]) == (5, 2, 30)
    assert (aws["removal_min_s"], aws["removal_max_s"]) == (30, 60)
    assert (aws["return_min_s"], aws["return_max_s"]) == (120, 150)
    # change the topology and the table follows: the settings are read, not assumed
    fast = T.health_check_settings(SEED.with_health_check(interval_s=10, unhealthy_threshold=2)).set_index("settings")
    assert (fast.loc["topology", "removal_min_s"], fast.loc["topology", "removal_max_s"]) == (10, 20)
    assert f["reason"].str.len().gt(10).all()


def test_a_crashed_target_fails_one_request_in_three_until_the_nodes_remove_it():
    tl_ = T.health_check_timeline(SEED, failure="crash", t0_s=10, duration_s=200)
    f = tl_.frame().set_index("t_s")
    removed = tl_.removed_s()
    first, last = min(removed.values()), max(removed.values())
    assert first < last  # each ALB node checks on its own
    assert f.loc[11, "failing_share"] == pytest.approx(1 / 3) and f.loc[11, "status"] == "502"
    between = math.floor((first + last) / 2)
    assert f.loc[between, "failing_share"] == pytest.approx(1 / 6)  # one node of two still sends to it
    assert f.loc[math.ceil(last) + 1, "failing_share"] == 0
    share = tl_.failed_share_until_removal()
    assert 1 / 6 < share < 1 / 3
    assert f["reason"].str.len().gt(0).all()


def test_a_dead_host_times_out_504():
    f = T.health_check_timeline(SEED, failure="host-down", t0_s=10).frame().set_index("t_s")
    assert f.loc[20, "status"] == "504"


def test_without_a_health_check_one_request_in_n_keeps_failing():
    tl_ = T.health_check_timeline(SEED, failure="crash", t0_s=10, duration_s=600, health_check=False)
    f = tl_.frame()
    after = f[f["t_s"] >= 10]
    assert after["failing_share"].sub(1 / len(SEED.alb.targets)).abs().max() < 1e-12
    assert set(tl_.removed_s().values()) == {None}
    assert "cannot switch health checks off" in after["reason"].iloc[-1]


def test_a_shallow_health_check_keeps_a_server_that_cannot_reach_its_database():
    tl_ = T.health_check_timeline(SEED, failure="db-unreachable", t0_s=10, duration_s=600)
    assert set(tl_.removed_s().values()) == {None}
    f = tl_.frame()
    assert f.iloc[-1]["failing_share"] == pytest.approx(1 / 3)
    assert "shallow" in f.iloc[-1]["reason"]
    assert (tl_.checks()["result"] == "pass").all()
    assert T.removal_window_s(tl_.settings, "db-unreachable") == (math.inf, math.inf)


def test_when_every_target_is_unhealthy_the_alb_fails_open():
    broken = T.health_check_timeline(SEED, failure="check-only", failed="all", t0_s=10, duration_s=300)
    f = broken.frame()
    end = f.iloc[-1]
    assert end["fail_open_nodes"] == len(SEED.alb.nodes) and end["failing_share"] == 0
    assert "fails open" in end["reason"]
    dead = T.health_check_timeline(SEED, failure="crash", failed="all", t0_s=10, duration_s=300).frame()
    assert dead.iloc[-1]["failing_share"] == 1.0 and dead.iloc[-1]["fail_open_nodes"] == 2


def test_the_summary_reports_the_removal_window_and_each_node():
    s = T.health_check_timeline(SEED, failure="host-down", recover_s=200, duration_s=320).summary()
    text = " ".join(s["value"].astype(str))
    assert "65-95 s" in text
    assert {"removed by alb-node-az1", "removed by alb-node-az2", "returned by alb-node-az1"} <= set(s["metric"])


@pytest.mark.parametrize("changes, words", [
    ({"interval_s": 400}, "outside 5-300"),
    ({"interval_s": 4}, "outside 5-300"),
    ({"unhealthy_threshold": 1}, "outside 2-10"),
    ({"healthy_threshold": 11}, "outside 2-10"),
    ({"timeout_s": 30}, "not shorter than the interval"),
])
def test_bad_health_check_settings_give_clear_errors(changes, words):
    with pytest.raises(tl.TierlabError, match=words) as e:
        T.health_check_timeline(SEED, **changes)
    assert e.value.hint
    with pytest.raises(tl.TierlabError, match=words):
        T.health_check_timeline(SEED, settings=replace(SEED.alb.health_check, **changes))


@pytest.mark.parametrize("kw", [
    {"failure": "meteor"}, {"failed": "node-api-9"}, {"settings": "fast"}, {"t0_s": -5},
    {"recover_s": 1, "t0_s": 10}, {"phases_s": {"alb-node-az1": 0}}, {"bogus_s": 3},
    {"duration_s": 1e7},
])
def test_other_bad_health_check_arguments_are_tierlab_errors(kw):
    with pytest.raises(tl.TierlabError):
        T.health_check_timeline(SEED, **kw)


# ---------------------------------------------------------------------------- RDS failover


def test_dns_clients_recover_after_the_failover_the_ttl_and_a_reconnect():
    fo = T.failover_timeline(SEED, t0_s=30, reconnect_s=1)
    db = SEED.database
    assert fo.failover_s == sum(db.failover_s) / 2 and fo.ttl_s == db.endpoint_ttl_s
    back = 30 + fo.failover_s + db.endpoint_ttl_s + 1
    assert fo.recovery_s("dns") == back
    f = fo.frame()
    dns = f[f["client"] == "dns"].set_index("t_s")
    assert dns.loc[back - 1, "success_share"] == 0 and dns.loc[back, "success_share"] == 1.0
    assert dns.loc[30 + fo.failover_s + 1, "state"] == "waiting for TTL"
    assert fo.recovery_window_s() == (db.failover_s[0] + 1, db.failover_s[1] + db.endpoint_ttl_s + 1)
    # the TTL is read from the topology
    slow = T.failover_timeline(replace(SEED, database=replace(db, endpoint_ttl_s=60)), t0_s=30, reconnect_s=1)
    assert slow.recovery_s("dns") - fo.recovery_s("dns") == 60 - db.endpoint_ttl_s


def test_a_hard_coded_ip_never_recovers_and_single_az_stays_down_for_the_zone_outage():
    f = T.failover_timeline(SEED, duration_s=600).frame()
    ip = f[(f["client"] == "hard-coded-ip") & (f["t_s"] >= 30)]
    assert (ip["success_share"] == 0).all() and ip.iloc[-1]["state"] == "down for good"
    single = f[(f["client"] == "single-az") & (f["t_s"] >= 30)]
    assert (single["success_share"] == 0).all()
    fo = T.failover_timeline(SEED, zone_outage_s=400, duration_s=600, reconnect_s=1)
    assert fo.recovery_s("single-az") == 30 + 400 + 1
    assert fo.recovery_s("hard-coded-ip") is None


def test_a_single_az_database_has_nothing_to_fail_over_to():
    single = replace(SEED, database=replace(SEED.database, multi_az=False))
    f = T.failover_timeline(single, duration_s=400).frame()
    dns = f[(f["client"] == "dns") & (f["t_s"] >= 30)]
    assert (dns["success_share"] == 0).all() and "single-AZ" in dns.iloc[-1]["reason"]


@pytest.mark.parametrize("topo", [SEED, AS_WRITTEN, SEED.switch_off("nacl-private-app-out-101"),
                                  SEED.switch_off("database-sg-in-5432")], ids=["seed", "as-written", "no-101", "no-sg"])
def test_the_failover_timeline_agrees_with_the_evaluator(topo):
    fo = T.failover_timeline(topo, duration_s=300)
    end = fo.frame().query("client == 'dns'").iloc[-1]
    assert end["success_share"] == pytest.approx(tl.journey(topo, database="standby").success_share)
    start = fo.frame().query("client == 'dns'").iloc[0]
    assert start["success_share"] == pytest.approx(tl.journey(topo).success_share)


def test_seed_as_written_fails_over_to_a_standby_the_app_nacl_shuts_out():
    assert tl.journey(SEED, database="standby").ok and not tl.journey(AS_WRITTEN, database="standby").ok
    fo = T.failover_timeline(AS_WRITTEN)
    end = fo.frame().query("client == 'dns'").iloc[-1]
    assert end["state"] == "cannot reach standby" and end["success_share"] == 0
    assert "nacl-private-app-out" in end["reason"]
    assert fo.recovery_s("dns") is None
    assert T.failover_timeline(SEED).frame().query("client == 'dns'").iloc[-1]["state"] == "recovered"


@pytest.mark.parametrize("kw", [{"t0_s": -1}, {"failover_s": float("inf")}, {"clients": ("dns", "carrier-pigeon")},
                                {"zone_outage_s": -3}, {"step_s": 0}, {"duration_s": 1e7}])
def test_bad_failover_arguments_are_tierlab_errors(kw):
    with pytest.raises(tl.TierlabError):
        T.failover_timeline(SEED, **kw)


# ---------------------------------------------------------------------------- the pool


def test_stale_connections_fail_once_each_unless_pre_pinged_then_the_pool_refills():
    plain = T.pool_timeline(SEED, pre_ping=False, pool_size=10, requests_per_s=0.05)
    pinged = T.pool_timeline(SEED, pre_ping=True, pool_size=10, requests_per_s=0.05)
    during = sum(1 for r in plain.frame().itertuples() if plain.t0_s <= r.t_s < plain.ready_s)
    assert plain.failed_after_recovery == 10 - during > 0
    assert pinged.failed_after_recovery == 0
    f = plain.frame()
    last = f.iloc[-1]
    assert last["outcome"] == "ok" and last["stale"] == 0 and last["open"] >= 1
    assert "stale" in " ".join(f.loc[f["after_recovery"] & (f["outcome"] == "failed"), "reason"])
    assert pinged.frame()["pre_pings_failed"].sum() == 10


@settings(max_examples=60, deadline=None)
@given(pool_size=st.integers(1, 30), rate=st.floats(0.01, 2), idle=st.one_of(st.none(), st.floats(1, 300)))
def test_pre_ping_never_fails_more_requests_and_stale_failures_are_bounded_by_the_pool(pool_size, rate, idle):
    kw = dict(pool_size=pool_size, requests_per_s=rate, idle_timeout_s=idle, duration_s=300)
    plain = T.pool_timeline(SEED, pre_ping=False, **kw)
    pinged = T.pool_timeline(SEED, pre_ping=True, **kw)
    assert pinged.failed_after_recovery == 0
    assert plain.failed_after_recovery <= pool_size
    assert pinged.failed_total <= plain.failed_total


def test_the_pool_agrees_with_the_evaluator_on_seed_as_written():
    p = T.pool_timeline(AS_WRITTEN)
    assert p.ready_s is None and "cannot reach the standby" in p.summary()
    assert p.frame().query("t_s > 200")["outcome"].eq("failed").all()


@pytest.mark.parametrize("kw", [{"pool_size": 0}, {"requests_per_s": 0}, {"server": "node-api-9"},
                                {"idle_timeout_s": -1}, {"requests_per_s": 10_000, "duration_s": 1e6}])
def test_bad_pool_arguments_are_tierlab_errors(kw):
    with pytest.raises(tl.TierlabError):
        T.pool_timeline(SEED, **kw)


def test_a_private_cname_to_the_endpoint_does_not_delay_recovery_by_its_own_ttl():
    rec = next(r for r in SEED.records if r.private and r.target == SEED.database.endpoint)
    assert rec.ttl_s == 300
    fo = T.failover_timeline(SEED, clients=("dns", "private-name"))
    assert fo.recovery_s("private-name") == fo.recovery_s("dns")
    waiting = fo.frame().query("client == 'private-name' and state == 'waiting for TTL'")
    assert "TTL 300 s" in waiting.iloc[0]["reason"]
    longer_endpoint = replace(SEED, database=replace(SEED.database, endpoint_ttl_s=400))
    assert (T.failover_timeline(longer_endpoint, clients=("private-name",)).recovery_s("private-name")
            - fo.recovery_s("private-name")) == 300 - SEED.database.endpoint_ttl_s
    no_record = replace(SEED, records=tuple(r for r in SEED.records if r is not rec))
    with pytest.raises(tl.TierlabError, match="no private DNS record"):
        T.failover_timeline(no_record, clients=("private-name",))
