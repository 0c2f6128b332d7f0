"""Loading topologies: every bad input gives its error, with a YAML path and a hint, all at once."""

import copy

import pytest

import tierlab as tl

SEED = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))


def problems_of(raw):
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(raw, file="test.yaml")
    return exc.value.problems


def patched(*patch):
    return tl.apply_patch(SEED, list(patch))


def assert_problem(raw, path_part, text):
    probs = problems_of(raw)
    hits = [p for p in probs if path_part in p.path and text in p.message]
    assert hits, f"expected a problem at {path_part!r} saying {text!r}, got: {[str(p) for p in probs]}"
    assert all(h.hint for h in hits), "every problem carries a hint"
    return hits[0]


@pytest.mark.parametrize("name", tl.topology_names())
def test_every_shipped_topology_loads(name):
    t = tl.load(name)
    assert t.name == name
    assert len(t.azs) >= 2 and t.alb.nodes and t.database.instances


def test_unknown_topology_name_suggests_the_close_one():
    with pytest.raises(tl.ScenarioError, match="did you mean 'seed'"):
        tl.load("sed")


def test_bad_cidr():
    p = assert_problem(patched(["nacls.nacl-public.inbound[0].cidr", "0.0.0.0/33"]), "nacls.nacl-public.inbound[0].cidr",
            "'0.0.0.0/33' is not a valid IPv4 CIDR")
    assert "a.b.c.d/n" in p.hint


def test_cidr_with_host_bits_suggests_the_network():
    p = assert_problem(patched(["subnets.public-az1.cidr", "10.0.1.7/24"]), "subnets.public-az1.cidr", "not a valid")
    assert "did you mean 10.0.1.0/24" in p.hint


def test_port_outside_range():
    assert_problem(patched(["security_groups.web-sg.ingress[0].ports", 70000]), "security_groups.web-sg.ingress[0].ports",
        "port 70000 is outside 0-65535")


def test_backwards_port_range():
    p = assert_problem(patched(["nacls.nacl-public.outbound[1].ports", "65535-1024"]), "outbound[1].ports", "runs backwards")
    assert "1024-65535" in p.hint


@pytest.mark.parametrize("number", [0, 32767, 40000, -5])
def test_nacl_rule_number_outside_range(number):
    assert_problem(patched(["nacls.nacl-private-db.inbound[0].number", number]), "nacls.nacl-private-db.inbound[0].number",
        "outside 1-32766")


def test_nacl_rule_number_duplicated_in_one_direction():
    assert_problem(patched(["nacls.nacl-public.inbound[1].number", 100]), "nacls.nacl-public.inbound[1].number",
        "already has inbound rule #100")


def test_same_number_in_both_directions_is_fine():
    t = tl.load_dict(patched(["nacls.nacl-public.outbound[1].number", 105]))  # inbound has a #105 too
    assert {r.id for r in t.nacl("nacl-public").rules} >= {"nacl-public-in-105", "nacl-public-out-105"}


def test_over_the_nacl_quota():
    rules = [{"number": 200 + i, "action": "allow", "ports": 1000 + i, "cidr": "10.0.0.0/16"} for i in range(20)]
    p = assert_problem(patched(["nacls.nacl-private-db.inbound", rules]), "nacls.nacl-private-db.inbound", "over the quota of 20")
    assert "* rule" in p.hint


def test_nineteen_numbered_rules_fit_the_nacl_quota():
    rules = [{"number": 200 + i, "action": "allow", "ports": 1000 + i, "cidr": "10.0.0.0/16"} for i in range(19)]
    t = tl.load_dict(patched(["nacls.nacl-private-db.inbound", rules]))
    assert len(t.nacl("nacl-private-db").ordered("inbound")) == 19  # 19 + the * rule = the quota of 20


def test_over_the_sg_quota():
    rules = [{"ports": 1000 + i, "cidr": "10.0.0.0/16"} for i in range(61)]
    assert_problem(patched(["security_groups.web-sg.ingress", rules]), "security_groups.web-sg.ingress", "over the quota of 60")


def test_over_the_sgs_per_eni_quota():
    assert_problem(patched(["instances.node-api-1.sgs", ["web-sg"] * 6]), "instances.node-api-1.sgs", "over the quota of 5")


def test_unknown_sg_reference_suggests_the_close_one():
    p = assert_problem(patched(["security_groups.database-sg.ingress[0].sg", "web-gs"]), "database-sg.ingress[0].sg",
            "unknown security group 'web-gs'")
    assert "web-sg" in p.hint


def test_unknown_sg_on_an_instance():
    assert_problem(patched(["instances.node-api-2.sgs", ["web-sgg"]]), "instances.node-api-2.sgs", "unknown security group")


def test_instance_ip_outside_its_subnet_names_both():
    p = assert_problem(patched(["instances.node-api-3.subnet", "private-app-az2"], ["instances.node-api-3.ip", "10.0.4.89"]),
            "instances.node-api-3.ip", "subnet 'private-app-az2' 10.0.3.0/24 does not contain instance 'node-api-3' 10.0.4.89")
    assert "10.0.4.89" in p.hint


def test_reserved_address():
    assert_problem(patched(["instances.node-api-1.ip", "10.0.2.1"]), "instances.node-api-1.ip", "reserves")


def test_overlapping_subnets():
    assert_problem(patched(["subnets.public-az2.cidr", "10.0.1.128/25"]), "subnets.public-az2.cidr", "overlaps subnet public-az1")


def test_subnet_outside_the_vpc():
    assert_problem(patched(["subnets.public-az2.cidr", "10.1.0.0/24"]), "subnets.public-az2.cidr", "outside the VPC")


def test_unknown_az():
    p = assert_problem(patched(["subnets.private-db-az2.az", "us-east-1z"]), "subnets.private-db-az2.az",
            "unknown availability zone 'us-east-1z'")
    assert "us-east-1a" in p.hint


def test_cname_at_zone_apex():
    p = assert_problem(patched(["dns.records[0].type", "CNAME"], ["dns.records[0].alias", False]), "dns.records[0].type",
            "CNAME at the zone apex")
    assert "alias" in p.hint


def test_unknown_yaml_key_suggests_the_right_one():
    raw = copy.deepcopy(SEED)
    raw["subnets"]["public-az1"]["route_tabel"] = raw["subnets"]["public-az1"].pop("route_table")
    probs = problems_of(raw)
    assert any(p.path == "subnets.public-az1.route_tabel" and "route_table" in p.hint for p in probs)


def test_every_problem_is_reported_at_once():
    raw = patched(["nacls.nacl-public.inbound[0].cidr", "300.0.0.0/8"],
                  ["security_groups.web-sg.ingress[0].ports", 99999],
                  ["subnets.private-db-az2.az", "mars-1a"],
                  ["dns.records[0].type", "CNAME"])
    probs = problems_of(raw)
    assert len(probs) >= 4
    text = str(tl.ValidationError(probs, "x.yaml"))
    for bit in ("300.0.0.0/8", "99999", "mars-1a", "CNAME"):
        assert bit in text


def test_alb_needs_two_azs_and_no_elastic_ip():
    raw = patched(["load_balancer.nodes", [SEED["load_balancer"]["nodes"][0]]], ["load_balancer.elastic_ip", "12.34.56.78"])
    probs = problems_of(raw)
    assert any("at least two AZs" in p.hint for p in probs)
    assert any("cannot have an Elastic IP" in p.message for p in probs)


def test_rds_subnet_group_needs_two_azs():
    assert_problem(patched(["database.subnet_group", ["private-db-az1"]], ["database.instances", [SEED["database"]["instances"][0]]],
                ["database.multi_az", False]), "database.subnet_group", "fewer than two AZs")


def test_route_table_needs_its_local_route():
    assert_problem(patched(["route_tables.rt-private", []]), "route_tables.rt-private", "no local route")


def test_health_check_bounds():
    assert_problem(patched(["load_balancer.target_group.health_check.healthy_threshold", 11]), "health_check.healthy_threshold",
        "outside 2-10")
    assert_problem(patched(["load_balancer.target_group.health_check.interval_s", 400]), "health_check.interval_s",
        "outside 5-300")


def test_identical_sg_rules_are_refused():
    assert_problem(patched(["security_groups.web-sg.egress[+]", {"ports": 443, "cidr": "0.0.0.0/0"}]), "web-sg.egress[2]",
        "duplicates web-sg-out-443")


def test_sg_without_egress_key_gets_the_aws_default_and_empty_list_means_none():
    raw = copy.deepcopy(SEED)
    del raw["security_groups"]["web-sg"]["egress"]
    t = tl.load_dict(raw)
    out = t.security_group("web-sg").rules_in("outbound")
    assert len(out) == 1 and out[0].protocol == "all" and str(out[0].peer_cidr) == "0.0.0.0/0"
    assert tl.load("seed").security_group("database-sg").rules_in("outbound") == ()


def test_not_yaml_is_a_scenario_error(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: [unclosed\n")
    with pytest.raises(tl.ScenarioError, match="not valid YAML"):
        tl.load(f)


@pytest.mark.parametrize("diff", [d for d in tl.load("seed-as-written").differences if d.patch],
                         ids=lambda d: d.id)
def test_each_refused_slip_of_the_seed_is_reported_by_validation(diff):
    raw = tl.read_yaml(tl.data_path("topologies", "seed-as-written.yaml"))
    assert diff.found_by == "validation"
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(tl.apply_patch(raw, diff.patch))
    assert exc.value.problems


def test_differences_say_how_each_slip_is_found():
    for name in ("seed", "seed-as-written"):
        for d in tl.load(name).differences:
            assert d.found_by in ("evaluator", "validation", "note") and d.why


def test_a_route_sending_vpc_addresses_to_the_internet_gateway_is_refused():
    raw = patched(["route_tables.rt-public[+]", {"destination": "10.0.2.0/23", "target": "igw-main"}])
    assert_problem(raw, "route_tables.rt-public[2].destination", "points VPC addresses at the internet gateway")


@pytest.mark.parametrize("patch,where", [
    (["load_balancer.target_group.health_check.interval_s", "abc"], "health_check.interval_s"),
    (["load_balancer.idle_timeout_s", "long"], "load_balancer.idle_timeout_s"),
    (["database.failover_s", 60], "database.failover_s"),
    (["route_tables.rt-private", "local"], "route_tables.rt-private"),
    (["azs", 5], "azs"),
    (["dns.records[1].ttl_s", "x"], "dns.records[1].ttl_s"),
])
def test_values_of_the_wrong_type_are_problems_not_tracebacks(patch, where):
    probs = problems_of(patched(patch))
    assert any(where in p.path for p in probs), [str(p) for p in probs]


def test_any_unforeseen_shape_is_still_a_validation_error():
    raw = copy.deepcopy(SEED)
    raw["dns"]["records"] = 17  # not a list
    with pytest.raises(tl.ValidationError):
        tl.load_dict(raw)


# A problem that only follows from another is not reported: one slip, one line.


def test_a_misspelt_section_is_one_unknown_key_and_one_missing_key_nothing_that_follows():
    raw = copy.deepcopy(SEED)
    raw["vpcc"] = raw.pop("vpc")
    probs = problems_of(raw)
    assert [(p.path, p.message) for p in probs] == [("vpcc", "unknown key 'vpcc'"), ("vpc", "missing key 'vpc'")]
    assert "did you mean 'vpc'?" in probs[0].hint


@pytest.mark.parametrize("cidr", ["10.0.1.0", "10.0.1.0/33", "ten"])
def test_a_subnet_with_a_bad_cidr_is_reported_once_not_as_unknown_where_it_is_used(cidr):
    probs = problems_of(patched(["subnets.public-az1.cidr", cidr]))  # the ALB node in public-az1 uses it
    assert [p.path for p in probs] == ["subnets.public-az1.cidr"], [str(p) for p in probs]


def test_a_subnet_that_is_really_missing_is_still_unknown_where_it_is_used():
    raw = copy.deepcopy(SEED)
    del raw["subnets"]["public-az1"]
    assert_problem(raw, "load_balancer.nodes[0].subnet", "unknown subnet 'public-az1'")


def test_a_missing_section_is_not_also_reported_as_empty():
    raw = copy.deepcopy(SEED)
    del raw["load_balancer"]["sgs"], raw["database"]["port"]
    probs = problems_of(raw)
    assert sorted((p.path, p.message) for p in probs) == [("database.port", "missing key 'port'"),
                                                         ("load_balancer.sgs", "missing key 'sgs'")]


def test_a_what_if_refuses_identical_sg_rules_as_the_loader_does():
    """Changing a rule into a twin of another in its group is refused (AWS holds no two identical rules; an
    export would write both and an import read one); a twin switched off is no rule, so the change stands."""
    seed = tl.load("seed")
    with pytest.raises(tl.RuleError, match="duplicates alb-public-sg-in-443"):
        seed.change_rule("alb-public-sg-in-80", ports=443)
    moved = seed.switch_off("alb-public-sg-in-443").change_rule("alb-public-sg-in-80", ports=443)
    assert moved.rule("alb-public-sg-in-80").ports == seed.rule("alb-public-sg-in-443").ports
    with pytest.raises(tl.RuleError, match="duplicates alb-public-sg-in-80"):
        moved.switch_on("alb-public-sg-in-443")


def test_adding_a_rule_without_what_it_needs_names_the_missing_argument():
    """A learner's call that leaves out number=/ports= (or names the peer as change_rule does, peer_sg=) gets a
    RuleError that says which argument and an example, never Python's TypeError."""
    seed = tl.load("seed")
    with pytest.raises(tl.RuleError, match=r"needs number=") as exc:
        seed.add_nacl_rule("nacl-public", "inbound", action="allow", ports=80, cidr="0.0.0.0/0")
    assert "100, 105, 110" in exc.value.hint  # the numbers already taken that way
    with pytest.raises(tl.RuleError, match=r"needs number=, action=, ports=, cidr="):
        seed.add_nacl_rule("nacl-public", "inbound")
    with pytest.raises(tl.RuleError, match=r"needs ports="):
        seed.add_sg_rule("web-sg", "inbound", sg="alb-public-sg")
    grown = seed.add_sg_rule("web-sg", "inbound", ports=8080, peer_sg="alb-public-sg")
    assert any(r.peer_sg == "alb-public-sg" and r.ports == tl.PortRange(8080, 8080)
               for r in grown.security_group("web-sg").rules)
    with pytest.raises(tl.RuleError, match="name two peers"):
        seed.add_sg_rule("web-sg", "inbound", ports=8080, sg="web-sg", peer_sg="alb-public-sg")
