"""Every ``tl.`` function that takes a topology first refuses anything else with a TopologyError that names the
function and says how to get a topology: ``tl.journey("seed")`` is the natural first try (the command line takes
names), and it used to end in an AttributeError from deep inside the evaluator."""

from __future__ import annotations

import inspect

import pytest

import tierlab as tl
from tierlab.errors import TopologyError


def _takes_a_topology_first() -> list[str]:
    out = []
    for name in tl.__all__:
        f = getattr(tl, name)
        if not inspect.isfunction(f):
            continue
        first = next(iter(inspect.signature(f).parameters.values()), None)
        if first is not None and first.name in ("topo", "topology") and first.default is first.empty:
            out.append(name)
    return out


FUNCTIONS = _takes_a_topology_first()


def test_the_surface_has_the_functions_the_notebooks_teach():
    assert {"journey", "can_reach", "who_can_reach", "outbound", "failover_timeline", "to_terraform"} <= set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("wrong", ["seed", None, 42])
def test_a_name_or_nothing_for_a_topology_is_refused_by_name_with_the_fix(name, wrong):
    params = list(inspect.signature(getattr(tl, name)).parameters.values())[1:]
    rest = ["node-api-1", "rds-primary", 5432][:sum(p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
                                                     for p in params)]
    with pytest.raises(TopologyError) as info:
        getattr(tl, name)(wrong, *rest)
    assert f"tl.{name} takes a Topology, got {type(wrong).__name__}" in info.value.message
    assert ("tl.load('seed')" in info.value.hint) if wrong == "seed" else ("tl.load(" in info.value.hint)


def test_a_topology_still_goes_through():
    assert tl.journey(tl.load("seed")).ok
