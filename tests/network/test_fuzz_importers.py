"""Malformed Terraform and AWS JSON never give a traceback: every import ends in an Imported (with
notes) or one TierlabError naming the file. The readers are called below their safety net, so an
unforeseen exception fails here instead of hiding behind a generic message."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.importers import _from_terraform
from tierlab.network.importers.aws_json import from_aws as raw_from_aws

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]
TF = sorted((ROOT / "data" / "terraform").rglob("*.tf"))
AWS_FOLDERS = [ROOT / "data" / "aws" / "seed", ROOT / "data" / "aws" / "seed-asg"]  # the latter: an Auto Scaling group
#: `terraform show -json` of a state and of plans (whose references the reader resolves, or reports)
SHOWS = [ROOT / "data" / "terraform" / "registry-module" / "show.json",
         *sorted((ROOT / "data" / "terraform" / "plan-modules").glob("plan*.json"))]
JUNK = ['{', '}', '"', '${', '[', ']', '=', '\n', 'count = -1', 'for_each = 3', 'cidr_block = "10.0.0.0/33"',
        'from_port = "x"', 'null', '${var.nope}', 'dynamic "x" {', 'cidrsubnet("a", 99, 1)', '"${aws_vpc.main.id}"',
        'tags = 5', 'ingress = "no"', 'subnet_ids = {a = 1}', '<<EOT\n', 'module "m" { source = "../.." }',
        '${local.x[0]}', 'range(100000)', '%{ if true }x%{ endif }', '\\u00e9', '${1/0}', 'count = length(aws_vpc.main)']
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])


def _survives(fn) -> None:
    try:
        imp = fn()
    except tl.TierlabError as exc:
        assert exc.message  # a message, never empty
        return
    tl.journey(imp.topology)
    tl.audit(imp)


def _mutate_text(rnd: random.Random, text: str) -> str:
    for _ in range(rnd.randint(1, 4)):
        pos = rnd.randrange(max(1, len(text)))
        op = rnd.random()
        if op < 0.3:
            text = text[:pos] + text[pos + rnd.randint(1, 40):]
        elif op < 0.7:
            text = text[:pos] + rnd.choice(JUNK) + text[pos:]
        else:
            text = text[:pos] + rnd.choice(['0', '"x"', '[]', '{}', 'true', '-5', '99999']) + text[pos + rnd.randint(0, 8):]
    return text


def _mutate_json(rnd: random.Random, o) -> None:
    if isinstance(o, dict) and o:
        k = rnd.choice(list(o))
        r = rnd.random()
        if r < 0.25:
            o.pop(k)
        elif r < 0.5:
            o[k] = rnd.choice([None, 0, "x", [], {}, -1, "10.0.0.0/99", True, [1, "a"]])
        else:
            _mutate_json(rnd, o[k])
    elif isinstance(o, list) and o:
        i = rnd.randrange(len(o))
        r = rnd.random()
        if r < 0.3:
            o.pop(i)
        elif r < 0.5:
            o[i] = rnd.choice([None, 0, "x", {}, []])
        else:
            _mutate_json(rnd, o[i])


@SETTINGS
@given(rnd=st.randoms(use_true_random=False))
def test_malformed_terraform_never_gives_a_traceback(rnd, tmp_path_factory):
    src = rnd.choice(TF)
    d = tmp_path_factory.mktemp("tf") / "p"
    shutil.copytree(src.parent, d)
    (d / src.name).write_text(_mutate_text(rnd, src.read_text()))
    _survives(lambda: _from_terraform(d, var_files=None, variables=None, lb=None, database=None, name=None))


@SETTINGS
@given(rnd=st.randoms(use_true_random=False))
def test_malformed_aws_json_and_show_json_never_give_a_traceback(rnd, tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    if rnd.random() < 0.5:
        shutil.copytree(rnd.choice(AWS_FOLDERS), d / "a")
        f = rnd.choice(sorted((d / "a").glob("*.json")))
        doc = json.loads(f.read_text())
        for _ in range(rnd.randint(1, 6)):
            _mutate_json(rnd, doc)
        f.write_text(json.dumps(doc) if rnd.random() < 0.9 else json.dumps(doc)[: rnd.randint(0, 50)])
        _survives(lambda: raw_from_aws(d / "a"))
    else:
        doc = json.loads(rnd.choice(SHOWS).read_text())
        for _ in range(rnd.randint(1, 8)):
            _mutate_json(rnd, doc)
        (d / "show.json").write_text(json.dumps(doc))
        _survives(lambda: _from_terraform(d / "show.json", var_files=None, variables=None, lb=None, database=None,
                                          name=None))


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_as_a_tf_file_never_gives_a_traceback(text, tmp_path_factory):
    d = tmp_path_factory.mktemp("any")
    (d / "main.tf").write_text(text)
    _survives(lambda: _from_terraform(d, var_files=None, variables=None, lb=None, database=None, name=None))


def test_the_cli_answers_a_broken_project_with_exit_status_2(tmp_path, capsys):
    from tierlab.cli import main

    (tmp_path / "main.tf").write_text('resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n')
    assert main(["check", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err.lower()
