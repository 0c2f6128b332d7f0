"""ALB health checks over time: when each node removes a failed target, what share of requests
fail meanwhile, when the target returns.

The health-check state machine is a pure function of the settings and the check results
(``next_state``, ``target_checks``, ``health_check_events``); ``HealthCheckTimeline`` reads its
events and answers questions about them. Settings come from the loaded topology
(``topo.alb.health_check``) or AWS's defaults, never from constants.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Literal

from ..errors import ParameterError
from ..network import limits
from ..network.loader import check_health_check
from ..network.topology import HealthCheck, Topology, require_topology

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AWS_DEFAULT_HEALTH_CHECK", "FAILURES", "CHECKS", "CheckEvent", "HealthState", "HealthCheckTimeline",
    "next_state", "target_checks", "health_check_events", "health_check_timeline", "health_check_settings",
    "removal_window_s", "removal_delay_s", "return_window_s", "resolve_health_check",
]

#: AWS's defaults for an ALB target group's HTTP health check.
AWS_DEFAULT_HEALTH_CHECK = HealthCheck(protocol="HTTP", path="/", port=3000, interval_s=30, timeout_s=5,
                                       healthy_threshold=5, unhealthy_threshold=2)

Failure = Literal["crash", "host-down", "db-unreachable", "check-only"]
FAILURES: dict[str, str] = {
    "crash": "the Node.js process crashed: the port refuses connections at once",
    "host-down": "the host is dead or firewalled: nothing answers, each check waits for its timeout",
    "db-unreachable": "the server is up but cannot reach its database; /health does not touch it",
    "check-only": "only /health fails (e.g. a bug in the handler); real requests would succeed",
}
_CHECK_FAILS = {"crash": True, "host-down": True, "db-unreachable": False, "check-only": True}
_REQUEST_FAILS = {"crash": True, "host-down": True, "db-unreachable": True, "check-only": False}
_STATUS = {"crash": "502", "host-down": "504", "db-unreachable": "504", "check-only": "200"}
#: What /health tests: ``shallow`` (the seed's handler: answers 200 while Node.js runs) or ``deep``
#: (it runs ``SELECT 1`` on a pooled connection and answers 503 when the database path is broken).
CHECKS: dict[str, str] = {
    "shallow": "/health answers 200 while the process runs (the seed's handler)",
    "deep": "/health runs SELECT 1 on a pooled connection and answers 503 when that fails",
}


def _check_fails(failure: str, check: str = "shallow") -> bool:
    """Whether the health check fails under ``failure``: a deep check also sees a broken database path."""
    return _CHECK_FAILS[failure] or (check == "deep" and failure == "db-unreachable")


def _check_kind(check: str) -> None:
    if not isinstance(check, str) or check not in CHECKS:
        raise ParameterError(f"unknown health check {check!r}", "use 'shallow' (the seed's /health) or 'deep'")


# ============================================================================ health checks: the arithmetic


def resolve_health_check(topo: Topology | None, settings: str | HealthCheck = "topology",
                         **overrides: Any) -> HealthCheck:
    """The health-check settings to use: the topology's, AWS's defaults, or given; validated."""
    if isinstance(settings, HealthCheck):
        hc = settings
    elif settings == "topology":
        if topo is None:
            raise ParameterError("settings='topology' needs a topology", "pass topo, or settings='aws-default'")
        hc = topo.alb.health_check
    elif settings in ("aws-default", "aws"):
        hc = replace(AWS_DEFAULT_HEALTH_CHECK, port=topo.alb.health_check.port if topo else 3000)
    else:
        raise ParameterError(f"unknown health-check settings {settings!r}",
                   "use 'topology' (the loaded topology's), 'aws-default', or a tl.HealthCheck(...)")
    names = {"interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold", "path", "port", "protocol"}
    unknown = [k for k in overrides if k not in names]
    if unknown:
        raise ParameterError(f"unknown health-check setting(s): {', '.join(unknown)}", "known: " + ", ".join(sorted(names)))
    hc = replace(hc, **overrides)
    for k in ("interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold"):
        v = getattr(hc, k)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParameterError(f"health check {k}={v!r} is not a number", "e.g. interval_s=30, unhealthy_threshold=2")
    problems = check_health_check(hc)
    if problems:
        raise ParameterError("health check: " + "; ".join(p.message for p in problems),
                   "; ".join(dict.fromkeys(p.hint for p in problems if p.hint)))
    return hc


def _check_failure(failure: str) -> None:
    if not isinstance(failure, str) or failure not in FAILURES:
        raise ParameterError(f"unknown failure {failure!r}", "use one of: " + ", ".join(FAILURES))


def _answer_s(hc: HealthCheck, failure: str) -> float:
    """How long a failing check takes to fail: at once when refused, the timeout when nothing answers."""
    return float(hc.timeout_s) if failure == "host-down" else 0.0


def removal_delay_s(hc: HealthCheck, failure: str, wait_s: float, check: str = "shallow") -> float:
    """Seconds from the failure to removal when the next check starts ``wait_s`` after it:
    ``wait + (unhealthy_threshold - 1) x interval (+ timeout when nothing answers)``."""
    _check_failure(failure)
    _check_kind(check)
    if not _check_fails(failure, check):
        return math.inf
    return wait_s + (hc.unhealthy_threshold - 1) * hc.interval_s + _answer_s(hc, failure)


def removal_window_s(hc: HealthCheck, failure: str = "crash", check: str = "shallow") -> tuple[float, float]:
    """The range of removal delays over where the failure falls between two checks
    (the low end when a check starts right at the failure; the high end just after one)."""
    return (removal_delay_s(hc, failure, 0.0, check), removal_delay_s(hc, failure, float(hc.interval_s), check))


def return_window_s(hc: HealthCheck) -> tuple[float, float]:
    """From the fix to back in rotation: ``wait + (healthy_threshold - 1) x interval``."""
    return ((hc.healthy_threshold - 1) * hc.interval_s, hc.healthy_threshold * hc.interval_s)


# ============================================================================ the state machine


@dataclass(frozen=True)
class HealthState:
    """One ALB node's view of one target: healthy or not, and the current streak of each result."""

    healthy: bool = True
    passes: int = 0
    fails: int = 0


def next_state(hc: HealthCheck, state: HealthState, passed: bool) -> HealthState:
    """After one check: ``unhealthy_threshold`` failures in a row take a healthy target out,
    ``healthy_threshold`` passes in a row put an unhealthy one back."""
    if passed:
        passes = state.passes + 1
        return HealthState(state.healthy or passes >= hc.healthy_threshold, passes, 0)
    fails = state.fails + 1
    return HealthState(state.healthy and fails < hc.unhealthy_threshold, 0, fails)


@dataclass(frozen=True)
class CheckEvent:
    t_s: float          # when the check's result is known
    start_s: float
    node: str
    target: str
    passed: bool
    streak: int         # consecutive results of this kind
    healthy: bool       # the node's view of the target after this check
    changed: bool
    reason: str


def _why_failed(hc: HealthCheck, failure: str) -> str:
    return ("refused at once" if failure == "crash" else
            f"no answer within the {hc.timeout_s} s timeout" if failure == "host-down" else
            "the deep /health cannot reach the database: 503" if failure == "db-unreachable" else
            "/health answers an error")


def _reason(hc: HealthCheck, was: HealthState, now: HealthState, passed: bool, down: bool, failure: str) -> str:
    if not passed:
        why = _why_failed(hc, failure)
        if was.healthy:
            return (f"fail {now.fails}/{hc.unhealthy_threshold}: {why}"
                    + (" -> unhealthy, out of rotation" if not now.healthy else ""))
        return f"fail ({now.fails} in a row): {why}; stays unhealthy"
    if down:
        return "pass: the shallow /health answers 200 without touching the database"
    if not was.healthy:
        return f"pass {now.passes}/{hc.healthy_threshold}" + (" -> healthy, back in rotation" if now.healthy else "")
    return "pass"


def target_checks(hc: HealthCheck, *, node: str, target: str, phase_s: float, duration_s: float,
                  is_down: Callable[[float], bool], failure: str, check: str = "shallow") -> list[CheckEvent]:
    """Every check one node makes of one target, every ``interval_s`` from ``phase_s``: a check of a
    target that is down fails (after the timeout when nothing answers) unless /health cannot see the
    failure; the state moves by ``next_state``."""
    out: list[CheckEvent] = []
    state = HealthState()
    k = 0
    while (start := phase_s + k * hc.interval_s) <= duration_s:
        k += 1
        down = is_down(start)
        passed = not (down and _check_fails(failure, check))
        now = next_state(hc, state, passed)
        done = start if passed else start + _answer_s(hc, failure)
        out.append(CheckEvent(done, start, node, target, passed, now.passes if passed else now.fails, now.healthy,
                              now.healthy != state.healthy, _reason(hc, state, now, passed, down, failure)))
        state = now
    return out


def health_check_events(hc: HealthCheck, *, node_targets: tuple[tuple[str, tuple[str, ...]], ...],
                        phases_s: tuple[tuple[str, float], ...], failed: tuple[str, ...], t0_s: float,
                        recover_s: float | None, duration_s: float, failure: str,
                        check: str = "shallow") -> tuple[CheckEvent, ...]:
    """Every check of every (node, target) pair, in time order: a pure function of the settings,
    which targets fail when, and each node's first check time."""
    def down_for(target: str) -> Callable[[float], bool]:
        return lambda t: target in failed and t >= t0_s and (recover_s is None or t < recover_s)

    targets_of = dict(node_targets)
    out = [e for node, phase in phases_s for target in targets_of[node]
           for e in target_checks(hc, node=node, target=target, phase_s=phase, duration_s=duration_s,
                                  is_down=down_for(target), failure=failure, check=check)]
    return tuple(sorted(out, key=lambda e: (e.t_s, e.node, e.target)))


# ============================================================================ the timeline


@dataclass(frozen=True)
class HealthCheckTimeline:
    """What the ALB does when ``failed`` targets fail at ``t0_s`` (and recover at ``recover_s``)."""

    topology: str
    settings: HealthCheck
    failure: str
    failed: tuple[str, ...]
    targets: tuple[str, ...]
    node_targets: tuple[tuple[str, tuple[str, ...]], ...]   # node -> targets it sends to
    phases_s: tuple[tuple[str, float], ...]                   # node -> its first check time
    t0_s: float
    recover_s: float | None
    duration_s: float
    step_s: float
    health_check: bool
    topology_settings: HealthCheck | None = None
    check: str = "shallow"  # what /health tests: see CHECKS

    # ------------------------------------------------------------------ checks
    @cached_property
    def _events(self) -> tuple[CheckEvent, ...]:
        if not self.health_check:
            return ()
        return health_check_events(self.settings, node_targets=self.node_targets, phases_s=self.phases_s,
                                   failed=self.failed, t0_s=self.t0_s, recover_s=self.recover_s,
                                   duration_s=self.duration_s, failure=self.failure, check=self.check)

    def _is_down(self, t: float) -> bool:
        return t >= self.t0_s and (self.recover_s is None or t < self.recover_s)

    def _healthy_at(self, node: str, target: str, t: float) -> bool:
        state = True
        for e in self._events:
            if e.t_s > t:
                break
            if e.node == node and e.target == target:
                state = e.healthy
        return state

    def checks(self) -> pd.DataFrame:
        """Every health check each ALB node made of the affected targets (or all, if none failed)."""
        import pandas as pd

        rows = [{"t_s": e.t_s, "start_s": e.start_s, "node": e.node, "target": e.target,
                 "result": "pass" if e.passed else "fail", "streak": e.streak,
                 "state": "healthy" if e.healthy else "unhealthy", "changed": e.changed, "reason": e.reason}
                for e in self._events if (e.target in self.failed or not self.failed)]
        return pd.DataFrame(rows, columns=["t_s", "start_s", "node", "target", "result", "streak", "state",
                                           "changed", "reason"])

    # ------------------------------------------------------------------ removal and return
    def _first_change(self, node: str, target: str, to_healthy: bool, after: float) -> float | None:
        for e in self._events:
            if e.node == node and e.target == target and e.changed and e.healthy == to_healthy and e.t_s >= after:
                return e.t_s
        return None

    def removed_s(self) -> dict[str, float | None]:
        """When each ALB node took the (first) failed target out of rotation (None: never)."""
        if not self.failed:
            return {}
        tgt = self.failed[0]
        return {n: self._first_change(n, tgt, False, self.t0_s) if tgt in dict(self.node_targets)[n] else None
                for n, _ in self.phases_s}

    def returned_s(self) -> dict[str, float | None]:
        """When each ALB node put it back (None: not within the timeline)."""
        if not self.failed or self.recover_s is None:
            return {n: None for n, _ in self.phases_s}
        tgt = self.failed[0]
        return {n: self._first_change(n, tgt, True, self.recover_s) if tgt in dict(self.node_targets)[n] else None
                for n, _ in self.phases_s}

    # ------------------------------------------------------------------ requests
    def _node_view(self, node: str, t: float) -> tuple[list[str], bool]:
        cands = list(dict(self.node_targets)[node])
        if not self.health_check:
            return cands, False
        rot = [x for x in cands if self._healthy_at(node, x, t)]
        if not rot:
            return cands, True  # fail open
        return rot, False

    def failing_share_at(self, t: float) -> float:
        """Share of requests that fail at time ``t``: DNS spreads browsers over the nodes, each
        node round-robins over the targets in its rotation (all of them when it fails open)."""
        shares = []
        for node, _ in self.phases_s:
            rot, _open = self._node_view(node, t)
            bad = [x for x in rot if x in self.failed and self._is_down(t) and _REQUEST_FAILS[self.failure]]
            shares.append(len(bad) / len(rot) if rot else 1.0)
        return sum(shares) / len(shares) if shares else 0.0

    def frame(self) -> pd.DataFrame:
        """Per time step: the share of requests failing, how many nodes still route to the failed
        target, the status browsers see, and why."""
        import pandas as pd

        rows = []
        for i in range(int(round(self.duration_s / self.step_s)) + 1):
            t = i * self.step_s
            share = self.failing_share_at(t)
            views = [self._node_view(n, t) for n, _ in self.phases_s]
            routing = sum(1 for rot, _ in views if self.failed and self.failed[0] in rot)
            opened = sum(1 for _, o in views if o)
            status, reason = _status_reason(self, t, share, routing, opened)
            rows.append({"t_s": t, "failing_share": share, "nodes_routing": routing, "fail_open_nodes": opened,
                         "target_down": self._is_down(t) and bool(self.failed), "status": status, "reason": reason})
        return pd.DataFrame(rows)

    def failed_share_until_removal(self) -> float:
        """The mean share of requests failing between the failure and removal at every node."""
        rem = self.removed_s()
        if not rem or any(v is None for v in rem.values()):
            end = self.duration_s if self.recover_s is None else min(self.duration_s, self.recover_s)
        else:
            end = max(v for v in rem.values() if v is not None)
        if end <= self.t0_s:
            return 0.0
        # the share only changes when a check changes a node's view: integrate exactly between those times
        cuts = sorted({self.t0_s, end} | {e.t_s for e in self._events if e.changed and self.t0_s < e.t_s < end})
        area = sum((b - a) * self.failing_share_at((a + b) / 2) for a, b in zip(cuts, cuts[1:]))
        return area / (end - self.t0_s)

    def summary(self) -> pd.DataFrame:
        """Removal per node (and the analytic range), requests failing until then, the return."""
        import pandas as pd

        return pd.DataFrame(_summary_rows(self))

    def _repr_html_(self) -> str:
        return (f"<div class='tl-health'><b>{html.escape(self.topology)}: {html.escape(self.failure)} at "
                f"t={self.t0_s:.0f} s</b>{self.summary().to_html(index=False)}</div>")


def _status_reason(tl: HealthCheckTimeline, t: float, share: float, routing: int, opened: int) -> tuple[str, str]:
    """The status browsers see at ``t`` and why, from how many nodes still route to the target."""
    n_nodes = len(tl.phases_s)
    if not (tl._is_down(t) and bool(tl.failed)):
        back = tl.recover_s is not None and t >= tl.recover_s
        if back and routing < n_nodes:
            return "200", (f"fixed; {n_nodes - routing} of {n_nodes} ALB node(s) still wait for "
                           f"{tl.settings.healthy_threshold} passing checks")
        return "200", "fixed and back in rotation at every ALB node" if back else "every target is up"
    status = _STATUS[tl.failure] if share > 0 else "200"
    what = (FAILURES[tl.failure] if not _check_fails(tl.failure, tl.check) or _CHECK_FAILS[tl.failure]
            else "the server is up but cannot reach its database; the deep /health sees it and answers 503")
    if opened:
        return status, (f"{what}; every target is unhealthy at {opened} node(s), so the ALB fails open "
                        "and sends to all of them" + (": requests still succeed" if share == 0 else ""))
    if not tl.health_check:
        return status, (f"{what}; without a health check nothing is removed: {share * 100:.0f}% of requests "
                        f"keep failing (1 in {len(tl.targets)})" + " — AWS cannot switch health checks off "
                        "for instance targets; this is what the seed's mistake would mean")
    if routing == 0:
        return status, f"{what}; removed at every ALB node: no request reaches it"
    if tl.failure == "db-unreachable" and tl.check == "shallow":
        return status, (f"{what}: the shallow /health passes, so {routing} of {n_nodes} node(s) keep sending "
                        f"it requests and {share * 100:.0f}% fail")
    return status, (f"{what}; still in rotation at {routing} of {n_nodes} ALB node(s): "
                    f"{share * 100:.0f}% of requests fail with {status}")


def _summary_rows(tl: HealthCheckTimeline) -> list[dict[str, str]]:
    hc = tl.settings
    lo, hi = removal_window_s(hc, tl.failure, tl.check)
    rows = [{"metric": "settings", "value": f"interval {hc.interval_s} s, timeout {hc.timeout_s} s, "
             f"healthy {hc.healthy_threshold}, unhealthy {hc.unhealthy_threshold}",
             "reason": ("the topology's target-group health check" if hc == tl.topology_settings
                        else "AWS's defaults" if hc == AWS_DEFAULT_HEALTH_CHECK else "given settings")}]
    if not tl.health_check:
        rows.append({"metric": "removal window", "value": "never",
                     "reason": "no health check: nothing is ever removed (AWS cannot switch it off for "
                               "instance targets; this shows what the seed's mistake would mean)"})
    elif math.isinf(lo):
        rows.append({"metric": "removal window", "value": "never",
                     "reason": "the check passes while requests fail: /health must test what requests need"})
    else:
        rows.append({"metric": "removal window", "value": f"{lo:.0f}-{hi:.0f} s after the failure",
                     "reason": f"the next check comes 0-{hc.interval_s} s after the failure, then "
                               f"{hc.unhealthy_threshold - 1} more x {hc.interval_s} s"
                               + (f", each failing only after its {hc.timeout_s} s timeout"
                                  if tl.failure == "host-down" else
                                  ", each answered 503 at once by the deep /health"
                                  if tl.failure == "db-unreachable" else ", each refused at once")})
    for node, t in tl.removed_s().items():
        rows.append({"metric": f"removed by {node}",
                     "value": "never" if t is None else f"{t - tl.t0_s:.0f} s after the failure (t={t:.0f} s)",
                     "reason": "each ALB node checks on its own, so each removes the target at its own time"})
    rows.append({"metric": "requests failing until removal", "value": f"{tl.failed_share_until_removal() * 100:.1f}%",
                 "reason": f"1 in {len(tl.targets)} while every node still sends to it, fewer as nodes remove it"})
    if tl.recover_s is not None:
        rlo, rhi = return_window_s(hc)
        for node, t in tl.returned_s().items():
            rows.append({"metric": f"returned by {node}",
                         "value": "not yet" if t is None else f"{t - tl.recover_s:.0f} s after the fix",
                         "reason": f"{hc.healthy_threshold} passing checks in a row: {rlo:.0f}-{rhi:.0f} s"})
    return rows


def health_check_timeline(topo: Topology, *, failure: str = "crash", failed: tuple[str, ...] | str | None = None,
                          t0_s: float = 10.0, recover_s: float | None = None, duration_s: float = 240.0,
                          settings: str | HealthCheck = "topology", phases_s: dict[str, float] | None = None,
                          health_check: bool = True, step_s: float = 1.0, check: str = "shallow",
                          **overrides: Any) -> HealthCheckTimeline:
    """A target (default: the first) fails at ``t0_s``: when does each ALB node remove it, what
    share of requests fail meanwhile, when does it return after ``recover_s``.

    ``settings``: ``topology`` (default), ``aws-default`` or a ``HealthCheck``; ``overrides``
    change single settings (``interval_s=10``). ``phases_s``: each node's first check time
    (default: the nodes spread evenly over one interval). ``health_check=False`` shows what
    would happen without one (AWS cannot switch them off for instance targets). ``check``: what
    /health tests, ``shallow`` (the seed's handler) or ``deep`` (it queries the database, so
    ``db-unreachable`` fails the check too).
    """
    topo = require_topology(topo, "health_check_timeline")
    _check_failure(failure)
    _check_kind(check)
    hc = resolve_health_check(topo, settings, **overrides)
    targets = tuple(topo.alb.targets)
    if not targets:
        raise ParameterError(f"target group {topo.alb.target_group} has no targets", "add API servers to the target group")
    if failed is None:
        failed = (targets[0],)
    elif isinstance(failed, str):
        failed = (failed,) if failed != "all" else targets
    if not isinstance(failed, (tuple, list)) or not all(isinstance(f, str) for f in failed):
        raise ParameterError(f"failed={limits._show(failed)}: name targets, e.g. failed='node-api-1' or a tuple "
                             "of names", "targets: " + ", ".join(targets))
    unknown = [f for f in failed if f not in targets]
    if unknown:
        raise ParameterError(f"not a target of {topo.alb.target_group}: {', '.join(unknown)}", "targets: " + ", ".join(targets))
    for name, v in (("t0_s", t0_s), ("duration_s", duration_s), ("step_s", step_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a time in seconds >= 0", "e.g. t0_s=10, duration_s=240")
    if step_s <= 0:
        raise ParameterError("step_s must be > 0", "e.g. step_s=1")
    if duration_s / step_s > 100_000 or duration_s / hc.interval_s > 10_000:
        raise ParameterError(f"a timeline of {duration_s:g} s in {step_s:g} s steps is too long to draw",
                   "keep duration_s / step_s under 100,000 (a few minutes show the whole story)")
    if recover_s is not None and recover_s < t0_s:
        raise ParameterError(f"recover_s={recover_s} comes before the failure at t0_s={t0_s}", "recover after t0_s, or None")
    az = {i.name: topo.subnet(i.subnet).az for i in topo.instances}
    nodes = topo.alb.nodes
    node_targets = tuple(
        (n.name, targets if topo.alb.cross_zone else tuple(t for t in targets if az.get(t) == topo.subnet(n.subnet).az))
        for n in nodes)
    if phases_s is None:
        phases = tuple((n.name, (i + 0.5) * hc.interval_s / len(nodes)) for i, n in enumerate(nodes))
    else:
        missing = [n.name for n in nodes if n.name not in phases_s]
        if missing:
            raise ParameterError(f"phases_s lacks ALB node(s) {', '.join(missing)}", "give every node its first check time")
        bad = [k for k, v in phases_s.items() if not 0 <= v < hc.interval_s]
        if bad:
            raise ParameterError(f"phases_s for {', '.join(bad)} is outside 0-{hc.interval_s} s",
                       "a node's first check comes within one interval")
        phases = tuple((n.name, float(phases_s[n.name])) for n in nodes)
    return HealthCheckTimeline(topo.name, hc, failure, tuple(failed), targets, node_targets, phases, float(t0_s),
                               None if recover_s is None else float(recover_s), float(duration_s), float(step_s),
                               bool(health_check), topo.alb.health_check, check)


def health_check_settings(topo: Topology, failure: str = "crash") -> pd.DataFrame:
    """The topology's health check beside AWS's defaults: removal and return windows."""
    topo = require_topology(topo, "health_check_settings")
    import pandas as pd

    rows = []
    for label, settings in (("topology", "topology"), ("AWS default", "aws-default")):
        hc = resolve_health_check(topo, settings)
        lo, hi = removal_window_s(hc, failure)
        rlo, rhi = return_window_s(hc)
        tl = health_check_timeline(topo, failure=failure, settings=settings, t0_s=hc.interval_s * 0.25,
                                   duration_s=hc.interval_s * (hc.unhealthy_threshold + 2) + hc.timeout_s)
        rows.append({
            "settings": label, "interval_s": hc.interval_s, "timeout_s": hc.timeout_s,
            "healthy_threshold": hc.healthy_threshold, "unhealthy_threshold": hc.unhealthy_threshold,
            "removal_min_s": lo, "removal_max_s": hi, "return_min_s": rlo, "return_max_s": rhi,
            "failing_until_removal": tl.failed_share_until_removal(),
            "reason": (f"{FAILURES[failure]}: removed {lo:.0f}-{hi:.0f} s after the failure "
                       f"({hc.unhealthy_threshold} failed checks {hc.interval_s} s apart), back "
                       f"{rlo:.0f}-{rhi:.0f} s after the fix ({hc.healthy_threshold} passing checks)"),
        })
    return pd.DataFrame(rows)
