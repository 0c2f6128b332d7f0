"""The Auto Scaling chart draws what the timeline's frames hold, and nothing else."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import tierlab as tl  # noqa: E402
from tierlab.views.scaling_charts import auto_scaling_chart  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_the_chart_draws_the_frame_on_the_given_axes(ax):
    x = tl.zone_outage_timeline(tl.load("seed-asg"), duration_s=300)
    assert auto_scaling_chart(x, ax=ax) is ax
    lines = {l.get_label(): l for l in ax.get_lines()}
    healthy = lines["healthy at every ALB node"].get_ydata()
    assert list(healthy) == x.frame()["healthy"].tolist()
    assert min(healthy) == 3 and healthy[-1] == 6  # one zone's three lost, then replaced in the other
    assert any(t.get_text().strip() == "zone down" for t in ax.texts)
    assert tl.scaling_charts.auto_scaling_chart is auto_scaling_chart


def test_the_chart_refuses_the_wrong_thing():
    with pytest.raises(tl.TierlabError, match="needs an AutoScalingTimeline"):
        auto_scaling_chart(tl.health_check_timeline(tl.load("seed")))
