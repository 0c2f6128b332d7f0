"""A time what-if with a parameter of the wrong type is a ParameterError naming it, never a TypeError
(found by tests/fuzz/test_fuzz_inputs.py: each case below was a traceback)."""

from __future__ import annotations

import math

import pytest

import tierlab as tl
from tierlab.sim import metrics, simulation

SEED = tl.load("seed")
VPC = tl.load("seed-vpc")


@pytest.mark.parametrize("call", [
    lambda: simulation.compare(tl.latency_model(SEED), tl.latency_model(SEED, "seed"), seed=None),
    lambda: simulation.compare(tl.latency_model(SEED), tl.latency_model(SEED, "seed"), seed=-1),
    lambda: simulation.compare(tl.latency_model(SEED), tl.latency_model(SEED, "seed"), seed=math.inf),
    lambda: tl.health_check_timeline(SEED, failed=1000000),
    lambda: tl.health_check_timeline(SEED, check=[]),
    lambda: tl.health_check_timeline(SEED, failure={}),
    lambda: metrics.whatif_metrics(SEED, SEED.switch_off("database-sg-in-5432"), at_s="\udcff"),
    lambda: tl.rolling_deploy_timeline(VPC, t0_s="soon"),
    lambda: tl.rolling_deploy_timeline(VPC, batch=math.nan),
    lambda: tl.instance_failure_timeline(VPC, instance=-math.inf),
    lambda: tl.zone_outage_timeline(VPC, az=[1]),
], ids=["seed-none", "seed-negative", "seed-inf", "failed-int", "check-list", "failure-dict", "at_s-text",
        "t0_s-text", "batch-nan", "instance-float", "az-list"])
def test_a_parameter_of_the_wrong_type_is_a_parameter_error(call):
    with pytest.raises(tl.TierlabError) as err:
        call()
    assert err.value.hint and len(err.value.message) < 300
