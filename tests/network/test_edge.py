"""Layer 0: CloudFront cache behaviour, origin access, cache policy — laws and clear errors."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab import edge

SEED = tl.load("seed")
REQS = edge.page_loads(SEED, pages=150, duration_s=4 * 3600, seed=1)

times = st.lists(st.floats(min_value=0, max_value=20_000, allow_nan=False), min_size=1, max_size=60)
paths = st.sampled_from([f.path for f in edge.SEED_FILES])
streams = st.lists(st.tuples(st.floats(min_value=0, max_value=20_000, allow_nan=False), paths),
                   min_size=1, max_size=80).map(lambda xs: tuple(edge.Request(t, p, i) for i, (t, p) in enumerate(xs)))
ttl = st.integers(min_value=0, max_value=10_000)


# --------------------------------------------------------------------------- the seed's layer 0

def test_edge_reads_the_topology():
    assert SEED.edge.default_ttl_s == 3600  # the seed: "caches everything for 1 hour by default"
    rec = edge.apex_record(SEED)
    assert rec.name == "myapp.com" and rec.alias and rec.target == SEED.edge.domain
    hops = edge.path_frame(SEED)
    assert list(hops["hop"]) == ["DNS", "edge", "origin"] and hops["reason"].str.len().gt(20).all()


def test_files_frame_lists_the_seeds_files_with_reasons():
    df = edge.files_frame(SEED)
    for name in ("index.html", "app.js", "styles.css", "manifest.json"):
        assert name in set(df["path"])
    assert df["path"].str.startswith("images/").any()
    assert (df["ttl_s"] == SEED.edge.default_ttl_s).all() and df["reason"].str.len().gt(20).all()
    rec = edge.files_frame(SEED, "recommended").set_index("path")
    assert rec.loc["index.html", "ttl_s"] == edge.SHORT_TTL_S
    assert rec.loc["app.js", "ttl_s"] == edge.LONG_TTL_S and rec.loc["app.js", "key"] != "app.js"
    assert "immutable" in rec.loc["app.js", "cache_control"]
    # the default TTL is read from the topology, not assumed
    assert (edge.files_frame(edge.what_if(SEED, default_ttl_s=120))["ttl_s"] == 120).all()


def test_page_loads_are_seeded():
    assert edge.page_loads(SEED, pages=30, seed=7) == edge.page_loads(SEED, pages=30, seed=7)
    assert edge.page_loads(SEED, pages=30, seed=7) != edge.page_loads(SEED, pages=30, seed=8)
    assert {r.path for r in REQS} == {f.path for f in edge.SEED_FILES}


def test_first_request_misses_then_hits_within_ttl():
    run = edge.simulate(SEED, REQS)
    first = {}
    for e in run.events:
        first.setdefault(e.path, e)
    assert all(e.result == "miss" and e.origin_fetch for e in first.values())
    assert 0.9 < run.hit_ratio < 1  # one hour TTL, a page load every ~100 s
    assert run.origin_fetches == run.requests - run.hits
    assert edge.simulate(SEED, REQS, ttl_s=0).hit_ratio == 0


@settings(max_examples=60, deadline=None)
@given(streams, ttl)
def test_hit_iff_cached_copy_younger_than_ttl(reqs, ttl_s):
    run = edge.simulate(SEED, reqs, ttl_s=ttl_s)
    fetched = {}
    for e in run.events:
        if e.path in fetched and e.t_s - fetched[e.path] < ttl_s:
            assert e.result == "hit" and e.age_s == pytest.approx(e.t_s - fetched[e.path]) and e.age_s < ttl_s
        else:
            assert e.result == "miss" and e.origin_fetch
            fetched[e.path] = e.t_s


@settings(max_examples=80, deadline=None)
@given(streams, ttl, ttl)
def test_a_longer_ttl_never_lowers_the_hit_ratio(reqs, a, b):
    short, long_ = sorted((a, b))
    assert edge.simulate(SEED, reqs, ttl_s=long_).hit_ratio >= edge.simulate(SEED, reqs, ttl_s=short).hit_ratio


def test_hit_ratio_by_ttl_is_monotone_on_the_seed_stream():
    df = edge.hit_ratio_by_ttl(SEED, REQS, [0, 60, 300, 3600, 86400])
    assert df["hit_ratio"].is_monotonic_increasing and df["origin_fetches"].is_monotonic_decreasing


@settings(max_examples=40, deadline=None)
@given(streams, st.integers(min_value=1, max_value=5000), st.floats(min_value=0, max_value=20_000))
def test_same_names_staleness_is_bounded_by_the_ttl_and_invalidation_removes_it(reqs, ttl_s, deploy):
    same = edge.simulate(SEED, reqs, ttl_s=ttl_s, deploy_at_s=deploy, strategy="same-names")
    if same.last_stale_s is not None:
        assert same.last_stale_s < ttl_s
    assert all(e.t_s >= deploy for e in same.events if e.stale)
    assert edge.simulate(SEED, reqs, ttl_s=ttl_s, deploy_at_s=deploy, strategy="invalidate").stale_responses == 0
    assert edge.simulate(SEED, reqs, ttl_s=ttl_s, deploy_at_s=deploy, strategy="versioned").stale_responses == 0


def test_deploy_strategies_on_the_seed():
    df = edge.deploy_frame(SEED, REQS, deploy_at_s=5400).set_index("strategy")
    assert df.loc["same-names", "stale_responses"] > 0
    assert df.loc["invalidate", "stale_responses"] == 0 and df.loc["invalidate", "invalidation_paths"] == 1
    assert df.loc["versioned", "stale_responses"] == 0
    # versioned assets move fewer bytes from the origin than re-fetching everything
    assert df.loc["versioned", "origin_kb"] < df.loc["invalidate", "origin_kb"]
    assert df["reason"].str.len().gt(40).all()
    run = edge.simulate(SEED, REQS, deploy_at_s=5400, strategy="versioned", ttl_s="recommended")
    assert any(e.key != e.path for e in run.events if e.path == "app.js" and e.t_s >= 5400)


# --------------------------------------------------------------------------- origin access

def test_direct_s3_request_is_refused_while_cloudfront_is_served():
    df = edge.origin_access_frame(SEED).set_index("via")
    assert df.loc["cloudfront", "status"] == 200
    assert df.loc["direct", "status"] == 403 and df.loc["direct", "code"] == "AccessDenied"
    assert SEED.edge.origin_access in df.loc["direct", "reason"]
    policy = edge.bucket_policy(SEED)
    assert all(s["Principal"] != "*" for s in policy["Statement"])


def test_public_bucket_is_a_what_if_that_serves_everyone():
    public = edge.what_if(SEED, bucket_public=True)
    assert SEED.edge.bucket_public is False  # the original is untouched
    answer = edge.fetch(public, "app.js", via="direct")
    assert answer.ok and "bypass" in answer.reason
    assert any(s["Principal"] == "*" for s in edge.bucket_policy(public)["Statement"])
    assert set(edge.exposure_frame(public)["now"]) == {"public bucket"}
    oac = edge.what_if(SEED, origin_access="OAC")
    assert "Condition" in edge.bucket_policy(oac)["Statement"][0]


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, words", [
    (lambda: edge.files_frame(replace(SEED, edge=None)), "no edge"),
    (lambda: edge.simulate(SEED, REQS, ttl_s=-1), "TTL"),
    (lambda: edge.simulate(SEED, REQS, ttl_s={"nope.js": 3}), "nope.js"),
    (lambda: edge.simulate(SEED, REQS, strategy="yolo"), "strategy"),
    (lambda: edge.simulate(SEED, [1, 2]), "Request"),
    (lambda: edge.page_loads(SEED, pages=-3), "pages"),
    (lambda: edge.page_loads(SEED, duration_s=0), "duration_s"),
    (lambda: edge.fetch(SEED, "secret.txt"), "secret.txt"),
    (lambda: edge.fetch(SEED, via="ftp"), "ftp"),
    (lambda: edge.what_if(SEED, colour="red"), "colour"),
    (lambda: edge.what_if(SEED, origin_access="public"), "OAC"),
    (lambda: edge.what_if(SEED, default_ttl_s="1h"), "default_ttl_s"),
    (lambda: edge.ttl_policy(SEED, "fast"), "fast"),
    (lambda: edge.edge_of("seed"), "Topology"),
])
def test_bad_input_is_a_clear_tierlab_error(call, words):
    with pytest.raises(tl.TierlabError) as err:
        call()
    assert words in str(err.value) and err.value.hint


# --------------------------------------------------------------------------- the view

def test_charts_draw_on_the_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(2)
    run = edge.simulate(SEED, REQS, deploy_at_s=5400)
    assert tl.edge_charts.cache_events(run, ax=a) is a and len(a.collections) >= 2
    assert tl.edge_charts.hit_ratio_curve(edge.hit_ratio_by_ttl(SEED, REQS, [0, 60, 3600]), ax=b) is b
    plt.close(fig)
