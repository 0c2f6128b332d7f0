"""The audit's NAT finding reads the model's NAT gateways and routes (seed-vpc), with the fix as a what-if."""

import tierlab as tl


def test_a_subnet_routed_to_another_zones_nat_is_a_finding_with_its_fix():
    vpc = tl.load("seed-vpc")
    assert "single-nat" not in {f.id for f in tl.audit(vpc).findings}
    one = vpc.with_route("rt-private-az2", "0.0.0.0/0", "nat-az1")
    f = next(x for x in tl.audit(one).findings if x.id == "single-nat")
    assert "private-app-az2 (us-east-1b) -> nat-az1 (us-east-1a)" in f.evidence
    down = "us-east-1a"
    assert not tl.can_reach(one.with_zone_down(down), "node-api-2", "internet").ok
    assert tl.can_reach(f.what_if.with_zone_down(down), "node-api-2", "internet").ok
