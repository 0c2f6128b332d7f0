"""Terraform in: the corpus under data/terraform gives the verdicts its expect.yaml names, and
Terraform's own semantics hold (no egress unless declared, the main route table and default
NACL for unassociated subnets, every problem a note naming file, resource and attribute)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import tierlab as tl
from tierlab.network.importers import from_terraform
from tierlab.network.importers.hclexpr import Scope, Unknown, evaluate, parse

CORPUS = Path(__file__).resolve().parents[2] / "data" / "terraform"
CASES = [(d.name, i, spec) for d in sorted(CORPUS.iterdir()) if (d / "expect.yaml").exists()
         for i, spec in enumerate(yaml.safe_load((d / "expect.yaml").read_text())["imports"])]


def test_the_corpus_has_six_projects_with_expectations():
    assert len({c[0] for c in CASES}) >= 6


@pytest.mark.parametrize("project,i,spec", CASES, ids=[f"{c[0]}:{c[2]['source']}" for c in CASES])
def test_corpus_project_gives_its_verdicts(project: str, i: int, spec: dict):
    src = CORPUS / project / spec["source"]
    if "error" in spec:
        with pytest.raises(tl.TierlabError, match=spec["error"]):
            from_terraform(src)
        return
    imp = from_terraform(src)
    topo = imp.topology
    for os_name, want in (spec.get("journey") or {}).items():
        tr = tl.journey(topo, os=os_name)
        assert tr.ok is want["ok"], (os_name, tr.summary())
        assert tr.success_share == pytest.approx(want["success_share"], abs=1e-3), (os_name, tr.summary())
    tr = tl.journey(topo)
    for want in spec.get("blocks") or []:
        hit = [b for b in tr.blocks if b.component == want["component"] and b.step == want["step"]
               and ("rule_id" not in want or want["rule_id"] in b.rule_ids)
               and ("code" not in want or b.code == want["code"])
               and ("pairs" not in want or len(b.pairs) == want["pairs"])]
        assert hit, (want, tr.summary())
    if "pair_status" in spec:
        assert {p.status for p in tr.pairs} == {spec["pair_status"]}
    frame = imp.frame().set_index("resource")
    for addr, status in (spec.get("status") or {}).items():
        assert frame.loc[addr, "status"] == status, (addr, frame.loc[addr, "reason"])
    for text in spec.get("notes") or []:
        assert any(text in n.message or text in n.assumption for n in imp.notes), text
    if "counts" in spec:
        assert imp.counts() == spec["counts"], imp.frame()
    for key, want in (spec.get("tiers") or {}).items():
        assert imp.tiers[key] == want
    t = spec.get("topology") or {}
    if "subnets" in t:
        assert len(topo.subnets) == t["subnets"]
    if "api_host" in t:
        assert topo.api_host == t["api_host"]
    for group, ids in (t.get("rules_of") or {}).items():
        assert sorted(r.id for r in topo.security_group(group).rules) == sorted(ids)
    for sn, nacl in (t.get("nacl_of") or {}).items():
        assert topo.subnet(sn).nacl == nacl
    for sn, rt in (t.get("route_table_of") or {}).items():
        assert topo.subnet(sn).route_table == rt
    if "target_port" in t:
        assert topo.alb.target_port == t["target_port"]
    if "multi_az" in t:
        assert topo.database.multi_az is t["multi_az"]


# ------------------------------------------------------------------------ the expression language

@pytest.mark.parametrize("src,want", [
    ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
    ('cidrsubnet("10.0.0.0/16", 4, 15)', "10.0.240.0/20"),
    ('cidrhost("10.0.2.0/24", 45)', "10.0.2.45"),
    ('element(["a", "b"], 3)', "b"),
    ('length({a = 1, b = 2})', 2),
    ('concat([1], [2, 3])', [1, 2, 3]),
    ('merge({a = 1}, {a = 2, b = 3})', {"a": 2, "b": 3}),
    ('lookup({a = 1}, "b", 7)', 7),
    ('format("node-%02d-%s", 3, "x")', "node-03-x"),
    ('[for i, v in ["x", "y"] : "${v}${i}" if i > 0]', ["y1"]),
    ('{for k, v in {a = 1, b = 2} : v => k}', {"1": "a", "2": "b"}),
    ('true ? 1 : 2', 1),
    ('[{a = 1}, {a = 2}][*].a', [1, 2]),
    ('substr("us-east-1a", -1, 1)', "a"),
])
def test_expressions_evaluate_as_terraform_does(src, want):
    assert evaluate(parse(src), Scope(lambda n: {})) == want


def test_an_unknown_value_spreads_instead_of_guessing():
    scope = Scope(lambda n: {"aws_x": {"y": Unknown("set by AWS")}}[n])
    assert isinstance(evaluate(parse('cidrsubnet(aws_x.y, 8, 1)'), scope), Unknown)
    assert isinstance(evaluate(parse('"prefix-${aws_x.y}"'), scope), Unknown)
    assert isinstance(evaluate(parse('file("x.txt")'), scope), Unknown)


# ------------------------------------------------------------------------ Terraform's semantics

def _project(tmp_path: Path, extra: str, variables: str = "") -> Path:
    base = (CORPUS / "port-mismatch" / "main.tf").read_text()
    (tmp_path / "main.tf").write_text(base + "\n" + extra)
    if variables:
        (tmp_path / "terraform.tfvars").write_text(variables)
    return tmp_path


def test_a_terraform_security_group_has_no_egress_unless_declared():
    topo = from_terraform(CORPUS / "port-mismatch").topology
    assert topo.security_group("notes-db").rules_in("outbound") == ()
    assert topo.security_group("notes-app").rules_in("outbound")


def test_unassociated_subnets_use_the_main_route_table_and_the_default_nacl():
    imp = from_terraform(CORPUS / "port-mismatch")
    topo = imp.topology
    assert topo.subnet("app-a").route_table == "main-route-table"
    assert topo.subnet("app-a").nacl == "default-nacl"
    assert topo.nacl("default-nacl").rules[0].action == "allow"  # AWS's default NACL allows all
    assert not topo.is_public("db-a")


def test_tfvars_override_defaults_and_variables_override_tfvars(tmp_path):
    p = _project(tmp_path, "", 'project = "renamed"\n')
    assert from_terraform(p).topology.alb.name == "renamed"
    assert from_terraform(p, variables={"project": "cli"}).topology.alb.name == "cli"


def test_every_import_problem_names_file_resource_and_attribute(tmp_path):
    p = _project(tmp_path, '''
resource "aws_security_group_rule" "orphan" {
  type              = "ingress"
  security_group_id = "sg-0123456789"
  protocol          = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_instance" "mystery" {
  subnet_id = data.aws_subnet.other.id
}
data "aws_subnet" "other" {}
''')
    (tmp_path / "broken.tf").write_text('resource "aws_vpc" "x" {\n  cidr_block = \n')
    imp = from_terraform(p)
    by = {(n.file, n.resource, n.attribute): n for n in imp.notes}
    assert ("main.tf", "aws_security_group_rule.orphan", "security_group_id") in by
    assert ("main.tf", "aws_instance.mystery", "subnet_id") in by
    assert any(n.file == "broken.tf" and n.status == "not understood" for n in imp.notes)
    assert by[("main.tf", "aws_security_group_rule.orphan", "security_group_id")].affects_verdicts


def test_a_variable_without_value_is_reported_not_guessed(tmp_path):
    p = _project(tmp_path, 'variable "extra_cidr" {}\nresource "aws_security_group_rule" "x" {\n'
                 '  type = "ingress"\n  security_group_id = aws_security_group.db.id\n  protocol = "tcp"\n'
                 '  from_port = 5432\n  to_port = 5432\n  cidr_blocks = [var.extra_cidr]\n}\n')
    imp = from_terraform(p)
    assert any(n.resource == "var.extra_cidr" and n.affects_verdicts for n in imp.notes)
    assert len(imp.topology.security_group("notes-db").rules) == 1  # the unknown peer is left out


def test_a_validation_problem_names_the_terraform_resource(tmp_path):
    p = _project(tmp_path, "")
    text = (p / "main.tf").read_text().replace('"10.50.20.0/24"', '"10.51.20.0/24"')
    (p / "main.tf").write_text(text)
    with pytest.raises(tl.ValidationError) as exc:
        from_terraform(p)
    assert 'main.tf: aws_subnet.all["db-a"]' in str(exc.value)


# ------------------------------------------------------------------------ the command line

def test_cli_journey_and_check_read_a_terraform_folder(capsys):
    from tierlab.cli import main

    assert main(["journey", "-t", str(CORPUS / "three-tier")]) == 0
    assert main(["journey", "-t", str(CORPUS / "broken-nacl")]) == 1
    assert "nacl-app" in capsys.readouterr().out
    assert main(["check", str(CORPUS / "public-targets")]) == 0
    out = capsys.readouterr().out
    assert "partly" in out and "aws_vpc_endpoint.s3" in out


def test_a_plan_resolves_values_known_after_apply_through_the_configurations_references(tmp_path):
    """`terraform show -json` of a plan: ids are unknown (after_unknown), references say what they are."""
    import json

    def res(addr, rtype, values):
        return {"address": addr, "mode": "managed", "type": rtype, "name": addr.split(".")[1],
                "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": values}

    plan = {
        "format_version": "1.2", "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": [
            res("aws_vpc.main", "aws_vpc", {"cidr_block": "10.9.0.0/16"}),
            res("aws_subnet.a", "aws_subnet", {"cidr_block": "10.9.1.0/24", "availability_zone": "us-east-1a"}),
            res("aws_security_group.web", "aws_security_group", {"name": "web", "ingress": [], "egress": []}),
            res("aws_instance.x", "aws_instance", {"private_ip": "10.9.1.20"}),
        ]}},
        "resource_changes": [
            {"address": "aws_vpc.main", "change": {"actions": ["create"], "after_unknown": {"id": True}}},
            {"address": "aws_subnet.a", "change": {"actions": ["create"], "after_unknown": {"id": True, "vpc_id": True}}},
            {"address": "aws_security_group.web", "change": {"actions": ["create"],
                                                             "after_unknown": {"id": True, "vpc_id": True}}},
            {"address": "aws_instance.x", "change": {"actions": ["create"], "after_unknown": {
                "id": True, "subnet_id": True, "vpc_security_group_ids": [True]}}},
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_subnet.a", "expressions": {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}}},
            {"address": "aws_security_group.web", "expressions": {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}}},
            {"address": "aws_instance.x", "expressions": {
                "subnet_id": {"references": ["aws_subnet.a.id", "aws_subnet.a"]},
                "vpc_security_group_ids": {"references": ["aws_security_group.web.id", "aws_security_group.web"]}}},
        ]}},
    }
    from tierlab.network.importers.report import Notes
    from tierlab.network.importers.terraform import read_show_json

    got = {r.address: r.attrs for r in read_show_json(plan, "plan.json", Notes())}
    assert got["aws_subnet.a"]["vpc_id"] == "aws_vpc.main"
    assert got["aws_instance.x"]["subnet_id"] == "aws_subnet.a"
    assert got["aws_instance.x"]["vpc_security_group_ids"] == ["aws_security_group.web"]


@pytest.mark.parametrize("project", ["broken-nacl", "wrong-sg", "public-targets", "port-mismatch"])
def test_diagram_latency_and_reachability_work_on_an_import(project):
    topo = from_terraform(CORPUS / project).topology
    trace = tl.journey(topo)
    assert tl.diagram(trace).source.count("->") > 5
    assert tl.latency_model(topo, trace=trace).total_ms > 0
    db = topo.database.instances[0].name
    assert len(tl.who_can_reach(topo, db, topo.database.port)) > 3


def test_an_nlb_without_groups_is_partly_understood_and_filters_nothing(tmp_path):
    text = (CORPUS / "public-targets" / "main.tf").read_text().replace(
        '  name            = "shop"\n  subnets         = aws_subnet.public[*].id\n  security_groups = [aws_security_group.alb.id]',
        '  name               = "shop"\n  load_balancer_type = "network"\n  subnets            = aws_subnet.public[*].id')
    (tmp_path / "main.tf").write_text(text)
    imp = from_terraform(tmp_path)
    assert imp.frame().set_index("resource").loc["aws_lb.alb", "status"] == "partly"
    assert imp.topology.alb.sgs == ("nlb-no-security-group",)
    tr = tl.journey(imp.topology, os="windows")
    assert tr.blocks[0].step == "web-sg-in"  # the servers' group admits only the ALB's group, which an NLB lacks


def test_one_tf_file_is_read_alone(tmp_path):
    with pytest.raises(tl.TierlabError, match="no aws_vpc"):
        from_terraform(CORPUS / "three-tier" / "variables.tf")
    assert from_terraform(CORPUS / "port-mismatch" / "main.tf").topology.alb.name == "notes"


def test_parses_kept_on_disk_are_the_parses_and_a_broken_cache_is_ignored(tmp_path, monkeypatch):
    """A new process reads earlier parses from the cache instead of loading python-hcl2's parser;
    what it reads is exactly what python-hcl2 returns, and a damaged cache file is parsed again."""
    import hcl2

    from tierlab.network.importers import terraform as tfmod

    monkeypatch.setenv("TIERLAB_CACHE_DIR", str(tmp_path / "cache"))
    text = (CORPUS / "three-tier" / "main.tf").read_text()
    assert tfmod.parse_text(text) == hcl2.loads(text)  # written
    (entry,) = (tmp_path / "cache" / "hcl").glob("*.json")
    assert tfmod.parse_text(text) == hcl2.loads(text)  # read back
    entry.write_text("{not json")
    assert tfmod.parse_text(text) == hcl2.loads(text)  # damaged: parsed again
    monkeypatch.setenv("TIERLAB_CACHE_DIR", "off")
    tfmod.parse_text(text + "\n# another text\n")
    assert len(list((tmp_path / "cache" / "hcl").glob("*.json"))) == 1  # off: nothing new is written


def test_nat_gateways_eips_and_endpoints_join_the_topology():
    """public-targets: a NAT per zone (aws_eip by count.index), each zone's route table sending 0.0.0.0/0 to
    its own NAT, an S3 gateway endpoint on those tables and an SSM interface endpoint with no group
    (AWS gives it the VPC's default security group)."""
    imp = from_terraform(CORPUS / "public-targets")
    topo = imp.topology
    nats = {n.name: n for n in topo.nat_gateways}
    assert sorted(nats) == ["nat-0", "nat-1"]
    assert [nats[n].subnet for n in sorted(nats)] == ["public-a", "public-b"]
    for rt in topo.route_tables:
        targets = {r.target for r in rt.routes if str(r.destination) == "0.0.0.0/0"}
        assert targets <= {"nat-0", "nat-1", topo.internet_gateway}
    assert {r.target for rt in topo.route_tables for r in rt.routes} >= {"nat-0", "nat-1"}
    s3, ssm = (next(e for e in topo.vpc_endpoints if e.service == s) for s in ("s3", "ssm"))
    assert s3.type == "gateway" and len(s3.route_tables) == 2 and s3.prefix_list == "pl-s3"
    assert ssm.type == "interface" and ssm.sgs == ("default",) and ssm.private_dns and len(ssm.enis) == 2
    frame = imp.frame().set_index("resource")
    assert frame.loc["aws_eip.nat[0]", "status"] == "parsed" and frame.loc["aws_vpc_endpoint.ssm", "status"] == "parsed"


def test_the_registry_modules_state_is_written_from_the_projects_own_main_tf():
    """One source of truth: show.json is what scripts/make_tf_show_json.py writes from
    data/terraform/registry-module/main.tf (its module call pointed at the local stand-in of the
    registry module), so an edit of main.tf that is not carried into show.json fails here."""
    import sys

    sys.path.insert(0, str(CORPUS.parents[1] / "scripts"))
    try:
        import make_tf_show_json
    finally:
        sys.path.pop(0)
    assert make_tf_show_json.show_text() == (CORPUS / "registry-module" / "show.json").read_text()


def test_a_vpc_cidr_from_an_ipam_pool_is_assumed_from_its_subnets_and_said_so(tmp_path):
    """Not known offline (a data source's IPAM pool): the smallest block holding the subnets, a "partly"
    note that verdicts outside them depend on it; the import goes on and the journey is the project's."""
    text = (CORPUS / "unknown-values" / "main.tf").read_text()
    text = text.replace('resource "aws_vpc" "main" {\n  cidr_block = local.cidr',
                        'data "aws_vpc_ipam_pool" "corp" {}\n\nresource "aws_vpc" "main" {\n'
                        '  ipv4_ipam_pool_id   = data.aws_vpc_ipam_pool.corp.id\n  ipv4_netmask_length = 16')
    assert "ipv4_ipam_pool_id" in text
    (tmp_path / "main.tf").write_text(text)
    imp = from_terraform(tmp_path)
    assert str(imp.topology.vpc_cidr) == "10.40.0.0/19"  # 10.40.0.0/24 .. 10.40.21.0/24
    (note,) = [n for n in imp.notes if n.resource == "aws_vpc.main" and n.attribute == "cidr_block"]
    assert note.status == "partly" and note.affects_verdicts and "10.40.0.0/19" in note.assumption
    assert tl.journey(imp.topology).ok
    (tmp_path / "main.tf").write_text(text.replace("cidrsubnet(local.cidr", "cidrsubnet(data.aws_vpc_ipam_pool.corp.cidr"))
    with pytest.raises(tl.TopologyError, match="none of its subnets' is either: nothing can be evaluated"):
        from_terraform(tmp_path)


def test_a_whole_list_known_only_to_the_account_is_a_note_not_an_empty_list(tmp_path):
    """subnet_ids = data.aws_subnets.x.ids: the NACL's associations are unknown, so the subnets keep the
    default NACL, and the note says so and that verdicts through them depend on it (it used to be
    read silently as no subnet at all)."""
    text = (CORPUS / "unknown-values" / "main.tf").read_text() + '''
data "aws_subnets" "legacy" {}

resource "aws_network_acl" "legacy" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = data.aws_subnets.legacy.ids
}
'''
    (tmp_path / "main.tf").write_text(text)
    imp = from_terraform(tmp_path)
    (note,) = [n for n in imp.notes if n.resource == "aws_network_acl.legacy" and n.attribute == "subnet_ids"]
    assert note.status == "partly" and note.affects_verdicts and "default NACL" in note.assumption
    assert imp.frame().set_index("resource").loc["aws_network_acl.legacy", "status"] == "partly"
    assert tl.journey(imp.topology).ok


def test_a_vpc_hidden_in_a_file_with_a_syntax_error_is_blamed_on_the_syntax(tmp_path):
    """A learner's unclosed brace is the thing to fix, not "no aws_vpc": the error names the file and the parser's
    line, and a folder whose files all parse still gets the plain message."""
    (tmp_path / "main.tf").write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n')
    with pytest.raises(tl.TierlabError) as err:
        from_terraform(tmp_path)
    assert "main.tf is not valid HCL" in str(err.value) and "line 3" in str(err.value)
    assert "fix the syntax of main.tf" in err.value.hint
    (tmp_path / "main.tf").write_text('variable "x" {\n  default = 1\n}\n')
    with pytest.raises(tl.TierlabError, match="no aws_vpc in these files: nothing to evaluate"):
        from_terraform(tmp_path)
