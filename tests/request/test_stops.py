"""The journey stops where the packet stops: laws over any rules switched off, and the cases a learner meets."""

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.evaluate import PASSING
from tierlab.request.steps import STEP_IDS, STEP_INDEX, STEPS
from tierlab.request.symptoms import CONNECT_TIMEOUT_S


@functools.cache
def seed():
    return tl.load("seed")


RULE_IDS = sorted(r.id for r in tl.load("seed").rules())
FRONT_STEPS = {s.id for s in STEPS if s.flow == "front"}


@functools.cache
def trace_of(off: frozenset[str], os: str = "linux") -> tl.Trace:
    return tl.journey(seed().switch_off(*sorted(off)), os=os)


offs = st.frozensets(st.sampled_from(RULE_IDS), max_size=3)


@settings(max_examples=60, deadline=None)
@given(off=offs, os=st.sampled_from(tl.OSES))
def test_no_step_after_the_packet_stops_passes(off, os):
    trace = trace_of(off, os)
    for p in trace.pairs:
        steps = p.steps
        assert [s.step.id for s in steps] == list(STEP_IDS)
        cut = STEP_INDEX[p.reached]
        assert all(s.verdict == "not_reached" for s in steps[cut + 1:])
        # a step that is not reached still says what it would decide
        assert all(s.would_verdict != "not_reached" for s in steps)
        # reached steps decide as they would, except the stop itself (partial rules can add up to a drop)
        assert all(s.verdict == s.would_verdict for s in steps if s.reached and s.step.id != p.reached)


@settings(max_examples=60, deadline=None)
@given(off=offs)
def test_the_packet_stops_exactly_when_no_connection_of_the_pair_gets_through(off):
    trace = trace_of(off)
    for p in trace.pairs:
        stopped = p.stop is not None
        assert stopped == (p.share == 0)
        if stopped:
            assert p.steps[STEP_INDEX[p.reached]].verdict in ("blocked", "refused")
            assert p.outcome.failed
        else:
            assert p.reached == STEP_IDS[-1] and all(s.reached for s in p.steps)


@settings(max_examples=60, deadline=None)
@given(off=offs)
def test_no_reply_happens_when_its_request_was_dropped(off):
    trace = trace_of(off)
    for p in trace.pairs:
        if p.stop is None or p.stop.leg != "request":
            continue
        for flow in ("front", "back", "db"):
            if p.stop.flow == getattr(p, flow).name:
                assert not p.leg_reached(flow, "reply")
        # nor does any flow the journey opens after the drop
        for flow in ("front", "back", "db"):
            name = getattr(p, flow).name
            if min(STEP_INDEX[c.step] for c in p.checks if c.flow == name) > STEP_INDEX[p.reached]:
                assert not p.leg_reached(flow, "request") and not p.leg_reached(flow, "reply")


@settings(max_examples=60, deadline=None)
@given(off=offs)
def test_frame_rows_after_a_drop_say_not_reached_and_keep_their_verdict(off):
    trace = trace_of(off)
    df = trace.frame()
    for p in trace.pairs:
        rows = df[df["pair"] == p.name]
        later = rows[rows["step"].map(STEP_INDEX) > STEP_INDEX[p.reached]]
        assert (later["verdict"] == "not_reached").all()
        assert not rows[rows["verdict"] == "not_reached"]["would_verdict"].eq("not_reached").any()
    assert (df.loc[df["verdict"] != "not_reached", "verdict"] == df.loc[df["verdict"] != "not_reached",
                                                                       "would_verdict"]).all()
    # blocked still lists every blocking point, reached or not
    blocking = df[~df["would_verdict"].isin(PASSING)]
    assert {(r.component, r.step) for r in blocking.itertuples()} == {(b.component, b.step) for b in trace.blocks}


@settings(max_examples=60, deadline=None)
@given(off=offs)
def test_outcomes_share_every_request_once(off):
    trace = trace_of(off)
    outs = trace.outcomes
    assert sum(o.share for o in outs) == pytest.approx(1.0)
    ok = sum(o.share for o in outs if not o.outcome.failed)
    assert ok == pytest.approx(trace.success_share)


@settings(max_examples=60, deadline=None)
@given(off=offs, os=st.sampled_from(tl.OSES))
def test_in_front_of_the_alb_a_drop_is_a_timeout_behind_it_an_http_error(off, os):
    trace = trace_of(off, os)
    for p in trace.pairs:
        o = p.outcome
        if not o.failed or not trace.dns.passed:
            continue
        if p.stop is not None and p.reached in FRONT_STEPS and p.stop.kind != "forward":
            assert o.status is None and o.kind in ("timeout", "refused")
            assert o.wait_s == (CONNECT_TIMEOUT_S[os] if o.kind == "timeout" else 0.0)
        elif p.stop is not None and p.reached not in FRONT_STEPS:
            assert o.status in (500, 502, 504) and o.wait_s is not None


def test_database_sg_off_ends_at_db_sg_in_with_a_504_after_the_idle_timeout():
    trace = trace_of(frozenset({"database-sg-in-5432"}))
    for p in trace.pairs:
        assert p.reached == "db-sg-in"
        assert p.status == 504 and p.outcome.wait_s == seed().alb.idle_timeout_s
        steps = {s.step.id: s for s in p.steps}
        assert steps["db-sg-in"].verdict == "blocked"
        assert steps["browser-receive"].verdict == "not_reached"
        assert "Account created" in steps["browser-receive"].would_reason  # kept, not shown as happening
        assert "Account created" not in steps["browser-receive"].reason
        assert not p.leg_reached("db", "reply") and not p.leg_reached("back", "reply")
    sf = trace.steps_frame()
    after = sf.iloc[STEP_INDEX["db-sg-in"] + 1:]
    assert (after["verdict"] == "not_reached").all() and "pass" not in set(after["verdict"])


def test_a_dropped_syn_ack_stops_before_the_work_that_needs_the_connection():
    # the app NACL's reply rule back to the ALB's subnet: the server's SYN-ACK never reaches node az1
    trace = trace_of(frozenset({"nacl-private-app-out-110"}))
    p = next(p for p in trace.pairs if not p.ok)
    assert p.reached == "alb-receive" and p.stop.leg == "reply"
    steps = {s.step.id: s for s in p.steps}
    assert steps["web-sg-in"].verdict == "pass"  # the SYN got there
    assert steps["node-process"].verdict == "not_reached"  # no connection, no request to process
    assert steps["alb-receive"].verdict == "blocked"
    assert "SYN-ACK" in steps["node-process"].reason
    assert p.status == 504 and p.outcome.wait_s == seed().alb.connect_timeout_s


def test_a_dns_failure_stops_every_pair_at_dns():
    import dataclasses

    t = dataclasses.replace(seed(), records=tuple(r for r in seed().records if r.name != "api.myapp.com"))
    trace = tl.journey(t)
    assert all(p.reached == "dns" and p.outcome.kind == "dns" for p in trace.pairs)
    assert set(trace.frame().query("pair != ''")["verdict"]) == {"not_reached"}


def test_no_targets_stops_the_journey_at_the_alb_with_a_503_at_once():
    import dataclasses

    t = dataclasses.replace(seed(), alb=dataclasses.replace(seed().alb, targets=()))
    trace = tl.journey(t)
    assert trace.reached_for() == "alb-process"
    (out,) = trace.outcomes
    assert out.outcome.status == 503 and out.outcome.wait_s == 0 and out.share == 1
    assert trace.steps_for()[-1].verdict == "not_reached"


def test_partial_rules_that_leave_ports_open_do_not_stop_the_packet():
    t = seed().change_rule("nacl-private-app-out-110", ports="1024-50000")
    p = tl.journey(t).pair("alb-node-az1", "node-api-1")
    assert 0 < p.share < 1 and p.stop is None and p.reached == STEP_IDS[-1]
    assert {s.verdict for s in p.steps if s.step.id == "alb-receive"} == {"partial"}
    assert p.outcome.status == 504 and 0 < p.outcome.share_failing < 1


def test_partial_rules_whose_ports_do_not_overlap_stop_it_at_the_second():
    t = (seed().change_rule("nacl-private-db-out-100", ports="32768-45000")
         .change_rule("nacl-private-app-in-110", ports="45001-60999"))
    p = tl.journey(t).pairs[0]
    assert p.share == 0 and p.reached == "db-reply"
    assert p.stop.component == "nacl-private-app"  # the second of the two: only together they stop it


def test_steps_for_accepts_a_name_or_a_pair_and_refuses_an_unknown_one():
    trace = trace_of(frozenset())
    p = trace.pairs[1]
    assert trace.steps_for(p.name) == trace.steps_for(p) == p.steps
    assert trace.reached_for(p.name) == STEP_IDS[-1]
    with pytest.raises(tl.TopologyError, match="no pair"):
        trace.steps_for("a->b")


def test_json_pairs_say_where_they_stop_and_steps_after_it_are_not_reached():
    data = trace_of(frozenset({"database-sg-in-5432"})).as_dict()
    assert all(p["reached"] == "db-sg-in" and p["wait_s"] == 60 for p in data["pairs"])
    late = [s for s in data["steps"] if s["pair"] and STEP_INDEX[s["step"]] > STEP_INDEX["db-sg-in"]]
    assert late and all(s["verdict"] == "not_reached" and s["would_verdict"] != "not_reached" for s in late)
    assert [b["step"] for b in data["blocked"]] == ["db-sg-in"]


def test_cli_json_carries_reached_and_not_reached_steps(capsys):
    import json

    from tierlab.cli import main

    assert main(["journey", "--off", "database-sg-in-5432", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {p["reached"] for p in data["pairs"]} == {"db-sg-in"}
    assert {s["verdict"] for s in data["steps"] if s["step"] == "browser-receive" or s["step"] == "db-reply"} == {
        "not_reached"}
    assert any(s["would_verdict"] == "allow" for s in data["steps"] if s["verdict"] == "not_reached")
