"""The Create Account journey on the seed topologies, and each seed checkpoint switched off."""

import ipaddress

import pytest

import tierlab as tl
from tierlab.network.topology import Instance

SCENARIOS = tl.read_yaml(tl.data_path("scenarios", "checkpoints-off.yaml"))["scenarios"]


@pytest.fixture(scope="module")
def seed():
    return tl.load("seed")


@pytest.fixture(scope="module")
def as_written():
    return tl.load("seed-as-written")


def test_seed_gets_through_for_every_alb_node_and_target(seed):
    trace = tl.journey(seed)
    assert trace.ok
    assert {(p.node, p.target) for p in trace.pairs} == {
        (n.name, t) for n in seed.alb.nodes for t in seed.alb.targets
    }
    assert len(trace.pairs) == 6
    assert all(p.status == 200 for p in trace.pairs)
    assert trace.success_share == 1.0
    assert trace.blocks == ()


@pytest.mark.parametrize("os", tl.OSES)
def test_seed_works_for_every_client_os(seed, os):
    assert tl.journey(seed, os=os).ok


def test_seed_survives_a_failover_to_the_standby(seed):
    assert tl.journey(seed, database="standby").ok


def test_as_written_server_3_cannot_reach_the_database(as_written):
    trace = tl.journey(as_written)
    assert not trace.ok
    p = trace.pair("alb-node-az1", "node-api-3")
    assert p.front.ok and p.back.ok and not p.db.ok
    assert p.status == 504 and "idle timeout" in p.symptom
    first = p.db.blocking[0]
    assert first.component == "nacl-private-db" and first.direction == "inbound"
    assert first.rule_ids == ("nacl-private-db-in-star",)
    assert first.code == "SUBNET_ACL_RESTRICTION"
    assert "#100 allows tcp 5432 but only from 10.0.2.0/23" in first.reason
    assert "10.0.4.89" in first.reason
    # servers 1 and 2 through the first node are fine
    assert trace.pair("alb-node-az1", "node-api-1").ok
    assert trace.pair("alb-node-az1", "node-api-2").ok


def test_as_written_reports_every_blocking_point_at_once(as_written):
    trace = tl.journey(as_written)
    found = {(b.component, b.direction, b.step) for b in trace.blocks}
    assert ("nacl-private-db", "inbound", "db-nacl-in") in found  # Server 3's query
    assert ("nacl-private-db", "outbound", "db-reply") in found  # and its reply
    assert ("nacl-private-app", "inbound", "app-nacl-in") in found  # the second ALB node
    payload = trace.as_dict()
    assert payload["ok"] is False
    assert all({"component", "rule_id", "direction", "code"} <= set(b) for b in payload["blocked"])


def test_as_written_shuts_the_second_alb_node_out(as_written):
    trace = tl.journey(as_written)
    az2 = [p for p in trace.pairs if p.node == "alb-node-az2"]
    assert az2 and all(not p.back.ok and not p.healthy for p in az2)
    # every target fails that node's health checks: the ALB fails open and answers 504
    assert all(p.chosen and p.status == 504 and "fails open" in p.symptom for p in az2)
    # half the browsers land on node az2 (all fail), the other half lose 1 in 3 (Server 3)
    assert trace.success_share == pytest.approx(0.5 * 2 / 3)


def test_as_written_standby_is_unreachable_after_failover(as_written):
    trace = tl.journey(as_written, database="standby")
    p = trace.pair("alb-node-az1", "node-api-1")
    assert not p.db.ok
    b = p.db.blocking[0]
    assert (b.component, b.direction) == ("nacl-private-app", "outbound")
    assert "10.0.6.42" in b.reason and "#100 allows tcp 5432 but only to 10.0.5.0/24" in b.reason


def test_as_written_ephemeral_110_rules_are_on_no_path(as_written):
    cps = tl.journey(as_written).seed_checkpoints().set_index("checkpoint")
    assert cps.loc[10, "verdict"] == "on no path"  # DB NACL inbound ephemeral: replies go outbound
    assert cps.loc[7, "verdict"] == "on no path"  # app NACL out #110 points at the DB subnet
    assert cps.loc[9, "verdict"] == "pass"


def test_as_written_redirect_listener_times_out(as_written, seed):
    r = tl.can_reach(as_written, "internet", "alb-node-az1", 80)
    assert not r.ok and r.flow.blocking[0].component == "nacl-public"
    assert tl.can_reach(seed, "internet", "alb-node-az1", 80).ok


def test_seed_checkpoints_view_maps_all_eleven(seed):
    df = tl.journey(seed).seed_checkpoints()
    assert list(df["checkpoint"]) == list(range(1, 12))
    assert (df["verdict"] == "pass").all()
    assert df["reason"].str.len().min() > 10


@pytest.mark.parametrize("sc", SCENARIOS, ids=[f"cp{s['checkpoint']}" for s in SCENARIOS])
def test_each_seed_checkpoint_switched_off(seed, sc):
    trace = tl.journey(seed.switch_off(sc["rule"]))
    assert not trace.ok
    broken = [p for p in trace.pairs if not p.ok]
    assert len(broken) == sc["pairs_broken"]
    blocks = [b for b in trace.blocks if b.component == sc["component"] and b.direction == sc["direction"]]
    assert blocks, f"no block at {sc['component']} {sc['direction']}: {trace.summary()}"
    b = blocks[0]
    assert b.code == sc["code"]
    assert b.step == sc["step"]
    assert sc["rule"] in b.would_allow  # the switched-off rule that would have allowed it is named
    assert all(p.status == sc["status"] for p in broken)
    assert all(sc["symptom"] in p.symptom for p in broken)
    # and switching it back on clears it
    assert tl.journey(seed.switch_off(sc["rule"]).switch_on(sc["rule"])).ok


def test_scenario_file_covers_every_seed_checkpoint(seed):
    tagged = {r.seed_checkpoint: r.id for r in seed.rules() if r.seed_checkpoint}
    assert {s["checkpoint"]: s["rule"] for s in SCENARIOS} == tagged


def test_missing_route_gives_no_route_to_destination(seed):
    t = seed.without_route("rt-public", "0.0.0.0/0")
    trace = tl.journey(t)
    codes = {b.code for b in trace.blocks}
    assert codes == {"NO_ROUTE_TO_DESTINATION"}
    assert all(p.status is None and "timed out" in p.symptom for p in trace.pairs)


def test_the_local_route_cannot_be_removed(seed):
    with pytest.raises(tl.RuleError, match="local route"):
        seed.without_route("rt-private", "10.0.0.0/16")


def test_windows_only_ephemeral_rule_passes_windows_and_fails_most_linux(seed):
    t = seed.change_rule("nacl-public-out-110", ports="49152-65535")
    assert tl.journey(t, os="windows").ok
    linux = tl.journey(t, os="linux")
    assert not linux.ok
    b = next(b for b in linux.blocks if b.component == "nacl-public")
    expected = (60999 - 49152 + 1) / (60999 - 32768 + 1)
    assert b.share == pytest.approx(expected)
    assert 0 < linux.success_share < 0.5  # "most Linux connections fail"
    assert "time out" in linux.pairs[0].symptom and "%" in linux.pairs[0].symptom


def test_a_fourth_server_adds_its_checkpoints(seed):
    four = seed.with_instance(Instance(name="node-api-4", ip=ipaddress.IPv4Address("10.0.2.46"), subnet="private-app-az1", sgs=("web-sg",)))
    before, after = tl.journey(seed), tl.journey(four)
    assert len(after.pairs) == 8 and after.ok
    assert len(after.checks) > len(before.checks)
    assert {c.pair for c in after.checks if "node-api-4" in c.pair} == {
        "alb-node-az1->node-api-4", "alb-node-az2->node-api-4"}


def test_instance_outside_its_subnet_is_refused(seed):
    with pytest.raises(tl.TopologyError, match="does not contain instance 'node-api-4' 10.0.4.89"):
        seed.with_instance(Instance(name="node-api-4", ip=ipaddress.IPv4Address("10.0.4.89"), subnet="private-app-az2", sgs=("web-sg",)))


def test_target_not_listening_is_connection_refused_and_502(seed):
    import dataclasses
    t = dataclasses.replace(seed, instances=tuple(
        dataclasses.replace(i, listens=(8080,)) if i.name == "node-api-2" else i for i in seed.instances))
    trace = tl.journey(t)
    p = trace.pair("alb-node-az1", "node-api-2")
    assert p.back.refused and p.back.blocking[0].code == "NOT_LISTENING"
    assert p.status == 502 and not p.healthy and not p.chosen  # health checks take it out
    assert trace.success_share == 1.0  # the others keep serving


def test_database_refusing_is_a_500_from_the_app(seed):
    import dataclasses
    t = dataclasses.replace(seed, database=dataclasses.replace(seed.database, running=False))
    p = tl.journey(t).pairs[0]
    assert p.status == 500 and "refused" in p.symptom


def test_trace_frame_has_a_reason_on_every_row(seed):
    df = tl.journey(seed.switch_off("web-sg-in-3000")).frame()
    assert len(df) > 50
    assert df["reason"].map(lambda r: isinstance(r, str) and len(r) > 10).all()
    assert set(df["step"]) <= set(tl.STEP_IDS)
    assert "<table" in tl.journey(seed)._repr_html_()


def test_steps_map_to_seed_numbers_and_latency_components():
    seeds = [s.seed_step for s in tl.STEPS if s.seed_step]
    assert sorted(seeds) == list(range(1, 20))
    assert len(set(tl.STEP_IDS)) == len(tl.STEP_IDS)
    assert {s.latency for s in tl.STEPS} == {"client", "dns", "tls", "firewall", "alb", "node", "db", "return"}


def test_unknown_os_and_database_are_clear_errors(seed):
    with pytest.raises(tl.TopologyError, match="unknown client OS 'beos'"):
        tl.journey(seed, os="beos")
    import dataclasses
    single = dataclasses.replace(seed, database=dataclasses.replace(
        seed.database, multi_az=False, instances=seed.database.instances[:1]))
    with pytest.raises(tl.TopologyError, match="no standby"):
        tl.journey(single, database="standby")


def test_dns_pointing_elsewhere_blocks_everything(seed):
    import dataclasses
    recs = tuple(dataclasses.replace(r, target="elsewhere.example") if r.name == "api.myapp.com" else r
                 for r in seed.records)
    trace = tl.journey(dataclasses.replace(seed, records=recs))
    assert not trace.ok and trace.success_share == 0
    assert trace.blocks[0].code == "DNS_RESOLUTION_FAILED"


def test_checks_frame_is_exactly_the_rows_of_frame_for_that_step_and_pair():
    trace = tl.journey(tl.load("seed").switch_off("nacl-private-db-in-100"))
    full = trace.frame()
    pair = trace.pairs[1].name
    for step, want_pair in (("db-reply", pair), ("db-nacl-in", None), (None, pair)):
        got = trace.checks_frame(step=step, pair=want_pair)
        mask = ((full["step"] == step) if step else True) & ((full["pair"] == want_pair) if want_pair else True)
        assert got.equals(full[mask].reset_index(drop=True)) and len(got) > 0
    assert trace.checks_frame().equals(full)
    with pytest.raises(tl.TopologyError, match="no journey step 'db-nope'"):
        trace.checks_frame(step="db-nope")
    with pytest.raises(tl.TopologyError, match="no pair 'a->b'"):
        trace.checks_frame(pair="a->b")


def test_the_instance_a_hint_names_is_there_to_pass():
    """with_instance's hint says tl.Instance(...): that name exists, and what it builds is taken."""
    import tierlab as tl

    seed = tl.load("seed")
    with pytest.raises(tl.TierlabError) as exc:
        seed.with_instance("node-api-9")
    assert "tl.Instance(" in exc.value.hint
    grown = seed.with_instance(tl.Instance(name="node-api-9", ip="10.0.2.77", subnet="private-app-az1", sgs=("web-sg",)))
    assert "node-api-9" in {i.name for i in grown.instances}
