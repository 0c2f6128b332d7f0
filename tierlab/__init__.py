"""tierlab — one web request through the classic AWS 3-tier application, layer by layer.

    import tierlab as tl
    topo = tl.load("seed")                 # a frozen Topology from data/topologies/seed.yaml
    trace = tl.journey(topo)               # the Create Account journey, every (ALB node, target)
    trace.frame()                          # every check, with a reason
    tl.journey(topo.switch_off("database-sg-in-5432")).summary()
"""

from __future__ import annotations

from .errors import (
    CheckFailed,
    DatabaseError,
    Problem,
    RuleError,
    ScenarioError,
    TierlabError,
    TopologyError,
    ValidationError,
    explain,
    install_ipython_handler,
)
from .evaluate import Check, FlowResult, evaluate_flow
from .journey import OSES, SEED_CHECKPOINTS, STEP_IDS, STEPS, PairResult, Step, Trace, journey
from .latency import PhysicsParams, latency_model, seed_vs_physics
from .loader import apply_patch, load, load_dict, read_yaml, topology_names
from .paths import data_dir, data_path
from .reachability import Reach, can_reach, what_opens, who_can_reach
from .rules import EPHEMERAL, NaclRule, NetworkAcl, PortRange, SecurityGroup, SgRule, nacl_decide, safe_id
from .timelines import failover_timeline, health_check_settings, health_check_timeline, pool_timeline
from .topology import Endpoint, Topology

__version__ = "0.1.0"

__all__ = [
    "CheckFailed", "DatabaseError", "Problem", "RuleError", "ScenarioError", "TierlabError", "TopologyError",
    "ValidationError", "explain", "Check", "FlowResult", "evaluate_flow", "OSES", "SEED_CHECKPOINTS", "STEP_IDS", "STEPS",
    "PairResult", "Step", "Trace", "journey", "apply_patch", "load", "load_dict", "read_yaml", "topology_names",
    "data_dir", "data_path", "EPHEMERAL", "NaclRule", "NetworkAcl", "PortRange", "SecurityGroup", "SgRule",
    "nacl_decide", "safe_id", "Endpoint", "Topology", "__version__",
    "PhysicsParams", "latency_model", "seed_vs_physics",
    "failover_timeline", "health_check_settings", "health_check_timeline", "pool_timeline", "Reach", "can_reach", "what_opens",
    "who_can_reach",
]

install_ipython_handler()


def __getattr__(name: str):
    """``tl.db`` (the database tier) and ``tl.database()`` load on first use: SQLAlchemy and
    pandas stay out of ``import tierlab`` until a notebook asks for a database."""
    if name == "db":
        import importlib

        return importlib.import_module(".db", __name__)
    if name == "database":
        from .db import database

        return database
    raise AttributeError(f"module 'tierlab' has no attribute {name!r}")
