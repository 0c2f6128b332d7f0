"""Availability over time: ALB health checks, RDS Multi-AZ failover, the pool across a failover.

Every timeline reads its settings from the loaded topology (``topo.alb.health_check``,
``topo.database`` and ``topo.records``), never from constants, and returns an object with
``.frame()`` (a DataFrame over simulated time, every row with a ``reason``)::

    hc = health_check_timeline(topo, failure="crash", t0_s=10)          # seed settings
    hc = health_check_timeline(topo, settings="aws-default", failure="host-down")
    hc.frame()        # t_s, failing_share, nodes_routing, status, reason
    hc.checks()       # every health check each ALB node made, with its result
    hc.summary()      # removal time per node, the analytic range, requests failed, return
    health_check_settings(topo)   # seed settings vs AWS defaults, side by side

    fo = failover_timeline(topo)        # DNS client, hard-coded IP, single-AZ
    asg = zone_outage_timeline(tl.load("seed-asg"))   # Auto Scaling: see tierlab.sim.autoscaling
    pl = pool_timeline(topo, pre_ping=False)

Failure kinds for the health-check timeline:
  ``crash``           the Node.js process died: checks and requests are refused at once (502)
  ``host-down``       the host is dead or firewalled: each check waits for its timeout, requests
                      hang until the ALB's connect timeout (504)
  ``db-unreachable``  the server cannot reach its database; the shallow ``/health`` passes, so
                      the target is never removed (the seed's "missing health check" in its
                      real-world form)
  ``check-only``      only the health check fails (a broken /health): requests would succeed;
                      with every target failing, the ALB fails open and keeps serving

The parts: ``health`` (the health-check state machine, a pure function of its settings and
events, and its timeline), ``failover`` (RDS failover and the pool across it). This module keeps
every name importable from one place.

Pure model: pandas only; whether the standby is reachable comes from ``tierlab.request.journey``.
"""

from __future__ import annotations

from .autoscaling import (AutoScalingTimeline, auto_scaling_timeline, instance_failure_timeline,
                          rolling_deploy_timeline, zone_outage_timeline)
from .failover import FailoverTimeline, PoolTimeline, failover_timeline, pool_timeline
from .health import (AWS_DEFAULT_HEALTH_CHECK, CHECKS, FAILURES, CheckEvent, HealthCheckTimeline, HealthState,
                     health_check_events, health_check_settings, health_check_timeline, next_state,
                     removal_delay_s, removal_window_s, resolve_health_check, return_window_s, target_checks)

__all__ = [
    "AWS_DEFAULT_HEALTH_CHECK",
    "FAILURES",
    "CHECKS",
    "CheckEvent",
    "HealthState",
    "HealthCheckTimeline",
    "FailoverTimeline",
    "PoolTimeline",
    "health_check_timeline",
    "health_check_events",
    "health_check_settings",
    "next_state",
    "target_checks",
    "removal_window_s",
    "removal_delay_s",
    "return_window_s",
    "resolve_health_check",
    "failover_timeline",
    "pool_timeline",
    "AutoScalingTimeline",
    "auto_scaling_timeline",
    "instance_failure_timeline",
    "zone_outage_timeline",
    "rolling_deploy_timeline",
]
