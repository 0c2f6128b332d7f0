"""The seed's "Create Account" journey, evaluated on a topology.

``journey(topology)`` walks one POST /api/users through every layer for every
(ALB node, target) pair: DNS, the browser's connection to each ALB node, each node's
connection to each API server (also its health check, unless that uses another port), each
server's connection to the database, and every reply. It reports every blocking point at
once, where each pair's packet stops (``PairResult.reached``; later steps are not reached), and
what the browser gets for each pair: a timeout in front of the ALB, an HTTP 502/503/504 from the
ALB behind it (and after how long), a 500 from the app when the database refuses.

The package: :mod:`.steps` (the step catalogue), :mod:`.stops` (where the packet stops),
:mod:`.symptoms` (what the browser gets), :mod:`.trace` (the answer), :mod:`.frames` (its tables).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from ..errors import TopologyError
from ..network.evaluate import Check, FlowResult, evaluate_flow
from ..network.rules import EPHEMERAL
from ..network.topology import Endpoint, Topology, require_topology
from .steps import OSES, SEED_CHECKPOINTS, STEP_IDS, STEPS, Step
from .stops import StepResult
from .symptoms import Outcome, outcome_of
from .outcomes import RequestOutcome
from .pair import PairResult
from .trace import Block, Trace

__all__ = ["Step", "STEPS", "STEP_IDS", "PairResult", "Trace", "Block", "StepResult", "Outcome", "RequestOutcome",
           "journey", "SEED_CHECKPOINTS", "OSES"]


# ---------------------------------------------------------------------------- evaluation


def _dns_check(topo: Topology) -> Check:
    host = topo.api_host
    rec = next((r for r in topo.records if r.name == host and not r.private), None)
    pkt = f"DNS query {host} A"
    if rec is None:
        return Check(flow="dns", leg="request", kind="dns", component="route53", direction="", src="internet",
                     dst=host, packet=pkt, verdict="deny", share=0.0, rule_ids=(),
                     reason=f"no public record for {host}: the browser gets NXDOMAIN and never sends the request",
                     code="DNS_RESOLUTION_FAILED", step="dns")
    if rec.alias and rec.target == topo.alb.dns_name:
        ips = ", ".join(str(n.public_ip) for n in topo.alb.nodes)
        return Check(flow="dns", leg="request", kind="dns", component="route53", direction="", src="internet",
                     dst=host, packet=pkt, verdict="allow", share=1.0,
                     rule_ids=(f"record:{rec.name}",),
                     reason=f"{host} is an alias A record for {rec.target}: Route 53 answers with the ALB nodes' "
                     f"addresses {ips} (TTL {rec.ttl_s} s, the ELB's own)", step="dns")
    if rec.type == "CNAME" and rec.target == topo.alb.dns_name:
        return Check(flow="dns", leg="request", kind="dns", component="route53", direction="", src="internet",
                     dst=host, packet=pkt, verdict="allow", share=1.0, rule_ids=(f"record:{rec.name}",),
                     reason=f"{host} is a CNAME to {rec.target}, which resolves to the ALB nodes (one extra lookup)", step="dns")
    return Check(flow="dns", leg="request", kind="dns", component="route53", direction="", src="internet", dst=host,
                 packet=pkt, verdict="deny", share=0.0, rule_ids=(f"record:{rec.name}",),
                 reason=f"{host} points at {rec.target}, not at the load balancer {topo.alb.dns_name}",
                 code="DNS_RESOLUTION_FAILED", step="dns")


def _forward_check(topo: Topology, port: int) -> Check | None:
    """Does the HTTPS listener forward to the target group (or only redirect)?"""
    lb = topo.alb
    listener = next((l for l in lb.listeners if l.port == port), None)
    if listener is None:  # the flow's listener check refuses the connection
        return None
    pkt = f"POST /api/users on listener {port}"
    if listener.action != "forward":
        return Check(flow="alb", leg="request", kind="forward", component=lb.name, direction="", src="internet",
                     dst=lb.name, packet=pkt, verdict="deny", share=0.0,
                     rule_ids=(f"listener:{port}",),
                     reason=f"the {port} listener only redirects (to {listener.redirect_port}), so every POST gets a 301 and "
                     "never reaches a server: a listener must forward to the target group",
                     code="ELBV2_LISTENER_REQUIRES_TG_ACCEPT")
    return Check(flow="alb", leg="request", kind="forward", component=lb.name, direction="", src="internet",
                 dst=lb.name, packet=pkt, verdict="allow", share=1.0, rule_ids=(f"listener:{port}",),
                 reason=f"the {port} listener forwards to {lb.target_group} on port {lb.target_port}")


def _no_targets(topo: Topology) -> tuple[Check, ...]:
    lb = topo.alb
    if lb.targets:
        return ()
    return (Check(flow="alb", leg="request", kind="forward", component=lb.target_group, direction="", src=lb.name,
                  dst=lb.target_group,
                  packet=f"POST /api/users to {lb.target_group}", verdict="deny", share=0.0, rule_ids=(f"target-group:{lb.target_group}",),
                  reason=f"the target group {lb.target_group} has no registered targets: the ALB answers "
                  "503 Service Unavailable", code="ELBV2_LISTENER_HAS_NO_TG", step="alb-process"),)


def _fronts(topo: Topology, client: Endpoint) -> dict[str, FlowResult]:
    """Each ALB node's flow from the browser, with the HTTPS listener's forward check."""
    port_in = 443  # the seed's API is HTTPS: the browser always calls https://api.myapp.com
    forward = _forward_check(topo, port_in)
    out = {}
    for n in topo.alb.nodes:
        f = evaluate_flow(topo, client, topo.endpoint(n.name), port_in, name=f"internet->{n.name}",
                          purpose="HTTPS from the browser")
        out[n.name] = replace(f, checks=f.checks + (replace(forward, flow=f.name),)) if forward is not None else f
    return out


def _backs(topo: Topology, node: str) -> tuple[dict[str, FlowResult], dict[str, bool]]:
    """One ALB node's flows to each target, and which targets its health checks find healthy."""
    lb = topo.alb
    node_ep = topo.endpoint(node)
    hc_port = lb.health_check.port
    backs = {t: evaluate_flow(topo, node_ep, topo.endpoint(t), lb.target_port, name=f"{node}->{t}",
                              purpose="requests" + (" and health checks" if hc_port == lb.target_port else "")
                              + " from the ALB") for t in lb.targets}
    checks_of = backs if hc_port == lb.target_port else {
        t: evaluate_flow(topo, node_ep, topo.endpoint(t), hc_port, name=f"{node}->{t}:health",
                         purpose="health checks from the ALB") for t in lb.targets}
    return backs, {t: b.share >= 0.5 and not b.refused for t, b in checks_of.items()}


def journey(topology: Topology, *, os: str = "linux", database: Literal["primary", "standby"] = "primary") -> Trace:
    """Evaluate the Create Account journey for every (ALB node, target) pair.

    ``os`` is the internet user's OS (it sets the ephemeral port range the NACLs must admit);
    ``database`` picks the instance the endpoint points at (``standby`` = after a failover).
    """
    topology = require_topology(topology, "journey")
    if os not in EPHEMERAL or os == "elb":
        raise TopologyError(f"unknown client OS {os!r}", f"use one of {', '.join(OSES)}")
    topo = topology
    db_inst = topo.database.instance(database)
    if db_inst is None:
        raise TopologyError(f"the database has no {database} instance",
                            "a single-AZ database has only a primary; use database='primary'")
    dns = _dns_check(topo)
    client = Endpoint(name="internet", kind="internet", ip=topo.client_ip, subnet=None, sgs=(), listens=(),
                      ephemeral=EPHEMERAL[os], label=f"internet user ({os})")
    db_ep = topo.endpoint(db_inst.name)
    lb = topo.alb
    fronts = _fronts(topo, client)
    dbs = {t: evaluate_flow(topo, topo.endpoint(t), db_ep, topo.database.port, name=f"{t}->{db_inst.name}",
                            purpose="PostgreSQL") for t in lb.targets}
    pairs: list[PairResult] = []
    for n in lb.nodes:
        backs, healthy = _backs(topo, n.name)
        fail_open = not any(healthy.values())
        for t in lb.targets:
            outcome = outcome_of(topo, dns=dns, front=fronts[n.name], back=backs[t], db=dbs[t], healthy=healthy[t],
                                 fail_open=fail_open, os=os)
            pairs.append(PairResult(node=n.name, target=t, database=db_inst.name, front=fronts[n.name],
                                    back=backs[t], db=dbs[t], healthy=healthy[t], chosen=healthy[t] or fail_open,
                                    outcome=outcome, dns=dns))
    return Trace(topo, os, database, dns, tuple(pairs), _no_targets(topo))
