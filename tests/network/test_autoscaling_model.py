"""Auto Scaling groups in the model: the loader's section and the builder refuse the same mistakes,
with the same message naming the group and the fix."""

from dataclasses import replace

import pytest

import tierlab as tl
from tierlab.network.autoscaling import AutoScalingGroup, LaunchTemplate, free_address, group_problems

ASG = tl.read_yaml(tl.data_path("topologies", "seed-asg.yaml"))
SEED = tl.load("seed")
GROUP = "auto_scaling_groups.api-asg"


def problems_of(*patch):
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(tl.apply_patch(ASG, list(patch)), file="test.yaml")
    return exc.value.problems


def assert_problem(patch, path_part, text):
    probs = problems_of(*patch)
    hits = [p for p in probs if path_part in p.path and text in p.message]
    assert hits, f"expected {text!r} at {path_part!r}, got: {[str(p) for p in probs]}"
    assert all(h.hint for h in hits)
    assert all("api-asg" in h.message for h in hits), "the message names the group"
    return hits[0]


def test_seed_asg_loads_six_members_across_two_zones_all_registered():
    t = tl.load("seed-asg")
    g = t.auto_scaling_group()
    assert g.desired == 6 and len(g.instances) == 6 and g.health_check_type == "ELB" and g.grace_period_s == 300
    assert {t.subnet(t.endpoint(m).subnet or "").az for m in g.instances} == set(t.azs)
    assert set(g.instances) <= set(t.alb.targets)
    assert t.alb.deregistration_delay_s == 300
    assert tl.journey(t).success_share == 1.0


def test_seed_is_unchanged_and_has_no_group():
    assert SEED.auto_scaling_groups == ()
    with pytest.raises(tl.TopologyError, match="no Auto Scaling groups"):
        SEED.auto_scaling_group()


@pytest.mark.parametrize("patch, path, text", [
    ([f"{GROUP}.min_size", 7], "desired", "desired 6 is outside min_size..max_size (7..9)"),
    ([f"{GROUP}.desired", 10], "desired", "desired 10 is outside min_size..max_size (2..9)"),
    ([f"{GROUP}.desired", 1], "desired", "desired 1 is outside"),
    ([f"{GROUP}.max_size", 1], "max_size", "max_size 1 is below min_size 2"),
    ([f"{GROUP}.min_size", -1], "min_size", "is outside 0-1000"),
    ([f"{GROUP}.min_size", "two"], "min_size", "is not a whole number"),
    ([f"{GROUP}.subnets", ["private-app-az1", "private-app-az9"]], "subnets", "unknown subnet 'private-app-az9'"),
    ([f"{GROUP}.subnets", ["private-app-az1"]], "subnets", "spans one availability zone (us-east-1a)"),
    ([f"{GROUP}.subnets", []], "subnets", "has no subnets"),
    ([f"{GROUP}.health_check_type", "elb"], "health_check_type", "health_check_type 'elb' is unknown"),
    ([f"{GROUP}.grace_period_s", -5], "grace_period_s", "grace_period_s -5 is outside"),
    ([f"{GROUP}.target_group", "other-tg"], "target_group", "no target group named 'other-tg'"),
    ([f"{GROUP}.instances", ["node-api-1", "node-api-2"]], "instances", "lists 2 instance(s) but desired is 6"),
    ([f"{GROUP}.instances[5]", "node-api-9"], "instances", "member 'node-api-9' is not an instance"),
    ([f"{GROUP}.launch_template.sgs", ["web-sgg"]], "launch_template.sgs", "unknown security group 'web-sgg'"),
    ([f"{GROUP}.launch_template.os", "beos"], "launch_template.os", "os 'beos' is unknown"),
    ([f"{GROUP}.launch_template.boot_s", 99999], "launch_template.boot_s", "boot_s 99999 is outside"),
])
def test_bad_group_is_refused_with_its_path_name_and_fix(patch, path, text):
    assert_problem([patch], f"{GROUP}.{path}", text)


def test_unbalanced_members_are_refused():
    moved = ["instances.node-api-6", {"ip": "10.0.2.48", "subnet": "private-app-az1", "sgs": ["web-sg"]}]
    p = assert_problem([moved], f"{GROUP}.instances", "not balanced across its zones (us-east-1a: 4, us-east-1b: 2)")
    assert "within one instance" in p.hint


def test_elb_type_without_a_target_group_is_refused():
    raw = tl.apply_patch(ASG, [])
    del raw["auto_scaling_groups"]["api-asg"]["target_group"]
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(raw)
    assert any("health_check_type ELB but no target group" in p.message for p in exc.value.problems)


def test_unknown_key_and_missing_key_in_the_section():
    probs = problems_of([f"{GROUP}.desired_capacity", 6])
    assert any(p.path == f"{GROUP}.desired_capacity" and "did you mean 'desired'" in p.hint for p in probs)
    raw = tl.apply_patch(ASG, [])
    del raw["auto_scaling_groups"]["api-asg"]["launch_template"]
    with pytest.raises(tl.ValidationError, match="missing key 'launch_template'"):
        tl.load_dict(raw)


def test_an_instance_in_two_groups_is_refused():
    raw = tl.apply_patch(ASG, [])
    raw["auto_scaling_groups"]["other-asg"] = dict(raw["auto_scaling_groups"]["api-asg"])
    with pytest.raises(tl.ValidationError, match="already belongs to group 'api-asg'"):
        tl.load_dict(raw)


def test_grace_period_left_out_is_the_api_default_zero():
    raw = tl.apply_patch(ASG, [])
    del raw["auto_scaling_groups"]["api-asg"]["grace_period_s"]
    assert tl.load_dict(raw).auto_scaling_group().grace_period_s == 0


@pytest.mark.parametrize("delay, ok", [(0, True), (3600, True), (3601, False), (-1, False)])
def test_deregistration_delay_bounds(delay, ok):
    raw = tl.apply_patch(ASG, [["load_balancer.target_group.deregistration_delay_s", delay]])
    if ok:
        assert tl.load_dict(raw).alb.deregistration_delay_s == delay
    else:
        with pytest.raises(tl.ValidationError, match="deregistration_delay_s"):
            tl.load_dict(raw)


# ------------------------------------------------------------------ the builder: the same checks


def _group(**changes):
    base = AutoScalingGroup(name="api-asg", subnets=("private-app-az1", "private-app-az2"), min_size=1, max_size=4,
                            desired=3, template=LaunchTemplate(sgs=("web-sg",)),
                            instances=("node-api-1", "node-api-2", "node-api-3"), health_check_type="ELB",
                            grace_period_s=300, target_group="web-servers-tg")
    return replace(base, **changes)


def test_builder_adds_the_group_to_the_seed():
    t = SEED.with_auto_scaling_group(_group())
    assert t.auto_scaling_group("api-asg").desired == 3
    assert t.alb.targets == SEED.alb.targets
    assert SEED.auto_scaling_groups == ()  # a new topology, never a mutation


@pytest.mark.parametrize("changes, text", [
    ({"desired": 5}, "desired 5 is outside min_size..max_size (1..4)"),
    ({"subnets": ("private-app-az2",)}, "spans one availability zone"),
    ({"subnets": ("private-app-az1", "nowhere")}, "unknown subnet 'nowhere'"),
    ({"health_check_type": "HTTP"}, "health_check_type 'HTTP' is unknown"),
    ({"min_size": 5}, "max_size 4 is below min_size 5"),
])
def test_builder_refuses_what_the_loader_refuses_with_the_same_message(changes, text):
    with pytest.raises(tl.TopologyError, match=text.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        SEED.with_auto_scaling_group(_group(**changes))
    # the loader's message for the same group is the same text
    probs = group_problems(_group(**changes), subnet_azs={s.name: s.az for s in SEED.subnets},
                           instance_subnets={i.name: i.subnet for i in SEED.instances},
                           sg_names=[g.name for g in SEED.security_groups], target_group="web-servers-tg")
    assert any(text in p.message for p in probs)


def test_builder_refuses_what_is_not_a_group():
    with pytest.raises(tl.ParameterError, match="is not an AutoScalingGroup"):
        SEED.with_auto_scaling_group("api-asg")  # type: ignore[arg-type]


def test_free_address_skips_reserved_and_used():
    import ipaddress

    net = ipaddress.IPv4Network("10.0.2.0/28")
    assert str(free_address(net, [])) == "10.0.2.4"
    assert str(free_address(net, [ipaddress.IPv4Address("10.0.2.4")])) == "10.0.2.5"
    assert free_address(net, [ipaddress.IPv4Address(f"10.0.2.{i}") for i in range(4, 15)]) is None


def test_seed_vpc_holds_the_same_group_beside_its_nat_gateways_and_endpoints():
    vpc, asg = tl.load("seed-vpc"), tl.load("seed-asg")
    assert vpc.auto_scaling_group() == asg.auto_scaling_group()
    assert len(tl.journey(vpc).pairs) == len(vpc.alb.nodes) * 6
