"""Auto Scaling groups (``aws_autoscaling_group`` + ``aws_launch_template``, or the output of
``aws autoscaling describe-auto-scaling-groups``) -> the ``auto_scaling_groups:`` section of the
topology dict, with the group's members as ordinary instances.

A plan cannot know which instances a group will run, so a Terraform group gets ``desired`` members
named ``<group>-1..N``, spread over its zones as AWS balances them, at addresses tierlab assigns
(a note says so). The AWS outputs know them: the members are the instances of
``describe-instances`` the group lists. The section is validated by the loader with the same
:func:`~tierlab.network.autoscaling.group_problems` as a YAML file, so a desired capacity above
``max_size`` or an unknown subnet is an error naming the resource and the attribute.

What the lab's group model does not take (one zone only, members not balanced over zones, a target
group that is not the journey's) is imported as before: fixed instances, with a "partly" note.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import limits
from ..autoscaling import GRACE_PERIOD_API_S

if TYPE_CHECKING:
    from .build import Builder
    from .terraform import Resource

__all__ = ["PendingGroup", "terraform_group", "observed_group", "groups_section"]

#: Terraform's default for ``health_check_grace_period`` (AWS provider docs: "Optional, Default: 300");
#: the API's (and so the AWS outputs') default is 0.
GRACE_PERIOD_TERRAFORM_S = 300
#: Tags of tierlab's own Terraform export: what AWS cannot hold but the model does (see exporters.terraform).
MEMBERS_TAG = "tierlab:members"
LISTENS_TAG = "tierlab:listens"


@dataclass
class PendingGroup:
    """A group read from its resource, finished once the load balancer and ports are known."""

    res: "Resource"
    name: str
    subnets: list[str]
    min_size: Any
    max_size: Any
    desired: Any
    health_check_type: Any
    grace_period_s: Any
    template: dict[str, Any]
    instances: list[str]
    target_groups: list[str] = field(default_factory=list)  # target-group resource addresses
    observed: bool = False  # read from describe-auto-scaling-groups


#: The loader's keys -> the attribute of the resource they come from (so an error names the latter).
_TF_ATTRS = {"subnets": "vpc_zone_identifier", "min_size": "min_size", "max_size": "max_size",
             "desired": "desired_capacity", "health_check_type": "health_check_type",
             "grace_period_s": "health_check_grace_period", "target_group": "target_group_arns",
             "launch_template": "launch_template", "instances": "desired_capacity"}
_AWS_ATTRS = {"subnets": "VPCZoneIdentifier", "min_size": "MinSize", "max_size": "MaxSize",
              "desired": "DesiredCapacity", "health_check_type": "HealthCheckType",
              "grace_period_s": "HealthCheckGracePeriod", "target_group": "TargetGroupARNs",
              "launch_template": "LaunchTemplate", "instances": "Instances"}


def _zone_order(subs: list[str], subnets: dict[str, dict[str, Any]]) -> list[str]:
    """Subnet per launch: zones in turn (AWS balances zones), subnets of a zone in turn."""
    by_zone: dict[str, list[str]] = {}
    for s in subs:
        by_zone.setdefault(str(subnets[s].get("az")), []).append(s)
    zones = list(by_zone)
    return [by_zone[zones[k % len(zones)]][(k // len(zones)) % len(by_zone[zones[k % len(zones)]])]
            for k in range(len(subs) * len(zones))] if zones else []


def _count(a: "Resource") -> int:
    """How many members to launch: desired (AWS's default: min_size), within what a group may hold."""
    n = a.attrs.get("desired_capacity", a.attrs.get("min_size", 1))
    if not isinstance(n, int) or isinstance(n, bool):
        return 1
    return max(0, min(n, limits.TARGETS_PER_GROUP))


def _tag(r: "Resource | None", key: str) -> str | None:
    """The value of tag ``key``: a ``tags`` map or a ``tag { key, value }`` block (aws_autoscaling_group)."""
    if r is None:
        return None
    tags = r.attrs.get("tags")
    if isinstance(tags, dict) and isinstance(tags.get(key), str):
        return str(tags[key])
    blocks = r.attrs.get("tag")
    for t in blocks if isinstance(blocks, list) else []:
        if isinstance(t, dict) and t.get("key") == key and isinstance(t.get("value"), str):
            return str(t["value"])
    return None


def _tagged_members(b: "Builder", a: "Resource", subs: list[str], subnets: dict[str, dict[str, Any]]
                    ) -> list[tuple[str, str, str]] | None:
    """The members tierlab's exporter wrote (``tierlab:members = "name=ip ..."``): (name, ip, subnet), or
    None when there is no such tag or it does not fit the group (a note says why)."""
    raw = _tag(a, MEMBERS_TAG)
    if raw is None:
        return None
    out: list[tuple[str, str, str]] = []
    why = ""
    for item in raw.split():
        name, _, ip = item.partition("=")
        try:
            addr = ipaddress.IPv4Address(ip)
        except ValueError:
            why = f"{item!r} is not name=address"
            break
        sn = next((s for s in subs if addr in ipaddress.IPv4Network(subnets[s]["cidr"])), None)
        if sn is None or not name or name in b.used_names or addr in b.used_ips or name in {m[0] for m in out}:
            why = f"{name} at {ip} is not a free name and address in the group's subnets"
            break
        out.append((name, str(addr), sn))
    if not why and len(out) != _count(a):
        why = f"it names {len(out)} members but desired_capacity is {_count(a)}"
    if why:
        b.note(a, "tag", "parsed", f"the {MEMBERS_TAG} tag is not used: {why}", "members named <group>-1..N")
        return None
    return out


def terraform_group(b: "Builder", a: "Resource", subs: list[str], unknown: list[str], lt: "Resource | None",
                    sgs: list[str], subnets: dict[str, dict[str, Any]],
                    instances: dict[str, dict[str, Any]]) -> PendingGroup:
    """An ``aws_autoscaling_group``: ``desired`` members placed in its subnets, zones balanced (or as the
    ``tierlab:members`` tag of tierlab's own export names and places them)."""
    base = b.name_of(a)
    listens_tag = _tag(lt, LISTENS_TAG) or ""
    listens = [int(x) for x in listens_tag.split() if x.isdigit() and 0 < int(x) < 65536]
    names: list[str] = []
    tagged = _tagged_members(b, a, subs, subnets)
    if tagged is not None:
        for nm, ip, sn in tagged:
            b.used_names.add(nm)
            b.used_ips.add(ipaddress.IPv4Address(ip))
            instances[nm] = {"ip": ip, "subnet": sn, "sgs": sgs, "listens": list(listens), "label": nm}
            b.origin[f"instances.{nm}"] = (a.file, a.address)
            names.append(nm)
        b.note(a, "tag", "parsed", "which instances a group runs is known only after apply",
               f"the members its {MEMBERS_TAG} tag names and places: {', '.join(names)}")
    order = _zone_order(subs, subnets) if tagged is None else []
    for k in range(_count(a) if order else 0):
        sn = order[k % len(order)]
        nm = f"{base}-{k + 1}"
        b.used_names.add(nm)
        instances[nm] = {"ip": str(b.next_ip(ipaddress.IPv4Network(subnets[sn]["cidr"]))), "subnet": sn,
                         "sgs": sgs, "listens": list(listens), "label": f"{base} #{k + 1}"}
        b.origin[f"instances.{nm}"] = (a.file, a.address)
        names.append(nm)
    if names and tagged is None:
        b.note(a, "vpc_zone_identifier", "parsed", "which instances a group runs is known only after apply",
               f"{len(names)} (desired_capacity) members {', '.join(names)} spread over the zones of "
               f"{', '.join(subs)}, at addresses tierlab assigns (any address of the subnet gives the same "
               "verdicts unless a rule splits it)")
    tpl_name = None
    if lt is not None:
        tpl_name = lt.attrs.get("name", str(lt.attrs.get("name_prefix") or "").rstrip("-"))
    grace = a.attrs.get("health_check_grace_period", GRACE_PERIOD_TERRAFORM_S)
    return PendingGroup(a, base, subs + unknown, a.attrs.get("min_size"), a.attrs.get("max_size"),
                        a.attrs.get("desired_capacity", a.attrs.get("min_size")),
                        a.attrs.get("health_check_type", "EC2"), grace,
                        {"name": tpl_name if isinstance(tpl_name, str) and tpl_name else
                         (b.name_of(lt) if lt is not None else f"{base}-template"), "sgs": sgs},
                        names)


def observed_group(b: "Builder", a: "Resource", names: list[str], instances: dict[str, dict[str, Any]]
                   ) -> PendingGroup | None:
    """A group of ``describe-auto-scaling-groups``: its members are the instances it lists."""
    raw_subs = [s.strip() for s in str(a.attrs.get("vpc_zone_identifier") or "").split(",") if s.strip()]
    subs = [b.subnet_name(s) or s for s in raw_subs]
    if not names:
        return None
    grace = a.attrs.get("health_check_grace_period")
    tpl = a.attrs.get("_template_name")
    b.note(a, "launch_template", "parsed", "describe-auto-scaling-groups does not give the launch template's "
           "security groups", f"those of its member {names[0]}: {', '.join(instances[names[0]]['sgs'])}")
    return PendingGroup(a, b.name_of(a), subs, a.attrs.get("min_size"), a.attrs.get("max_size"),
                        a.attrs.get("desired_capacity"), a.attrs.get("health_check_type") or "EC2",
                        GRACE_PERIOD_API_S if grace is None else grace,
                        {"name": tpl if isinstance(tpl, str) and tpl else f"{b.name_of(a)}-template",
                         "sgs": list(instances[names[0]]["sgs"])}, names,
                        observed=True)


def _why_not(g: PendingGroup, subnets: dict[str, dict[str, Any]], instances: dict[str, dict[str, Any]],
             tg_name: str | None, tg_name_of: dict[str, str]) -> str | None:
    """Why the lab's group model cannot hold ``g`` (None: it can)."""
    known = [s for s in g.subnets if s in subnets]
    if len(known) < len(g.subnets):
        return None  # an unknown subnet: the loader's error names it
    zones = {subnets[s]["az"] for s in known}
    if len(zones) < 2:
        return f"it spans one availability zone ({', '.join(sorted(zones))}); tierlab's group model needs two"
    counts = {z: 0 for z in zones}
    for m in g.instances:
        if instances[m]["subnet"] in known:
            counts[subnets[instances[m]["subnet"]]["az"]] += 1
    if max(counts.values()) - min(counts.values()) > 1:
        return f"its members are not balanced over its zones ({counts})"
    names = [tg_name_of.get(t, t) for t in g.target_groups]
    if len(names) > 1:
        return f"it registers with {len(names)} target groups ({', '.join(names)}); the model takes one"
    if names and names[0] != tg_name:
        return f"its target group {names[0]} is not the journey's ({tg_name})"
    if not names and g.health_check_type == "ELB":
        return "health_check_type ELB without a target group on the journey"
    return None


def groups_section(b: "Builder", pending: list[PendingGroup], subnets: dict[str, dict[str, Any]],
                   instances: dict[str, dict[str, Any]], tg_name: str | None, tg_name_of: dict[str, str]
                   ) -> dict[str, Any]:
    """The ``auto_scaling_groups:`` section; a group the model cannot take stays fixed instances, noted."""
    out: dict[str, Any] = {}
    for g in pending:
        why = _why_not(g, subnets, instances, tg_name, tg_name_of)
        if why is not None:
            b.note(g.res, "", "partly", f"imported as {len(g.instances)} fixed instances: {why}",
                   "scaling, replacement and the health-check type are not evaluated", False)
            b.mark(g.res, "partly")
            continue
        listens = list(instances[g.instances[0]]["listens"]) if g.instances else []
        out[g.name] = {
            "subnets": g.subnets, "min_size": g.min_size, "max_size": g.max_size, "desired": g.desired,
            "health_check_type": g.health_check_type, "grace_period_s": g.grace_period_s,
            "instances": g.instances, "launch_template": {**g.template, "listens": listens or [3000]}}
        if g.target_groups:
            out[g.name]["target_group"] = tg_name
        b.origin[f"auto_scaling_groups.{g.name}"] = (g.res.file, g.res.address)
        for key, attr in (_AWS_ATTRS if g.observed else _TF_ATTRS).items():  # the file's own attribute names
            b.origin[f"auto_scaling_groups.{g.name}.{key}"] = (g.res.file, f"{g.res.address} {attr}")
        b.mark(g.res)
    return out
