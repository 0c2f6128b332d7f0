"""The health-check state machine as a pure function of its settings and the check results."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import health_checks

from tierlab.sim.health import HealthState, next_state, removal_delay_s, target_checks


def run(hc, results, start=HealthState()):
    state = start
    for r in results:
        state = next_state(hc, state, r)
    return state


@settings(max_examples=80, deadline=None)
@given(hc=health_checks())
def test_a_healthy_target_goes_out_after_exactly_unhealthy_threshold_failures_in_a_row(hc):
    assert run(hc, [False] * (hc.unhealthy_threshold - 1)).healthy
    assert not run(hc, [False] * hc.unhealthy_threshold).healthy
    # a pass in between starts the count again
    assert run(hc, [False] * (hc.unhealthy_threshold - 1) + [True] + [False] * (hc.unhealthy_threshold - 1)).healthy


@settings(max_examples=80, deadline=None)
@given(hc=health_checks())
def test_an_unhealthy_target_returns_after_exactly_healthy_threshold_passes_in_a_row(hc):
    out = run(hc, [False] * hc.unhealthy_threshold)
    assert not run(hc, [True] * (hc.healthy_threshold - 1), out).healthy
    assert run(hc, [True] * hc.healthy_threshold, out).healthy
    assert not run(hc, [True] * (hc.healthy_threshold - 1) + [False] + [True] * (hc.healthy_threshold - 1), out).healthy


@settings(max_examples=80, deadline=None)
@given(hc=health_checks(), results=st.lists(st.booleans(), max_size=40))
def test_the_state_depends_only_on_the_results_and_its_streaks_count_them(hc, results):
    state = run(hc, results)
    assert state == run(hc, results)  # pure: same results, same state
    tail = len(results) - len("".join("1" if r else "0" for r in results).rstrip("01"[results[-1]])) if results else 0
    assert (state.passes if results and results[-1] else state.fails) == tail


@settings(max_examples=80, deadline=None)
@given(hc=health_checks(), failure=st.sampled_from(["crash", "host-down"]), t0=st.floats(0, 600),
       phase_frac=st.floats(0, 0.999))
def test_the_removal_time_is_the_arithmetic_of_removal_delay_s(hc, failure, t0, phase_frac):
    phase = phase_frac * hc.interval_s
    events = target_checks(hc, node="n", target="t", phase_s=phase, duration_s=t0 + 20 * hc.interval_s + 200,
                           is_down=lambda t: t >= t0, failure=failure)
    removed = next(e.t_s for e in events if e.changed and not e.healthy)
    first = next(e.start_s for e in events if e.start_s >= t0)
    assert removed - t0 == pytest.approx(removal_delay_s(hc, failure, first - t0))
