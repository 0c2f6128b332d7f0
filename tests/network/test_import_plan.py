"""`terraform show -json` of a plan: an id known only after apply is found from the references
Terraform writes for its expression (keyed instances, count.index, each.value, var.* through a
module call, module outputs, modules with count and for_each); what cannot be found that way (a local, a data
source, a computed index) is never a guess and never stops the import: it stays unknown and a
"partly" note names the resource, the attribute and the references; listener rules decide which
target group the journey's request reaches, in .tf and in plans alike."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.network.importers import from_terraform
from tierlab.network.importers.hclexpr import Unknown
from tierlab.network.importers.report import Notes
from tierlab.network.importers.showjson import read_show_json, split_address

PROJECT = Path(__file__).resolve().parents[2] / "data" / "terraform" / "plan-modules"
PLAN = json.loads((PROJECT / "plan.json").read_text())


def _verdicts(topo: tl.Topology) -> list:
    out = []
    for os_name in tl.OSES:
        tr = tl.journey(topo, os=os_name)
        out.append((os_name, tr.ok, round(tr.success_share, 6), sorted((b.component, b.step) for b in tr.blocks)))
    return out


def _attrs(doc: dict) -> dict[str, dict]:
    return {r.address: r.attrs for r in read_show_json(doc, "plan.json", Notes())}


def _config(doc: dict, address: str) -> dict:
    return next(r for r in doc["configuration"]["root_module"]["resources"] if r["address"] == address)


def test_the_plan_and_the_tf_files_give_the_same_topology_and_verdicts():
    hcl, plan = from_terraform(PROJECT).topology, from_terraform(PROJECT / "plan.json").topology
    assert _verdicts(hcl) == _verdicts(plan)
    assert [(s.name, s.cidr, s.route_table, s.nacl) for s in hcl.subnets] == \
        [(s.name, s.cidr, s.route_table, s.nacl) for s in plan.subnets]
    assert {(g.name, r.id) for g in hcl.security_groups for r in g.rules} == \
        {(g.name, r.id) for g in plan.security_groups for r in g.rules}
    assert [(i.name, i.subnet, i.sgs) for i in hcl.instances] == [(i.name, i.subnet, i.sgs) for i in plan.instances]


def from_terraform_doc(doc: dict):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "plan.json"
        p.write_text(json.dumps(doc))
        return from_terraform(p)


def test_every_kind_of_reference_finds_its_instance():
    a = _attrs(PLAN)
    assert a["aws_route_table_association.public_b"]["subnet_id"] == "aws_subnet.public[1]"  # literal index
    # count.index selects an element of a module output of a for_each module instance
    assert a["aws_route_table_association.app[1]"]["subnet_id"] == 'module.tier["app"].aws_subnet.this["us-east-1b"]'
    # each.value.id with for_each = aws_subnet.this, inside a module instance; var.* through the module call
    db = 'module.tier["db"].aws_route_table_association.this["us-east-1a"]'
    assert a[db]["subnet_id"] == 'module.tier["db"].aws_subnet.this["us-east-1a"]'
    assert a[db]["route_table_id"] == "aws_route_table.private"
    # var.subnet_id in module.api[1] is module.tier["app"].subnet_ids[count.index] of that instance
    assert a["module.api[1].aws_instance.this"]["subnet_id"] == 'module.tier["app"].aws_subnet.this["us-east-1b"]'
    assert a["module.api[0].aws_instance.this"]["vpc_security_group_ids"] == ["aws_security_group.api"]
    # module.api[count.index].instance_id: Terraform keeps only "module.api"; the only instance it outputs
    assert a["aws_lb_target_group_attachment.api[1]"]["target_id"] == "module.api[1].aws_instance.this"
    assert a["aws_lb.web"]["subnets"] == ["aws_subnet.public[0]", "aws_subnet.public[1]"]  # a splat: every instance
    assert a['module.tier["app"].aws_network_acl.this']["subnet_ids"] == [
        'module.tier["app"].aws_subnet.this["us-east-1a"]', 'module.tier["app"].aws_subnet.this["us-east-1b"]']
    # ids inside nested blocks and inline rules
    assert a["aws_lb_listener_rule.api"]["action"][0]["target_group_arn"] == "aws_lb_target_group.api"
    assert a["aws_route_table.public"]["route"][0]["gateway_id"] == "aws_internet_gateway.gw"
    assert a["aws_security_group.api"]["ingress"][0]["security_groups"] == ["aws_security_group.alb"]


def _unresolved(notes: Notes, address: str, attribute: str):
    return [n for n in notes.items if n.resource == address and n.attribute == attribute and n.status == "partly"
            and n.affects_verdicts]


def test_a_reference_through_a_local_is_a_note_naming_resource_and_attribute_never_a_guess():
    doc = copy.deepcopy(PLAN)
    _config(doc, "aws_route_table_association.public_b")["expressions"]["subnet_id"] = {
        "references": ["local.public_subnet_ids[1]", "local.public_subnet_ids"]}
    notes = Notes()
    got = {r.address: r.attrs for r in read_show_json(doc, "plan.json", notes)}
    assert isinstance(got["aws_route_table_association.public_b"]["subnet_id"], Unknown)  # not guessed
    (note,) = _unresolved(notes, "aws_route_table_association.public_b", "subnet_id")
    assert "local.public_subnet_ids[1]" in note.message and "only after apply" in note.message
    assert "state after apply" in note.assumption and "each.value.id" in note.assumption
    assert "every verdict involving it depends on this assumption" in note.assumption


@pytest.mark.parametrize("refs", [
    ["aws_subnet.public[7].id", "aws_subnet.public[7]", "aws_subnet.public"],  # an index not in the plan
    ["aws_subnet.public", "var.zones"],  # aws_subnet.public[index(var.zones, "us-east-1b")].id: computed
    ["data.aws_subnet.legacy.id", "data.aws_subnet.legacy"],  # a data source read after apply
])
def test_an_unresolvable_subnet_is_reported_and_the_import_goes_on(refs):
    doc = copy.deepcopy(PLAN)
    _config(doc, "aws_route_table_association.public_b")["expressions"]["subnet_id"] = {"references": refs}
    imp = from_terraform_doc(doc)
    notes = [n for n in imp.notes if n.resource == "aws_route_table_association.public_b" and n.attribute == "subnet_id"]
    assert any(refs[0] in n.message for n in notes) and all(n.affects_verdicts for n in notes)
    assert any("uses the main route table instead" in n.assumption for n in notes)  # what was assumed
    assert imp.frame().set_index("resource").loc["aws_route_table_association.public_b", "status"] != "parsed"
    tl.journey(imp.topology)  # the rest is evaluated


def test_an_index_computed_beside_count_index_is_not_taken_for_count_index():
    """element(module.tier["app"].subnet_ids, count.index + var.offset): the plan keeps only the references,
    so count.index alone would be a guess; it is reported instead."""
    doc = copy.deepcopy(PLAN)
    _config(doc, "aws_route_table_association.app")["expressions"]["subnet_id"] = {
        "references": ['module.tier["app"].subnet_ids', 'module.tier["app"]', "count.index", "var.offset"]}
    notes = Notes()
    got = {r.address: r.attrs for r in read_show_json(doc, "plan.json", notes)}
    for k in (0, 1):
        assert isinstance(got[f"aws_route_table_association.app[{k}]"]["subnet_id"], Unknown)
        assert _unresolved(notes, f"aws_route_table_association.app[{k}]", "subnet_id")


def test_a_list_partly_from_a_local_keeps_what_it_names_and_says_the_rest_is_unknown():
    doc = copy.deepcopy(PLAN)
    _config(doc, "aws_lb.web")["expressions"]["subnets"] = {
        "references": ["local.extra_subnets", "aws_subnet.public"]}  # concat(local.extra_subnets, aws_subnet.public[*].id)
    notes = Notes()
    got = {r.address: r.attrs for r in read_show_json(doc, "plan.json", notes)}
    assert got["aws_lb.web"]["subnets"] == ["aws_subnet.public[0]", "aws_subnet.public[1]"]
    (note,) = _unresolved(notes, "aws_lb.web", "subnets")
    assert "local.extra_subnets" in note.message


def test_an_unknown_inline_rule_set_is_a_note_and_its_rules_are_not_evaluated():
    doc = copy.deepcopy(PLAN)
    rc = next(r for r in doc["resource_changes"] if r["address"] == "aws_security_group.api")
    rc["change"]["after_unknown"]["ingress"] = True
    notes = Notes()
    got = {r.address: r.attrs for r in read_show_json(doc, "plan.json", notes)}
    assert isinstance(got["aws_security_group.api"]["ingress"], Unknown)
    (note,) = _unresolved(notes, "aws_security_group.api", "ingress")
    assert "the whole ingress set is known only after apply" in note.message
    imp = from_terraform_doc(doc)
    tr = tl.journey(imp.topology)
    assert not tr.ok and any(b.step == "web-sg-in" for b in tr.blocks)  # the verdict the note warns about


def test_a_state_needs_no_references_and_a_future_format_is_refused():
    state = {"format_version": "1.0", "values": {"root_module": {"resources": [
        {"address": "aws_subnet.a[0]", "mode": "managed", "type": "aws_subnet", "name": "a", "index": 0,
         "values": {"id": "subnet-0abc", "vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24"}}]}}}
    got = read_show_json(state, "state.json", Notes())
    assert got[0].id == "subnet-0abc" and got[0].attrs["vpc_id"] == "vpc-1"
    with pytest.raises(tl.TopologyError, match="format_version '2.0'"):
        read_show_json({**state, "format_version": "2.0"}, "state.json", Notes())


@pytest.mark.parametrize("addr,want", [
    ('module.net["a.b"].aws_subnet.app[0]', ["module", 'net["a.b"]', "aws_subnet", "app[0]"]),
    ('aws_subnet.app["10.0.1.0/24"]', ["aws_subnet", 'app["10.0.1.0/24"]']),
    ("module.x[1].module.y.aws_vpc.main", ["module", "x[1]", "module", "y", "aws_vpc", "main"]),
])
def test_addresses_split_on_dots_outside_keys(addr, want):
    assert split_address(addr) == want


def test_hcl_module_count_that_is_not_known_offline_is_one_instance_and_a_note(tmp_path):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('variable "n" {}\nresource "aws_vpc" "v" { cidr_block = "10.0.0.0/16" }\n')
    (tmp_path / "main.tf").write_text('variable "copies" {}\nmodule "m" {\n  source = "./mod"\n  count  = var.copies\n'
                                      '  n      = 1\n}\n')
    from tierlab.network.importers.terraform import read_hcl

    notes = Notes()
    got = read_hcl(tmp_path, notes)
    assert [r.address for r in got] == ["module.m[0].aws_vpc.v"]  # one instance, as for a resource's count
    (note,) = [n for n in notes.items if n.resource == "module.m" and n.attribute == "count"]
    assert note.status == "partly" and note.affects_verdicts and "one instance" in note.assumption
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./mod"\n  count  = 500\n  n      = 1\n}\n')
    with pytest.raises(tl.TopologyError, match=r"main.tf: module.m: the count of this module call \(500\)"):
        from_terraform(tmp_path)


def _rule_project(tmp_path: Path, condition: str, action: str = ""):
    text = (PROJECT / "main.tf").read_text()
    text = text.replace('''  condition {
    http_request_method {
      values = ["GET", "POST"]
    }
  }''', condition)
    if action:
        text = text.replace('''  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }''', action)
    import shutil

    shutil.copytree(PROJECT / "modules", tmp_path / "modules")
    (tmp_path / "main.tf").write_text(text)
    return from_terraform(tmp_path)


def test_a_rule_the_journey_does_not_match_leaves_the_default_action(tmp_path):
    imp = _rule_project(tmp_path, '  condition {\n    http_request_method {\n      values = ["GET"]\n    }\n  }')
    assert imp.topology.alb.listeners == ()  # the default action is a fixed 404: not modelled, listener left out
    assert any("POST is not GET" in n.message for n in imp.notes)
    assert any(n.resource == "aws_lb_listener.https" and n.affects_verdicts for n in imp.notes)
    assert not tl.journey(imp.topology).ok


def test_a_header_condition_cannot_be_decided_offline_and_says_so(tmp_path):
    cond = '  condition {\n    http_header {\n      http_header_name = "X-Canary"\n      values = ["1"]\n    }\n  }'
    imp = _rule_project(tmp_path, cond)
    note = next(n for n in imp.notes if n.resource == "aws_lb_listener_rule.api" and n.attribute == "condition")
    assert note.status == "partly" and note.affects_verdicts and "http header" in note.message
    assert imp.frame().set_index("resource").loc["aws_lb_listener_rule.api", "status"] == "partly"


def test_a_redirecting_rule_makes_the_listener_redirect_for_the_journey(tmp_path):
    act = '''  action {
    type = "redirect"
    redirect {
      port        = "8443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }'''
    imp = _rule_project(tmp_path, "", act)
    (listener,) = imp.topology.alb.listeners
    assert (listener.action, listener.redirect_port) == ("redirect", 8443)
    assert any(b.code == "ELBV2_LISTENER_REQUIRES_TG_ACCEPT" for b in tl.journey(imp.topology).blocks)
