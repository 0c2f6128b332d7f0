"""The security-checkpoints lab (notebook 07) as answers: every table is a DataFrame with a ``reason``.

* ``checkpoints_off()`` — each of the seed's 11 checkpoints switched off in turn (driven by
  ``data/scenarios/checkpoints-off.yaml``): where the journey breaks, what the browser sees, the fix.
* ``rules_off(topo, ids)`` — the same question for any rules.
* ``reply_path(topo)`` — stateful vs stateless: which checks a reply meets and which rules it needs.
* ``ephemeral_coverage(ports)`` / ``ephemeral_by_os(topo)`` — ephemeral ports by sender, with
  partial shares when a rule covers part of a range.
* ``seed_table_issues()`` / ``step_order()`` — where the seed's checkpoint table is imprecise,
  each point backed by evidence the evaluator computes.

Pure: reads data, asks the evaluator, returns tables. No widgets, no drawing.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import ScenarioError
from ..request.journey import SEED_CHECKPOINTS, STEPS, Trace, journey
from ..network.loader import load, read_yaml
from ..network.reachability import can_reach
from ..paths import data_path
from ..network.rules import EPHEMERAL, NaclRule, PortRange
from .scenarios import check_keys, need, short_file, topology_for
from ..network.topology import Topology


if TYPE_CHECKING:  # pandas is imported lazily where a table is built
    import pandas as pd

__all__ = [
    "SENDERS", "load_checkpoint_scenarios", "rules_off", "checkpoints_off", "reply_path",
    "ephemeral_coverage", "ephemeral_by_os", "seed_table_issues", "step_order", "browser_sees", "rule_order",
    "RUN_TAG", "run_email",
]

#: Who opens a connection, and the ephemeral (source) port range its replies come back to.
SENDERS: tuple[tuple[str, str], ...] = (
    ("ALB node (ELB, NAT, Lambda)", "elb"),
    ("Linux client", "linux"),
    ("Windows client", "windows"),
    ("macOS client", "macos"),
)

_SCENARIO_KEYS = ("checkpoint", "rule", "component", "direction", "code", "step", "pairs_broken", "status",
                  "symptom", "lesson")
#: Each scenario field's type (``status: null`` is a timeout: no HTTP status reaches the browser).
_SCENARIO_TYPES: dict[str, type | tuple[type, ...]] = {
    "checkpoint": int, "rule": str, "component": str, "direction": str, "code": str, "step": str,
    "pairs_broken": int, "status": (int, type(None)), "symptom": str, "lesson": str}


def load_checkpoint_scenarios(name: str = "checkpoints-off") -> tuple[str, list[dict[str, Any]]]:
    """The scenario file ``data/scenarios/<name>.yaml``, validated: (topology name, scenarios)."""
    path = data_path("scenarios", f"{name}.yaml")
    file = short_file(path)
    doc = check_keys(read_yaml(path), ("topology", "scenarios"), ("topology", "scenarios"), file=file, path="")
    items = doc["scenarios"]
    if not isinstance(items, list) or not items:
        raise ScenarioError("scenarios must be a non-empty list", "add '- checkpoint: 1 ...' entries",
                            file=file, path="scenarios")
    out = []
    for i, sc in enumerate(items):
        entry = check_keys(sc, _SCENARIO_KEYS, _SCENARIO_KEYS, file=file, path=f"scenarios[{i}]")
        for key, kind in _SCENARIO_TYPES.items():
            need(entry, key, kind, file=file, path=f"scenarios[{i}]")
        out.append(entry)
    return str(need(doc, "topology", str, file=file, path="")), out


def browser_sees(trace: Trace) -> str:
    """What the broken pairs show the user: a timeout in front of the ALB, an HTTP status behind it."""
    seen = []
    for p in trace.pairs:
        if p.ok:
            continue
        text = "timeout" if p.status is None else f"HTTP {p.status}"
        if text not in seen:
            seen.append(text)
    return ", ".join(seen) if seen else "200 OK"


def rules_off(topo: Topology, rule_ids: Iterable[str], *, os: str = "linux",
              database: str = "primary") -> "pd.DataFrame":
    """Each rule switched off on its own: does the journey still work, where does it break *newly*
    (blocks already there before are not blamed on the rule), and does switching the rule back on
    restore the journey? One row per rule (DataFrame)."""
    import pandas as pd

    base = journey(topo, os=os, database=database)  # type: ignore[arg-type]
    known = {(b.component, b.direction, b.step, b.share, b.pairs) for b in base.blocks}
    rows = []
    for rid in rule_ids:
        trace = journey(topo.switch_off(rid), os=os, database=database)  # type: ignore[arg-type]
        new = [b for b in trace.blocks if (b.component, b.direction, b.step, b.share, b.pairs) not in known]
        changed = bool(new) or abs(trace.success_share - base.success_share) > 1e-9
        first = new[0] if new else (trace.blocks[0] if changed and trace.blocks else None)
        fixed = journey(topo.switch_off(rid).switch_on(rid), os=os, database=database).ok == base.ok  # type: ignore[arg-type]
        rows.append({
            "rule": rid, "ok": trace.ok, "success_share": round(trace.success_share, 4),
            "pairs_broken": sum(not p.ok for p in trace.pairs),
            "blocked_at": first.component if first else "", "direction": first.direction if first else "",
            "step": first.step if first else "", "code": first.code if first else "",
            "browser_sees": browser_sees(trace), "fix": f"switch_on({rid!r})", "fixed": fixed,
            "reason": first.reason if first else _unchanged_reason(base, rid),
        })
    return pd.DataFrame(rows)


def _unchanged_reason(base, rule_id: str) -> str:
    """Why switching a rule off changed nothing: it decided nothing, or another rule takes over."""
    consulted = any(rule_id in c.rule_ids for c in base.checks)
    if consulted:
        return (f"switching {rule_id} off changes nothing: the journey does use it, but with it off the next "
                f"matching rule allows the same traffic; success share stays {base.success_share:.0%}")
    return (f"switching {rule_id} off changes nothing: no check of the journey is decided by it; success share "
            f"stays {base.success_share:.0%}")


def checkpoints_off(topo: Topology | None = None, scenarios: str = "checkpoints-off") -> "pd.DataFrame":
    """Every seed checkpoint switched off in turn, on ``topo`` (default: the scenario file's
    topology). ``symptom`` is what the user gets; ``as_expected`` says whether the evaluator agrees
    with the scenario file on where it breaks, how many pairs, the status and the symptom;
    ``lesson`` is the file's explanation."""
    import pandas as pd

    name, items = load_checkpoint_scenarios(scenarios)
    topo = topo if topo is not None else topology_for(name, file=f"data/scenarios/{scenarios}.yaml", path="topology")
    seed_says = {num: f"{layer}: {text}" for num, layer, text, _ in SEED_CHECKPOINTS}
    answer = rules_off(topo, [sc["rule"] for sc in items])
    rows = []
    for sc, (_, r) in zip(items, answer.iterrows()):
        broken = journey(topo.switch_off(sc["rule"]))
        hit = [b for b in broken.blocks if b.component == sc["component"] and b.direction == sc["direction"]]
        bad = [p for p in broken.pairs if not p.ok]
        statuses = {p.status for p in bad}
        expected = (bool(hit) and hit[0].code == sc["code"] and hit[0].step == sc["step"]
                    and r["pairs_broken"] == sc["pairs_broken"] and statuses == {sc["status"]}
                    and all(sc["symptom"] in p.symptom for p in bad))
        rows.append({
            "checkpoint": sc["checkpoint"], "seed_says": seed_says.get(sc["checkpoint"], ""), "rule": sc["rule"],
            "blocked_at": r["blocked_at"], "direction": r["direction"], "step": r["step"], "code": r["code"],
            "pairs_broken": r["pairs_broken"], "success_share": r["success_share"],
            "browser_sees": r["browser_sees"], "symptom": bad[0].symptom.split(" — ")[0] if bad else "",
            "fix": r["fix"], "fixed": r["fixed"], "as_expected": expected,
            "lesson": sc["lesson"], "reason": r["reason"],
        })
    return pd.DataFrame(rows)


def reply_path(topo: Topology, pair: str | None = None, *, leg_of: str = "db-reply") -> "pd.DataFrame":
    """The checks a reply meets on one pair (default: the first) at ``leg_of`` (``db-reply``,
    ``alb-receive`` or ``alb-reply-out``): security groups pass it as stateful; every NACL needs
    its own rule. ``needed`` is computed: does switching that rule off break the pair?"""
    import pandas as pd

    trace = journey(topo)
    p = next((x for x in trace.pairs if x.name == pair), trace.pairs[0])
    tagged = {r.id: r.seed_checkpoint for r in topo.rules()}
    rows = []
    for c in p.checks:
        if c.step != leg_of or c.kind not in ("sg", "nacl"):
            continue
        rids = [r for r in c.rule_ids if r in tagged and not r.endswith("-star")]
        if rids:
            after = journey(topo.switch_off(*rids)).pair(p.node, p.target)
            needed = not after.ok
        else:
            needed = False
        rows.append({
            "step": c.step, "kind": c.kind, "component": c.component, "direction": c.direction,
            "verdict": c.verdict, "rule": c.rule, "needed": needed,
            "seed_checkpoint": tagged.get(rids[0]) if rids else None, "reason": c.reason,
        })
    df = pd.DataFrame(rows)
    if not df.empty:
        df["seed_checkpoint"] = df["seed_checkpoint"].astype("Int64")
    return df


def ephemeral_coverage(ports: object) -> "pd.DataFrame":
    """How much of each sender's ephemeral range a rule on ``ports`` covers (a NACL rule that
    covers part of a range lets some connections through and drops the rest)."""
    import pandas as pd

    rng = PortRange.parse(ports)
    rows = []
    for label, key in SENDERS:
        eph = EPHEMERAL[key]
        hit = eph.intersect(rng)
        covered = hit.size if hit else 0
        share = covered / eph.size
        verdict = "allow" if share == 1 else ("deny" if share == 0 else "partial")
        missing = ", ".join(str(m) for m in (eph.minus(rng) if hit else [eph]))
        reason = (f"{rng} covers all of {eph}" if verdict == "allow" else
                  f"{rng} covers none of {eph}: every reply is dropped" if verdict == "deny" else
                  f"{rng} covers {covered} of {eph.size} ports of {eph}: {share * 100:.0f}% of connections "
                  f"get their reply; those that picked {missing} time out")
        rows.append({"sender": label, "os": key, "ephemeral": str(eph), "ports_covered": covered,
                     "share": round(share, 4), "verdict": verdict, "reason": reason})
    return pd.DataFrame(rows)


def ephemeral_by_os(topo: Topology, *, database: str = "primary") -> "pd.DataFrame":
    """The journey for each client OS: the same rules can work for one and fail for another."""
    import pandas as pd

    rows = []
    for label, key in SENDERS:
        if key == "elb":
            continue
        tr = journey(topo, os=key, database=database)  # type: ignore[arg-type]
        b = tr.blocks[0] if tr.blocks else None
        rows.append({"os": key, "ephemeral": str(EPHEMERAL[key]), "ok": tr.ok,
                     "success_share": round(tr.success_share, 4),
                     "blocked_at": f"{b.component} {b.direction}" if b else "",
                     "share_passing": round(b.share, 4) if b else 1.0,
                     "reason": b.reason if b else tr.summary()})
    return pd.DataFrame(rows)


def step_order() -> "pd.DataFrame":
    """The journey's steps in the order packets meet them, next to the seed's numbers; rows
    where the seed's number runs backwards are flagged."""
    import pandas as pd

    rows, last = [], 0
    for pos, s in enumerate(STEPS, start=1):
        backwards = s.seed_step is not None and s.seed_step < last
        if s.seed_step is not None:
            last = max(last, s.seed_step)
        rows.append({"position": pos, "step": s.id, "seed_step": s.seed_step, "out_of_seed_order": backwards,
                     "reason": (f"{s.title} — the seed numbers it {s.seed_step}, before the step above, but a "
                                "packet leaving an instance meets its security group (on the ENI) before the "
                                "subnet's NACL" if backwards else s.title)})
    df = pd.DataFrame(rows)
    df["seed_step"] = df["seed_step"].astype("Int64")
    return df


def _reply_rules_missing(topo: Topology) -> list[str]:
    """Rules the replies of the journey really use that the seed's 11-row table does not list."""
    used: list[str] = []
    checks = journey(topo).checks + journey(topo, database="standby").checks
    for c in checks:
        if c.leg == "reply" and c.kind == "nacl" and c.passed:
            for rid in c.rule_ids:
                r = topo.rule(rid)
                if isinstance(r, NaclRule) and not r.seed_checkpoint and rid not in used:
                    used.append(rid)
    return used


def seed_table_issues() -> "pd.DataFrame":
    """Where the seed's Section 4 table is imprecise, each point with evidence from the evaluator."""
    import pandas as pd

    seed, written = load("seed"), load("seed-as-written")
    cps = journey(written).seed_checkpoints().set_index("checkpoint")
    no_path = [int(n) for n in cps.index[cps["verdict"] == "on no path"]]
    base = journey(written).success_share
    off_in = journey(written.switch_off("nacl-private-db-in-110")).success_share
    off_out = journey(seed.switch_off("nacl-private-db-out-100")).success_share
    missing = _reply_rules_missing(seed)
    order = step_order()
    back = order[order["out_of_seed_order"]]
    return pd.DataFrame([
        {"issue": "checkpoints 7 and 10 sit on no path",
         "seed_says": "NACL-App Outbound, NACL-DB Inbound: allow ephemeral response (no source or destination)",
         "aws_does": "no reply goes to or enters the DB subnet: the database only answers, it never connects out",
         "evidence": f"on seed-as-written, checkpoints on no path: {no_path}",
         "reason": cps.loc[10, "reason"]},
        {"issue": "the seed puts reply rules inbound",
         "seed_says": "DB NACL inbound #110 1024-65535 'for return traffic'",
         "aws_does": "a reply leaves the responder's subnet outbound and enters the requester's inbound",
         "evidence": (f"seed-as-written: {base:.0%} succeed with #110 in, {off_in:.0%} with it off (no change); "
                      f"seed: switching off the outbound nacl-private-db-out-100 leaves {off_out:.0%}"),
         "reason": "nacl-private-db-in-110 is never consulted; nacl-private-db-out-100 carries every database reply"},
        {"issue": "the table misses reply rules AWS needs",
         "seed_says": "11 checkpoints",
         "aws_does": "every NACL a reply crosses needs a rule for the requester's ephemeral ports",
         "evidence": f"reply rules used on seed with no seed checkpoint: {', '.join(missing)}",
         "reason": "NACLs are stateless: the browser's replies (public outbound), the database's replies "
                   "(app inbound) and the second AZ's replies all need rules the table never lists"},
        {"issue": "step 11 before step 12",
         "seed_says": "step 11 app NACL outbound, then step 12 web-sg outbound",
         "aws_does": "outbound, the ENI's security group decides before the subnet's NACL",
         "evidence": "journey order: " + ", ".join(f"{r.step} (seed {r.seed_step})" for r in
                                                   order[order["step"].isin(["web-sg-out", "app-nacl-out"])].itertuples()),
         "reason": back.iloc[0]["reason"] if len(back) else "no step out of order"},
    ])


def rule_order(topo: Topology, *, nacl: str = "nacl-private-db", direction: str = "inbound", ports: str = "5432",
               cidr: str = "10.0.3.0/24", numbers: tuple[int, ...] = (90, 110), src: str = "node-api-2",
               dst: str = "rds-primary", port: int = 5432) -> "pd.DataFrame":
    """The same DENY added to ``nacl`` at each of ``numbers``: a NACL reads its rules lowest number first and the
    first match decides, so the DENY wins below the ALLOW and is never reached above it. One row per number: the
    rules in the order the NACL reads them, which rule decided ``src``'s packet, and whether it gets through."""
    import pandas as pd

    rows = []
    for n in numbers:
        t = topo.add_nacl_rule(nacl, direction, number=n, action="deny", ports=ports, cidr=cidr)
        r = t.nacl(nacl)
        order = ", ".join(f"#{x.number} {x.action.upper()} {x.ports} {x.cidr}" for x in r.ordered(direction))  # type: ignore[arg-type]
        reach = can_reach(t, src, dst, port)
        first = next((c for c in reach.flow.checks if c.component == nacl and c.leg == "request"), None)
        decided = ", ".join(first.rule_ids) if first else "(not met)"
        rows.append({"deny_number": n, "rules_read_in_order": order + ", * DENY", "decided_by": decided,
                     "reaches": reach.ok,
                     "reason": first.reason if first else f"{src}'s packet never meets {nacl}"})
    return pd.DataFrame(rows)


#: One tag per Python process: emails made with :func:`run_email` are new on every run of a notebook.
RUN_TAG = secrets.token_hex(3)


def run_email(name: str) -> str:
    """An email that no earlier run used (``john.1a2b3c@example.com``), so a notebook that inserts users runs
    again on the same database, or on a class server many learners share, without colliding with itself."""
    return f"{name}.{RUN_TAG}@example.com"
