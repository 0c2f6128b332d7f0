"""The seed VPC in network namespaces: built, toggled, packets where the model says. How fast it builds and
toggles is measured by benchmarks/bench_linux.py, not asserted here (a busy CI machine is not a slow lab)."""

from __future__ import annotations

import pytest

import tierlab as tl

pytestmark = pytest.mark.netns


def test_builds_and_the_journey_connects(seed_lab):
    assert seed_lab.build_ms > 0
    assert seed_lab.connect("internet", "alb-node-az1", 443).kind == "connected"
    assert seed_lab.connect("internet", "alb-node-az2", 443).kind == "connected"
    for t in ("node-api-1", "node-api-2", "node-api-3"):
        assert seed_lab.connect("alb-node-az2", t, 3000).kind == "connected"
        assert seed_lab.connect(t, "rds-primary", 5432).kind == "connected"


def test_no_public_address_no_way_in(seed_lab):
    assert seed_lab.connect("internet", "node-api-1", 3000).kind == "timed out"


def test_a_toggle_rewrites_one_chain_and_the_drop_is_counted(seed_lab):
    seed = tl.load("seed")
    ms = seed_lab.apply(seed.switch_off("nacl-private-db-out-100"))
    try:
        assert ms >= 0  # its speed: bench_linux.py
        before = int(seed_lab.counters("nacl-private-db-out-star")["packets"].sum())
        assert seed_lab.connect("node-api-1", "rds-primary", 5432).kind == "reply lost"
        assert int(seed_lab.counters("nacl-private-db-out-star")["packets"].sum()) > before
    finally:
        seed_lab.apply(seed)
    assert seed_lab.connect("node-api-1", "rds-primary", 5432).kind == "connected"


def test_traffic_inside_one_subnet_meets_no_nacl(seed_lab):
    seed = tl.load("seed")
    topo = seed.add_sg_rule("web-sg", "inbound", ports=22, sg="web-sg")  # the app NACL has no rule for 22
    topo = topo.add_sg_rule("web-sg", "outbound", ports=22, sg="web-sg")
    assert tl.evaluate_flow(topo, topo.endpoint("node-api-2"), topo.endpoint("node-api-3"), 22).ok
    seed_lab.apply(topo)
    try:
        assert seed_lab.connect("node-api-2", "node-api-3", 22).kind == "connected"   # same subnet
        assert seed_lab.connect("node-api-1", "node-api-3", 22).kind == "timed out"   # crosses the NACL
    finally:
        seed_lab.apply(seed)


def test_refused_needs_a_packet_to_arrive_where_nothing_listens(seed_lab):
    seed = tl.load("seed")
    topo = seed.add_sg_rule("database-sg", "inbound", ports="5400-5500", sg="web-sg")
    topo = topo.change_rule("nacl-private-db-in-100", ports="5400-5500").change_rule("web-sg-out-5432", ports="5400-5500")
    topo = topo.change_rule("nacl-private-app-out-100", ports="5400-5500")
    seed_lab.apply(topo)
    try:
        assert seed_lab.connect("node-api-1", "rds-primary", 5433).kind == "refused"
    finally:
        seed_lab.apply(seed)
