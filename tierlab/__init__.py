"""tierlab — one web request through the classic AWS 3-tier application, layer by layer.

    import tierlab as tl
    topo = tl.load("seed")                 # a frozen Topology from data/topologies/seed.yaml
    trace = tl.journey(topo)               # the Create Account journey, every (ALB node, target)
    trace.frame()                          # every check, with a reason
    tl.journey(topo.switch_off("database-sg-in-5432")).summary()
"""

from __future__ import annotations

from typing import Any

from .errors import (
    CheckFailed,
    DatabaseError,
    ParameterError,
    Problem,
    RuleError,
    ScenarioError,
    TierlabError,
    TopologyError,
    ValidationError,
    explain,
    install_ipython_handler,
)
from .network import dns, edge, slips
from .views import edge_charts
from .network.evaluate import Check, FlowResult, evaluate_flow
from .views.diagram import Diagram, diagram
from .views.graphviz_engine import find_engine as layout_engine
from .request.journey import OSES, SEED_CHECKPOINTS, STEP_IDS, STEPS, PairResult, Step, Trace, journey
from .sim.latency import PhysicsParams, latency_model, seed_vs_physics
from .network.loader import apply_patch, load, load_dict, read_yaml, topology_names
from .network.importers import Imported, ImportNote, from_aws, from_terraform
from .network.exporters import terraform_diff, to_aws_cli, to_terraform, write_terraform
from .request.audit import Audit, Finding, audit
from .paths import data_dir, data_path
from .network.reachability import Reach, can_reach, outbound, session_manager, what_opens, who_can_reach, who_can_reach_compare
from .network.rules import EPHEMERAL, NaclRule, NetworkAcl, PortRange, SecurityGroup, SgRule, nacl_decide, safe_id
from .sim.timelines import failover_timeline, health_check_settings, health_check_timeline, pool_timeline
from .sim.autoscaling import (InstanceFailure, RollingDeploy, SetDesired, ZoneOutage, auto_scaling_timeline,
                              instance_failure_timeline, rolling_deploy_timeline, zone_outage_timeline)
from .network.autoscaling import AutoScalingGroup, LaunchTemplate
from .network.topology import Endpoint, Instance, Topology
from .network.gateways import NAT_COST, EndpointEni, NatGateway, PrefixList, VpcEndpoint
from .network.tracking import connection_tracking
from .course.handout import handout  # tl.handout(dir): the learners' edition, no solutions
from .course.progress import progress  # tl.progress(): the learner's own progress
from .course.tables import table as show  # tl.show(frame): long text folded, no global option
from .course import cheatsheet, drills, exercises, lessons, primer, scenarios, syllabus, tables  # the course modules

__version__ = "0.1.0"

__all__ = [
    "CheckFailed", "DatabaseError", "ParameterError", "Problem", "RuleError", "ScenarioError", "TierlabError", "TopologyError",
    "ValidationError", "explain", "Check", "FlowResult", "evaluate_flow", "OSES", "SEED_CHECKPOINTS", "STEP_IDS", "STEPS",
    "PairResult", "Step", "Trace", "journey", "apply_patch", "load", "load_dict", "read_yaml", "topology_names",
    "data_dir", "data_path", "EPHEMERAL", "NaclRule", "NetworkAcl", "PortRange", "SecurityGroup", "SgRule",
    "nacl_decide", "safe_id", "Endpoint", "Instance", "Topology", "__version__",
    "AutoScalingGroup", "LaunchTemplate", "auto_scaling_timeline", "instance_failure_timeline",  # issue 13: Auto Scaling
    "zone_outage_timeline", "rolling_deploy_timeline", "InstanceFailure", "ZoneOutage", "RollingDeploy", "SetDesired",
    "PhysicsParams", "latency_model", "seed_vs_physics",
    "failover_timeline", "health_check_settings", "health_check_timeline", "pool_timeline", "Reach", "can_reach", "what_opens",
    "who_can_reach", "who_can_reach_compare", "dns", "edge", "edge_charts", "drills", "exercises", "lessons", "scenarios",
    "cheatsheet", "primer", "slips", "syllabus", "tables", "show",
    "Diagram", "diagram", "layout_engine", "lab_app", "db", "database", "charts",
    "connection_tracking", "linux",
    "from_terraform", "from_aws", "Imported", "ImportNote", "audit", "Audit", "Finding",  # issue 15
    "to_terraform", "write_terraform", "terraform_diff", "to_aws_cli",
    "handout", "progress",  # issue 14
    "NatGateway", "VpcEndpoint", "EndpointEni", "PrefixList", "NAT_COST", "outbound", "session_manager",  # issue 13
]

install_ipython_handler()

# Heavy parts load on first use: tl.lab_app (ipywidgets), tl.db and tl.database (SQLAlchemy),
# tl.charts (matplotlib).
_LAZY = {"lab_app": ("views.widgets", "lab_app"), "database": ("db", "database")}
_LAZY_MODULES = {"db": "db", "charts": "views.charts", "scaling_charts": "views.scaling_charts", "panels": "views.panels", "widgets": "views.widgets",
                 "latency": "sim.latency", "timelines": "sim.timelines", "tracking": "network.tracking",
                 "linux": "linux", "flowlogs": "request.flowlogs", "metrics": "sim.metrics",
                 "metric_charts": "views.metric_charts"}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f".{_LAZY_MODULES[name]}", __name__)
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'tierlab' has no attribute {name!r}")
