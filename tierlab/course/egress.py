"""The egress mistakes of ``data/scenarios/egress-mistakes.yaml`` as answers (issue 13: NAT, endpoints).

* ``load_mistakes()`` — the file, validated: each entry's topology (``seed-vpc`` patched, with its zone
  outage) and the question it asks.
* ``mistakes()`` — one row per mistake: what the evaluator answers (reaches, via, the first blocking
  check), what the file records, whether they agree, the symptom and the fix.

Pure: reads data, asks the evaluator (``can_reach``), returns a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError, TierlabError
from ..network.evaluate import FlowResult
from ..network import limits
from ..network.loader import apply_patch, load_dict, read_yaml
from ..network.reachability import Reach, can_reach
from ..network.topology import Topology
from ..paths import data_path
from .scenarios import check_keys, need, short_file

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Mistake", "load_mistakes", "mistakes", "answer"]

_KEYS = ("id", "mistake", "patch", "zones_down", "ask", "expect", "symptom", "fix")
_EXPECT = ("reaches", "via", "code", "component", "direction", "leg", "share")


@dataclass(frozen=True)
class Mistake:
    id: str
    mistake: str
    topology: Topology
    source: str
    destination: str
    port: int
    expect: dict[str, Any]
    symptom: str
    fix: str


def load_mistakes(name: str = "egress-mistakes") -> list[Mistake]:
    """Every entry of ``data/scenarios/<name>.yaml``, its topology built (ScenarioError naming file and key)."""
    path = data_path("scenarios", f"{name}.yaml")
    file = short_file(path)
    doc = check_keys(read_yaml(path), ("topology", "mistakes"), ("topology", "mistakes"), file=file, path="")
    base_name = need(doc, "topology", str, file=file, path="")
    raw = read_yaml(data_path("topologies", f"{base_name}.yaml"))
    items = doc["mistakes"]
    if not isinstance(items, list) or not items:
        raise ScenarioError("mistakes must be a non-empty list", "add '- id: ...' entries", file=file, path="mistakes")
    out = []
    for i, e in enumerate(items):
        p = f"mistakes[{i}]"
        e = check_keys(e, _KEYS, ("id", "mistake", "ask", "expect", "symptom", "fix"), file=file, path=p)
        ask = check_keys(e["ask"], ("source", "destination", "port"), ("source", "destination"), file=file, path=f"{p}.ask")
        expect = check_keys(e["expect"], _EXPECT, ("reaches",), file=file, path=f"{p}.expect")
        try:
            topo = load_dict(apply_patch(raw, list(e.get("patch") or [])), file=f"{file} {p}.patch")
            down = e.get("zones_down") or []
            topo = topo.with_zone_down(*down) if down else topo
        except (TierlabError, KeyError, IndexError, TypeError) as exc:
            msg = exc.message if isinstance(exc, TierlabError) else f"the patch does not apply ({exc!r})"
            raise ScenarioError(msg, "fix the patch's paths against data/topologies/seed-vpc.yaml", file=file,
                                path=f"{p}.patch") from None
        port = ask.get("port", 443)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ScenarioError(f"port must be a whole number 1-65535, got {limits._show(port)}", "e.g. port: 443",
                                file=file, path=f"{p}.ask.port")
        out.append(Mistake(id=str(e["id"]), mistake=str(e["mistake"]), topology=topo, source=str(ask["source"]),
                           destination=str(ask["destination"]), port=port, expect=dict(expect),
                           symptom=str(e["symptom"]).strip(), fix=str(e["fix"]).strip()))
    return out


def answer(m: Mistake) -> dict[str, Any]:
    """What the evaluator says about one mistake, in the file's ``expect`` terms."""
    r: Reach = can_reach(m.topology, m.source, m.destination, m.port)
    f: FlowResult = r.flow
    route = next((c for c in f.checks if c.kind == "route" and c.leg == "request" and not c.at), None)
    via = ""
    if route is not None and route.rule_ids:
        table, _, dest = route.rule_ids[0].partition(":")
        rt = m.topology.routes_of(table)
        via = "local" if dest == "local" else next(
            (x.target for x in rt.routes if (x.prefix_list or str(x.destination)) == dest), "")
    b = f.blocking[0] if f.blocking else None
    return {"reaches": r.ok, "via": via, "code": (b.code or "") if b else "", "component": b.component if b else "",
            "direction": b.direction if b else "", "leg": b.leg if b else "", "share": round(r.share, 4),
            "reason": r.reason}


def mistakes(name: str = "egress-mistakes") -> "pd.DataFrame":
    """One row per mistake: the evaluator's answer beside the recorded one (``agrees``), the symptom and the fix."""
    import pandas as pd

    rows = []
    for m in load_mistakes(name):
        got = answer(m)
        agrees = all(got[k] == v if k != "share" else abs(got[k] - float(v)) < 1e-3 for k, v in m.expect.items())
        rows.append({"id": m.id, "mistake": m.mistake, "ask": f"{m.source} -> {m.destination}:{m.port}",
                     "reaches": got["reaches"], "via": got["via"], "code": got["code"], "blocked_at": got["component"],
                     "agrees": agrees, "symptom": m.symptom, "fix": m.fix, "reason": got["reason"]})
    return pd.DataFrame(rows)
