"""The way out of the private subnets on real packets: NAT gateways, a gateway endpoint for S3,
interface endpoints with private DNS, and a zone outage, on seed-vpc in namespaces.

Laws: every egress mistake of data/scenarios/egress-mistakes.yaml gets, connection by connection, the
outcome the evaluator gives for the ports the kernel really used (the client's, and the NAT's); the
NAT's translation is real (an Elastic IP and a port in 1024-65535 on the internet's side); S3 goes by
its gateway endpoint's route whatever the NAT route does; a service's name goes to the endpoint's ENI
while private DNS is on, and through the NAT when it is off."""

from __future__ import annotations

import pytest

import tierlab as tl
from netns_support import need_netns
from tierlab.linux import differential as D
from tierlab.network.reachability import INTERNET_HOST

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def vpc_lab():
    need_netns()
    from tierlab import linux

    lab = linux.build(tl.load("seed-vpc"))
    yield lab
    lab.close()


def test_every_egress_mistake_gets_the_evaluators_outcome_on_real_packets(vpc_lab):
    from tierlab.course.egress import load_mistakes

    mistakes = {m.id: m for m in load_mistakes()}
    table = D.replay(vpc_lab, mistakes.values(), connections=24)
    assert list(table["id"]) == list(mistakes) and table["agree"].all(), table.to_string()
    for row in table.to_dict("records"):
        m = mistakes[row["id"]]
        kinds = set(row["Linux says"])
        if m.expect["reaches"]:
            assert kinds == {"connected"}, row
        elif m.expect.get("share"):  # part of the NAT's ports pass: some connections do (p < 1e-5 otherwise)
            assert kinds == {"connected", "reply lost"}, row
        else:
            assert "connected" not in kinds, row
    assert vpc_lab.topo == tl.load("seed-vpc")


def test_the_nat_translates_to_its_elastic_ip_and_a_port_of_its_own(vpc_lab):
    o = vpc_lab.connect("node-api-1", str(INTERNET_HOST), 443)
    assert o.kind == "connected" and o.nat_port is not None and 1024 <= o.nat_port <= 65535
    [entry] = [l for l in vpc_lab.conntrack("nat-az1") if f"sport={o.probe.src_port} " in l]
    assert "src=10.0.2.45" in entry and f"dst=10.0.1.20 sport=443 dport={o.nat_port}" in entry
    masq = vpc_lab.counters('nat-az1: to 10.0.1.20 and a port in 1024-65535')
    assert int(masq["packets"].sum()) > 0
    assert vpc_lab.connect("node-api-2", str(INTERNET_HOST), 443).nat_port is not None  # its own zone's NAT
    assert len([l for l in vpc_lab.conntrack("nat-az2") if "src=10.0.3.67" in l]) == 1


def test_s3_goes_by_its_gateway_endpoint_even_without_a_nat_route(vpc_lab):
    base = vpc_lab.topo
    no_nat = base.without_route("rt-private-az1", "0.0.0.0/0")
    try:
        vpc_lab.apply(no_nat)
        s3 = vpc_lab.connect("node-api-1", "s3", 443)
        assert (s3.kind, s3.nat_port) == ("connected", None)  # no NAT on the way: the prefix list's route
        assert vpc_lab.connect("node-api-1", str(INTERNET_HOST), 443).kind == "timed out"
        assert vpc_lab.connect("node-api-2", str(INTERNET_HOST), 443).kind == "connected"  # the other zone's table
    finally:
        vpc_lab.apply(base)


def test_private_dns_sends_the_service_to_the_endpoint_and_without_it_through_the_nat(vpc_lab):
    base = vpc_lab.topo
    before = int(vpc_lab.counters("endpoints-sg-in-443")["packets"].sum())
    o = vpc_lab.connect("node-api-1", "ssm", 443)
    assert (o.kind, o.nat_port, vpc_lab.destination("node-api-1", "ssm")) == ("connected", None,
                                                                              ("10.0.2.101", "vpce-ssm@private-app-az1"))
    assert int(vpc_lab.counters("endpoints-sg-in-443")["packets"].sum()) > before
    from tierlab.course.egress import load_mistakes

    off = next(m.topology for m in load_mistakes() if m.id == "private-dns-off-with-nat")
    try:
        vpc_lab.apply(off)
        o = vpc_lab.connect("node-api-1", "ssm", 443)
        assert o.kind == "connected" and o.nat_port is not None  # the public address, through nat-az1
    finally:
        vpc_lab.apply(base)


def test_a_zone_outage_takes_its_nat_and_the_router_counts_the_drops(vpc_lab):
    from tierlab.course.egress import load_mistakes

    base = vpc_lab.topo
    m = next(m for m in load_mistakes() if m.id == "one-nat-zone-down")  # both zones' routes -> nat-az1, 1a down
    try:
        vpc_lab.apply(m.topology)
        assert vpc_lab.connect("node-api-2", str(INTERNET_HOST), 443).kind == "timed out"
        assert vpc_lab.connect("internet", "alb-node-az2", 443).kind == "connected"  # the zone that is up
        assert vpc_lab.connect("internet", "alb-node-az1", 443).kind == "timed out"
        assert int(vpc_lab.counters("zone us-east-1a down")["packets"].sum()) > 0
    finally:
        vpc_lab.apply(base)
