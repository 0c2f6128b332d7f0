"""Auto Scaling groups: the API servers as a group spread over zones, as frozen data.

An :class:`AutoScalingGroup` names its subnets (one or more per zone), its size (min, max,
desired), how it judges health, its grace period, the shape of the instances it launches
(:class:`LaunchTemplate`) and the target group its instances register with. Its current members
are ordinary :class:`~tierlab.network.topology.Instance` entries of the topology, listed by name.
What the group *does* over time (replacing, launching, draining) lives one layer up, in
:mod:`tierlab.sim.autoscaling`.

Facts and where they come from (Amazon EC2 Auto Scaling User Guide unless said otherwise):

* ``min_size <= desired <= max_size`` ("Set scaling limits for your Auto Scaling group"); AWS
  refuses a desired capacity outside them.
* ``health_check_type``: ``EC2`` (the default; EC2 status checks: is the instance running and
  not impaired) or ``ELB`` (also replaces an instance the load balancer reports unhealthy)
  ("About the health checks for your Auto Scaling group").
* ``grace_period_s``: 300 s by default in the console, 0 s from the CLI or an SDK ("Set the
  health check grace period for an Auto Scaling group"); it starts when an instance reaches
  ``InService``, so it protects *new* instances only. A file (like the CLI or CloudFormation) gets
  the API's default, 0, when it leaves the key out; Terraform's ``aws_autoscaling_group`` defaults
  ``health_check_grace_period`` to 300 (the importer applies it).
* The group balances its instances across the zones of its subnets ("Rebalancing activities").
* Deregistration delay (on the target group, :attr:`LoadBalancer.deregistration_delay_s`):
  0-3600 s, default 300 ("Target group attributes", Application Load Balancers User Guide).

:func:`group_problems` is the one place a group is validated: the loader calls it for the
``auto_scaling_groups`` section and :meth:`Topology.with_auto_scaling_group` for a built one, so
the same mistake gets the same message from both.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import Final, Iterable, Literal, Mapping

from ..errors import Problem, TierlabError
from . import limits
from .rules import safe_id

__all__ = [
    "LaunchTemplate", "AutoScalingGroup", "HEALTH_CHECK_TYPES", "GRACE_PERIOD_CONSOLE_S", "GRACE_PERIOD_API_S",
    "DEREGISTRATION_DELAY_S", "DEREGISTRATION_DELAY_BOUNDS", "group_problems", "zone_counts", "free_address",
]

HealthCheckType = Literal["EC2", "ELB"]
HEALTH_CHECK_TYPES: Final[tuple[str, ...]] = ("EC2", "ELB")
#: The grace period a group gets when created in the console, and from the CLI/SDK/CloudFormation.
GRACE_PERIOD_CONSOLE_S: Final = 300
GRACE_PERIOD_API_S: Final = 0
#: Target-group deregistration delay: AWS's default and bounds (seconds).
DEREGISTRATION_DELAY_S: Final = 300
DEREGISTRATION_DELAY_BOUNDS: Final = (0, 3600)
#: Not AWS figures: how long tierlab's launched instances take (AWS publishes none; a Linux AMI
#: reaching InService in ~30 s and a Node.js app answering /health ~60 s after launch is typical).
PENDING_S: Final = 30
BOOT_S: Final = 60


@dataclass(frozen=True, kw_only=True)
class LaunchTemplate:
    """What the group launches: the instance's security groups, ports and OS, and how long it takes.

    ``pending_s``: from launch to ``InService`` (registered with the target group; the grace
    period starts). ``boot_s``: from launch until the app answers its health check."""

    name: str = "api-server"
    sgs: tuple[str, ...]
    listens: tuple[int, ...] = (3000,)
    os: limits.OsName = "linux"
    pending_s: int = PENDING_S
    boot_s: int = BOOT_S


@dataclass(frozen=True, kw_only=True)
class AutoScalingGroup:
    """An Auto Scaling group of API servers (its members are instances of the topology, by name)."""

    name: str
    subnets: tuple[str, ...]
    min_size: int
    max_size: int
    desired: int
    template: LaunchTemplate
    instances: tuple[str, ...] = ()
    health_check_type: HealthCheckType = "EC2"
    grace_period_s: int = GRACE_PERIOD_API_S
    target_group: str | None = None

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)


def _number(out: list[Problem], path: str, value: object, what: str, lo: int, hi: int) -> int | None:
    try:
        return limits.whole_number(value, what, lo, hi)
    except TierlabError as exc:
        out.append(Problem(path, exc.message, exc.hint))
        return None


def _sizes(out: list[Problem], g: AutoScalingGroup, who: str) -> None:
    most = limits.TARGETS_PER_GROUP
    lo = _number(out, "min_size", g.min_size, f"{who} min_size", 0, most)
    hi = _number(out, "max_size", g.max_size, f"{who} max_size", 0, most)
    want = _number(out, "desired", g.desired, f"{who} desired", 0, most)
    if lo is not None and hi is not None and lo > hi:
        out.append(Problem("max_size", f"{who}: max_size {hi} is below min_size {lo}",
                           f"raise max_size to at least {lo}, or lower min_size"))
    elif lo is not None and hi is not None and want is not None and not lo <= want <= hi:
        out.append(Problem("desired", f"{who}: desired {want} is outside min_size..max_size ({lo}..{hi})",
                           f"AWS refuses it: pick a desired capacity from {lo} to {hi}, or change the limits"))


def _settings(out: list[Problem], g: AutoScalingGroup, who: str, target_group: str) -> None:
    if g.health_check_type not in HEALTH_CHECK_TYPES:
        out.append(Problem("health_check_type", f"{who}: health_check_type {limits._show(g.health_check_type)} "
                           "is unknown", "use EC2 (the default: instance status checks) or ELB (also the load "
                           "balancer's health checks)"))
    _number(out, "grace_period_s", g.grace_period_s, f"{who} grace_period_s", 0, 86_400)
    if g.target_group is not None and g.target_group != target_group:
        out.append(Problem("target_group", f"{who}: no target group named {limits._show(g.target_group)}",
                           f"attach the load balancer's target group {target_group!r}"))
    if g.health_check_type == "ELB" and g.target_group is None:
        out.append(Problem("health_check_type", f"{who}: health_check_type ELB but no target group is attached",
                           f"add target_group: {target_group} (ELB health checks come from it), or use EC2"))


def _template(out: list[Problem], t: LaunchTemplate, who: str, sg_names: Iterable[str]) -> None:
    known = set(sg_names)
    if not t.sgs:
        out.append(Problem("launch_template.sgs", f"{who}: the launch template has no security group",
                           "every ENI has at least one security group: e.g. sgs: [web-sg]"))
    try:
        limits.sgs_per_eni(f"{who}'s launch template", len(t.sgs))
    except TierlabError as exc:
        out.append(Problem("launch_template.sgs", exc.message, exc.hint))
    for sg in t.sgs:
        if sg not in known:
            out.append(Problem("launch_template.sgs", f"{who}: unknown security group {limits._show(sg)}",
                               f"known: {', '.join(sorted(known))}"))
    for p in t.listens:
        try:
            limits.single_port(p, "listening port")
        except TierlabError as exc:
            out.append(Problem("launch_template.listens", exc.message, exc.hint))
    try:
        limits.os_name(t.os, f"{who}'s launch template")
    except TierlabError as exc:
        out.append(Problem("launch_template.os", exc.message, exc.hint))
    _number(out, "launch_template.pending_s", t.pending_s, f"{who} launch_template pending_s", 0, 3600)
    _number(out, "launch_template.boot_s", t.boot_s, f"{who} launch_template boot_s", 0, 3600)


def _placement(out: list[Problem], g: AutoScalingGroup, who: str, subnet_azs: Mapping[str, str]) -> dict[str, str]:
    """The group's subnets -> their zones (known ones only); problems for unknown subnets and one zone."""
    if not g.subnets:
        out.append(Problem("subnets", f"{who} has no subnets", "list a private app subnet in each of two zones"))
    zone_of: dict[str, str] = {}
    for s in g.subnets:
        if s not in subnet_azs:
            out.append(Problem("subnets", f"{who}: unknown subnet {limits._show(s)}",
                               f"known: {', '.join(subnet_azs)}"))
        else:
            zone_of[s] = subnet_azs[s]
    zones = sorted(set(zone_of.values()))
    if len(zones) == 1:
        out.append(Problem("subnets", f"{who} spans one availability zone ({zones[0]}): a zone outage takes "
                           "every API server with it", "add a subnet in another zone, so the group can "
                           "launch replacements there (AWS allows one zone; this lab does not)"))
    return zone_of


def _members(out: list[Problem], g: AutoScalingGroup, who: str, zone_of: Mapping[str, str],
             instance_subnets: Mapping[str, str], taken: Mapping[str, str]) -> None:
    seen: set[str] = set()
    for name in g.instances:
        if name not in instance_subnets:
            out.append(Problem("instances", f"{who}: member {limits._show(name)} is not an instance",
                               f"define it under instances:, or remove it (known: {', '.join(instance_subnets)})"))
            continue
        if name in seen:
            out.append(Problem("instances", f"{who}: member {name!r} is listed twice", "list each instance once"))
        seen.add(name)
        if name in taken and taken[name] != g.name:
            out.append(Problem("instances", f"{who}: instance {name!r} already belongs to group {taken[name]!r}",
                               "an instance belongs to at most one Auto Scaling group"))
        if instance_subnets[name] not in zone_of and all(s in zone_of for s in g.subnets):
            out.append(Problem("instances", f"{who}: member {name!r} sits in {instance_subnets[name]}, which is "
                               "not one of the group's subnets", f"use one of {', '.join(g.subnets)}"))
    if isinstance(g.desired, int) and len(seen) != g.desired:
        out.append(Problem("instances", f"{who} lists {len(seen)} instance(s) but desired is {g.desired}",
                           "a file holds the steady state: list exactly `desired` members (the timeline "
                           "launches and terminates)"))
    counts = zone_counts(g, zone_of, instance_subnets)
    if counts and max(counts.values()) - min(counts.values()) > 1:
        shown = ", ".join(f"{z}: {n}" for z, n in sorted(counts.items()))
        out.append(Problem("instances", f"{who} is not balanced across its zones ({shown})",
                           "AWS keeps the zones within one instance of each other: move members so they are"))


def zone_counts(g: AutoScalingGroup, zone_of: Mapping[str, str], instance_subnets: Mapping[str, str]
                ) -> dict[str, int]:
    """Members per zone of the group (every zone of its subnets, with 0 where it has none)."""
    counts = Counter({z: 0 for z in zone_of.values()})
    for name in g.instances:
        sub = instance_subnets.get(name)
        if sub is not None and sub in zone_of:
            counts[zone_of[sub]] += 1
    return dict(counts)


def group_problems(g: AutoScalingGroup, *, subnet_azs: Mapping[str, str], instance_subnets: Mapping[str, str],
                   sg_names: Iterable[str], target_group: str, taken: Mapping[str, str] | None = None
                   ) -> list[Problem]:
    """Every way ``g`` cannot exist in a topology (empty: it can). Paths are relative to the group.

    ``subnet_azs``: subnet -> zone; ``instance_subnets``: instance -> subnet; ``taken``: instance ->
    the group it already belongs to."""
    out: list[Problem] = []
    who = f"Auto Scaling group {limits._show(g.name)}"
    if not isinstance(g.name, str) or not g.name.strip():
        out.append(Problem("name", f"Auto Scaling group name {limits._show(g.name)} is not a name",
                           "e.g. api-asg"))
    if not isinstance(g.template, LaunchTemplate):
        out.append(Problem("launch_template", f"{who} has no launch template",
                           "give it launch_template: {sgs: [web-sg]}"))
    else:
        _template(out, g.template, who, sg_names)
    _sizes(out, g, who)
    _settings(out, g, who, target_group)
    zone_of = _placement(out, g, who, subnet_azs)
    _members(out, g, who, zone_of, instance_subnets, taken or {})
    return out


def free_address(net: ipaddress.IPv4Network, used: Iterable[ipaddress.IPv4Address]
                 ) -> ipaddress.IPv4Address | None:
    """The lowest address of ``net`` that AWS does not reserve and nothing uses (None: the subnet is full)."""
    taken = set(used)
    for ip in net.hosts():
        if not limits.is_reserved(net, ip) and ip not in taken:
            return ip
    return None
