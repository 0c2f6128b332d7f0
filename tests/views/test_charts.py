"""The charts draw what the model computed, on the axes they are given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import tierlab as tl  # noqa: E402
from tierlab.views import charts  # noqa: E402
from tierlab.sim import timelines as T  # noqa: E402

SEED = tl.load("seed")


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_waterfall_draws_one_bar_per_step_that_takes_time(ax):
    m = tl.latency_model(SEED)
    w = m.waterfall()
    out = charts.waterfall(m, ax=ax)
    assert out is ax
    bars = [p for p in ax.patches if p.get_gid()]
    assert len(bars) == int((w["duration_ms"] > 0).sum())
    db = next(p for p in bars if p.get_gid() == "tl_step_db_query")
    row = w.set_index("step").loc["db-query"]
    assert db.get_x() == pytest.approx(row["start_ms"]) and db.get_width() == pytest.approx(row["duration_ms"])
    assert "dns (2)" in [t.get_text() for t in ax.get_yticklabels()]


def test_waterfall_takes_a_frame_too(ax):
    assert charts.waterfall(tl.latency_model(SEED, "seed").waterfall(), ax=ax, hide_zero=False) is ax
    assert len([p for p in ax.patches if p.get_gid()]) == len(tl.STEPS)


def test_distribution_marks_p50_p95_p99_and_the_seeds_claim(ax):
    sim = tl.latency_model(SEED, "seed").simulate(5_000, 1)
    assert charts.distribution(sim, ax=ax) is ax
    labels = [line.get_label() for line in ax.get_lines()]
    p = sim.percentiles().set_index("percentile")["total_ms"]
    for q in ("p50", "p95", "p99"):
        assert f"{q} {p[q]:.0f} ms" in labels
    xs = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert xs == pytest.approx(sorted(p.tolist()))
    assert any("claimed 300-500 ms" == h.get_label() for h in ax.patches)


def test_side_by_side_stacks_each_scenarios_components(ax):
    m = tl.latency_model(SEED)
    a, b = m.simulate(2_000, 1), m.with_params(pool=False).simulate(2_000, 1)
    assert charts.side_by_side(a, b, labels=("pool", "no pool"), ax=ax) is ax
    widths = {}
    for p in ax.patches:
        y = round(p.get_y() + p.get_height() / 2)
        widths[y] = widths.get(y, 0) + p.get_width()
    assert widths[1] == pytest.approx(a.totals_ms.mean(), rel=1e-6)
    assert widths[0] == pytest.approx(b.totals_ms.mean(), rel=1e-6)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["no pool", "pool"]


def test_timeline_charts_draw_on_the_given_axes(ax):
    h = T.health_check_timeline(SEED, recover_s=150)
    assert charts.health_check_chart(h, ax=ax) is ax
    line = ax.get_lines()[0]
    assert max(line.get_ydata()) == pytest.approx(100 / 3)
    fig, (a1, a2) = plt.subplots(1, 2)
    try:
        assert charts.failover_chart(T.failover_timeline(SEED), ax=a1) is a1
        assert {l.get_label() for l in a1.get_lines()} >= {"dns", "hard-coded-ip", "single-az"}
        pools = [T.pool_timeline(SEED), T.pool_timeline(SEED, pre_ping=True)]
        assert charts.pool_chart(pools, ax=a2) is a2
        assert any("pre-ping: 0 failed" in l.get_label() for l in a2.get_lines())
    finally:
        plt.close(fig)


def test_charts_make_their_own_axes_when_none_is_given():
    out = charts.waterfall(tl.latency_model(SEED))
    try:
        assert out.figure is not None
    finally:
        plt.close(out.figure)


@pytest.mark.parametrize("call", [
    lambda: charts.waterfall("not a model"),
    lambda: charts.distribution(tl.latency_model(SEED)),
    lambda: charts.side_by_side(1, 2),
    lambda: charts.health_check_chart(None),
    lambda: charts.failover_chart(None),
    lambda: charts.pool_chart([]),
])
def test_charts_refuse_the_wrong_thing_clearly(call):
    with pytest.raises(tl.TierlabError):
        call()
    plt.close("all")


def test_the_database_lessons_charts_are_views_too(ax):
    """tl.charts draws the pool lesson's frame and a connection's phases; tierlab.db holds no view."""
    import pandas as pd

    frame = pd.DataFrame({"mode": ["pooled", "new connection"], "tls": [True, True],
                          "rows_per_s": [900.0, 120.0], "latency_median_ms": [1.1, 8.0]})
    assert charts.pool_chart(frame, ax=ax) is ax and len(ax.patches) == 2
    fig, a2 = plt.subplots()
    try:
        phases = {"tcp_connect_ms": 0.2, "tls_handshake_ms": 3.0, "auth_ms": 1.0, "first_query_ms": 0.5,
                  "pool_acquire_ms": 0.05}
        assert charts.phases_chart(phases, ax=a2) is a2 and len(a2.patches) == 6
        with pytest.raises(tl.TierlabError, match="needs the phases"):
            charts.phases_chart({"tcp_connect_ms": 1.0}, ax=a2)
    finally:
        plt.close(fig)
    import ast
    from pathlib import Path

    import tierlab.db

    for f in Path(tierlab.db.__file__).parent.glob("*.py"):
        tree = ast.parse(f.read_text())
        mods = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m.startswith(("..views", "tierlab.views")) or m == "views" for m in mods), f.name


def test_one_axes_helper_serves_every_chart_module():
    from tierlab.views import edge_charts

    assert edge_charts._axes is charts._axes
    assert not hasattr(edge_charts, "_ax")
