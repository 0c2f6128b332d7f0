"""Write ``data/terraform/plan-modules/plan.json``: what `terraform show -json` prints for a saved plan
of ``data/terraform/plan-modules`` before anything exists.

No terraform binary is installed by the project, so the plan is written here by hand, resource by
resource, in Terraform's documented JSON output format (format_version 1.x,
https://developer.hashicorp.com/terraform/internals/json-format): ``planned_values`` leaves out
every value known only after apply; each ``resource_changes[].change.after_unknown`` marks them
``true`` (a set or list of unknown ids as one ``true`` per element; a known list as ``false`` per
element inside nested blocks); ``configuration`` keeps each argument's expression as
``constant_value`` or as ``references``, written the way Terraform's jsonconfig writes them: every
traversal unwrapped step by step, a keyed resource instance followed by the resource without its
key, a module output followed by its module call, a dynamic index (``[count.index]``) ending the
traversal (so ``aws_subnet.x[count.index].id`` is ``"aws_subnet.x", "count.index"`` and
``module.api[count.index].instance_id`` is ``"module.api", "count.index"``).

    .venv/bin/python scripts/make_tf_plan_json.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data/terraform/plan-modules/plan.json"
PROVIDER = "registry.terraform.io/hashicorp/aws"
AZS = ["us-east-1a", "us-east-1b"]


def c(v: Any) -> dict[str, Any]:
    return {"constant_value": v}


def r(*refs: str) -> dict[str, Any]:
    return {"references": list(refs)}


def res(address: str, rest: str) -> list[str]:
    """The references of ``<address>.<rest>`` (one static traversal), unwrapped as Terraform does."""
    out = [f"{address}.{rest}"] if rest else []
    out.append(address)
    if address.endswith("]"):
        out.append(address[: address.index("[")])
    return out


ID = {"id": True, "arn": True}
instances: list[dict[str, Any]] = []
config: dict[str, dict[str, Any]] = {"": {"resources": [], "module_calls": {}}}


def add(module: str, rtype: str, name: str, key: Any, values: dict[str, Any], unknown: dict[str, Any]) -> None:
    addr = f"{module + '.' if module else ''}{rtype}.{name}" + ("" if key is None else f"[{json.dumps(key)}]")
    instances.append({"module": module, "address": addr, "type": rtype, "name": name, "index": key,
                      "values": values, "unknown": unknown})


def cfg(module_cfg: str, rtype: str, name: str, expressions: dict[str, Any], **meta: Any) -> None:
    entry = {"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
             "provider_config_key": "aws", "expressions": expressions, "schema_version": 0, **meta}
    config[module_cfg]["resources"].append(entry)


def sg_rule_block(ports: tuple[int, int], cidrs: list[str], sgs: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """An inline ingress/egress element as planned, and its after_unknown (``sgs`` unknown group ids)."""
    value = {"cidr_blocks": cidrs, "description": "", "from_port": ports[0], "ipv6_cidr_blocks": [],
             "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": False, "to_port": ports[1]}
    unknown = {"cidr_blocks": [False] * len(cidrs), "ipv6_cidr_blocks": [], "prefix_list_ids": [],
               "security_groups": [True] * sgs}
    return value, unknown


def root() -> None:
    add("", "aws_vpc", "main", None,
        {"cidr_block": "10.30.0.0/16", "enable_dns_support": True, "instance_tenancy": "default", "tags": None},
        {**ID, "default_network_acl_id": True, "default_route_table_id": True, "default_security_group_id": True,
         "main_route_table_id": True, "owner_id": True, "enable_dns_hostnames": True, "tags_all": True})
    cfg("", "aws_vpc", "main", {"cidr_block": c("10.30.0.0/16")})
    add("", "aws_internet_gateway", "gw", None, {"tags": None}, {**ID, "owner_id": True, "vpc_id": True, "tags_all": True})
    cfg("", "aws_internet_gateway", "gw", {"vpc_id": r(*res("aws_vpc.main", "id"))})
    for i in range(2):
        add("", "aws_subnet", "public", i,
            {"cidr_block": f"10.30.{i}.0/24", "availability_zone": AZS[i], "map_public_ip_on_launch": False,
             "tags": {"Name": f"public-{i}"}},
            {**ID, "vpc_id": True, "owner_id": True, "availability_zone_id": True, "tags_all": {}})
    cfg("", "aws_subnet", "public", {"vpc_id": r(*res("aws_vpc.main", "id")), "cidr_block": r("count.index"),
                                    "availability_zone": r("local.azs", "count.index"), "tags": r("count.index")},
        count_expression=c(2))
    none_targets = {k: "" for k in ("carrier_gateway_id", "core_network_arn", "destination_prefix_list_id",
                                    "egress_only_gateway_id", "ipv6_cidr_block", "local_gateway_id", "nat_gateway_id",
                                    "network_interface_id", "transit_gateway_id", "vpc_endpoint_id",
                                    "vpc_peering_connection_id")}
    add("", "aws_route_table", "public", None,
        {"route": [{"cidr_block": "0.0.0.0/0", **none_targets}], "tags": {"Name": "public"}},
        {**ID, "owner_id": True, "vpc_id": True, "propagating_vgws": True, "route": [{"gateway_id": True}],
         "tags_all": {}})
    cfg("", "aws_route_table", "public", {"vpc_id": r(*res("aws_vpc.main", "id")),
                                         "route": r(*res("aws_internet_gateway.gw", "id")),
                                         "tags": c({"Name": "public"})})
    for n, i in (("public_a", 0), ("public_b", 1)):
        add("", "aws_route_table_association", n, None, {"gateway_id": None},
            {"id": True, "subnet_id": True, "route_table_id": True})
        cfg("", "aws_route_table_association", n, {"subnet_id": r(*res(f"aws_subnet.public[{i}]", "id")),
                                                  "route_table_id": r(*res("aws_route_table.public", "id"))})
    add("", "aws_route_table", "private", None, {"tags": {"Name": "private"}},
        {**ID, "owner_id": True, "vpc_id": True, "propagating_vgws": True, "route": True, "tags_all": {}})
    cfg("", "aws_route_table", "private", {"vpc_id": r(*res("aws_vpc.main", "id")),
                                          "tags": c({"Name": "private"})})
    for i in range(2):
        add("", "aws_route_table_association", "app", i, {"gateway_id": None},
            {"id": True, "subnet_id": True, "route_table_id": True})
    cfg("", "aws_route_table_association", "app",
        {"subnet_id": r('module.tier["app"].subnet_ids', 'module.tier["app"]', "count.index"),
         "route_table_id": r(*res("aws_route_table.private", "id"))}, count_expression=c(2))
    nacl_rules()
    groups()
    compute_and_lb()


def nacl_rules() -> None:
    app = {"in-3000": (100, False, 3000, 3000, "10.30.0.0/24"), "in-reply": (110, False, 1024, 65535, "10.30.20.0/23"),
           "out-eph": (100, True, 1024, 65535, "10.30.0.0/23"), "out-5432": (110, True, 5432, 5432, "10.30.20.0/23")}
    for key in sorted(app):  # for_each instances come in key order
        num, egress, lo, hi, cidr = app[key]
        add("", "aws_network_acl_rule", "app", key,
            {"rule_number": num, "egress": egress, "protocol": "tcp", "rule_action": "allow", "cidr_block": cidr,
             "from_port": lo, "to_port": hi, "icmp_code": None, "icmp_type": None, "ipv6_cidr_block": None},
            {"id": True, "network_acl_id": True})
    cfg("", "aws_network_acl_rule", "app",
        {"network_acl_id": r('module.tier["app"].nacl_id', 'module.tier["app"]'),
         "rule_number": r("each.value.number", "each.value"), "egress": r("each.value.egress", "each.value"),
         "protocol": c("tcp"), "rule_action": c("allow"), "cidr_block": r("each.value.cidr", "each.value"),
         "from_port": r("each.value.from", "each.value"), "to_port": r("each.value.to", "each.value")},
        for_each_expression=c({k: {"number": v[0], "egress": v[1], "from": v[2], "to": v[3], "cidr": v[4]}
                               for k, v in app.items()}))
    for i, (lo, hi) in enumerate(((5432, 5432), (1024, 65535))):
        add("", "aws_network_acl_rule", "db", i,
            {"rule_number": 100, "egress": i == 1, "protocol": "tcp", "rule_action": "allow",
             "cidr_block": "10.30.10.0/23", "from_port": lo, "to_port": hi, "icmp_code": None, "icmp_type": None,
             "ipv6_cidr_block": None}, {"id": True, "network_acl_id": True})
    cfg("", "aws_network_acl_rule", "db",
        {"network_acl_id": r('module.tier["db"].nacl_id', 'module.tier["db"]'), "rule_number": c(100),
         "egress": r("count.index"), "protocol": c("tcp"), "rule_action": c("allow"), "cidr_block": c("10.30.10.0/23"),
         "from_port": r("count.index"), "to_port": r("count.index")}, count_expression=c(2))


def groups() -> None:
    base = {"description": "Managed by Terraform", "revoke_rules_on_delete": False, "tags": None, "timeouts": None}
    common = {**ID, "owner_id": True, "vpc_id": True, "name_prefix": True, "tags_all": True}
    alb_in, alb_in_u = sg_rule_block((443, 443), ["0.0.0.0/0"])
    alb_out, alb_out_u = sg_rule_block((3000, 3000), ["10.30.10.0/23"])
    add("", "aws_security_group", "alb", None, {**base, "name": "alb", "ingress": [alb_in], "egress": [alb_out]},
        {**common, "ingress": [alb_in_u], "egress": [alb_out_u]})
    cfg("", "aws_security_group", "alb", {"name": c("alb"), "vpc_id": r(*res("aws_vpc.main", "id")),
                                         "ingress": c([alb_in]), "egress": c([alb_out])})
    api_in, api_in_u = sg_rule_block((3000, 3000), [], sgs=1)
    add("", "aws_security_group", "api", None, {**base, "name": "api", "ingress": [api_in]},
        {**common, "ingress": [api_in_u], "egress": True})
    cfg("", "aws_security_group", "api", {"name": c("api"), "vpc_id": r(*res("aws_vpc.main", "id")),
                                         "ingress": r(*res("aws_security_group.alb", "id"))})
    add("", "aws_security_group", "db", None, {**base, "name": "db"}, {**common, "ingress": True, "egress": True})
    cfg("", "aws_security_group", "db", {"name": c("db"), "vpc_id": r(*res("aws_vpc.main", "id"))})
    for rtype, name, own, peer in (("aws_vpc_security_group_egress_rule", "api_to_db", "api", "db"),
                                   ("aws_vpc_security_group_ingress_rule", "db_from_api", "db", "api")):
        add("", rtype, name, None,
            {"ip_protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_ipv4": None, "cidr_ipv6": None,
             "description": None, "prefix_list_id": None, "tags": None},
            {**ID, "security_group_rule_id": True, "security_group_id": True, "referenced_security_group_id": True,
             "tags_all": True})
        cfg("", rtype, name, {"security_group_id": r(*res(f"aws_security_group.{own}", "id")),
                              "referenced_security_group_id": r(*res(f"aws_security_group.{peer}", "id")),
                              "ip_protocol": c("tcp"), "from_port": c(5432), "to_port": c(5432)})


def compute_and_lb() -> None:
    add("", "aws_lb", "web", None,
        {"name": "shop", "internal": False, "load_balancer_type": "application", "idle_timeout": 60,
         "enable_deletion_protection": False, "ip_address_type": "ipv4", "tags": None},
        {**ID, "arn_suffix": True, "dns_name": True, "zone_id": True, "vpc_id": True, "subnets": [True, True],
         "security_groups": [True], "subnet_mapping": True, "access_logs": [], "tags_all": True})
    cfg("", "aws_lb", "web", {"name": c("shop"), "subnets": r("aws_subnet.public"),
                              "security_groups": r(*res("aws_security_group.alb", "id"))})
    hc = {"enabled": True, "healthy_threshold": 5, "interval": 30, "matcher": "200", "path": "/health",
          "port": "traffic-port", "protocol": "HTTP", "timeout": 5, "unhealthy_threshold": 2}
    add("", "aws_lb_target_group", "api", None,
        {"name": "api", "port": 3000, "protocol": "HTTP", "target_type": "instance", "health_check": [hc],
         "deregistration_delay": "300", "tags": None},
        {**ID, "arn_suffix": True, "vpc_id": True, "health_check": [{}], "load_balancing_algorithm_type": True,
         "tags_all": True})
    cfg("", "aws_lb_target_group", "api", {"name": c("api"), "port": c(3000), "protocol": c("HTTP"),
                                          "vpc_id": r(*res("aws_vpc.main", "id")),
                                          "health_check": [{"path": c("/health")}]})
    for i in range(2):
        add("", "aws_lb_target_group_attachment", "api", i, {"availability_zone": None, "port": None},
            {"id": True, "target_group_arn": True, "target_id": True})
    cfg("", "aws_lb_target_group_attachment", "api",
        {"target_group_arn": r(*res("aws_lb_target_group.api", "arn")),
         "target_id": r("module.api", "count.index")}, count_expression=c(2))
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/0f2e4c1a-1111-2222-3333-444455556666"
    fixed = {"content_type": "text/plain", "message_body": "not found", "status_code": "404"}
    add("", "aws_lb_listener", "https", None,
        {"port": 443, "protocol": "HTTPS", "certificate_arn": cert, "alpn_policy": None, "tags": None,
         "default_action": [{"type": "fixed-response", "fixed_response": [fixed], "authenticate_cognito": [],
                             "authenticate_oidc": [], "forward": [], "redirect": [], "target_group_arn": None}]},
        {**ID, "load_balancer_arn": True, "ssl_policy": True, "tags_all": True,
         "default_action": [{"order": True, "fixed_response": [{}], "authenticate_cognito": [],
                             "authenticate_oidc": [], "forward": [], "redirect": []}]})
    cfg("", "aws_lb_listener", "https",
        {"load_balancer_arn": r(*res("aws_lb.web", "arn")), "port": c(443), "protocol": c("HTTPS"),
         "certificate_arn": c(cert),
         "default_action": [{"type": c("fixed-response"), "fixed_response": [
             {"content_type": c("text/plain"), "message_body": c("not found"), "status_code": c("404")}]}]})
    empty_cond = {"host_header": [], "http_header": [], "http_request_method": [], "path_pattern": [],
                  "query_string": [], "source_ip": []}
    empty_u = {k: [] for k in empty_cond}
    no_act = {"authenticate_cognito": [], "authenticate_oidc": [], "fixed_response": [], "forward": [], "redirect": []}
    add("", "aws_lb_listener_rule", "static", None,
        {"priority": 5, "tags": None,
         "action": [{**no_act, "type": "fixed-response", "target_group_arn": None,
                     "fixed_response": [{"content_type": "text/plain", "message_body": None, "status_code": "200"}]}],
         "condition": [{**empty_cond, "path_pattern": [{"values": ["/static/*"]}]}]},
        {**ID, "listener_arn": True, "tags_all": True,
         "action": [{**no_act, "order": True, "fixed_response": [{}]}],
         "condition": [{**empty_u, "path_pattern": [{"values": [False]}]}]})
    cfg("", "aws_lb_listener_rule", "static",
        {"listener_arn": r(*res("aws_lb_listener.https", "arn")), "priority": c(5),
         "action": [{"type": c("fixed-response"), "fixed_response": [{"content_type": c("text/plain"),
                                                                      "status_code": c("200")}]}],
         "condition": [{"path_pattern": [{"values": c(["/static/*"])}]}]})
    add("", "aws_lb_listener_rule", "api", None,
        {"priority": 10, "tags": None,
         "action": [{**no_act, "type": "forward"}],
         "condition": [{**empty_cond, "http_request_method": [{"values": ["GET", "POST"]}]},
                       {**empty_cond, "path_pattern": [{"values": ["/api/*"]}]}]},
        {**ID, "listener_arn": True, "tags_all": True,
         "action": [{**no_act, "order": True, "target_group_arn": True}],
         "condition": [{**empty_u, "http_request_method": [{"values": [False, False]}]},
                       {**empty_u, "path_pattern": [{"values": [False]}]}]})
    cfg("", "aws_lb_listener_rule", "api",
        {"listener_arn": r(*res("aws_lb_listener.https", "arn")), "priority": c(10),
         "action": [{"type": c("forward"), "target_group_arn": r(*res("aws_lb_target_group.api", "arn"))}],
         "condition": [{"path_pattern": [{"values": c(["/api/*"])}]},
                       {"http_request_method": [{"values": c(["GET", "POST"])}]}]})
    add("", "aws_db_subnet_group", "db", None, {"name": "db", "description": "Managed by Terraform", "tags": None},
        {**ID, "name_prefix": True, "subnet_ids": [True, True], "supported_network_types": True, "vpc_id": True,
         "tags_all": True})
    cfg("", "aws_db_subnet_group", "db", {"name": c("db"),
                                         "subnet_ids": r('module.tier["db"].subnet_ids', 'module.tier["db"]')})
    add("", "aws_db_instance", "db", None,
        {"identifier": "shopdb", "engine": "postgres", "engine_version": "16.3", "instance_class": "db.t3.medium",
         "allocated_storage": 20, "multi_az": True, "publicly_accessible": False, "tags": None},
        {**ID, "address": True, "endpoint": True, "port": True, "availability_zone": True, "hosted_zone_id": True,
         "db_subnet_group_name": True, "vpc_security_group_ids": [True], "resource_id": True, "tags_all": True})
    cfg("", "aws_db_instance", "db",
        {"identifier": c("shopdb"), "engine": c("postgres"), "engine_version": c("16.3"),
         "instance_class": c("db.t3.medium"), "allocated_storage": c(20), "multi_az": c(True),
         "db_subnet_group_name": r(*res("aws_db_subnet_group.db", "name")),
         "vpc_security_group_ids": r(*res("aws_security_group.db", "id"))})


def modules() -> None:
    config["module.tier."] = {"resources": [], "outputs": {
        "subnet_ids": {"expression": r("aws_subnet.this")},
        "nacl_id": {"expression": r(*res("aws_network_acl.this", "id"))}},
        "variables": {"name": {}, "vpc_id": {}, "azs": {}, "cidrs": {}, "route_table_id": {},
                      "associate": {"default": False}}}
    for tier, base in (("app", 10), ("db", 20)):
        mod = f'module.tier["{tier}"]'
        for i, az in enumerate(AZS):
            add(mod, "aws_subnet", "this", az,
                {"cidr_block": f"10.30.{base + i}.0/24", "availability_zone": az, "map_public_ip_on_launch": False,
                 "tags": {"Name": f"{tier}-{az[-1]}"}},
                {**ID, "vpc_id": True, "owner_id": True, "availability_zone_id": True, "tags_all": {}})
            if tier == "db":
                add(mod, "aws_route_table_association", "this", az, {"gateway_id": None},
                    {"id": True, "subnet_id": True, "route_table_id": True})
        add(mod, "aws_network_acl", "this", None, {"tags": {"Name": f"{tier}-nacl"}},
            {**ID, "owner_id": True, "vpc_id": True, "subnet_ids": [True, True], "ingress": True, "egress": True,
             "tags_all": {}})
    cfg("module.tier.", "aws_subnet", "this",
        {"vpc_id": r("var.vpc_id"), "cidr_block": r("each.value"), "availability_zone": r("each.key"),
         "tags": r("var.name", "each.key")}, for_each_expression=r("var.azs", "var.cidrs"))
    cfg("module.tier.", "aws_route_table_association", "this",
        {"subnet_id": r("each.value.id", "each.value"), "route_table_id": r("var.route_table_id")},
        for_each_expression=r("var.associate", "aws_subnet.this"))
    cfg("module.tier.", "aws_network_acl", "this",
        {"vpc_id": r("var.vpc_id"), "subnet_ids": r("aws_subnet.this"), "tags": r("var.name")})
    config[""]["module_calls"]["tier"] = {
        "source": "./modules/tier",
        "expressions": {"name": r("each.key"), "vpc_id": r(*res("aws_vpc.main", "id")),
                        "azs": r("local.azs"), "cidrs": r("local.azs", "each.value"), "associate": r("each.key"),
                        "route_table_id": r(*res("aws_route_table.private", "id"))},
        "for_each_expression": r("local.tiers"), "module": config["module.tier."]}
    config["module.api."] = {"resources": [], "outputs": {
        "instance_id": {"expression": r(*res("aws_instance.this", "id"))}},
        "variables": {"name": {}, "subnet_id": {}, "sg_ids": {}}}
    for i in range(2):
        add(f"module.api[{i}]", "aws_instance", "this", None,
            {"ami": "ami-0123456789abcdef0", "instance_type": "t3.small", "tags": {"Name": f"api-{i + 1}"},
             "user_data_replace_on_change": False, "source_dest_check": True},
            {**ID, "private_ip": True, "public_ip": True, "subnet_id": True, "vpc_security_group_ids": [True],
             "security_groups": True, "availability_zone": True, "primary_network_interface_id": True,
             "tags_all": True})
    cfg("module.api.", "aws_instance", "this",
        {"ami": c("ami-0123456789abcdef0"), "instance_type": c("t3.small"), "subnet_id": r("var.subnet_id"),
         "vpc_security_group_ids": r("var.sg_ids"), "tags": r("var.name")})
    config[""]["module_calls"]["api"] = {
        "source": "./modules/server",
        "expressions": {"name": r("count.index"),
                        "subnet_id": r('module.tier["app"].subnet_ids', 'module.tier["app"]', "count.index"),
                        "sg_ids": r(*res("aws_security_group.api", "id"))},
        "count_expression": c(2), "module": config["module.api."]}


def main() -> None:
    root()
    modules()
    root_values: dict[str, Any] = {"resources": [], "child_modules": []}
    children: dict[str, dict[str, Any]] = {}
    changes = []
    for inst in instances:
        entry = {"address": inst["address"], "mode": "managed", "type": inst["type"], "name": inst["name"]}
        if inst["index"] is not None:
            entry["index"] = inst["index"]
        entry.update({"provider_name": PROVIDER, "schema_version": 0, "values": inst["values"], "sensitive_values": {}})
        if inst["module"]:
            children.setdefault(inst["module"], {"resources": [], "address": inst["module"]})["resources"].append(entry)
        else:
            root_values["resources"].append(entry)
        rc = {"address": inst["address"]}
        if inst["module"]:
            rc["module_address"] = inst["module"]
        rc.update({k: entry[k] for k in ("mode", "type", "name", "index") if k in entry})
        rc["provider_name"] = PROVIDER
        rc["change"] = {"actions": ["create"], "before": None, "after": inst["values"],
                        "after_unknown": inst["unknown"], "before_sensitive": False, "after_sensitive": {}}
        changes.append(rc)
    root_values["child_modules"] = list(children.values())
    doc = {"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": {"root_module": root_values},
           "resource_changes": changes,
           "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": PROVIDER,
                                                         "expressions": {"region": c("us-east-1")}}},
                             "root_module": config[""]},
           "timestamp": "2026-12-01T23:30:00Z", "applyable": True, "complete": True, "errored": False}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(instances)} resource instances")
    for name, variant in variants(doc).items():
        (OUT.parent / name).write_text(json.dumps(variant, indent=1) + "\n")
        print(f"wrote {(OUT.parent / name).relative_to(ROOT)}")


def _root_cfg(doc: dict[str, Any], address: str) -> dict[str, Any]:
    return next(r for r in doc["configuration"]["root_module"]["resources"] if r["address"] == address)


def variants(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same plan with one reference the plan cannot resolve (the corpus of unknowns, see expect.yaml):

    * ``plan-data-source.json``: the second public subnet's association names ``data.aws_subnet.legacy``,
      a data source that depends on the VPC being created, so Terraform defers reading it to apply
      (``resource_changes`` action ``read``, ``read_because_dependency_pending``) and the id is unknown.
    * ``plan-computed-index.json``: the app subnets' associations pick
      ``element(module.tier["app"].subnet_ids, count.index + var.offset)``: Terraform keeps only the
      references (``count.index`` and ``var.offset``), not the arithmetic, so the index is not known."""
    import copy

    data = copy.deepcopy(doc)
    _root_cfg(data, "aws_route_table_association.public_b")["expressions"]["subnet_id"] = r(
        "data.aws_subnet.legacy.id", "data.aws_subnet.legacy")
    data["configuration"]["root_module"]["resources"].append({
        "address": "data.aws_subnet.legacy", "mode": "data", "type": "aws_subnet", "name": "legacy",
        "provider_config_key": "aws", "expressions": {"vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
                                                      "tags": c({"Name": "legacy-public"})}, "schema_version": 0})
    data["resource_changes"].append({
        "address": "data.aws_subnet.legacy", "mode": "data", "type": "aws_subnet", "name": "legacy",
        "provider_name": PROVIDER, "change": {"actions": ["read"], "before": None, "after": {"tags": {"Name": "legacy-public"}},
                                              "after_unknown": {"id": True, "vpc_id": True, "cidr_block": True,
                                                                "availability_zone": True},
                                              "before_sensitive": False, "after_sensitive": {}},
        "action_reason": "read_because_dependency_pending"})
    computed = copy.deepcopy(doc)
    _root_cfg(computed, "aws_route_table_association.app")["expressions"]["subnet_id"] = r(
        'module.tier["app"].subnet_ids', 'module.tier["app"]', "count.index", "var.offset")
    computed["configuration"]["root_module"].setdefault("variables", {})["offset"] = {"default": 1}
    computed["variables"] = {"offset": {"value": 1}}
    return {"plan-data-source.json": data, "plan-computed-index.json": computed}


if __name__ == "__main__":
    main()
