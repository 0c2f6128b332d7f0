"""An Auto Scaling group over time: failures, replacements, zone outages, rolling deploys.

A pure function of a frozen topology and a list of what happens (:class:`InstanceFailure`,
:class:`ZoneOutage`, :class:`RollingDeploy`, :class:`SetDesired`)::

    tl = auto_scaling_timeline(topo, [InstanceFailure(t_s=10, instance="node-api-1", failure="crash")])
    tl.frame()          # per second: desired, instances, healthy ... status, reason
    tl.zones()          # per second and zone: instances, healthy, unhealthy, draining
    tl.events()         # what happened when, and why (one row per event)
    tl.topology_at(120) # the Topology that exists at t=120 s: tl.journey(...) checks only those servers

The ALB side reuses the health-check state machine of :mod:`.health` (``next_state``): each ALB
node checks each registered target every ``interval_s``; a newly registered target must pass one
check to become healthy ("Health checks for Application Load Balancer target groups"); when every
target a node has is unhealthy, it fails open and sends to all of them (the same rule as
:class:`~tierlab.sim.health.HealthCheckTimeline`).

The group side (Amazon EC2 Auto Scaling User Guide):

* ``EC2`` health checks see only the instance's status checks (running, not impaired): a crashed
  app on a running instance is *never* replaced, although the ALB stops sending to it.
  ``ELB`` also replaces what the load balancer reports unhealthy ("About the health checks for
  your Auto Scaling group"). EC2 status checks run every minute ("Status checks for Amazon EC2
  instances"); tierlab puts them on a one-minute grid.
* The grace period starts at ``InService`` and holds back the ELB check of *new* instances; the
  built-in EC2 status checks are not held back (the health-check flow in the same guide).
* Without an instance maintenance policy, a health-check replacement and an instance refresh both
  "terminate and launch": the replacement is launched as the old instance starts terminating
  ("Instance maintenance policy for Auto Scaling group", default behaviours).
* A terminating instance is first deregistered: the target drains for the target group's
  deregistration delay (no new requests, in-flight ones may finish), then it is gone.
* Launches go to the zone with the fewest instances; a zone that is down takes no launches, so
  replacements land in the remaining zones ("Rebalancing activities").

tierlab's simplifications, said here once: the group acts the moment a health status changes
(AWS polls); scale-in terminates from the zone with the most instances, oldest first (part of
AWS's default termination policy); a zone outage takes that zone's API servers, not its ALB node;
no rebalancing after the zone returns.
"""

from __future__ import annotations

import functools
import heapq
import html
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Union

from ..errors import ParameterError
from ..network import limits
from ..network.autoscaling import AutoScalingGroup, free_address
from ..network.topology import HealthCheck, Instance, Topology, require_topology
from .health import _REQUEST_FAILS, CHECKS, FAILURES, HealthState, _check_fails, next_state

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "InstanceFailure", "ZoneOutage", "RollingDeploy", "SetDesired", "Happening", "Member", "AsgEvent", "Snapshot",
    "ZoneSnapshot", "AutoScalingTimeline", "auto_scaling_timeline", "instance_failure_timeline",
    "zone_outage_timeline", "rolling_deploy_timeline", "EC2_STATUS_CHECK_S", "FRAME_COLUMNS", "ZONE_COLUMNS",
    "EVENT_COLUMNS", "MEMBER_COLUMNS",
]

#: EC2 runs its status checks every minute ("Status checks for Amazon EC2 instances").
EC2_STATUS_CHECK_S = 60.0
TargetState = Literal["initial", "healthy", "unhealthy", "draining"]


# ============================================================================ what happens


@dataclass(frozen=True, kw_only=True)
class InstanceFailure:
    """``instance`` fails at ``t_s`` in one of :data:`tierlab.sim.health.FAILURES`' ways. It may be a
    member at the start or one the group launches (``api-asg-1``, ``api-asg-2``, ... in launch order)."""

    t_s: float
    instance: str
    failure: str = "crash"


@dataclass(frozen=True, kw_only=True)
class ZoneOutage:
    """Every API server in ``az`` stops answering at ``t_s`` (host-down), and the zone takes no launches."""

    t_s: float
    az: str


@dataclass(frozen=True, kw_only=True)
class RollingDeploy:
    """An instance refresh to launch template ``version``: ``batch`` instances at a time, terminate
    and launch; the next batch starts when the new instances are healthy at every ALB node."""

    t_s: float
    version: str = "v2"
    batch: int = 1


@dataclass(frozen=True, kw_only=True)
class SetDesired:
    """Someone (or a scaling policy) sets the desired capacity; AWS refuses it outside min..max."""

    t_s: float
    desired: int


Happening = Union[InstanceFailure, ZoneOutage, RollingDeploy, SetDesired]


# ============================================================================ the records it returns


@dataclass(frozen=True, kw_only=True)
class Member:
    """One instance's life in the group (times in seconds; ``None``: not within the timeline)."""

    name: str
    ip: str
    subnet: str
    az: str
    version: str
    launched_s: float            # -inf for the members the topology starts with
    in_service_s: float          # registered with the target group; the grace period starts
    ready_s: float               # the app answers
    failed_s: float | None = None
    failure: str | None = None
    draining_s: float | None = None   # deregistered: no new requests from here on
    terminated_s: float | None = None  # gone
    reason: str = ""

    def exists_at(self, t: float) -> bool:
        return self.launched_s <= t and (self.terminated_s is None or t < self.terminated_s)

    def registered_at(self, t: float) -> bool:
        """In the target group and not draining: the ALB may choose it for a new request."""
        return self.in_service_s <= t and (self.draining_s is None or t < self.draining_s) and self.exists_at(t)

    def draining_at(self, t: float) -> bool:
        return self.draining_s is not None and self.draining_s <= t and self.exists_at(t)


@dataclass(frozen=True, kw_only=True)
class AsgEvent:
    t_s: float
    kind: str        # fail, zone-down, desired, deploy, launch, in-service, ready, alb-healthy,
    #                  alb-unhealthy, asg-unhealthy, draining, terminated, fail-open, launch-failed
    instance: str
    az: str
    reason: str
    node: str = ""


@dataclass(frozen=True, kw_only=True)
class ZoneSnapshot:
    az: str
    zone_up: bool
    instances: int
    healthy: int
    unhealthy: int
    draining: int


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """The state at one whole second."""

    t_s: float
    desired: int
    instances: int
    pending: int
    initial: int
    healthy: int
    unhealthy: int
    draining: int
    fail_open_nodes: int
    failing_share: float
    status: str
    reason: str
    zones: tuple[ZoneSnapshot, ...]
    targets: tuple[tuple[str, str], ...]  # (target, ALB-level state) for every registered or draining target
    rotation: tuple[tuple[str, tuple[str, ...]], ...]  # ALB node -> the targets it sends new requests to


FRAME_COLUMNS = ["t_s", "desired", "instances", "pending", "initial", "healthy", "unhealthy", "draining",
                 "fail_open_nodes", "failing_share", "status", "reason"]
ZONE_COLUMNS = ["t_s", "az", "zone_up", "instances", "healthy", "unhealthy", "draining"]
EVENT_COLUMNS = ["t_s", "kind", "instance", "az", "node", "reason"]
MEMBER_COLUMNS = ["name", "az", "subnet", "ip", "version", "launched_s", "in_service_s", "ready_s", "failed_s",
                  "failure", "draining_s", "terminated_s", "reason"]


# ============================================================================ the engine (private, mutable)


@dataclass
class _Life:
    name: str
    ip: Any
    subnet: str
    az: str
    version: str
    launched_s: float
    in_service_s: float
    ready_s: float
    failed_s: float | None = None
    failure: str | None = None
    impaired: bool = False
    draining_s: float | None = None
    terminated_s: float | None = None
    reason: str = ""
    managed: bool = True  # False: a target of the ALB that the group does not own

    def active(self) -> bool:  # counts toward the desired capacity
        return self.managed and self.draining_s is None

    def answers_checks(self, t: float, check: str) -> bool:
        if t < self.ready_s:
            return False
        return not (self.failed_s is not None and t >= self.failed_s and _check_fails(self.failure or "", check))

    def answers_requests(self, t: float) -> bool:
        if t < self.ready_s:
            return False
        return not (self.failed_s is not None and t >= self.failed_s and _REQUEST_FAILS[self.failure or "crash"])


@dataclass
class _Engine:
    topo: Topology
    group: AutoScalingGroup
    hc: HealthCheck
    health_check_type: str
    grace_s: float
    delay_s: float
    duration_s: float
    check: str
    nodes: tuple[str, ...]
    phases: tuple[float, ...]
    zone_of: dict[str, str]
    desired: int = 0
    version: str = "v1"
    lives: dict[str, _Life] = field(default_factory=dict)
    health: dict[tuple[str, str], HealthState] = field(default_factory=dict)
    initial: set[tuple[str, str]] = field(default_factory=set)
    zones_down: set[str] = field(default_factory=set)
    used_ips: set[Any] = field(default_factory=set)
    events: list[AsgEvent] = field(default_factory=list)
    snaps: list[Snapshot] = field(default_factory=list)
    heap: list[tuple[float, int, int, Callable[[float], None]]] = field(default_factory=list)
    seq: int = 0
    launched: int = 0
    refreshing: bool = False
    refresh: list[str] = field(default_factory=list)       # old members still to replace
    refresh_wait: set[str] = field(default_factory=set)    # new members the current batch waits for
    refresh_batch: int = 1

    # ------------------------------------------------------------------ plumbing
    def at(self, t: float, fn: Callable[[float], None], order: int = 5) -> None:
        if t <= self.duration_s:
            self.seq += 1
            heapq.heappush(self.heap, (t, order, self.seq, fn))

    def note(self, t: float, kind: str, inst: str, reason: str, node: str = "") -> None:
        az = self.lives[inst].az if inst in self.lives else ""
        self.events.append(AsgEvent(t_s=t, kind=kind, instance=inst, az=az, reason=reason, node=node))

    def view(self, node: str, name: str) -> str:
        """One ALB node's view of one target: healthy, initial (no verdict yet) or unhealthy."""
        if self.health[(node, name)].healthy:
            return "healthy"
        return "initial" if (node, name) in self.initial else "unhealthy"

    def target_state(self, name: str) -> TargetState:
        """The target's state in the target group: healthy only when healthy at every ALB node."""
        if self.lives[name].draining_s is not None:
            return "draining"
        views = [self.view(n, name) for n in self.nodes]
        if all(v == "healthy" for v in views):
            return "healthy"
        return "unhealthy" if "unhealthy" in views else "initial"

    def unhealthy_everywhere(self, name: str) -> bool:
        """What the group's ELB health check acts on: every ALB node has taken the target out."""
        return all(self.view(n, name) == "unhealthy" for n in self.nodes)

    # ------------------------------------------------------------------ the ALB's checks
    def register(self, name: str, t: float, *, initial: bool) -> None:
        for node, phase in zip(self.nodes, self.phases):
            if initial:  # a new target: no verdict until its first passing check (see check_result)
                self.health[(node, name)] = HealthState(False, 0, 0)
                self.initial.add((node, name))
            else:
                self.health[(node, name)] = HealthState()
            first = t + phase if initial else phase
            self.at(first, functools.partial(self.check_start, node, name), order=3)

    def check_start(self, node: str, name: str, t: float) -> None:
        life = self.lives[name]
        if life.draining_s is not None:
            return  # deregistered targets are no longer checked
        passed = life.answers_checks(t, self.check)
        silent = life.failed_s is not None and t >= life.failed_s and life.failure == "host-down"
        answer = float(self.hc.timeout_s) if (not passed and silent) else 0.0
        self.at(t + answer, lambda s: self.check_result(node, name, passed, s), order=4)
        self.at(t + self.hc.interval_s, lambda s: self.check_start(node, name, s), order=3)

    def check_result(self, node: str, name: str, passed: bool, t: float) -> None:
        life = self.lives[name]
        if life.draining_s is not None:
            return
        key = (node, name)
        was, was_initial = self.health[key], key in self.initial
        # a target in its initial state needs one passing check, whatever failed before ("Health checks
        # for Application Load Balancer target groups"); after that, the thresholds of next_state apply
        now = HealthState(True, 1, 0) if (was_initial and passed) else next_state(self.hc, was, passed)
        self.health[key] = now
        if was_initial and (now.healthy or now.fails >= self.hc.unhealthy_threshold):
            self.initial.discard(key)
        if now.healthy != was.healthy or (was_initial and key not in self.initial):
            kind = "alb-healthy" if now.healthy else "alb-unhealthy"
            why = (f"{node}: passed its first check after registration -> healthy, in rotation" if now.healthy and was_initial
                   else f"{node}: {self.hc.healthy_threshold} passing checks -> healthy, back in rotation" if now.healthy
                   else f"{node}: {self.hc.unhealthy_threshold} failed checks {self.hc.interval_s} s apart -> "
                        "unhealthy, out of rotation")
            self.note(t, kind, name, why, node)
            self.asg_check(name, t)
            self.refresh_step(t)

    # ------------------------------------------------------------------ the group's checks
    def ec2_tick(self, t: float) -> None:
        for life in list(self.lives.values()):
            if (life.failed_s is not None and life.failed_s <= t and life.failure == "host-down"
                    and not life.impaired and life.draining_s is None):
                life.impaired = True
                self.note(t, "ec2-impaired", life.name, "EC2 status check failed: the instance does not answer "
                          "(it runs every minute)")
                self.asg_check(life.name, t)
        self.at(t + EC2_STATUS_CHECK_S, self.ec2_tick, order=2)

    def asg_check(self, name: str, t: float) -> None:
        life = self.lives[name]
        if not life.managed or life.draining_s is not None or t < life.in_service_s:
            return  # the group judges its own InService instances only
        if life.impaired:
            self.terminate(name, t, "the EC2 status check failed: unhealthy under either health-check type "
                           f"({self.health_check_type})")
            return
        if self.health_check_type != "ELB" or not self.unhealthy_everywhere(name):
            return
        if t < life.in_service_s + self.grace_s:
            end = life.in_service_s + self.grace_s
            self.note(t, "grace", name, f"the ALB finds it unhealthy, but its grace period runs until t={end:g} s: "
                      "the group waits")
            self.at(end, lambda s: self.asg_check(name, s), order=6)
            return
        self.terminate(name, t, "health_check_type ELB: the load balancer reports it unhealthy, so the group "
                       "replaces it")

    def terminate(self, name: str, t: float, why: str, kind: str = "asg-unhealthy", *, refill: bool = True) -> None:
        """Deregister ``name`` (it drains, then goes); ``refill``: launch what the desired capacity now lacks
        (a scale-in does not: it terminates because there are too many)."""
        life = self.lives[name]
        life.draining_s = t
        self.note(t, kind, name, why)
        self.note(t, "draining", name, f"deregistered: draining for {self.delay_s:g} s (deregistration delay); "
                  "in-flight requests may finish, new requests go to the other targets")
        self.at(t + self.delay_s, lambda s: self.gone(name, s), order=1)
        if refill:
            self.reconcile(t)

    def gone(self, name: str, t: float) -> None:
        self.lives[name].terminated_s = t
        self.note(t, "terminated", name, "the deregistration delay is over: terminated")

    # ------------------------------------------------------------------ capacity
    def reconcile(self, t: float) -> None:
        active = [x for x in self.lives.values() if x.active()]
        for _ in range(self.desired - len(active)):
            self.launch(t)
        for _ in range(len(active) - self.desired):
            self.scale_in(t)

    def launch(self, t: float) -> None:
        counts = {z: 0 for z in dict.fromkeys(self.zone_of.values())}
        for x in self.lives.values():
            if x.active() and x.az in counts:
                counts[x.az] += 1
        up = [z for z in counts if z not in self.zones_down]
        if not up:
            self.events.append(AsgEvent(t_s=t, kind="launch-failed", instance="", az="",
                                        reason="every zone of the group is down: nowhere to launch"))
            return
        az = min(up, key=lambda z: counts[z])
        for sub in (s for s in self.group.subnets if self.zone_of[s] == az):
            ip = free_address(self.topo.subnet(sub).cidr, self.used_ips)
            if ip is not None:
                break
        else:
            self.events.append(AsgEvent(t_s=t, kind="launch-failed", instance="", az=az,
                                        reason=f"no free address in the group's subnets in {az}"))
            return
        self.used_ips.add(ip)
        self.launched += 1
        name = f"{self.group.name}-{self.launched}"
        tpl = self.group.template
        self.lives[name] = _Life(name, ip, sub, az, self.version, t, t + tpl.pending_s, t + max(tpl.boot_s, 0))
        down = [z for z in self.zone_of.values() if z in self.zones_down]
        where = (f"{az} (fewest instances; {', '.join(sorted(set(down)))} is down and takes no launches)" if down
                 else f"{az}, the zone with the fewest instances")
        self.note(t, "launch", name, f"launched {self.version} in {sub}, {where}; InService in {tpl.pending_s} s, "
                  f"the app answers after {tpl.boot_s} s")
        self.at(t + tpl.pending_s, lambda s: self.in_service(name, s), order=5)
        self.refresh_launched(name)

    def in_service(self, name: str, t: float) -> None:
        life = self.lives[name]
        if life.draining_s is not None:
            return
        grace = f"; grace period {self.grace_s:g} s" if self.health_check_type == "ELB" else ""
        if self.group.target_group is None:
            self.note(t, "in-service", name, "InService (no target group attached: the ALB never sends to it)")
            return
        self.note(t, "in-service", name, f"InService: registered with {self.topo.alb.target_group}, state "
                  f"initial until it passes one health check{grace}")
        self.register(name, t, initial=True)

    def scale_in(self, t: float) -> None:
        active = [x for x in self.lives.values() if x.active()]
        counts: dict[str, int] = {}
        for x in active:
            counts[x.az] = counts.get(x.az, 0) + 1
        victim = min(active, key=lambda x: (-counts[x.az], x.launched_s, x.name))
        self.terminate(victim.name, t, f"scale in to {self.desired}: from {victim.az}, the zone with the most "
                       "instances, oldest first", kind="terminating", refill=False)

    # ------------------------------------------------------------------ rolling deploy (instance refresh)
    def refresh_launched(self, name: str) -> None:
        if self.refreshing and self.lives[name].version == self.version:
            self.refresh_wait.add(name)

    def refresh_step(self, t: float) -> None:
        if not self.refreshing:
            return
        self.refresh_wait = {n for n in self.refresh_wait
                             if self.lives[n].draining_s is None and self.target_state(n) != "healthy"}
        if self.refresh_wait:
            return
        batch = [n for n in self.refresh if self.lives[n].draining_s is None][: self.refresh_batch]
        self.refresh = [n for n in self.refresh if n not in batch and self.lives[n].draining_s is None]
        if not batch:
            self.refreshing = False
            self.events.append(AsgEvent(t_s=t, kind="deploy-done", instance="", az="",
                                        reason=f"instance refresh complete: every instance runs {self.version}"))
            return
        for n in batch:
            self.terminate(n, t, f"instance refresh to {self.version}: terminate and launch (AWS's default without "
                           "an instance maintenance policy)", kind="terminating")


def _apply(e: _Engine, h: Happening, t: float) -> None:
    """One scenario happening, at its time."""
    if isinstance(h, InstanceFailure):
        life = e.lives.get(h.instance)
        if life is None:  # a launched name that the group has not (yet) launched
            e.events.append(AsgEvent(t_s=t, kind="no-such-instance", instance=h.instance, az="",
                                     reason=f"{h.instance} does not exist at t={t:g} s: nothing fails"))
        elif life.draining_s is None and life.failed_s is None:
            life.failed_s, life.failure = t, h.failure
            e.note(t, "fail", h.instance, f"{FAILURES[h.failure]}" + (
                "; EC2 status checks still pass: the instance runs" if h.failure != "host-down" else ""))
    elif isinstance(h, ZoneOutage):
        e.zones_down.add(h.az)
        names = [x.name for x in e.lives.values() if x.az == h.az and x.terminated_s is None]
        for n in names:
            life = e.lives[n]
            if life.failed_s is None:
                life.failed_s, life.failure = t, "host-down"
        e.events.append(AsgEvent(t_s=t, kind="zone-down", instance="", az=h.az, reason=(
            f"{h.az} goes down: {len(names)} API server(s) stop answering; the zone takes no launches")))
    elif isinstance(h, SetDesired):
        e.desired = h.desired
        e.events.append(AsgEvent(t_s=t, kind="desired", instance="", az="", reason=f"desired capacity set to {h.desired}"))
        e.reconcile(t)
    else:
        e.version, e.refresh_batch, e.refreshing = h.version, h.batch, True
        e.refresh = [x.name for x in e.lives.values() if x.active() and x.version != h.version]
        e.events.append(AsgEvent(t_s=t, kind="deploy", instance="", az="", reason=(
            f"instance refresh to {h.version}: {len(e.refresh)} instance(s), {h.batch} at a time; each waits "
            f"for its replacement to pass its health checks")))
        e.refresh_step(t)


# ============================================================================ snapshots


def _snapshot(e: _Engine, t: float) -> Snapshot:
    """The state at ``t`` (after every event at ``t``): counts, what the ALB nodes do, why."""
    lives = [x for x in e.lives.values() if x.launched_s <= t and x.terminated_s is None]
    states = {x.name: e.target_state(x.name) for x in lives if all((n, x.name) in e.health for n in e.nodes)}
    own = {x.name for x in lives if x.managed}
    pending = [x for x in lives if x.name not in states and x.managed]
    count = {k: sum(1 for n, s in states.items() if s == k and n in own)
             for k in ("initial", "healthy", "unhealthy", "draining")}
    shares, opened, statuses = [], 0, []
    rotation: list[tuple[str, tuple[str, ...]]] = []
    for node in e.nodes:
        cands = [n for n, s in states.items() if s != "draining"]
        rot = [n for n in cands if e.health[(node, n)].healthy]
        if cands and not rot:
            rot, opened = cands, opened + 1
        rotation.append((node, tuple(sorted(rot))))
        if not rot:
            shares.append(1.0)
            statuses.append("503")
            continue
        bad = [n for n in rot if not e.lives[n].answers_requests(t)]
        shares.append(len(bad) / len(rot))
        statuses += ["504" if e.lives[n].failure in ("host-down", "db-unreachable") else "502" for n in bad]
    share = sum(shares) / len(shares) if shares else 0.0
    status = "200" if share == 0 else max(set(statuses), key=statuses.count)
    zones = tuple(ZoneSnapshot(
        az=z, zone_up=z not in e.zones_down, instances=sum(1 for x in lives if x.az == z and x.managed),
        healthy=sum(1 for n, s in states.items() if s == "healthy" and e.lives[n].az == z and n in own),
        unhealthy=sum(1 for n, s in states.items() if s in ("unhealthy", "initial") and e.lives[n].az == z and n in own),
        draining=sum(1 for n, s in states.items() if s == "draining" and e.lives[n].az == z and n in own))
        for z in dict.fromkeys(e.zone_of.values()))
    last = next((ev for ev in reversed(e.events) if ev.t_s <= t), None)
    reason = (f"{count['healthy']} of {e.desired} desired healthy at every ALB node"
              + (f", {count['initial']} waiting for a first passing check" if count["initial"] else "")
              + (f", {count['unhealthy']} unhealthy (out of rotation)" if count["unhealthy"] else "")
              + (f", {count['draining']} draining (no new requests)" if count["draining"] else "")
              + (f", {len(pending)} booting (not yet InService)" if pending else "")
              + (f"; {opened} ALB node(s) fail open: every target is unhealthy, so they send to all" if opened else "")
              + (f"; {share * 100:.0f}% of requests fail ({status})" if share else "")
              + (f". Last: {last.reason}" if last is not None else ""))
    return Snapshot(t_s=t, desired=e.desired, instances=len(lives), pending=len(pending), initial=count["initial"],
                    healthy=count["healthy"], unhealthy=count["unhealthy"], draining=count["draining"],
                    fail_open_nodes=opened, failing_share=share, status=status, reason=reason, zones=zones,
                    targets=tuple(sorted(states.items())), rotation=tuple(rotation))


def _run(e: _Engine, happenings: tuple[Happening, ...], step_s: float) -> None:
    for h in happenings:
        e.at(h.t_s, functools.partial(_apply, e, h), order=0)
    e.at(EC2_STATUS_CHECK_S, e.ec2_tick, order=2)
    n_steps = int(math.floor(e.duration_s / step_s + 1e-9))
    k = 0
    while e.heap or k <= n_steps:
        t_next = e.heap[0][0] if e.heap else math.inf
        while k <= n_steps and k * step_s < t_next:
            e.snaps.append(_snapshot(e, k * step_s))
            k += 1
        if not e.heap:
            break
        t, _order, _seq, fn = heapq.heappop(e.heap)
        fn(t)


# ============================================================================ the timeline


@dataclass(frozen=True)
class AutoScalingTimeline:
    """What an Auto Scaling group and the ALB in front of it do over time (see the module's doc)."""

    topology: Topology
    group: AutoScalingGroup
    settings: HealthCheck
    health_check_type: str
    grace_period_s: float
    deregistration_delay_s: float
    happenings: tuple[Happening, ...]
    duration_s: float
    step_s: float
    check: str
    members: tuple[Member, ...]
    event_log: tuple[AsgEvent, ...]
    snapshots: tuple[Snapshot, ...]

    # ------------------------------------------------------------------ tables
    def frame(self) -> pd.DataFrame:
        """Per step (1 s): the group's and the ALB's state, what browsers get, and why.

        Columns: ``t_s``, ``desired``, ``instances`` (existing, draining ones included), ``pending``
        (launched, not yet InService), ``initial``, ``healthy`` (at every ALB node), ``unhealthy``,
        ``draining``, ``fail_open_nodes``, ``failing_share``, ``status``, ``reason``."""
        import pandas as pd

        return pd.DataFrame([{c: getattr(s, c) for c in FRAME_COLUMNS} for s in self.snapshots], columns=FRAME_COLUMNS)

    def zones(self) -> pd.DataFrame:
        """Per step and zone: ``t_s``, ``az``, ``zone_up``, ``instances``, ``healthy``, ``unhealthy``
        (unhealthy or still initial), ``draining`` — what HealthyHostCount/UnHealthyHostCount are made of."""
        import pandas as pd

        return pd.DataFrame([{"t_s": s.t_s, **{c: getattr(z, c) for c in ZONE_COLUMNS[1:]}}
                             for s in self.snapshots for z in s.zones], columns=ZONE_COLUMNS)

    def events(self) -> pd.DataFrame:
        """Every event in time order: ``t_s``, ``kind``, ``instance``, ``az``, ``node``, ``reason``."""
        import pandas as pd

        return pd.DataFrame([{c: getattr(ev, c) for c in EVENT_COLUMNS} for ev in self.event_log], columns=EVENT_COLUMNS)

    def members_frame(self) -> pd.DataFrame:
        """One row per instance the group had: when it launched, served, failed, drained, ended."""
        import pandas as pd

        return pd.DataFrame([{c: getattr(m, c) for c in MEMBER_COLUMNS} for m in self.members], columns=MEMBER_COLUMNS)

    # ------------------------------------------------------------------ moments
    def snapshot_at(self, t: float) -> Snapshot:
        """The state at the last step at or before ``t``."""
        self._check_t(t)
        k = min(int(math.floor(t / self.step_s + 1e-9)), len(self.snapshots) - 1)
        return self.snapshots[k]

    def instances_at(self, t: float) -> tuple[str, ...]:
        """The group's instances that exist at ``t`` (launched, not yet terminated)."""
        self._check_t(t)
        return tuple(m.name for m in self.members if m.exists_at(t))

    def targets_at(self, t: float) -> tuple[str, ...]:
        """The group's instances the ALB may choose for a new request at ``t`` (InService, not draining)."""
        self._check_t(t)
        return tuple(m.name for m in self.members if m.registered_at(t))

    def draining_at(self, t: float) -> tuple[str, ...]:
        self._check_t(t)
        return tuple(m.name for m in self.members if m.draining_at(t))

    def topology_at(self, t: float) -> Topology:
        """The topology as it is at ``t``: the group's existing instances (launched ones placed by
        the group), and the target group holding only those that take new requests. Evaluate it with
        ``tl.journey``: its checkpoints follow the instances that exist then.

        A :class:`ZoneOutage` here is one of the app tier (its servers stop answering; the ALB node
        and the NAT gateway of that zone keep running), so ``zones_down`` stays as it was; for a
        whole zone down, evaluate ``topology_at(t).with_zone_down(az)``."""
        self._check_t(t)
        base, g = self.topology, self.group
        old = set(g.instances)
        by_name = {i.name: i for i in base.instances}
        tpl = g.template
        now = [by_name[m.name] if m.name in by_name else Instance(
            name=m.name, ip=_ip(m.ip), subnet=m.subnet, sgs=tpl.sgs, listens=tpl.listens, os=tpl.os,
            label=f"{m.name} ({m.version})") for m in self.members if m.exists_at(t)]
        instances = tuple(i for i in base.instances if i.name not in old) + tuple(now)
        registered = set(self.targets_at(t)) if g.target_group is not None else set(base.alb.targets) & old
        targets = tuple(x for x in base.alb.targets if x not in old) + tuple(
            m.name for m in self.members if m.name in registered)
        group = replace(g, instances=tuple(i.name for i in now))
        return replace(base, instances=instances, alb=replace(base.alb, targets=targets),
                       auto_scaling_groups=tuple(group if x.name == g.name else x for x in base.auto_scaling_groups))

    def _check_t(self, t: float) -> None:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= self.duration_s:
            raise ParameterError(f"t={t!r} is outside this timeline (0-{self.duration_s:g} s)",
                                 f"pick a time from 0 to {self.duration_s:g}")

    # ------------------------------------------------------------------ answers
    def replacement_bound_s(self, failure: str = "host-down") -> float:
        """The longest a member failing in ``failure``'s way can take from failing to a healthy
        replacement at every ALB node (``inf``: never replaced):

        detection -- the next EC2 status check (each minute) for a dead host, or with ELB checks the
        unhealthy threshold's checks (the first up to one interval after the failure, each failing
        after the timeout when nothing answers), whichever comes first; then launch to InService and
        to the app answering; then one interval for the first passing check. The grace period does
        not delay it: it protects new instances, and the failed one has long been in service."""
        if failure not in FAILURES:
            raise ParameterError(f"unknown failure {failure!r}", "use one of: " + ", ".join(FAILURES))
        hc = self.settings
        timeout = hc.timeout_s if failure == "host-down" else 0
        elb = (hc.unhealthy_threshold * hc.interval_s + timeout
               if self.health_check_type == "ELB" and _check_fails(failure, self.check) else math.inf)
        ec2 = EC2_STATUS_CHECK_S if failure == "host-down" else math.inf
        detect = min(elb, ec2)
        tpl = self.group.template
        return detect + max(tpl.pending_s, tpl.boot_s) + hc.interval_s

    def healthy_again_s(self) -> float | None:
        """The first step after the first happening at which every desired instance is healthy again."""
        if not self.happenings:
            return 0.0
        t0 = min(h.t_s for h in self.happenings)
        dipped = False
        for s in self.snapshots:
            if s.t_s < t0:
                continue
            if s.healthy < s.desired:
                dipped = True
            elif dipped:
                return s.t_s
        return None if dipped else t0

    def summary(self) -> pd.DataFrame:
        """The story in a few rows: settings, each happening, detection, replacement, recovery."""
        import pandas as pd

        hc = self.settings
        rows = [{"metric": "group", "value": f"{self.group.name}: desired {self.group.desired} "
                 f"(min {self.group.min_size}, max {self.group.max_size}) over {', '.join(self.group.subnets)}",
                 "reason": "the group's size and subnets, from the topology"},
                {"metric": "health checks", "value": f"{self.health_check_type}, grace {self.grace_period_s:g} s; ALB "
                 f"every {hc.interval_s} s, unhealthy after {hc.unhealthy_threshold}",
                 "reason": "EC2 sees only the instance's status; ELB also the ALB's checks of the app"},
                {"metric": "deregistration delay", "value": f"{self.deregistration_delay_s:g} s",
                 "reason": "a draining target gets no new requests; in-flight ones may finish"}]
        for ev in self.event_log:
            if ev.kind in ("fail", "zone-down", "deploy", "asg-unhealthy", "terminating", "launch", "deploy-done",
                           "launch-failed", "desired"):
                rows.append({"metric": f"t={ev.t_s:g} s {ev.kind}", "value": ev.instance or ev.az, "reason": ev.reason})
        back = self.healthy_again_s()
        rows.append({"metric": "healthy capacity back to desired",
                     "value": "not within the timeline" if back is None else f"t={back:g} s",
                     "reason": "every desired instance healthy at every ALB node"})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return (f"<div class='tl-asg'><b>{html.escape(self.topology.name)}: {html.escape(self.group.name)}"
                f"</b>{self.summary().to_html(index=False)}</div>")


def _ip(text: str) -> Any:
    import ipaddress

    return ipaddress.IPv4Address(text)


# ============================================================================ building one


def _validated(topo: Topology, happenings: Iterable[Happening], g: AutoScalingGroup) -> tuple[Happening, ...]:
    out = tuple(sorted(happenings, key=lambda h: h.t_s))
    azs = set(topo.azs)
    for h in out:
        if not isinstance(h, (InstanceFailure, ZoneOutage, RollingDeploy, SetDesired)):
            raise ParameterError(f"{h!r} is not something that happens to the group",
                                 "use InstanceFailure, ZoneOutage, RollingDeploy or SetDesired")
        if isinstance(h.t_s, bool) or not isinstance(h.t_s, (int, float)) or not math.isfinite(h.t_s) or h.t_s < 0:
            raise ParameterError(f"{type(h).__name__} at t_s={h.t_s!r}: not a time in seconds >= 0", "e.g. t_s=10")
        if isinstance(h, InstanceFailure):
            if not isinstance(h.instance, str):
                raise ParameterError(f"instance={limits._show(h.instance)} is not an instance name",
                                     f"members: {', '.join(g.instances)}")
            if not isinstance(h.failure, str) or h.failure not in FAILURES:
                raise ParameterError(f"unknown failure {h.failure!r}", "use one of: " + ", ".join(FAILURES))
            launched = h.instance.startswith(f"{g.name}-") and h.instance[len(g.name) + 1:].isdigit()
            if h.instance not in g.instances and h.instance not in topo.alb.targets and not launched:
                raise ParameterError(f"{h.instance!r} is neither a member of Auto Scaling group {g.name!r} at the "
                                     "start, nor a target, nor a name the group gives what it launches",
                                     f"members: {', '.join(g.instances)}; launched ones: {g.name}-1, {g.name}-2, ...")
        elif isinstance(h, ZoneOutage) and (not isinstance(h.az, str) or h.az not in azs):
            raise ParameterError(f"no availability zone {h.az!r} in {topo.name}", "zones: " + ", ".join(topo.azs))
        elif isinstance(h, SetDesired) and (isinstance(h.desired, bool) or not isinstance(h.desired, int)
                                            or not g.min_size <= h.desired <= g.max_size):
            raise ParameterError(f"desired {h.desired!r} is outside min_size..max_size ({g.min_size}..{g.max_size}) "
                                 f"of {g.name!r}", f"AWS refuses it: pick {g.min_size} to {g.max_size}")
        elif isinstance(h, RollingDeploy) and (isinstance(h.batch, bool) or not isinstance(h.batch, int)
                                               or h.batch < 1):
            raise ParameterError(f"RollingDeploy batch={h.batch!r} is not a count >= 1", "e.g. batch=1")
    return out


def auto_scaling_timeline(topo: Topology, happenings: Iterable[Happening] = (), *, group: str | None = None,
                          duration_s: float = 900.0, step_s: float = 1.0, health_check_type: str | None = None,
                          grace_period_s: float | None = None, deregistration_delay_s: float | None = None,
                          check: str = "shallow", settings: HealthCheck | None = None) -> AutoScalingTimeline:
    """The group ``group`` (default: the topology's only one) and the ALB over ``duration_s`` while
    ``happenings`` happen. ``health_check_type``, ``grace_period_s`` and ``deregistration_delay_s``
    override the topology's (a what-if); ``check``: what /health tests (``shallow`` or ``deep``)."""
    topo = require_topology(topo, "auto_scaling_timeline")
    g = topo.auto_scaling_group(group)
    if check not in CHECKS:
        raise ParameterError(f"unknown health check {check!r}", "use 'shallow' (the seed's /health) or 'deep'")
    hct = g.health_check_type if health_check_type is None else health_check_type
    if hct not in ("EC2", "ELB"):
        raise ParameterError(f"health_check_type {hct!r} is unknown", "use EC2 or ELB")
    grace = float(g.grace_period_s if grace_period_s is None else grace_period_s)
    delay = float(topo.alb.deregistration_delay_s if deregistration_delay_s is None else deregistration_delay_s)
    for name, v, hi in (("duration_s", duration_s, 86_400), ("step_s", step_s, 3600), ("grace_period_s", grace, 86_400),
                        ("deregistration_delay_s", delay, 3600)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= hi:
            raise ParameterError(f"{name}={v!r} must be seconds from 0 to {hi}", "e.g. duration_s=900, step_s=1")
    if step_s <= 0 or duration_s / step_s > 100_000:
        raise ParameterError(f"a timeline of {duration_s:g} s in {step_s:g} s steps is too long to draw",
                             "keep duration_s / step_s under 100,000 and step_s > 0")
    hc = settings or topo.alb.health_check
    happen = _validated(topo, happenings, g)
    nodes = tuple(n.name for n in topo.alb.nodes)
    e = _Engine(topo=topo, group=g, hc=hc, health_check_type=hct, grace_s=grace, delay_s=delay,
                duration_s=float(duration_s), check=check, nodes=nodes,
                phases=tuple((i + 0.5) * hc.interval_s / len(nodes) for i in range(len(nodes))),
                zone_of={s: topo.subnet(s).az for s in g.subnets}, desired=g.desired)
    e.used_ips = {ep.ip for ep in topo.endpoints}
    for name in dict.fromkeys(g.instances + topo.alb.targets):
        inst = topo.endpoint(name)
        e.lives[name] = _Life(name, inst.ip, inst.subnet or "", topo.subnet(inst.subnet or "").az, "v1",
                              -math.inf, -math.inf, -math.inf, reason="in the topology at the start",
                              managed=name in g.instances)
        if name in topo.alb.targets:
            e.register(name, 0.0, initial=False)
    _run(e, happen, float(step_s))
    members = tuple(Member(name=x.name, ip=str(x.ip), subnet=x.subnet, az=x.az, version=x.version,
                           launched_s=x.launched_s, in_service_s=x.in_service_s, ready_s=x.ready_s,
                           failed_s=x.failed_s, failure=x.failure, draining_s=x.draining_s,
                           terminated_s=x.terminated_s, reason=x.reason) for x in e.lives.values() if x.managed)
    return AutoScalingTimeline(topo, g, hc, hct, grace, delay, happen, float(duration_s), float(step_s), check, members,
                               tuple(sorted(e.events, key=lambda ev: ev.t_s)), tuple(e.snaps))


def instance_failure_timeline(topo: Topology, instance: str | None = None, *, failure: str = "crash",
                              t0_s: float = 10.0, **kwargs: Any) -> AutoScalingTimeline:
    """One member (default: the first) fails at ``t0_s``: does the group replace it? (ELB: yes, once
    the ALB finds it unhealthy; EC2: only when the instance itself is impaired, ``host-down``.)"""
    topo = require_topology(topo, "instance_failure_timeline")
    g = topo.auto_scaling_group(kwargs.get("group"))
    return auto_scaling_timeline(topo, [InstanceFailure(t_s=t0_s, instance=instance or g.instances[0],
                                                        failure=failure)], **kwargs)


def zone_outage_timeline(topo: Topology, az: str | None = None, *, t0_s: float = 10.0,
                         **kwargs: Any) -> AutoScalingTimeline:
    """Zone ``az`` (default: the first) loses its API servers at ``t0_s``: what is lost, what is left,
    where the replacements go and what the ALB does meanwhile."""
    topo = require_topology(topo, "zone_outage_timeline")
    return auto_scaling_timeline(topo, [ZoneOutage(t_s=t0_s, az=az or topo.azs[0])], **kwargs)


def rolling_deploy_timeline(topo: Topology, *, t0_s: float = 10.0, version: str = "v2", batch: int = 1,
                            **kwargs: Any) -> AutoScalingTimeline:
    """An instance refresh to ``version`` from ``t0_s``: each old instance drains for the
    deregistration delay while its replacement boots. Long by nature: the default duration covers it."""
    topo = require_topology(topo, "rolling_deploy_timeline")
    g = topo.auto_scaling_group(kwargs.get("group"))
    for name, v in (("t0_s", t0_s), ("batch", batch)):  # checked here: the default duration is computed from them
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 \
                or (name == "batch" and (not isinstance(v, int) or v < 1)):
            raise ParameterError(f"rolling_deploy_timeline({name}={limits._show(v)}): "
                                 + ("not a time in seconds >= 0" if name == "t0_s" else "not a count >= 1"),
                                 "e.g. t0_s=10, batch=1")
    if "duration_s" not in kwargs:
        delay = kwargs.get("deregistration_delay_s", topo.alb.deregistration_delay_s)
        per = max(g.template.pending_s, g.template.boot_s) + 2 * topo.alb.health_check.interval_s
        kwargs["duration_s"] = float(t0_s + math.ceil(len(g.instances) / max(batch, 1)) * per + delay + 60)
    return auto_scaling_timeline(topo, [RollingDeploy(t_s=t0_s, version=version, batch=batch)], **kwargs)
