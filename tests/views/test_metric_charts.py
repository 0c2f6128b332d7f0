"""The metrics chart draws what the metrics hold: a gap, never a zero, where there is no datapoint."""

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import tierlab as tl  # noqa: E402
from tierlab.errors import TierlabError  # noqa: E402
from tierlab.sim import metrics as M  # noqa: E402
from tierlab.views.metric_charts import metrics_chart  # noqa: E402

SEED = tl.load("seed")


def test_a_drop_in_front_draws_no_data_bands_and_gaps():
    m = M.whatif_metrics(SEED, SEED.switch_off("nacl-public-in-100"), at_s=120, duration_s=300)
    alarm = M.default_alarms()[1].evaluate(m)
    ax = metrics_chart(m, alarm=alarm)
    line = next(x for x in ax.get_lines() if x.get_label() == "RequestCount")
    ys = list(line.get_ydata())
    assert ys[:2] == [600.0, 600.0] and all(math.isnan(y) for y in ys[2:])  # gaps, not zeros
    assert sum(t.get_text() == "no data" for t in ax.texts) == 3
    assert any("change" in t.get_text() for t in ax.texts)
    import matplotlib.pyplot as plt
    plt.close("all")


def test_bad_input_is_a_tierlab_error():
    with pytest.raises(TierlabError):
        metrics_chart("not metrics")  # type: ignore[arg-type]
    with pytest.raises(TierlabError):
        metrics_chart(M.alb_metrics(SEED, duration_s=60), metrics=("Latency",))
