"""Write ``data/terraform/registry-module/show.json``: what `terraform show -json` prints after apply.

No terraform binary is installed by the project, so the state is written from the project's own
``data/terraform/registry-module/main.tf`` (the one source of the root module), its module call
pointed at ``scripts/tf_fixtures/registry-vpc-module`` (the registry module's resources written out
locally) in a temporary folder, in Terraform's documented JSON output format
(https://developer.hashicorp.com/terraform/internals/json-format): ``format_version``,
``terraform_version`` and ``values.root_module`` with ``resources`` and ``child_modules``; every
reference becomes the AWS id (``vpc-…``, ``subnet-…``) or ARN the provider would record.

    .venv/bin/python scripts/make_tf_show_json.py
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tierlab.network.importers.hclexpr import Unknown  # noqa: E402
from tierlab.network.importers.report import Notes  # noqa: E402
from tierlab.network.importers.terraform import read_hcl  # noqa: E402

PREFIX = {"aws_vpc": "vpc", "aws_subnet": "subnet", "aws_internet_gateway": "igw", "aws_route_table": "rtb",
          "aws_route": "r-rtb", "aws_route_table_association": "rtbassoc", "aws_security_group": "sg",
          "aws_security_group_rule": "sgrule", "aws_instance": "i", "aws_nat_gateway": "nat", "aws_eip": "eipalloc",
          "aws_default_network_acl": "acl", "aws_default_security_group": "sg", "aws_network_acl": "acl",
          "aws_db_instance": "db", "aws_db_subnet_group": "", "aws_lb_target_group_attachment": "tga"}
ELB = {"aws_lb": "loadbalancer/app", "aws_lb_target_group": "targetgroup", "aws_lb_listener": "listener/app"}
REGION, ACCOUNT = "ap-southeast-2", "123456789012"


def _hex(text: str, n: int = 17) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


PROJECT = ROOT / "data/terraform/registry-module"
LOCAL_MODULE = ROOT / "scripts/tf_fixtures/registry-vpc-module"
#: The registry module call of PROJECT's main.tf, and what it becomes: the local stand-in.
REGISTRY_SOURCE = re.compile(r'source\s*=\s*"terraform-aws-modules/vpc/aws"\n\s*version\s*=\s*"[^"]*"\n')


def resolved_resources() -> list:
    """PROJECT's resources with the registry module read from LOCAL_MODULE (as `terraform init` would fetch it)."""
    text = (PROJECT / "main.tf").read_text()
    local, n = REGISTRY_SOURCE.subn('source  = "./vpc"\n', text)
    if n != 1:
        raise SystemExit(f"{PROJECT / 'main.tf'}: expected one call of terraform-aws-modules/vpc/aws, found {n}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.tf").write_text(local)
        shutil.copytree(LOCAL_MODULE, Path(tmp) / "vpc")
        return read_hcl(Path(tmp), Notes())


def show_text() -> str:
    """The text of show.json: the state of PROJECT after apply, as `terraform show -json` prints it."""
    resources = resolved_resources()
    ids: dict[str, str] = {}
    for r in resources:
        name = r.attrs.get("name") if isinstance(r.attrs.get("name"), str) else r.address.split(".")[-1]
        if r.type in ELB:
            ids[r.address] = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:{ELB[r.type]}/{name}/{_hex(r.address, 16)}"
        elif r.type == "aws_db_subnet_group":
            ids[r.address] = str(r.attrs.get("name"))
        elif r.type == "aws_db_instance":
            ids[r.address] = str(r.attrs.get("identifier"))
        else:
            ids[r.address] = f"{PREFIX.get(r.type, r.type.replace('aws_', ''))}-{_hex(r.address)}"
    vpc = next(r for r in resources if r.type == "aws_vpc")
    extra = {f"{vpc.address}.default_network_acl_id": f"acl-{_hex('default-acl')}",
             f"{vpc.address}.default_security_group_id": f"sg-{_hex('default-sg')}",
             f"{vpc.address}.main_route_table_id": f"rtb-{_hex('main-rtb')}"}
    for r in resources:
        if r.type == "aws_lb":
            extra[f"{r.address}.dns_name"] = f"{r.attrs.get('name')}-{_hex(r.address, 10)}.{REGION}.elb.amazonaws.com"

    def fix(v):
        if isinstance(v, str):
            return extra.get(v, ids.get(v, v))
        if isinstance(v, list):
            return [fix(x) for x in v if not isinstance(x, Unknown)]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items() if not isinstance(x, Unknown)}
        return v

    root: dict = {"resources": [], "child_modules": []}
    children: dict[str, dict] = {}
    for r in resources:
        values = fix({k: v for k, v in r.attrs.items() if not isinstance(v, Unknown)})
        rid = extra[f"{vpc.address}.default_network_acl_id"] if r.type == "aws_default_network_acl" else (
            extra[f"{vpc.address}.default_security_group_id"] if r.type == "aws_default_security_group" else ids[r.address])
        values["id"] = rid
        if r.type in ELB:
            values["arn"] = rid
        if r.type == "aws_vpc":
            values.update({k.rsplit(".", 1)[1]: v for k, v in extra.items() if k.startswith(r.address + ".")})
        if r.type == "aws_lb":
            values["dns_name"] = extra[f"{r.address}.dns_name"]
        m = re.match(r"^((?:module\.[^.]+\.)*)([^.]+)\.([^.\[]+)(?:\[(.+)\])?$", r.address)
        assert m, r.address
        entry = {"address": r.address, "mode": "managed", "type": r.type, "name": m.group(3),
                 "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
                 "values": values, "sensitive_values": {}}
        if m.group(4) is not None:
            entry["index"] = json.loads(m.group(4)) if m.group(4).startswith('"') else int(m.group(4))
        entry = {k: entry[k] for k in ("address", "mode", "type", "name", "index", "provider_name",
                                       "schema_version", "values", "sensitive_values") if k in entry}
        mod = m.group(1).rstrip(".")
        if mod:
            children.setdefault(mod, {"address": mod, "resources": []})["resources"].append(entry)
        else:
            root["resources"].append(entry)
    root["child_modules"] = list(children.values())
    doc = {"format_version": "1.0", "terraform_version": "1.9.8", "values": {"outputs": {}, "root_module": root}}
    return json.dumps(doc, indent=1, sort_keys=False) + "\n"


def main() -> None:
    out = PROJECT / "show.json"
    text = show_text()
    out.write_text(text)
    count = text.count('"mode": "managed"')
    print(f"wrote {out.relative_to(ROOT)}: {count} resources")


if __name__ == "__main__":
    main()
