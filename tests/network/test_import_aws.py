"""AWS JSON in: the seed, built through boto3 on moto and saved as describe outputs, imports back
with the seed's verdicts, for every client OS, after a failover, and under the same what-ifs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

import tierlab as tl

ROOT = Path(__file__).resolve().parents[2]
SEED_JSON = ROOT / "data" / "aws" / "seed"
WHAT_IFS = [(), ("database-sg-in-5432",), ("nacl-private-app-in-101",), ("nacl-public-out-110",),
            ("web-sg-out-5432", "nacl-private-db-in-100")]


def _verdicts(topo, off=()):
    t = topo.switch_off(*off) if off else topo
    out = []
    for os_name in tl.OSES:
        for db in ("primary", "standby"):
            tr = tl.journey(t, os=os_name, database=db)
            out.append((os_name, db, tr.ok, round(tr.success_share, 6),
                        sorted((b.component, b.step, b.code, tuple(b.rule_ids)) for b in tr.blocks),
                        sorted((p.status, p.healthy) for p in tr.pairs)))
    return out


@pytest.fixture(scope="module")
def imported():
    return tl.from_aws(SEED_JSON)


def test_the_fixtures_are_describe_outputs():
    files = {p.stem.split("--")[0] for p in SEED_JSON.glob("*.json")}
    assert {"describe-vpcs", "describe-subnets", "describe-route-tables", "describe-security-groups",
            "describe-network-acls", "describe-instances", "describe-load-balancers", "describe-target-groups",
            "describe-target-health", "describe-listeners", "describe-db-instances"} <= files
    sg = json.loads((SEED_JSON / "describe-security-groups.json").read_text())["SecurityGroups"]
    assert all("IpPermissions" in g and g["GroupId"].startswith("sg-") for g in sg)


@pytest.mark.parametrize("off", WHAT_IFS, ids=lambda o: "+".join(o) or "as-is")
def test_the_seed_imported_from_aws_gives_the_seeds_verdicts(imported, off):
    assert _verdicts(imported.topology, off) == _verdicts(tl.load("seed"), off)


def test_nothing_of_the_seed_is_lost(imported):
    seed = tl.load("seed")
    topo = imported.topology
    assert {r.id for r in seed.rules()} <= {r.id for r in topo.rules()}
    assert [(i.name, i.ip, i.subnet, i.sgs) for i in topo.instances] == [(i.name, i.ip, i.subnet, i.sgs) for i in seed.instances]
    assert imported.counts()["not understood"] == 0
    assert topo.database.multi_az and topo.alb.target_port == 3000


def test_a_broken_describe_file_is_a_note_not_a_crash(tmp_path):
    folder = tmp_path / "aws"
    shutil.copytree(SEED_JSON, folder)
    (folder / "describe-instances.json").write_text("{not json")
    (folder / "describe-vpc-endpoints.json").write_text('{"Something": []}')
    imp = tl.from_aws(folder)
    notes = {(n.file, n.status) for n in imp.notes}
    assert ("describe-instances.json", "not understood") in notes
    assert ("describe-vpc-endpoints.json", "not understood") in notes
    assert any("target" in n.message and n.affects_verdicts for n in imp.notes)
    assert not tl.journey(imp.topology).ok  # no targets: the ALB answers 503, and the import says why


@pytest.mark.slow
def test_the_generator_rebuilds_fixtures_with_the_same_verdicts(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_aws_fixtures
    finally:
        sys.path.pop(0)
    folder = make_aws_fixtures.make("seed", tmp_path)
    assert _verdicts(tl.from_aws(folder).topology) == _verdicts(tl.load("seed"))


@pytest.mark.slow
def test_listener_rules_from_describe_rules_decide_the_journeys_target_group(tmp_path, monkeypatch):
    """The seed on moto with its 443 listener answering a fixed 404 by default and a rule forwarding
    /api/* to the servers: `aws elbv2 describe-rules` imported, the journey's POST /api/users meets the
    rule; with the rule limited to GET, it meets the 404 instead (the listener is left out, and said so)."""
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(k, v)
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_aws_fixtures
    finally:
        sys.path.pop(0)
    import boto3
    from moto import mock_aws

    seed = tl.load("seed")
    with mock_aws():
        docs = make_aws_fixtures.build(seed, seed.region)
        elb = boto3.client("elbv2", region_name=seed.region)
        https = next(l for l in docs["describe-listeners"]["Listeners"] if l["Port"] == 443)
        tg = docs["describe-target-groups"]["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_listener(ListenerArn=https["ListenerArn"], DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain"}}])
        rule = elb.create_rule(ListenerArn=https["ListenerArn"], Priority=10, Actions=[{"Type": "forward", "TargetGroupArn": tg}],
                               Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}])
        docs["describe-listeners"] = elb.describe_listeners(LoadBalancerArn=https["LoadBalancerArn"])
        docs["describe-rules--https"] = elb.describe_rules(ListenerArn=https["ListenerArn"])
        assert len(docs["describe-rules--https"]["Rules"]) == 2  # the rule and the default rule
        for name, resp in docs.items():
            (tmp_path / f"{name}.json").write_text(json.dumps(make_aws_fixtures._clean(resp)))
        imp = tl.from_aws(tmp_path)
        assert tl.journey(imp.topology).ok and imp.topology.alb.target_group == seed.alb.target_group
        assert any("matches this rule first" in n.message for n in imp.notes)
        elb.modify_rule(RuleArn=rule["Rules"][0]["RuleArn"], Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}])
        (tmp_path / "describe-rules--https.json").write_text(json.dumps(make_aws_fixtures._clean(
            elb.describe_rules(ListenerArn=https["ListenerArn"]))))
    imp = tl.from_aws(tmp_path)
    assert 443 not in imp.topology.alb.listen_ports and not tl.journey(imp.topology).ok
    assert any("POST is not GET" in n.message for n in imp.notes)
