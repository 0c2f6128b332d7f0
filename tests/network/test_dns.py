"""Route 53: answer chains from the records, caching over time, what a stale answer costs."""

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab import dns

SEED = tl.load("seed")
AFTER_FAILOVER = dns.failover(SEED)
MOVED_ALB = dns.move_alb(SEED)
RECORD = {r.name: r for r in SEED.records}

lookup_times = st.lists(st.floats(min_value=0, max_value=2000, allow_nan=False), min_size=1, max_size=80)
holds = st.one_of(st.none(), st.integers(min_value=0, max_value=900))


# --------------------------------------------------------------------------- answers

def test_api_name_is_an_alias_to_the_alb_nodes():
    a = dns.resolve(SEED, "api.myapp.com")
    assert a.ok and a.rcode == "NOERROR"
    assert a.addresses == tuple(n.public_ip for n in SEED.alb.nodes)
    assert [h.name for h in a.hops] == ["api.myapp.com", SEED.alb.dns_name]
    assert a.hops[0].type == "A (alias)" and a.hops[0].ttl_s == RECORD["api.myapp.com"].ttl_s
    assert a.ttl_s == 60  # an alias to an ELB: the ELB's 60 s, from the record
    assert a.frame()["reason"].str.len().gt(20).all()
    assert dns.resolve(SEED, "API.myapp.com.").addresses == a.addresses  # case and trailing dot


def test_private_zone_answers_only_inside_the_vpc():
    outside = dns.resolve(SEED, "db.myapp.internal")
    assert outside.rcode == "NXDOMAIN" and not outside.ok and "private" in outside.hops[-1].reason
    inside = dns.resolve(SEED, "db.myapp.internal", where="vpc")
    assert [h.type for h in inside.hops] == ["CNAME", "A"]
    assert inside.hops[0].ttl_s == RECORD["db.myapp.internal"].ttl_s
    assert inside.hops[1].ttl_s == SEED.database.endpoint_ttl_s
    assert inside.addresses == (SEED.database.instance("primary").ip,)


def test_failover_flips_the_endpoint_and_the_name_follows():
    after = dns.resolve(AFTER_FAILOVER, "db.myapp.internal", where="vpc")
    assert after.addresses == (SEED.database.instance("standby").ip,)
    assert SEED.database.instance("primary").name == "rds-primary"  # what-if, not mutation


def test_rds_endpoint_resolves_from_the_internet_but_to_a_private_address():
    a = dns.resolve(SEED, SEED.database.endpoint)
    assert a.ok and a.addresses[0].is_private and "not the firewall" in a.hops[0].reason


def test_unknown_names_are_nxdomain():
    assert dns.resolve(SEED, "www.myapp.com").rcode == "NXDOMAIN"
    assert dns.resolve(SEED, "example.org").rcode == "NXDOMAIN"


def test_records_frame_has_reasons():
    df = dns.records_frame(SEED)
    assert len(df) == len(SEED.records) and df["reason"].str.len().gt(10).all()
    assert df.set_index("name").loc["db.myapp.internal", "private"]


# --------------------------------------------------------------------------- caching laws

@settings(max_examples=80, deadline=None)
@given(lookup_times, holds, st.sampled_from(["api.myapp.com", "db.myapp.internal"]))
def test_a_cached_answer_is_never_older_than_its_ttl(times, hold_s, name):
    client = dns.Client("c", hold_s=hold_s)
    t = dns.timeline(SEED, name, lookups_s=times, client=client, where="vpc")
    for l in t.lookups:
        assert l.age_s < l.ttl_s or l.source == "route53"
        if l.source == "cache":
            expected = dns.resolve(SEED, name, where="vpc").ttl_s if hold_s is None else hold_s
            assert l.ttl_s == expected


@settings(max_examples=60, deadline=None)
@given(lookup_times, st.floats(min_value=0, max_value=1500))
def test_a_hard_coded_ip_never_follows_a_failover(times, change_at):
    old_ip = str(SEED.database.instance("primary").ip)
    t = dns.timeline(SEED, "db.myapp.internal", lookups_s=times, client=dns.hard_coded(old_ip), where="vpc",
                     change=AFTER_FAILOVER, change_at_s=change_at)
    assert all(l.stale == (l.t_s >= change_at) for l in t.lookups)
    assert t.queries == 0
    if any(l.t_s >= change_at for l in t.lookups):
        assert math.isinf(t.stale_for_s)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0, max_value=500), holds)
def test_a_ttl_honouring_client_follows_within_its_hold(change_at, hold_s):
    client = dns.Client("c", hold_s=hold_s)
    t = dns.timeline(SEED, "api.myapp.com", lookups_s=[x / 2 for x in range(0, 2400)], client=client,
                     change=MOVED_ALB, change_at_s=change_at)
    held = dns.resolve(SEED, "api.myapp.com").ttl_s if hold_s is None else hold_s
    assert t.stale_for_s <= held
    assert all(not l.stale for l in t.lookups if l.t_s >= change_at + held)


def test_stale_frame_is_the_remaining_ttl():
    df = dns.stale_frame(SEED, "api.myapp.com", MOVED_ALB, change_at_s=30, cached_at_s=5).set_index("client")
    ttl = RECORD["api.myapp.com"].ttl_s
    assert df.loc[dns.RESOLVER.name, "stale_for_s"] == ttl - 25
    assert df.loc[dns.SEED_BROWSER.name, "stale_for_s"] == 300 - 25
    hard = [c for c in df.index if c.startswith("hard-coded")]
    assert math.isinf(df.loc[hard[0], "stale_for_s"])
    expired = dns.stale_frame(SEED, "api.myapp.com", MOVED_ALB, change_at_s=200, cached_at_s=100)
    assert expired.set_index("client").loc[dns.RESOLVER.name, "stale_for_s"] == 0


# --------------------------------------------------------------------------- the seed's DNS slips

@pytest.mark.parametrize("diff_id, path", [
    ("apex-cname", "dns.records[0].type"),
    ("alias-name", "dns.records[1].target"),
    ("alb-eip", "load_balancer.elastic_ip"),
])
def test_the_seeds_dns_slips_are_refused_by_validation(diff_id, path):
    err = dns.slip(diff_id)
    assert isinstance(err, tl.ValidationError)
    assert [p.path for p in err.problems] == [path]


def test_slip_without_patch_or_unknown_id():
    with pytest.raises(tl.TierlabError, match="no patch"):
        dns.slip("five-slash-eight")
    with pytest.raises(tl.TierlabError, match="no difference"):
        dns.slip("nope")


# --------------------------------------------------------------------------- bad input

NO_STANDBY = replace(SEED, database=replace(SEED.database, multi_az=False))


@pytest.mark.parametrize("call, words", [
    (lambda: dns.resolve(SEED, ""), "non-empty"),
    (lambda: dns.resolve(SEED, 42), "non-empty"),
    (lambda: dns.resolve(SEED, "api.myapp.com", where="moon"), "where"),
    (lambda: dns.resolve("seed", "api.myapp.com"), "Topology"),
    (lambda: dns.timeline(SEED, "api.myapp.com", lookups_s=[1], client="me"), "Client"),
    (lambda: dns.timeline(SEED, "api.myapp.com", lookups_s=[1], change=MOVED_ALB), "change_at_s"),
    (lambda: dns.timeline(SEED, "api.myapp.com", lookups_s=[-1]), ">= 0"),
    (lambda: dns.timeline(SEED, "api.myapp.com", lookups_s=["soon"]), "lookups_s"),
    (lambda: dns.hard_coded("db-host"), "IPv4"),
    (lambda: dns.Client("x", hold_s=-5), "hold_s"),
    (lambda: dns.move_alb(SEED, ["1.2.3.4"]), "nodes"),
    (lambda: dns.move_alb(SEED, ["1.2.3.4", "x"]), "IPv4"),
    (lambda: dns.failover(NO_STANDBY), "standby"),
    (lambda: dns.stale_frame(SEED, "db.myapp.internal", AFTER_FAILOVER, change_at_s=10), "vpc"),
    (lambda: dns.stale_frame(SEED, "api.myapp.com", MOVED_ALB, change_at_s=10, cached_at_s=20), "cached_at_s"),
])
def test_bad_input_is_a_clear_tierlab_error(call, words):
    with pytest.raises(tl.TierlabError) as err:
        call()
    assert words in str(err.value) and err.value.hint


def test_dns_chart_draws_on_the_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    tls = [dns.timeline(SEED, "api.myapp.com", lookups_s=range(0, 200, 5), client=c, change=MOVED_ALB,
                        change_at_s=50) for c in (dns.RESOLVER, dns.hard_coded("12.34.56.78"))]
    assert tl.edge_charts.dns_timelines(tls, ax=ax) is ax and len(ax.collections) > 0
    plt.close(fig)


def test_a_plain_a_record_needs_an_address():
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    bad = tl.apply_patch(raw, [["dns.records[0].alias", False]])
    with pytest.raises(tl.ValidationError) as err:
        tl.load_dict(bad)
    assert [p.path for p in err.value.problems] == ["dns.records[0].target"]
    ok = tl.load_dict(tl.apply_patch(raw, [["dns.records[+]", {"zone": "myapp.com", "name": "www.myapp.com",
                                                                "type": "A", "target": "198.51.100.20"}]]))
    a = dns.resolve(ok, "www.myapp.com")
    assert [str(x) for x in a.addresses] == ["198.51.100.20"] and a.ttl_s == 300


@settings(max_examples=40, deadline=None)
@given(lookup_times, st.floats(min_value=0, max_value=1500))
def test_a_hard_coded_alb_node_address_is_right_until_the_nodes_move_then_never_again(times, change_at):
    node_ip = str(SEED.alb.nodes[0].public_ip)
    t = dns.timeline(SEED, "api.myapp.com", lookups_s=times, client=dns.hard_coded(node_ip),
                     change=MOVED_ALB, change_at_s=change_at)
    assert all(l.stale == (l.t_s >= change_at) for l in t.lookups)


def test_timelines_replays_the_same_lookups_for_each_client_in_order():
    clients = [dns.RESOLVER, dns.SEED_BROWSER, dns.hard_coded("12.34.56.78")]
    lines = dns.timelines(SEED, "api.myapp.com", clients, lookups_s=range(0, 400, 5), change=MOVED_ALB,
                          change_at_s=100)
    assert [t.client for t in lines] == clients
    for c, t in zip(clients, lines):
        alone = dns.timeline(SEED, "api.myapp.com", lookups_s=range(0, 400, 5), client=c, change=MOVED_ALB,
                             change_at_s=100)
        assert t == alone
    assert lines[0].stale_for_s <= lines[1].stale_for_s < lines[2].stale_for_s == math.inf
    assert dns.timelines(SEED, "api.myapp.com", [], lookups_s=[0]) == ()
