"""An Auto Scaling group on real packets: seed-asg in namespaces.

Laws: every member of the group is a namespace of its own, in its subnet, with the group's security
groups, a target of the ALB like a fixed server; every connection to and from a member gets the outcome
the evaluator gives it (what-ifs included: 0 unexplained disagreements); and what the lab does not mirror
of the group (its scaling) is said, in the lab's repr, its limits table and the app's comparison."""

from __future__ import annotations

import dataclasses

import pytest

import tierlab as tl
from netns_support import need_netns
from tierlab.linux import differential as D

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def asg_lab():
    need_netns()
    from tierlab import linux

    lab = linux.build(tl.load("seed-asg"))
    yield lab
    lab.close()


def test_every_member_is_a_namespace_in_its_subnet_with_the_groups_security_groups(asg_lab):
    topo = asg_lab.topo
    g = topo.auto_scaling_group()
    assert len(g.instances) == g.desired == 6
    live = set(tl.linux.list_namespaces(f"{asg_lab.id}-"))
    for m in g.instances:
        inst = next(i for i in topo.instances if i.name == m)
        h = asg_lab.plan.host(m)
        assert asg_lab.ns(m) in live
        assert (h.ip, h.subnet) == (inst.ip, inst.subnet) and h.ip in topo.subnet(h.subnet).cidr
        assert h.subnet in g.subnets and set(h.sgs) == set(g.template.sgs)
        assert m in topo.alb.targets  # the group is attached: its members are the ALB's targets
        # its security group's rules are in its own namespace, each by its tierlab id
        assert any('comment "web-sg-in-3000"' in r for r in asg_lab.chain(m, "sg_in"))
    # a rule naming the group's security group (the ALB's egress to web-sg) covers every member
    [egress] = [r for r in asg_lab.chain("alb-node-az1", "sg_out") if '"alb-public-sg-out-3000"' in r]
    assert all(str(topo.endpoint(m).ip) in egress for m in g.instances)


def test_members_answer_as_the_evaluator_says(asg_lab):
    topo = asg_lab.topo
    members = topo.auto_scaling_group().instances
    asks = [(n.name, m, 3000) for n in topo.alb.nodes for m in members]
    asks += [(m, d.name, 5432) for m in members for d in topo.database.instances]
    asks += [("internet", m, 3000) for m in members] + [(m, "internet", 443) for m in members]
    for what_if in (topo, topo.switch_off("nacl-private-app-in-101"), topo.switch_off("web-sg-in-3000")):
        asg_lab.apply(what_if)
        try:
            got = [asg_lab.connect(src, dst, port) for src, dst, port in asks]
            for o in got:
                p = o.probe
                want = D.expected(what_if, p.src, p.dst, p.port, p.src_port)
                kernel = o.kind if o.kind == want else D._recheck(asg_lab, what_if, o, 0.5, want)[0]
                assert kernel == want, f"{what_if.name}: {o} (the evaluator: {want})"
        finally:
            asg_lab.apply(topo)
    # the seed's design, now with six servers: every member reaches both database instances
    assert {D.expected(topo, m, "rds-primary", 5432, 40000) for m in members} == {"connected"}
    az2 = topo.switch_off("nacl-private-app-in-101")  # the zone-b node is shut out of every member
    assert {D.expected(az2, "alb-node-az2", m, 3000, 40000) for m in members} == {"timed out"}


def test_the_differential_on_seed_asg_what_ifs_has_no_unexplained_disagreement(asg_lab, capsys):
    from tierlab import linux

    cases = D.whatifs(asg_lab.topo, 48, seed=16)  # every rule off alone, then mixes
    with linux.build(asg_lab.topo) as second:  # two copies: one's timeouts overlap the other's
        report = D.run([asg_lab, second], cases, timeout_s=0.05)
    with capsys.disabled():
        print("\nseed-asg " + report.summary())
    assert report.cases == 48 and report.probes == 48 * len(D.flows(asg_lab.topo))
    assert {"connected", "timed out", "refused"} <= set(report.outcomes), report.outcomes
    assert report.unexplained == [], "\n".join(map(str, report.unexplained[:20]))


def test_what_the_lab_does_not_mirror_of_the_group_is_said(asg_lab):
    [(what, reason)] = asg_lab.unmirrored()
    assert what == "Auto Scaling group api-asg"
    assert "node-api-6" in reason and "not in the kernel" in reason and "300 s grace period" in reason
    assert "not mirrored: Auto Scaling group api-asg" in repr(asg_lab)
    frame = tl.linux.limits_frame(asg_lab.topo)
    assert what in set(frame["what"]) and len(frame) == len(tl.linux.limits_frame()) + 1
    from tierlab.linux.compile import unmirrored
    assert unmirrored(tl.load("seed")) == ()  # nothing left out where there is no group


def _namespaces(lab) -> set[str]:
    return {n.split("-", 1)[1] for n in tl.linux.list_namespaces(f"{lab.id}-")}


def test_a_time_of_the_groups_timeline_launches_and_terminates_member_namespaces(asg_lab):
    """node-api-1's host dies at 10 s: at 100 s its replacement api-asg-1 runs beside it (draining), at
    400 s it is terminated. Applied to the lab, each launched member gets a namespace that answers as the
    evaluator says; a terminated one's namespace is gone and its address answers nothing, as on AWS."""
    base = asg_lab.topo
    fail = tl.instance_failure_timeline(base, "node-api-1", failure="host-down")
    try:
        for t, here, gone in ((100, {"node-api-1", "api-asg-1"}, set()), (400, {"api-asg-1"}, {"node-api-1"})):
            topo = fail.topology_at(t)
            asg_lab.apply(topo)
            ns = _namespaces(asg_lab)
            assert here <= ns and not gone & ns, (t, ns)
            assert ns == {"router", "internet"} | {e.name for e in topo.endpoints if e.kind != "internet"}
            new = asg_lab.plan.host("api-asg-1")
            assert new.subnet in topo.auto_scaling_group().subnets and new.sgs == ("web-sg",)
            for node in topo.alb.nodes:
                for m in topo.alb.targets:
                    o = asg_lab.connect(node.name, m, 3000)
                    want = D.expected(topo, node.name, m, 3000, o.probe.src_port)
                    assert (o.kind if o.kind == want else D._recheck(asg_lab, topo, o, 0.5, want)[0]) == want, o
        assert asg_lab.connect("alb-node-az1", "10.0.2.45", 3000).kind == "timed out"  # node-api-1's address
    finally:
        asg_lab.apply(base)
    assert _namespaces(asg_lab) >= set(base.auto_scaling_group().instances) and "api-asg-1" not in _namespaces(asg_lab)
    assert asg_lab.connect("alb-node-az1", "node-api-1", 3000).kind == "connected"  # launched again


def test_the_differential_over_the_groups_timelines_has_no_unexplained_disagreement(asg_lab, capsys):
    """A zone outage (every member moves to the other zone), a host failure, a rolling deploy, a scale-out
    to 9 and a scale-in to 2, each at several times, and what-ifs of the zone outage's end state."""
    base = asg_lab.topo
    timelines = {"zone outage": tl.zone_outage_timeline(base), "host down": tl.instance_failure_timeline(
        base, "node-api-5", failure="host-down"), "deploy": tl.rolling_deploy_timeline(base, batch=3),
        "scale": tl.auto_scaling_timeline(base, [tl.SetDesired(t_s=10, desired=9), tl.SetDesired(t_s=400, desired=2)])}
    cases = [D.Case(f"{name} at {t:g} s", line.topology_at(min(t, line.duration_s)))
             for name, line in timelines.items() for t in (60, 200, 420, 900)]
    cases += D.whatifs(timelines["zone outage"].topology_at(900), 12, seed=17)
    none = dataclasses.replace(base, alb=dataclasses.replace(base.alb, targets=()))  # all deregistered at once
    cases.append(D.Case("no target registered", none))
    members = {i.name for c in cases for i in c.topo.instances}
    assert len(members) >= 12, members  # the cases really launch and terminate members
    assert any(not c.topo.alb.targets for c in cases)  # and one has no target registered at all
    assert len({len(c.topo.instances) for c in cases}) >= 4  # 2 to 12 members
    report = D.run(asg_lab, cases, timeout_s=0.05)
    with capsys.disabled():
        print("\nseed-asg timelines " + report.summary())
    assert asg_lab.topo == base and _namespaces(asg_lab) == {"router", "internet"} | {
        e.name for e in base.endpoints if e.kind != "internet"}
    assert report.cases == len(cases) and {"connected", "timed out"} <= set(report.outcomes)
    assert report.unexplained == [], "\n".join(map(str, report.unexplained[:20]))
