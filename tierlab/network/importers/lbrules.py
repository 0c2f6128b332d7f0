"""Listener rules (``aws_lb_listener_rule``): which action the journey's request meets.

An ALB evaluates a listener's rules lowest priority first; the first rule whose conditions all
match decides, else the listener's default action (AWS, "Listener rules for your Application
Load Balancer"). Within one condition any value may match; path and host patterns are
case-sensitive and case-insensitive respectively, ``*`` matches any run of characters and ``?``
exactly one. The journey's request is ``POST /api/users`` to the API host (the Route 53 names
that alias the load balancer). A condition on headers, query strings or the source address
cannot be decided for a browser tierlab does not know: such a rule is taken as not matching,
and the note says so, because it may change the verdict.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .hclexpr import Unknown

if TYPE_CHECKING:
    from .build import Builder
    from .terraform import Resource

__all__ = ["effective_action", "JOURNEY_METHOD", "JOURNEY_PATH"]

JOURNEY_METHOD = "POST"
JOURNEY_PATH = "/api/users"


def _pattern(values: list[str], text: str, *, case: bool) -> bool:
    for v in values:
        rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in v)
        if re.fullmatch(rx, text, 0 if case else re.IGNORECASE):
            return True
    return False


def _values(block: Any) -> list[str] | None:
    """The ``values`` of a condition block (``path_pattern { values = [...] }``); None if unknown."""
    blocks = block if isinstance(block, list) else [block]
    out: list[str] = []
    for b in blocks:
        if not isinstance(b, dict):
            continue
        vals = b.get("values")
        if isinstance(vals, Unknown) or (isinstance(vals, list) and any(isinstance(x, Unknown) for x in vals)):
            return None
        out += [str(x) for x in vals or [] if isinstance(x, (str, int))]
    return out


def _matches(cond: dict[str, Any], hosts: list[str]) -> tuple[bool | None, str]:
    """Does one condition block match the journey's request? (True/False, or None: cannot tell offline)."""
    for key, block in cond.items():
        if block in (None, [], {}):
            continue
        if key == "path_pattern":
            vals = _values(block)
            if vals is None:
                return None, "the path patterns are not known offline"
            if not _pattern(vals, JOURNEY_PATH, case=True):
                return False, f"path {JOURNEY_PATH} is not {' or '.join(vals)}"
        elif key == "host_header":
            vals = _values(block)
            if vals is None:
                return None, "the host names are not known offline"
            if not any(_pattern(vals, h, case=False) for h in hosts):
                return False, f"host {hosts[0] if hosts else '?'} is not {' or '.join(vals)}"
        elif key == "http_request_method":
            vals = _values(block)
            if vals is None:
                return None, "the methods are not known offline"
            if JOURNEY_METHOD not in [v.upper() for v in vals]:
                return False, f"{JOURNEY_METHOD} is not {' or '.join(vals)}"
        elif key == "source_ip":
            vals = _values(block)
            if vals is None or not any(v in ("0.0.0.0/0", "::/0") for v in vals):
                return None, "a source-address condition: the learner's browser address is not known"
        elif key in ("http_header", "query_string"):
            return None, f"a {key.replace('_', ' ')} condition: what the browser sends is not known offline"
        else:
            return None, f"a {key} condition is not one tierlab reads"
    return True, "every condition matches"


def _hosts(b: "Builder", lb: "Resource") -> list[str]:
    """The names Route 53 aliases to this load balancer (else the importer's assumed api.example.com)."""
    out = []
    zones = {z.address: str(z.attrs.get("name", "")).rstrip(".") for z in b.of("aws_route53_zone")}
    for r in b.of("aws_route53_record"):
        alias = [a for a in b.listify(r.attrs.get("alias")) if isinstance(a, dict)]
        if alias and b.ref(alias[0].get("name"), "aws_lb", "aws_alb") is lb and isinstance(r.attrs.get("name"), str):
            name = r.attrs["name"].rstrip(".")
            z = b.ref(r.attrs.get("zone_id"), "aws_route53_zone")
            zone = zones.get(z.address, "") if z is not None else ""
            out.append(name if not zone or name.endswith(zone) else f"{name}.{zone}")
    return out or ["api.example.com"]


def _terminal(actions: list[Any]) -> dict[str, Any]:
    """The action that answers (the last by ``order``; authenticate-* actions come before it)."""
    acts = [a for a in actions if isinstance(a, dict)]
    acts.sort(key=lambda a: int(a["order"]) if isinstance(a.get("order"), int) else 50000)
    final = [a for a in acts if not str(a.get("type", "")).startswith("authenticate")]
    return final[-1] if final else (acts[-1] if acts else {})


def effective_action(b: "Builder", lb: "Resource", listener: "Resource") -> tuple[dict[str, Any], "Resource", str]:
    """The action of ``listener`` that the journey's request meets, the resource it comes from, its attribute."""
    rules = [r for r in b.of("aws_lb_listener_rule", "aws_alb_listener_rule")
             if b.ref(r.attrs.get("listener_arn"), "aws_lb_listener", "aws_alb_listener") is listener]
    default = _terminal(b.listify(listener.attrs.get("default_action")))
    if not rules:
        return default, listener, "default_action"

    def prio(r: "Resource") -> int:
        p = r.attrs.get("priority")
        return p if isinstance(p, int) and not isinstance(p, bool) else 50001  # unset: AWS gives the next free one

    hosts = _hosts(b, lb)
    hit: "Resource | None" = None
    rows = b.extras.setdefault("listener_rules", [])
    for r in sorted(rules, key=prio):
        conds = [c for c in b.listify(r.attrs.get("condition")) if isinstance(c, dict)]
        verdicts = [_matches(c, hosts) for c in conds] or [(True, "no condition")]
        undecided = [why for ok, why in verdicts if ok is None]
        failed = [why for ok, why in verdicts if ok is False]
        act = _terminal(b.listify(r.attrs.get("action")))
        target = act.get("target_group_arn")
        tg = b.ref(target, "aws_lb_target_group", "aws_alb_target_group")
        rows.append({"listener": b.name_of(listener), "rule": r.address, "priority": prio(r) if prio(r) < 50001 else None,
                     "action": act.get("type"), "target_group": b.name_of(tg) if tg is not None else None,
                     "journey": "matches" if hit is None and not failed and not undecided else
                     "not reached" if hit is not None else "does not match"})
        b.mark(r)
        if hit is not None:
            if tg is not None:
                b.note(r, "", "parsed", f"requests this rule matches go to {b.name_of(tg)}, not on the journey",
                       f"the journey's {JOURNEY_METHOD} {JOURNEY_PATH} meets {hit.address} first")
            continue
        if failed:
            b.note(r, "condition", "parsed", f"the journey's request does not match it ({failed[0]})",
                   "the next rule decides")
            continue
        if undecided:
            b.note(r, "condition", "partly", f"cannot tell offline whether the journey's request matches ({undecided[0]})",
                   "taken as not matching: the next rule or the default action decides", True)
            b.mark(r, "partly")
            rows[-1]["journey"] = "undecided"
            continue
        hit = r
        b.note(r, "", "parsed", f"the journey's {JOURNEY_METHOD} {JOURNEY_PATH} to {hosts[0]} matches this rule first",
               f"its {act.get('type')} action decides, not the listener's default action")
    if hit is None:
        return default, listener, "default_action"
    return _terminal(b.listify(hit.attrs.get("action"))), hit, "action"
