"""Hypothesis strategies shared by several test files."""

from hypothesis import strategies as st

from tierlab.network.topology import HealthCheck


@st.composite
def health_checks(draw):
    """Any health check AWS accepts: interval 5-300 s, timeout shorter, thresholds 2-10."""
    interval = draw(st.integers(5, 300))
    timeout = draw(st.integers(2, min(120, interval - 1)))
    return HealthCheck(interval_s=interval, timeout_s=timeout,
                       healthy_threshold=draw(st.integers(2, 10)), unhealthy_threshold=draw(st.integers(2, 10)))
