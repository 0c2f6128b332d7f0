"""The latency model: its laws, the seed's budget, the presets and their errors."""

import ast
import html
import inspect
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.sim import latency as lat
from tierlab.sim.latency import PhysicsParams, latency_model, seed_vs_physics

SEED = tl.load("seed")
TIMINGS = {"tcp_connect_ms": 0.4, "tls_handshake_ms": 3.0, "auth_ms": 6.0, "first_query_ms": 4.0,
           "pool_acquire_ms": 0.02, "insert_ms": 1.2}

# parameters a learner can move; the laws must hold whatever they are set to
params = st.fixed_dictionaries({
    "rtt_ms": st.floats(0, 400),
    "tls_version": st.sampled_from(["1.2", "1.3"]),
    "tls_resumption": st.booleans(),
    "keep_alive": st.booleans(),
    "dns_cache": st.sampled_from(["browser", "resolver", "miss", "mixed"]),
    "pool": st.booleans(),
    "pool_pre_ping": st.booleans(),
    "multi_az": st.booleans(),
    "db_tls": st.booleans(),
    "rtt_jitter_frac": st.floats(0, 1),
    "work_jitter_frac": st.floats(0, 1),
    "app_ms": st.floats(0, 200),
    "cross_az_rtt_ms": st.floats(0, 5),
    "resolver_rtt_ms": st.floats(0, 100),
    "revisit_s": st.floats(1, 10_000),
})
LAW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
N = 300


def totals(model, seed=3):
    return model.simulate(N, seed).totals_ms


# ---------------------------------------------------------------------------- laws


@LAW
@given(p=params, extra_ms=st.floats(0.001, 300))
def test_more_rtt_never_makes_a_request_faster(p, extra_ms):
    slow = latency_model(SEED, **{**p, "rtt_ms": p["rtt_ms"] + extra_ms})
    fast = latency_model(SEED, **p)
    assert slow.total_ms >= fast.total_ms
    assert np.all(totals(slow) >= totals(fast) - 1e-9)  # request by request, same random numbers


@LAW
@given(p=params)
def test_a_cached_dns_answer_is_never_slower_than_a_miss(p):
    by_state = {s: latency_model(SEED, **{**p, "dns_cache": s}) for s in ("browser", "resolver", "miss")}
    means = {s: m.step("dns").mean_ms for s, m in by_state.items()}
    assert means["browser"] <= means["resolver"] <= means["miss"]
    draws = {s: m.simulate(N, 5).step_ms("dns") for s, m in by_state.items()}
    assert np.all(draws["browser"] <= draws["resolver"] + 1e-9)
    assert np.all(draws["resolver"] <= draws["miss"] + 1e-9)
    mixed = latency_model(SEED, **{**p, "dns_cache": "mixed"}).step("dns").mean_ms
    assert means["browser"] - 1e-9 <= mixed <= means["miss"] + 1e-9


@LAW
@given(p=params)
def test_tls_13_saves_exactly_one_round_trip_on_a_new_connection(p):
    p = {**p, "keep_alive": False, "tls_resumption": False}
    t12 = latency_model(SEED, **{**p, "tls_version": "1.2"})
    t13 = latency_model(SEED, **{**p, "tls_version": "1.3"})
    assert t12.total_ms - t13.total_ms == pytest.approx(p["rtt_ms"], abs=1e-6)
    # request by request: without crypto work the 1.3 handshake is TCP + TLS = 2 sampled RTTs,
    # and 1.2 costs exactly one sampled RTT more
    no_crypto = {**p, "tls_crypto_ms": 0.0}
    s12 = latency_model(SEED, **{**no_crypto, "tls_version": "1.2"}).simulate(N, 9).step_ms("connect-alb")
    s13 = latency_model(SEED, **{**no_crypto, "tls_version": "1.3"}).simulate(N, 9).step_ms("connect-alb")
    np.testing.assert_allclose(s12 - s13, s13 / 2, atol=1e-9)


@LAW
@given(p=params)
def test_resumption_and_keep_alive_never_cost_time(p):
    base = latency_model(SEED, **{**p, "keep_alive": False, "tls_resumption": False})
    resumed = base.with_params(tls_resumption=True)
    kept = base.with_params(keep_alive=True)
    assert np.all(totals(resumed) <= totals(base) + 1e-9)
    assert np.all(totals(kept) <= totals(resumed) + 1e-9)
    assert kept.step("connect-alb").mean_ms == 0


@LAW
@given(p=params)
def test_the_pooled_path_is_never_slower_than_a_new_connection(p):
    pooled = latency_model(SEED, **{**p, "pool": True})
    fresh = latency_model(SEED, **{**p, "pool": False})
    assert pooled.step("db-connect").mean_ms <= fresh.step("db-connect").mean_ms
    assert np.all(totals(pooled) <= totals(fresh) + 1e-9)


@LAW
@given(p=params, timings=st.fixed_dictionaries({k: st.floats(0, 50) for k in lat.DB_TIMING_KEYS}))
def test_the_pooled_path_is_never_slower_with_measured_timings_either(p, timings):
    timings = {**timings, "first_query_ms": max(timings["first_query_ms"], timings["insert_ms"])}
    pooled = latency_model(SEED, "measured", db_timings_ms=timings, **{**p, "pool": True})
    fresh = latency_model(SEED, "measured", db_timings_ms=timings, **{**p, "pool": False})
    assert np.all(totals(pooled) <= totals(fresh) + 1e-9)


# ---------------------------------------------------------------------------- the seed preset


def test_the_seed_presets_median_lands_inside_the_seeds_claim_and_its_spread_is_reported():
    sim = latency_model(SEED, "seed").simulate(100_000, seed=1)
    spread = sim.spread()
    assert 300 <= spread["p50_ms"] <= 500
    # every request lies inside the sum of the seed's own ranges, and the spread is real
    assert 290 <= spread["min_ms"] and spread["max_ms"] <= 570
    assert spread["p5_p95_ms"] > 50
    # the spread reaches past the claim: the seed's 500 ms is not its worst case
    assert spread["p99_ms"] > 500
    p = sim.percentiles()
    assert list(p["percentile"]) == ["p50", "p95", "p99"]
    assert p["total_ms"].is_monotonic_increasing and p["reason"].str.len().gt(0).all()


def test_the_seed_preset_says_its_ranges_add_up_to_290_570_not_300_500():
    m = latency_model(SEED, "seed")
    assert lat.SEED_SUM_MS == (290, 570)
    assert any("290-570" in n and "300-500" in n for n in m.notes)
    by_comp = m.component_ms()
    for comp, (lo, hi) in lat.SEED_BUDGET_MS.items():
        assert by_comp[comp] == pytest.approx((lo + hi) / 2), comp
    assert m.total_ms == pytest.approx(430)


def test_the_seed_preset_takes_no_parameters():
    with pytest.raises(tl.TierlabError, match="seed preset takes no parameters"):
        latency_model(SEED, "seed", rtt_ms=10)
    with pytest.raises(tl.TierlabError):
        latency_model(SEED, "seed").with_params(pool=False)


# ---------------------------------------------------------------------------- physics and the topology


def test_every_step_is_keyed_by_the_journeys_step_ids_and_explained():
    for preset, kw in (("seed", {}), ("physics", {}), ("measured", {"db_timings_ms": TIMINGS})):
        w = latency_model(SEED, preset, **kw).waterfall()
        assert list(w["step"]) == list(tl.STEP_IDS)
        assert list(w["component"]) == [s.latency for s in tl.STEPS]
        assert w["reason"].str.len().gt(5).all(), preset
        assert np.allclose(w["start_ms"].iloc[1:].to_numpy(), w["end_ms"].iloc[:-1].to_numpy())


def test_simulation_is_seeded_repeatable_and_centred_on_the_waterfall():
    m = latency_model(SEED, dns_cache="mixed")
    a, b, c = m.simulate(20_000, 7), m.simulate(20_000, 7), m.simulate(20_000, 8)
    assert np.array_equal(a.samples_ms, b.samples_ms)
    assert not np.array_equal(a.samples_ms, c.samples_ms)
    assert a.totals_ms.mean() == pytest.approx(m.total_ms, rel=0.01)
    f = a.frame()
    assert {"step", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "reason"} <= set(f.columns)
    assert f["share"].sum() == pytest.approx(1.0)


def test_the_dns_ttl_comes_from_the_topologys_record():
    rec = next(r for r in SEED.records if r.name == SEED.api_host)
    assert latency_model(SEED).facts.api_ttl_s == rec.ttl_s == 60
    longer = replace(SEED, records=tuple(replace(r, ttl_s=300) if r is rec else r for r in SEED.records))
    m60 = latency_model(SEED, dns_cache="mixed")
    m300 = latency_model(longer, dns_cache="mixed")
    assert m300.facts.api_ttl_s == 300
    assert "TTL 300 s" in m300.step("dns").reason and "TTL 60 s" in m60.step("dns").reason
    assert m300.step("dns").mean_ms < m60.step("dns").mean_ms  # a longer TTL hits the browser's cache more


def test_multi_az_comes_from_the_topology_and_costs_one_cross_az_round_trip():
    single = replace(SEED, database=replace(SEED.database, multi_az=False))
    m, s = latency_model(SEED), latency_model(single)
    p = PhysicsParams()
    assert m.step("db-query").mean_ms - s.step("db-query").mean_ms == pytest.approx(p.cross_az_rtt_ms + p.standby_flush_ms)
    assert "single-AZ" in s.step("db-query").reason and "cross-AZ" in m.step("db-query").reason


def test_seed_vs_physics_shows_the_far_away_client_behind_the_tls_numbers():
    f = seed_vs_physics(SEED)
    assert list(f["component"]) == ["dns", "tls", "alb", "node", "db", "return", "total"]
    tls = f.set_index("component").loc["tls"]
    assert tls["verdict"] == "physics faster" and "50-75 ms" in tls["reason"]
    assert lat.implied_rtt_ms(100, "1.3") == 50 and lat.implied_rtt_ms(150, "1.2") == 50
    # move the client far away and the physics lands inside the seed's TLS range
    far = seed_vs_physics(SEED, rtt_ms=60).set_index("component").loc["tls"]
    assert far["verdict"] == "inside"


def test_the_measured_preset_uses_the_real_database_numbers():
    pooled = latency_model(SEED, "measured", db_timings_ms=TIMINGS)
    fresh = latency_model(SEED, "measured", db_timings_ms=TIMINGS, pool=False)
    assert pooled.step("db-connect").mean_ms == pytest.approx(TIMINGS["pool_acquire_ms"])
    assert "measured" in fresh.step("db-connect").reason
    connect = fresh.step("db-connect").mean_ms
    assert connect > TIMINGS["tcp_connect_ms"] + TIMINGS["tls_handshake_ms"] + TIMINGS["auth_ms"]
    assert "insert_ms" in pooled.step("db-query").reason and "first_query_ms" in fresh.step("db-query").reason


def test_the_latency_module_does_not_import_the_database_layer():
    tree = ast.parse(inspect.getsource(lat))
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any("db" in m.split(".") for m in imported)
    assert not {"matplotlib", "ipywidgets", "graphviz"} & {m.split(".")[0] for m in imported}


def test_page_load_cloudfront_hit_is_faster_than_a_miss_to_s3():
    hit = latency_model(SEED).page_load()
    miss = latency_model(SEED, cloudfront_hit=False).page_load()
    assert miss["duration_ms"].sum() > hit["duration_ms"].sum()
    assert "S3" in " ".join(miss["reason"]) and "3600" in " ".join(hit["reason"])


def test_a_comparison_is_step_by_step_with_reasons():
    m = latency_model(SEED)
    c = lat.compare(m, m.with_params(pool=False), n=2_000, labels=("pool", "no_pool"))
    f = c.frame().set_index("step")
    assert f.loc["db-connect", "difference_ms"] > 0
    assert f.loc["dns", "difference_ms"] == 0 and f.loc["dns", "reason"] == "the same in both"
    assert f.loc["total", "difference_ms"] == pytest.approx(f.drop("total")["difference_ms"].sum())
    assert set(c.percentiles().columns) >= {"pool_ms", "no_pool_ms", "reason"}


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kw, words", [
    ({"rtt_ms": -1}, "rtt_ms=-1 is negative"),
    ({"rtt_ms": float("nan")}, "not a finite number"),
    ({"tls_version": "1.1"}, "tls_version"),
    ({"dns_cache": "warm"}, "dns_cache"),
    ({"resolver_hit_share": 1.5}, "outside 0-1"),
    ({"rtt": 30}, "unknown latency parameter"),
])
def test_bad_parameters_give_clear_errors(kw, words):
    with pytest.raises(tl.TierlabError, match=words) as e:
        latency_model(SEED, **kw)
    assert e.value.hint


def test_a_misspelt_parameter_gets_a_suggestion():
    with pytest.raises(tl.TierlabError) as e:
        latency_model(SEED, rtt=30)
    assert "rtt_ms" in e.value.hint


def test_measured_without_timings_says_how_to_get_them():
    with pytest.raises(tl.TierlabError, match="needs database timings") as e:
        latency_model(SEED, "measured")
    assert "tierlab.db" in e.value.hint and "insert_ms" in e.value.hint


@pytest.mark.parametrize("timings, words", [
    ({k: v for k, v in TIMINGS.items() if k != "auth_ms"}, "missing auth_ms"),
    ({**TIMINGS, "insert_ms": -2}, "insert_ms=-2"),
    ({**TIMINGS, "bogus_ms": 1}, "unknown bogus_ms"),
])
def test_bad_measured_timings_are_named(timings, words):
    with pytest.raises(tl.TierlabError, match=words):
        latency_model(SEED, "measured", db_timings_ms=timings)


@pytest.mark.parametrize("call", [
    lambda: latency_model(SEED, "guess"),
    lambda: latency_model("seed"),
    lambda: latency_model(SEED).simulate(0),
    lambda: latency_model(SEED, db_timings_ms=TIMINGS),
])
def test_other_misuse_is_a_tierlab_error(call):
    with pytest.raises(tl.TierlabError):
        call()


def test_the_controls_a_panel_offers_are_real_parameters_with_their_defaults_inside():
    defaults = PhysicsParams()
    for name, c in lat.CONTROLS.items():
        assert name in PhysicsParams.names()
        d = getattr(defaults, name)
        if "options" in c:
            assert d in c["options"]
            for option in c["options"]:
                latency_model(SEED, **{name: option})  # every option is accepted
        else:
            assert c["min"] <= d <= c["max"]
            latency_model(SEED, **{name: c["max"]})


@settings(max_examples=15, deadline=None)
@given(ttl_s=st.integers(1, 600), revisit_s=st.floats(5, 2_000), seed=st.integers(0, 2**16))
def test_the_mixed_dns_hit_share_matches_a_cache_replayed_request_by_request(ttl_s, revisit_s, seed):
    # replay a browser's lookups (random arrivals) against a cache that keeps an answer for the TTL
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(revisit_s, 20_000))
    hits, expires = 0, -1.0
    for t in arrivals:
        if t < expires:
            hits += 1
        else:
            expires = t + ttl_s
    topo = replace(SEED, records=tuple(replace(r, ttl_s=ttl_s) if r.name == SEED.api_host else r for r in SEED.records))
    dns = latency_model(topo, dns_cache="mixed", revisit_s=revisit_s).step("dns")
    share = next(b.share for b in dns.branches if b.label == "browser cache hit")
    assert share == pytest.approx(hits / len(arrivals), abs=0.02)


@pytest.mark.parametrize("preset", ["seed", "physics"])
def test_the_models_html_is_compact_and_keeps_its_title_apart_from_the_notes(preset):
    model = latency_model(SEED, preset)
    out = model._repr_html_()
    assert f"{model.total_ms:.0f} ms on average for one request.</p>" in out  # a full stop, then a new block
    for note in model.notes:
        assert html.escape(note) in out
    assert "<table" not in out and ".waterfall()" in out  # the waterfall is one call away, not repeated here
