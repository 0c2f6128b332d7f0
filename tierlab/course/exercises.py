"""Every exercise of the course, as data, checked automatically: one way for learners and instructors.

Each exercise is a YAML file: a prompt and the checks that must pass. The workshop's break/fix tasks
(notebook 10, also 04 and 08) are ``data/exercises/NN-name.yaml`` and start from a topology (usually
``seed`` with some rules broken, written as a what-if); the exercises of notebooks 01 (edge) and 02 (DNS)
are ``data/exercises/01-edge/*.yaml`` and ``data/exercises/02-dns/*.yaml`` (``kind: value``: the answer
is a number, a topology, a simulation run ...). Solutions and instructor notes of all of them live apart,
in ``data/exercises/solutions.yaml``, so a workshop can hand out the prompts alone.

    ex = load_exercise("linux-ephemeral")
    topo = ex.start()                       # the broken topology
    fixed = topo.change_rule("nacl-public-out-110", ports="1024-65535")
    ex.grade(fixed)                         # PASS, or exactly what is still wrong (never raises)
    ex.check(fixed)                         # True, or raises CheckFailed (for scripts and tests)
    load_exercise("edge-ttl-for-95").grade(3600)   # a notebook 01 exercise: the same calls

The assert helpers follow pybatfish's ``assert_filter_denies``: each returns True or raises
``CheckFailed`` whose message says what is still wrong.
"""

from __future__ import annotations

import collections.abc
import ctypes
import difflib
import html
import inspect
import ipaddress
import math
import numbers
import os
import threading
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..network import dns, limits
from ..network import edge
from ..errors import CheckFailed, ScenarioError, TierlabError
from ..request.journey import OSES, journey
from ..network.loader import load, read_yaml
from ..paths import data_path, env_path
from ..network.limits import printable
from ..network.reachability import can_reach, who_can_reach
from ..network.rules import EPHEMERAL, NaclRule, PortRange, parse_cidr
from ..network import slips
from .scenarios import WHATIF_KEYS, apply_whatif, check_keys, short_file, topology_for
from ..network.topology import Topology


if TYPE_CHECKING:  # pandas is imported lazily where a table is built
    import pandas as pd

__all__ = [
    "assert_journey_ok", "assert_blocked_at", "assert_can_reach", "assert_cannot_reach", "assert_least_privilege",
    "assert_nacl_scoped", "assert_sg_scoped", "assert_function_agrees", "ephemeral_share", "check_flowlog_rule", "check_alarms_fired", "ASSERTS", "REFERENCES", "VALUE_CHECKS",
    "WORKSHOP", "notebooks",
    "Exercise", "Grade", "Solution", "load_exercise", "load_exercises", "load_solutions", "solutions_path", "SOLUTIONS_ENV", "solved", "unsolved", "solutions_frame", "exercise_files", "overview",
]


# ---------------------------------------------------------------------------- assert helpers


def assert_journey_ok(topo: Topology, *, os: str = "linux", database: str = "primary",
                      target: str | None = None, node: str | None = None) -> bool:
    """The Create Account journey gets through (for every pair, or only those with ``target``/``node``)."""
    tr = journey(topo, os=os, database=database)  # type: ignore[arg-type]
    pairs = [p for p in tr.pairs if (target is None or p.target == target) and (node is None or p.node == node)]
    if not pairs:
        raise CheckFailed(f"no (ALB node, target) pair matches node={node!r} target={target!r}",
                          "targets: " + ", ".join(topo.alb.targets))
    bad = [p for p in pairs if not p.ok]
    if not tr.dns.passed or bad:
        where = f" for {target}" if target else ""
        names = ", ".join(p.name for p in bad[:3]) + (", ..." if len(bad) > 3 else "")
        blocks = [b for b in tr.blocks if any(x in b.pairs for x in (p.name for p in bad))] or list(tr.blocks)
        stops = "; ".join(f"{b.component}{' ' + b.direction if b.direction else ''}"
                          f"{' (' + ', '.join(b.rule_ids) + ')' if b.rule_ids else ' (no rule allows it)'}"
                          f" at step {b.step}" for b in blocks[:3])
        seen = bad[0].symptom.split(" — ")[0] if bad else "DNS fails"
        raise CheckFailed(
            f"the journey{where} still fails ({os} client, database {database}) for {len(bad)} of {len(pairs)} "
            f"pair(s) [{names}]: {seen}" + (f" — blocked at {stops}" if stops else ""),
            blocks[0].reason if blocks else tr.dns.reason)
    return True


def assert_blocked_at(topo: Topology, component: str, *, direction: str | None = None, os: str = "linux",
                      database: str = "primary", only: bool = False) -> bool:
    """The journey is blocked at ``component`` (and, with ``only``, nowhere else)."""
    tr = journey(topo, os=os, database=database)  # type: ignore[arg-type]
    here = [b for b in tr.blocks if b.component == component and (direction is None or b.direction == direction)]
    where = f"{component}{' ' + direction if direction else ''}"
    if not here:
        seen = ("it is blocked at " + ", ".join(f"{b.component} {b.direction}" for b in tr.blocks)
                if tr.blocks else "it gets through")
        raise CheckFailed(f"the journey is not blocked at {where}; {seen}",
                          f"switch off or change the rule of {component} that the journey uses")
    others = [b for b in tr.blocks if b not in here]
    if only and others:
        raise CheckFailed(f"the journey is blocked at {where}, but also at "
                          + ", ".join(f"{b.component} {b.direction} ({', '.join(b.rule_ids)})" for b in others),
                          "break exactly one thing")
    return True


def assert_can_reach(topo: Topology, src: str, dst: str, port: int, *, os: str = "linux") -> bool:
    """``src`` opens a connection to ``dst`` on ``port`` and gets the reply, every time."""
    r = can_reach(topo, src, dst, port, os=os)
    if not r.ok:
        b = r.flow.blocking[0]
        raise CheckFailed(f"{src} still cannot reach {dst} on {port} ({r.share * 100:.0f}% of connections "
                          f"pass): blocked at {b.component} {b.direction} [{b.code}]", b.reason)
    return True


def assert_cannot_reach(topo: Topology, src: str, dst: str, port: int, *, os: str = "linux") -> bool:
    """``src`` cannot open any connection to ``dst`` on ``port``."""
    r = can_reach(topo, src, dst, port, os=os)
    if r.share > 0:
        rules = ", ".join(c.rule for c in r.flow.checks if c.rule)
        raise CheckFailed(f"{src} can still reach {dst} on {port} ({r.share * 100:.0f}% of connections)",
                          f"the rules that let it through: {rules}")
    return True


def assert_least_privilege(topo: Topology, dst: str, port: int, allowed: list[str]) -> bool:
    """Only the ``allowed`` sources reach ``dst`` on ``port`` — including a hypothetical new host in
    every subnet and the internet (``tl.who_can_reach`` with probes)."""
    df = who_can_reach(topo, dst, port)
    extra = df[(df["share"] > 0) & ~df["source"].isin(allowed)]
    if len(extra):
        names = ", ".join(f"{s} ({ip})" for s, ip in zip(extra["source"], extra["source_ip"]))
        raise CheckFailed(f"{len(extra)} source(s) beyond {', '.join(allowed)} can reach {dst} on {port}: {names}",
                          "narrow the rule that admits them: reference a security group instead of a wide CIDR")
    return True


def assert_nacl_scoped(topo: Topology, nacl: str, direction: str, port: int, within: list[str],
                       replies_from: list[str] | None = None) -> bool:
    """Every enabled ALLOW rule of ``nacl`` ``direction`` that covers ``port`` names a CIDR inside
    one of ``within`` (a NACL rule should admit the subnets that need it, not the world).

    ``replies_from``: subnets whose reply rules may stay. A NACL cannot tell a reply from a request,
    so a rule for the whole ephemeral range 1024-65535 from (or to) such a subnet covers ``port``
    too; a TCP rule of exactly that shape is not counted. Any other rule covering ``port`` there is."""
    nets = [parse_cidr(w, f'{nacl} scope') for w in within]
    reply_nets = [parse_cidr(w, f'{nacl} replies') for w in replies_from or ()]

    def reply_rule(r: NaclRule) -> bool:
        return (r.protocol == "tcp" and r.ports == EPHEMERAL["elb"]
                and any(r.cidr.subnet_of(n) for n in reply_nets))

    wide = [r for r in topo.nacl(nacl).ordered(direction)  # type: ignore[arg-type]
            if r.action == "allow" and r.port_span().contains(port) and not any(r.cidr.subnet_of(n) for n in nets)
            and not reply_rule(r)]
    if wide:
        reply_to_all = any(r.cidr.prefixlen == 0 and r.ports.lo < EPHEMERAL["elb"].lo <= port + 1 for r in wide)
        raise CheckFailed(f"{nacl} {direction} admits port {port} wider than {', '.join(within)}: "
                          + ", ".join(f"{r.id} ({r.describe()})" for r in wide),
                          "replies to the internet go to the clients' ephemeral ports: start the range at "
                          f"{EPHEMERAL['elb'].lo}, not below" if reply_to_all else
                          "scope the rule to the subnet that needs it")
    return True


def assert_sg_scoped(topo: Topology, group: str, direction: str, port: int, peers: list[str]) -> bool:
    """Every enabled rule of security group ``group`` ``direction`` that covers ``port`` names one of
    ``peers``: a security group by name, or a CIDR inside one given (``0.0.0.0/0`` blocks nothing
    on the journey, so only a check of the rule itself catches it)."""
    if direction not in ("inbound", "outbound"):
        raise TierlabError(f"direction {direction!r} is neither inbound nor outbound", "use inbound or outbound")
    sg = topo.security_group(group)
    groups = [p for p in peers if "/" not in p]
    nets = [parse_cidr(p, f"{group} scope") for p in peers if "/" in p]
    wide = [r for r in sg.rules_in(direction)  # type: ignore[arg-type]
            if r.covers_port("tcp", port) and r.peer_sg not in groups
            and not (r.peer_cidr is not None and any(r.peer_cidr.subnet_of(n) for n in nets))]
    if wide:
        raise CheckFailed(f"{group} {direction} allows port {port} to more than {', '.join(peers)}: "
                          + ", ".join(r.describe() for r in wide),
                          "name the security group the traffic is for (peer_sg=...) instead of a CIDR")
    return True


def ephemeral_share(ports: str, os: str) -> float:
    """Reference answer for the code exercise: the share of ``os``'s ephemeral range that a rule
    on ``ports`` covers, rounded to 4 places."""
    eph = EPHEMERAL[os]
    hit = eph.intersect(PortRange.parse(ports))
    return round((hit.size if hit else 0) / eph.size, 4)


REFERENCES: dict[str, Callable[..., Any]] = {"ephemeral_share": ephemeral_share}


def assert_function_agrees(fn: Callable[..., Any], reference: str, cases: list[list[Any]]) -> bool:
    """The learner's ``fn`` gives the reference answer on every case."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__}", "pass the function itself, without ()")
    ref = REFERENCES[reference]
    wrong = []
    for args in cases:
        want = ref(*args)
        try:
            got = fn(*args)
        except Exception as exc:  # the learner's code: report, don't crash the check
            wrong.append(f"{getattr(fn, '__name__', 'fn')}{tuple(args)!r} raised {type(exc).__name__}: {_short(str(exc))[1:-1]}")
            continue
        if (not isinstance(got, numbers.Real) or isinstance(got, bool) or not math.isfinite(float(got))
                or abs(float(got) - want) > 0.0005):
            wrong.append(f"{getattr(fn, '__name__', 'fn')}{tuple(args)!r} returned {_short(got)}; expected {want!r}")
    if wrong:
        raise CheckFailed(f"{len(wrong)} of {len(cases)} case(s) wrong: " + "; ".join(wrong[:3]),
                          "count the ports both ranges share, divide by the size of the ephemeral range")
    return True


# ---------------------------------------------------------------------------- value checks (notebooks 01, 02)
# Each takes the learner's answer (a number, a Topology, a CacheRun, a dns.Client, a patch) and returns True
# or raises CheckFailed. ``None`` is the notebooks' "no answer yet".

STREAM = dict(pages=200, duration_s=4 * 3600, seed=1)


def _seed_topology() -> Topology:
    return load("seed")


def _reqs(topo: Topology):
    return edge.page_loads(topo, **STREAM)  # type: ignore[arg-type]


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, whatever ``value`` is (a repr that raises says so)."""
    try:
        text = repr(value)
    except Exception as exc:  # a learner's object: its repr may fail too
        text = f"<{type(value).__name__} whose repr raises {type(exc).__name__}>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _is(answer: Any, kind: type | tuple[type, ...], what: str) -> None:
    if answer is None:
        raise CheckFailed("no answer yet", f"replace None with {what}")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    number = int in kinds or float in kinds
    if number and isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        try:
            finite = math.isfinite(float(answer))
        except (OverflowError, ValueError, TypeError):
            raise CheckFailed(f"{_short(answer, 30)} is far too large to be the answer", f"answer with {what}") from None
        if not finite:
            raise CheckFailed(f"{answer!r} is not a number of anything", f"answer with {what}: a finite number")
        return
    if not isinstance(answer, kind) or isinstance(answer, bool):
        raise CheckFailed(f"expected {what}, got {type(answer).__name__} {_short(answer)}", f"answer with {what}")


def _ttl_for_95(answer: Any) -> bool:
    _is(answer, (int, float), "a number of seconds")
    topo = _seed_topology()
    frame = edge.hit_ratio_by_ttl(topo, _reqs(topo), [60, 300, 900, 1800, 3600])
    ratio = dict(zip(frame["ttl_s"], frame["hit_ratio"]))
    if answer not in ratio:
        raise CheckFailed(f"{answer} s is not one of the candidates", "pick among 60, 300, 900, 1800 and 3600")
    if ratio[answer] < 0.95:
        raise CheckFailed(f"with TTL {answer} s the hit ratio is {ratio[answer]:.3f}, below 0.95",
                          "try a longer TTL: tl.edge.hit_ratio_by_ttl(...) shows them all")
    shorter = [t for t in ratio if t < answer and ratio[t] >= 0.95]
    if shorter:
        raise CheckFailed(f"{answer} s reaches 0.95, but a shorter TTL does too",
                          "a shorter TTL shows a new release sooner: find the smallest")
    return True


def _private_again(answer: Any) -> bool:
    if isinstance(answer, Topology):  # a whole topology could be the reference swapped in: ask for the change
        raise CheckFailed("answer with the change you make to `public`, not a topology",
                          "the keyword arguments of tl.edge.what_if(public, ...), as a dict: {'setting': value}")
    _is(answer, Mapping, "a dict of tl.edge.what_if settings, e.g. {'default_ttl_s': 60}")
    if not answer:
        raise CheckFailed("an empty change leaves the bucket public", "name the setting that opened it")
    try:
        fixed = edge.what_if(edge.what_if(_seed_topology(), bucket_public=True), **{str(k): v for k, v in answer.items()})
    except TierlabError as exc:
        raise CheckFailed(exc.message, exc.hint) from None
    direct = edge.fetch(fixed, via="direct")
    if direct.ok:
        raise CheckFailed(f"a direct request to {direct.url} still gets 200", direct.reason)
    if not edge.fetch(fixed, via="cloudfront").ok:
        raise CheckFailed("CloudFront no longer serves the site", "keep origin_access as OAI or OAC")
    return True


def _deploy_no_stale(answer: Any) -> bool:
    _is(answer, edge.CacheRun, "the CacheRun of tl.edge.simulate(...)")
    topo = _seed_topology()
    reqs = _reqs(topo)
    if answer.deploy_at_s != 5400 or answer.requests != len(reqs):
        raise CheckFailed(f"this run has {answer.requests} requests and a deploy at {answer.deploy_at_s}",
                          "simulate the notebook's stream (reqs) with deploy_at_s=5400")
    if answer.stale_responses:
        raise CheckFailed(f"{answer.stale_responses} responses still served an old release",
                          "old copies linger under their TTL: new names or an invalidation remove them")
    inv = edge.simulate(topo, reqs, deploy_at_s=5400, strategy="invalidate")
    if answer.origin_kb >= inv.origin_kb:
        raise CheckFailed(f"{answer.origin_kb} kB came from S3, not fewer than invalidating /* ({inv.origin_kb} kB)",
                          "give hashed assets long TTLs so only the small index.html is fetched often")
    return True


def _remaining_ttl(answer: Any) -> bool:
    _is(answer, (int, float), "a number of seconds")
    topo = _seed_topology()
    frame = dns.stale_frame(topo, "api.myapp.com", dns.move_alb(topo), change_at_s=45, cached_at_s=10,
                            clients=[dns.RESOLVER])
    right = float(frame["stale_for_s"].iloc[0])
    if not math.isclose(float(answer), right):
        ttl = dns.resolve(topo, "api.myapp.com").ttl_s
        hint = ("that is the whole TTL: part of it had already passed" if math.isclose(float(answer), ttl) else
                "read the TTL from tl.dns.resolve(topo, 'api.myapp.com') and subtract the copy's age at the change")
        raise CheckFailed(f"{answer} s is not how long the old answer stays cached", hint)
    return True


def _follow_failover(answer: Any) -> bool:
    _is(answer, dns.Client, "a tl.dns.Client")
    topo = _seed_topology()
    t = dns.timeline(topo, "db.myapp.internal", lookups_s=range(0, 400), client=answer, where="vpc",
                     change=dns.failover(topo), change_at_s=100)
    if math.isinf(t.stale_for_s):
        raise CheckFailed(f"{answer.name} never follows the failover", "a hard-coded address never re-resolves")
    if t.stale_for_s > 10:
        raise CheckFailed(f"{answer.name} keeps the old primary's address {t.stale_for_s:.0f} s after the failover",
                          "hold the answer no longer than its TTL (hold_s=None honours it)")
    return True


def _apex_fix(answer: Any) -> bool:
    _is(answer, (list, tuple), "a list of [path, value] pairs")
    if not all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str) for p in answer):
        raise CheckFailed("each item must be a [path, value] pair", "e.g. ['dns.records[0].type', 'A']")
    fixed = slips.replay("apex-cname", then=answer)
    if isinstance(fixed, TierlabError):
        applies = not fixed.message.startswith("the patch does not apply")
        raise CheckFailed(("it still does not load: " if applies else "") + fixed.message, fixed.hint)
    rec = next((r for r in fixed.records if r.name == "myapp.com"), None)
    if rec is None or fixed.edge is None or rec.target != fixed.edge.domain:
        raise CheckFailed("myapp.com no longer points at the CloudFront distribution",
                          "keep the target d1234.cloudfront.net; change the record's kind")
    return True


# ---------------------------------------------------------------------------- live checks (every notebook)
# Each computes the right answer from the model at grading time (nothing to copy from a data file) and
# takes its parameters from the exercise file: ``- {assert: browser_sees, whatif: {switch_off: [x]}}``.


def _what_if(topology: str, whatif: Mapping[str, Any] | None) -> Topology:
    return apply_whatif(topology_for(topology), whatif or {}, path="checks.whatif")


def _text(answer: Any, what: str) -> str:
    _is(answer, str, what)
    return " ".join(str(answer).lower().split())


def _close(text: str, names: list[str]) -> str:
    """" (did you mean 'x'?)" for a near miss among ``names``, or nothing."""
    close = difflib.get_close_matches(text, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _rule_id(topo: Topology, answer: Any, example: str) -> str:
    """The learner's answer as a rule id of ``topo``, or CheckFailed naming what is wrong with it: an empty
    answer, or an id no rule has (a typo gets the nearest id)."""
    text = _text(answer, f"a rule id, e.g. {example!r}")
    ids = [r.id for r in topo.rules()] + topo.default_rule_ids()
    if not text:
        raise CheckFailed("an empty answer names no rule", f"write a rule id such as {example!r}; "
                          "topo.rules_frame() lists every one")
    if text not in ids:
        raise CheckFailed(f"there is no rule {_short(answer)} in this topology{_close(text, ids)}",
                          "topo.rules_frame() lists every rule id; a NACL's final * DENY is <nacl>-in-star or "
                          "<nacl>-out-star")
    return text


def check_cidr_size(answer: Any, cidr: str) -> bool:
    """How many addresses ``cidr`` covers (a /24: 256)."""
    _is(answer, (int, float), "a number of addresses")
    net = ipaddress.ip_network(cidr)
    if answer != net.num_addresses:
        bits = 32 - net.prefixlen
        hint = (f"/{net.prefixlen} leaves {bits} bits for the host part: 2 ** {bits}"
                if answer != 2 ** net.prefixlen else "count the host bits (32 minus the prefix), not the prefix bits")
        raise CheckFailed(f"{cidr} does not cover {answer} addresses", hint)
    return True


def check_cidr_members(answer: Any, cidr: str, candidates: list[str]) -> bool:
    """Which of ``candidates`` lie inside ``cidr`` (answer: a list of addresses, in any order)."""
    _is(answer, (list, tuple, set, frozenset), "a list of addresses, e.g. ['10.0.2.45']")
    net = ipaddress.ip_network(cidr)
    try:
        given = {ipaddress.ip_address(str(a).strip()) for a in answer}
    except ValueError as exc:
        raise CheckFailed(f"not an address: {exc}", "write addresses as '10.0.2.45'") from None
    right = {ipaddress.ip_address(c) for c in candidates if ipaddress.ip_address(c) in net}
    if given != right:
        extra, missing = sorted(given - right), sorted(right - given)
        parts = ([f"{', '.join(map(str, extra))} {'is' if len(extra) == 1 else 'are'} not in {cidr}"] if extra else []) + (
            [f"{', '.join(map(str, missing))} {'is' if len(missing) == 1 else 'are'} in {cidr} too"] if missing else [])
        raise CheckFailed("; ".join(parts), f"{cidr} runs from {net[0]} to {net[-1]}")
    return True


def check_ephemeral_range(answer: Any, os: str) -> bool:
    """The ephemeral port range ``os`` picks a client's source port from ("32768-60999" or (32768, 60999))."""
    if isinstance(answer, (list, tuple)) and len(answer) == 2:
        answer = f"{answer[0]}-{answer[1]}"
    text = _text(answer, "a port range such as '1024-65535'")
    right = EPHEMERAL[os]
    try:
        given = PortRange.parse(text.replace(" ", ""))
    except TierlabError as exc:
        raise CheckFailed(f"{answer!r} is not a port range: {exc.message}", "write it as low-high") from None
    if given != right:
        other = [k for k, v in EPHEMERAL.items() if v == given]
        raise CheckFailed(f"{os} does not pick from {given.lo}-{given.hi}" + (f" (that is {other[0]}'s range)" if other else ""),
                          "tl.EPHEMERAL lists each sender's range")
    return True


def _statuses(topo: Topology, os: str, database: str) -> list[str]:
    """What the browser gets for each failing pair, as a word: the status, or timeout / refused / dns."""
    tr = journey(topo, os=os, database=database)  # type: ignore[arg-type]
    return [_status_word(p.status, p.outcome.kind) for p in tr.pairs if not p.ok]


#: The answers with no HTTP status: nothing comes back, the connection is refused (RST), or the name does not resolve.
NO_STATUS = ("timeout", "refused", "dns")


def _status_word(status: int | None, kind: str = "timeout") -> str:
    if status is not None:
        return str(status)
    return kind if kind in NO_STATUS else "timeout"


def _answer_word(answer: str) -> str:
    """A learner's words for what the browser gets, as ``_status_word`` writes it: "Timed out" -> timeout,
    "connection refused" -> refused, "DNS error" -> dns, "504 Gateway Timeout" -> 504."""
    word = " ".join(answer.lower().replace("timed out", "timeout").replace("time out", "timeout").split())
    if any(ch.isdigit() for ch in word):
        return word.split(" ")[0]
    return next((w for w in NO_STATUS if w in word), word.split(" ")[0] if word else "")


def check_browser_sees(answer: Any, whatif: Mapping[str, Any] | None = None, topology: str = "seed",
                       os: str = "linux", database: str = "primary") -> bool:
    """What the browser gets after the what-if: an HTTP status (504) or "timeout" (no answer at all)."""
    if answer is None:
        raise CheckFailed("no answer yet", "replace None with a status such as 502, or 'timeout'")
    if isinstance(answer, str):
        word = _answer_word(answer)
    else:
        _is(answer, (int, float), "an HTTP status or 'timeout'")
        word = str(int(answer)) if float(answer).is_integer() else str(answer)
    if word not in NO_STATUS and not (word.isdigit() and 100 <= int(word) <= 599):
        raise CheckFailed(f"{_short(answer)} is neither an HTTP status nor 'timeout'",
                          "answer with the status the browser gets (a number from 100 to 599, such as 200 or 502), "
                          "'timeout' when no answer comes at all, or 'refused'")
    seen = _statuses(_what_if(topology, whatif), os, database)
    if not seen:
        raise CheckFailed("nothing fails after this change: the browser gets 200", "check the change in the prompt")
    right = max(set(seen), key=lambda s: (seen.count(s), s))
    if word != right:
        hint = ("a drop in front of the ALB gets no answer at all; behind it the ALB answers for the target"
                if "timeout" in (word, right) else "which component answers the browser here, and why?")
        raise CheckFailed(f"the browser does not see {answer!r} here", hint)
    return True


def check_pairs_broken(answer: Any, whatif: Mapping[str, Any] | None = None, topology: str = "seed",
                       os: str = "linux") -> bool:
    """How many (ALB node, API server) pairs fail after the what-if."""
    _is(answer, (int, float), "a number of pairs")
    tr = journey(_what_if(topology, whatif), os=os)
    bad = sum(not p.ok for p in tr.pairs)
    if not (float(answer).is_integer() and 0 <= answer <= len(tr.pairs)):
        raise CheckFailed(f"{_short(answer)} cannot be a number of pairs: the journey has {len(tr.pairs)}",
                          f"answer with a whole number from 0 to {len(tr.pairs)}; pairs_frame() lists them")
    if answer != bad:
        raise CheckFailed(f"not {answer} of the {len(tr.pairs)} pairs fail",
                          "pairs_frame() lists every pair; which ALB node does each rule admit?")
    return True


def check_failing_oses(answer: Any, whatif: Mapping[str, Any] | None = None, topology: str = "seed") -> bool:
    """Which client operating systems (of linux, windows, macos) cannot complete the journey after the what-if."""
    _is(answer, (list, tuple, set, frozenset), "a list of OS names, e.g. ['linux'] (or [] for none)")
    given = {" ".join(str(a).lower().split()) for a in answer}
    unknown = given - set(OSES)
    if unknown:
        raise CheckFailed(f"unknown OS {sorted(unknown)[0]!r}", f"name them as {', '.join(OSES)}")
    topo = _what_if(topology, whatif)
    right = {os for os in OSES if not journey(topo, os=os).ok}
    if given != right:
        wrong = sorted(given - right)
        missed = sorted(right - given)
        raise CheckFailed("; ".join(([f"{', '.join(wrong)} still get(s) through"] if wrong else [])
                                    + ([f"{', '.join(missed)} fail(s) too"] if missed else [])),
                          "compare each OS's ephemeral range (tl.EPHEMERAL) with the rule's ports")
    return True


def check_blocked_component(answer: Any, whatif: Mapping[str, Any] | None = None, topology: str = "seed",
                            os: str = "linux", database: str = "primary") -> bool:
    """Which component stops the journey after the what-if (a security group or NACL name; a direction may follow)."""
    text = _text(answer, "a component name, e.g. 'nacl-private-db outbound'")
    if not text:
        raise CheckFailed("an empty answer names no component",
                          "write a security group or NACL name, e.g. 'nacl-private-db outbound'")
    topo = _what_if(topology, whatif)
    tr = journey(topo, os=os, database=database)  # type: ignore[arg-type]
    if not tr.blocks:
        raise CheckFailed("nothing blocks the journey after this change", "check the change in the prompt")
    first = tr.blocks[0]
    name, *rest = text.split(" ")
    rest = [_DIRECTIONS.get(rest[0], rest[0])] if rest else []
    _known_component(topo, tr, name, rest)
    if name != first.component:
        raise CheckFailed(f"the journey is not stopped at {name}",
                          "blocks_frame() names the component; which one sees the packet first?")
    if rest and first.direction and rest[0] != first.direction:
        raise CheckFailed(f"{name} stops it, but not {rest[0]}",
                          "a reply leaves the responder's subnet outbound" if first.direction == "outbound"
                          else "a packet meets a subnet's NACL inbound as it enters the subnet")
    return True


#: What a learner may write for a direction: AWS's console says inbound/outbound, its API ingress/egress.
_DIRECTIONS = {"in": "inbound", "out": "outbound", "ingress": "inbound", "egress": "outbound"}


def _known_component(topo: Topology, tr: Any, name: str, rest: list[str]) -> None:
    """CheckFailed for a name the journey never meets (a rule id, a typo) or a direction that is not one."""
    stars = {i: i.rsplit("-", 2)[0] for i in topo.default_rule_ids()}  # nacl-x-in-star belongs to nacl-x
    if name in stars or name in {r.id for r in topo.rules()}:
        owner = stars.get(name) or topo.owner_of(name)
        raise CheckFailed(f"{name!r} is a rule, not a component",
                          f"name the component it belongs to ({owner}), and its direction if you like")
    met = sorted({c.strip() for c in tr.frame()["component"] for c in str(c).split(",") if c.strip()})
    if name not in met:
        raise CheckFailed(f"the journey meets no component named {name!r}{_close(name, met)}",
                          "trace.frame()'s component column names each one it meets, e.g. 'nacl-private-db'")
    if rest and rest[0] not in ("inbound", "outbound"):
        raise CheckFailed(f"{rest[0]!r} is not a direction", f"write '{name} inbound' or '{name} outbound' "
                          "(or the name alone)")


def check_reach_share(answer: Any, src: str, dst: str, port: int, whatif: Mapping[str, Any] | None = None,
                      topology: str = "seed", os: str = "linux") -> bool:
    """The share (0 to 1) of ``src``'s connections to ``dst`` on ``port`` that work after the what-if."""
    _is(answer, (int, float), "a share between 0 and 1")
    right = can_reach(_what_if(topology, whatif), src, dst, port, os=os).share
    if abs(float(answer) - right) > 0.01:
        hint = ("a share is between 0 and 1, not a percentage" if float(answer) > 1 else
                "count the ephemeral ports the rule covers, over the size of the sender's range")
        raise CheckFailed(f"{answer} is not the share of connections that work", hint)
    return True


def check_deciding_rule(answer: Any, src: str, dst: str, port: int, component: str,
                        whatif: Mapping[str, Any] | None = None, topology: str = "seed", os: str = "linux") -> bool:
    """Which rule of ``component`` decides ``src``'s first packet to ``dst`` (its rule id)."""
    topo = _what_if(topology, whatif)
    text = _rule_id(topo, answer, "nacl-private-db-in-100")
    r = can_reach(topo, src, dst, port, os=os)
    at = [c for c in r.flow.checks if c.component == component]
    if not at:
        raise CheckFailed(f"the packet never meets {component}", "check the component in the prompt")
    right = at[0].rule_ids
    if text not in right:
        raise CheckFailed(f"{answer!r} does not decide at {component}",
                          "NACL rules are read lowest number first and the first match wins")
    return True


def check_flowlog_rule(answer: Any, whatif: Mapping[str, Any] | None = None, topology: str = "seed",
                       os: str = "linux") -> bool:
    """Handed only the flow-log records of the journey under ``whatif`` (``tl.flowlogs.flow_logs(tl.journey(
    ex.start())).text()``), the learner names the rule that drops the packets: the rule that decides a
    REJECT (a NACL's DENY or ``*``, or the SG rule that is missing) or the switched-off rule that would let
    them through. Checked against the evaluator's blocking points."""
    from ..request import flowlogs

    topo = _what_if(topology, whatif)
    text = _rule_id(topo, answer, "nacl-private-db-out-100")
    tr = journey(topo, os=os)
    right = {rid for b in tr.blocks for rid in (*b.rule_ids, *b.would_allow)}
    if not right:
        raise CheckFailed("nothing blocks this journey: its flow log has no REJECT", "check the exercise's what-if")
    if text in right:
        return True
    rejects = flowlogs.flow_logs(tr).rejects
    where = sorted({f"{r.interface_id} ({r.endpoint}) {r.direction}" for r in rejects})
    raise CheckFailed(f"{answer!r} does not drop the REJECTed packets",
                      "read the REJECT lines: whose ENI (tl.flowlogs.interfaces(topo)), packet in or out, request "
                      "or reply (a reply goes back to an ephemeral port: only a NACL can drop it); "
                      f"REJECTs at: {', '.join(where[:3])}")


def check_alarms_fired(answer: Any, whatif: Mapping[str, Any] | None = None, topology: str = "seed",
                       at_s: float = 120.0, duration_s: float = 600.0) -> bool:
    """Which of the two default alarms (``tl.metrics.default_alarms()``) reach ALARM when the what-if happens at
    ``at_s``: a list of alarm names (``[]``: none). Checked against the metrics the model publishes."""
    from ..sim import metrics

    if isinstance(answer, str):
        answer = [answer]
    _is(answer, (list, tuple, set), "a list of alarm names, e.g. ['alb-5xx']")
    names = {a.name for a in metrics.default_alarms()}
    odd = [a for a in answer if not isinstance(a, str)]
    if odd:
        raise CheckFailed(f"{_short(odd[0], 40)} is not an alarm name", "write each name as text, e.g. ['alb-5xx']")
    unknown = sorted((a for a in answer if a not in names), key=str)
    if unknown:
        raise CheckFailed(f"no default alarm named {', '.join(_short(a, 40) for a in unknown)}",
                          f"the alarms are {', '.join(sorted(names))}")
    base = topology_for(topology)
    m = metrics.whatif_metrics(base, _what_if(topology, whatif), at_s=at_s, duration_s=duration_s)
    fired = {a.name for a in metrics.default_alarms() if a.evaluate(m).fired}
    if set(answer) != fired:
        missing, extra = sorted(fired - set(answer)), sorted(set(answer) - fired)
        what = "; ".join(x for x in (f"also fires: {', '.join(missing)}" if missing else "",
                                     f"stays quiet: {', '.join(extra)}" if extra else "") if x)
        raise CheckFailed(f"{sorted(answer)} is not the set of alarms that fire ({what})",
                          "a drop in front of the ALB publishes no datapoint at all: how does each alarm treat "
                          "missing data (treat_missing_data)?")
    return True



VALUE_CHECKS: dict[str, Callable[..., bool]] = {
    "edge_ttl_for_95": _ttl_for_95, "edge_private_again": _private_again, "edge_deploy_no_stale": _deploy_no_stale,
    "dns_remaining_ttl": _remaining_ttl, "dns_follow_failover": _follow_failover, "dns_apex_fix": _apex_fix,
    "cidr_size": check_cidr_size, "cidr_members": check_cidr_members, "ephemeral_range": check_ephemeral_range,
    "browser_sees": check_browser_sees, "pairs_broken": check_pairs_broken, "failing_oses": check_failing_oses,
    "blocked_component": check_blocked_component, "reach_share": check_reach_share,
    "deciding_rule": check_deciding_rule, "flowlog_rule": check_flowlog_rule,
    "alarms_fired": check_alarms_fired,
}


#: The assert helpers an exercise file may name (``assert: journey_ok`` ...).
ASSERTS: dict[str, Callable[..., bool]] = {
    "journey_ok": assert_journey_ok, "blocked_at": assert_blocked_at, "can_reach": assert_can_reach,
    "cannot_reach": assert_cannot_reach, "least_privilege": assert_least_privilege,
    "nacl_scoped": assert_nacl_scoped, "function_agrees": assert_function_agrees, "sg_scoped": assert_sg_scoped,
    **VALUE_CHECKS,
}


# ---------------------------------------------------------------------------- exercises


@dataclass(frozen=True)
class Grade:
    """A check's verdict, for display: PASS, or NOT YET with what is still wrong."""

    exercise: str
    passed: bool
    message: str
    hint: str = ""
    failures: tuple[str, ...] = ()  # one message per failing check

    def _repr_html_(self) -> str:
        color, word = ("#2e7d32", "PASS") if self.passed else ("#c62828", "NOT YET")
        hint = f"<br><i>hint:</i> {html.escape(self.hint)}" if self.hint else ""
        if len(self.hint) > 150:  # a long hint (the evaluator's whole reason) folds away under its first words
            cut = self.hint.rfind(" ", 0, 100)
            hint = (f"<details><summary><i>hint:</i> {html.escape(self.hint[:cut])} …</summary>"
                    f"{html.escape(self.hint[cut:].lstrip())}</details>")
        if len(self.failures) > 1:
            body = (f"{len(self.failures)} checks still fail:<ol>"
                    + "".join(f"<li>{html.escape(f)}</li>" for f in self.failures) + "</ol>")
        else:
            body = html.escape(self.message)
        return (f'<div class="tl-grade tl-grade-{"pass" if self.passed else "fail"}" style="border-left:4px solid '
                f'{color};padding:4px 8px"><b style="color:{color}">{word}</b> [{html.escape(self.exercise)}] '
                f"{body}{hint}</div>")

    def __repr__(self) -> str:
        return f"{'PASS' if self.passed else 'NOT YET'} [{self.exercise}] {self.message}" + (
            f"\n  hint: {self.hint}" if self.hint else "")


#: How long ``grade`` waits for the checks on one answer (a learner's function may loop forever).
GRADE_TIMEOUT_S = 10.0
_STARTER_KEYS = ("function", "args", "returns", "doc")


class _GradeTimeout(BaseException):
    """Raised inside a grading thread that ran out of time (BaseException: the learner's code cannot catch it
    with ``except Exception``)."""


def _stop(thread: threading.Thread) -> None:
    """Ask a running grading thread to stop: raise _GradeTimeout in it at its next bytecode."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_GradeTimeout))


def _stub(spec: Mapping[str, Any]) -> Callable[..., Any]:
    """The starter function of a code exercise, built from data (name, arguments, what it returns): no code runs."""
    value = spec["returns"]

    def starter(*args: Any, **kwargs: Any) -> Any:
        return value

    starter.__name__ = starter.__qualname__ = str(spec["function"])
    starter.__doc__ = str(spec.get("doc", "") or "")
    return starter


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    prompt: str
    topology: str
    start_whatif: Mapping[str, Any]
    checks: tuple[Mapping[str, Any], ...]
    hints: tuple[str, ...] = ()
    kind: str = "topology"  # or "code": the learner writes a function; or "value": any other answer
    starter: Mapping[str, Any] | None = None  # a code exercise's starter as data: function, args, returns, doc
    file: str = ""
    notebook: str = "10-workshop"  # the notebook the exercise belongs to (its folder under data/exercises)
    answer_type: str = "Topology"  # what the learner answers with (shown in the overview)

    def start(self) -> Topology:
        """The broken topology the learner starts from (a new frozen Topology each time)."""
        base = topology_for(self.topology, file=self.file, path="topology")
        return apply_whatif(base, self.start_whatif, file=self.file, path="start")

    def starter_function(self) -> Callable[..., Any]:
        """For a code exercise: the unsolved function (built from the ``starter`` data; nothing is executed)."""
        if not self.starter:
            raise ScenarioError("this exercise has no starter function", "only code exercises have one",
                                file=self.file, path="starter")
        return _stub(self.starter)

    def starter_code(self) -> str:
        """For a code exercise: the starter function as the text a notebook shows."""
        if not self.starter:
            return ""
        sp = self.starter
        return (f"def {sp['function']}({', '.join(map(str, sp['args']))}):\n    \"\"\"{sp.get('doc', '')}\"\"\"\n"
                f"    return {sp['returns']!r}\n")

    def _swapped(self, answer: Topology) -> CheckFailed | None:
        """A reference topology handed in whole instead of a change to the start (equal to one, sharing none of
        the start's parts: a what-if of ``ex.start()`` keeps the parts it did not change)."""
        base = topology_for(self.topology, file=self.file, path="topology")
        if any(getattr(answer, f) is getattr(base, f) for f in ("subnets", "instances", "alb", "database")):
            return None
        start = self.start()
        for name in dict.fromkeys((self.topology, "seed", "seed-as-written")):
            try:
                ref = topology_for(name)
            except TierlabError:
                continue
            if answer == ref and start != ref:
                where = sorted({str(v) for spec in self.checks for k, v in spec.items()
                                if k in ("nacl", "group", "component", "target")})
                return CheckFailed(
                    f"this is the reference topology {name!r} itself, not a fix of this exercise's start",
                    "build on topo = ex.start() and make the change the prompt asks for"
                    + (f" (in {', '.join(where)})" if where else ""))
        return None

    def failures(self, answer: Any) -> list[CheckFailed]:
        """Every check that does not pass yet (empty list: solved)."""
        if self.kind == "topology" and not isinstance(answer, Topology):
            return [CheckFailed(f"expected a Topology, got {type(answer).__name__}",
                                "pass the topology you built, e.g. ex.grade(fixed)")]
        if self.kind == "topology":
            swapped = self._swapped(answer)
            if swapped is not None:
                return [swapped]
        failed: list[CheckFailed] = []
        for spec in self.checks:
            args = {k: v for k, v in spec.items() if k != "assert"}
            try:
                ASSERTS[spec["assert"]](answer, **args)
            except CheckFailed as exc:
                failed.append(exc)
        return failed

    def _combined(self, failed: list[CheckFailed]) -> CheckFailed:
        if len(failed) == 1:
            return CheckFailed(failed[0].message, failed[0].hint)
        return CheckFailed(f"{len(failed)} of {len(self.checks)} checks still fail: "
                           + " || ".join(f"({i}) {f.message}" for i, f in enumerate(failed, 1)), failed[0].hint)

    def check(self, answer: Any) -> bool:
        """True when every check passes; otherwise CheckFailed listing each one still failing."""
        failed = self.failures(answer)
        if failed:
            raise self._combined(failed)
        return True

    def _grade(self, answer: Any) -> "Grade":
        failed = self.failures(answer)  # once: the checks may be slow (least privilege asks every source)
        if not failed:
            return Grade(self.id, True, f"all {len(self.checks)} check(s) pass: {self.title}")
        exc = self._combined(failed)
        return Grade(self.id, False, exc.message, exc.hint, tuple(f.message for f in failed))

    def grade(self, answer: Any, *, timeout_s: float = GRADE_TIMEOUT_S) -> "Grade":
        """Like ``check`` but never raises: a Grade to display in the notebook. Whatever the answer is, the
        verdict comes back within ``timeout_s`` (a function that loops forever is stopped and named). Each
        verdict on an answer is recorded in the learner's progress file (:mod:`tierlab.course.progress`); the
        ``None`` a notebook's check cell starts with is no attempt, so running a notebook through records nothing."""
        from .progress import recorded

        g = self._timed_grade(answer, timeout_s)
        return g if answer is None else recorded(g)

    def _timed_grade(self, answer: Any, timeout_s: float) -> "Grade":
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["grade"] = self._grade(answer)
            except _GradeTimeout:
                pass
            except TierlabError as exc:  # e.g. a what-if the learner wrote refers to an unknown rule
                box["grade"] = Grade(self.id, False, f"{type(exc).__name__}: {_short(exc.message, 300)}",
                                     _short(exc.hint, 300) if exc.hint else "")
            except BaseException as exc:  # anything an odd answer provokes: a verdict, never a traceback
                box["grade"] = Grade(self.id, False, f"the checks cannot use this answer: {type(exc).__name__}: "
                                     f"{_short(exc, 200)}", f"answer with {self.answer_type}")

        worker = threading.Thread(target=run, name=f"tierlab-grade-{self.id}", daemon=True)
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            _stop(worker)
            worker.join(1.0)
            return Grade(self.id, False, f"the check did not finish within {timeout_s:g} s: the answer keeps it busy",
                         "does your function loop forever, or wait for something? It must return a value")
        return box.get("grade") or Grade(self.id, False, "the check stopped without a verdict", "run it again")

    def _repr_html_(self) -> str:
        hints = "".join(f"<details><summary>hint {i}</summary>{html.escape(h)}</details>"
                        for i, h in enumerate(self.hints, 1))
        prompt = html.escape(self.prompt.strip()).replace("\n\n", "</p><p>").replace("\n", " ")
        return (f'<div class="tl-exercise tl-ex-{html.escape(self.id)}"><h4>{html.escape(self.title)}</h4>'
                f"<p>{prompt}</p>{hints}</div>")

    def __repr__(self) -> str:
        return f"Exercise [{self.id}] {self.title}\n{self.prompt.strip()}"


def _function_from(code: str, file: str, path: str) -> Callable[..., Any]:
    """A solution's function (instructor data, run only by ``solved``; never a starter, never at load)."""
    space: dict[str, Any] = {}
    try:
        exec(compile(code, f"{file}:{path}", "exec"), space)  # noqa: S102 - our own solutions file
    except Exception as exc:
        raise ScenarioError(f"the code does not run: {exc}", "fix the code block", file=file, path=path) from None
    fns = [v for k, v in space.items() if callable(v) and not k.startswith("__")]
    if len(fns) != 1:
        raise ScenarioError("the code must define exactly one function", "one def per code block", file=file, path=path)
    return fns[0]


_EX_KEYS = ("id", "title", "prompt", "topology", "start", "checks", "hints", "kind", "starter", "answer_type")
KINDS = ("topology", "code", "value")


def _starter(raw: Any, file: str) -> Mapping[str, Any] | None:
    """A code exercise's starter is data (``function``, ``args``, ``returns``, ``doc``), never code: loading an
    exercise runs nothing it contains."""
    if raw is None:
        return None
    sp = check_keys(raw, _STARTER_KEYS, ("function", "args", "returns"), file=file, path="starter")
    if not isinstance(sp["function"], str) or not sp["function"].isidentifier():
        raise ScenarioError(f"function must be a Python name, got {sp['function']!r}", "e.g. function: share",
                            file=file, path="starter.function")
    if not isinstance(sp["args"], list) or not all(isinstance(a, str) and a.isidentifier() for a in sp["args"]):
        raise ScenarioError(f"args must be a list of argument names, got {sp['args']!r}", "e.g. args: [ports, os]",
                            file=file, path="starter.args")
    if not isinstance(sp["returns"], (int, float, str, bool, type(None))):
        raise ScenarioError("returns must be a plain value (a number, text, true/false or null)", "e.g. returns: 1.0",
                            file=file, path="starter.returns")
    return sp


def _fits(value: Any, hint: Any) -> bool:
    """``value`` (from YAML) has the type ``hint`` names; a hint this does not know is not judged."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        return isinstance(value, (int, float) if hint is float else int) and not isinstance(value, bool) \
            and (hint is int or math.isfinite(value))
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        return isinstance(value, list) and (not args or all(_fits(v, args[0]) for v in value))
    if origin in (dict, collections.abc.Mapping):
        return isinstance(value, Mapping)
    if origin is typing.Literal:
        return isinstance(value, (str, int)) and value in args
    return True


def _check_argument_types(fn: Callable[..., Any], spec: Mapping[str, Any], *, file: str, path: str) -> None:
    """Each argument a check names has the type its function declares (a list of names is a list of text ...),
    so a typo in a data file is a ScenarioError at load time, not a TypeError when a learner is graded."""
    hints = typing.get_type_hints(fn)
    for key, value in spec.items():
        if key != "assert" and key in hints and not _fits(value, hints[key]):
            want = str(hints[key]).replace("typing.", "").replace("collections.abc.", "")
            raise ScenarioError(f"{key} must be {want}, got {limits._show(value)}", f"fix the value of {key}",
                                file=file, path=f"{path}.{key}")


def _exercise(path: Path) -> Exercise:
    file = short_file(path)
    raw = check_keys(read_yaml(path), _EX_KEYS, ("id", "title", "prompt", "checks"), file=file, path="")
    for key in ("id", "title", "prompt"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ScenarioError(f"{key} must be non-empty text", f"write the {key}", file=file, path=key)
    kind = raw.get("kind", "topology")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ScenarioError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}",
                            "leave it out for a topology exercise", file=file, path="kind")
    checks = raw["checks"]
    if not isinstance(checks, list) or not checks:
        raise ScenarioError("checks must be a non-empty list", "e.g. - {assert: journey_ok}", file=file, path="checks")
    for i, spec in enumerate(checks):
        at = f"checks[{i}]"
        name = spec.get("assert") if isinstance(spec, Mapping) else None
        if not isinstance(name, str) or name not in ASSERTS:
            shown = limits._show(name if isinstance(spec, Mapping) else spec)
            raise ScenarioError(f"unknown assert {shown}", f"one of {', '.join(ASSERTS)}", file=file,
                                path=f"{at}.assert")
        fn = ASSERTS[name]
        try:
            inspect.signature(fn).bind(None, **{k: v for k, v in spec.items() if k != "assert"})
        except TypeError as exc:
            raise ScenarioError(f"bad arguments for {name}: {exc}",
                                f"{name}{inspect.signature(fn)}", file=file, path=at) from None
        _check_argument_types(fn, spec, file=file, path=at)
    hints = raw.get("hints", []) or []
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise ScenarioError("hints must be a list of text", "- first hint", file=file, path="hints")
    notebook = path.parent.name if path.parent.name != "exercises" else WORKSHOP
    answer_type = str(raw.get("answer_type") or {"topology": "Topology", "code": "function", "value": "value"}[kind])
    ex = Exercise(raw["id"], raw["title"], raw["prompt"], str(raw.get("topology", "seed")),
                  raw.get("start") or {}, tuple(checks), tuple(hints), kind, _starter(raw.get("starter"), file), file,
                  notebook, answer_type)
    if kind == "value":
        wrong = [i for i, spec in enumerate(checks) if spec["assert"] not in VALUE_CHECKS]
        if wrong:
            raise ScenarioError(f"a value exercise checks its answer with a value check, not {checks[wrong[0]]['assert']}",
                                f"one of {', '.join(VALUE_CHECKS)}", file=file, path=f"checks[{wrong[0]}].assert")
    elif kind == "topology":
        start = ex.start()  # a bad topology name or rule id in `start` is an error at load time
        for i, spec in enumerate(checks):  # and so is a check naming a component that does not exist
            try:
                ASSERTS[spec["assert"]](start, **{k: v for k, v in spec.items() if k != "assert"})
            except CheckFailed:
                pass
            except TierlabError as exc:
                raise ScenarioError(exc.message, exc.hint, file=file, path=f"checks[{i}]") from None
    else:
        for i, spec in enumerate(checks):
            if not isinstance(spec.get("reference"), str) or spec["reference"] not in REFERENCES:
                raise ScenarioError(f"unknown reference {spec.get('reference')!r}", f"one of {', '.join(REFERENCES)}",
                                    file=file, path=f"checks[{i}].reference")
        if not ex.starter:
            raise ScenarioError("a code exercise needs a starter", "add starter: {function: f, args: [x], returns: 0}",
                                file=file, path="starter")
    return ex


WORKSHOP = "10-workshop"


def notebooks() -> tuple[str, ...]:
    """The notebooks that have exercises: one folder each under ``data/exercises``, and the workshop's."""
    folders = sorted(p.name for p in data_path("exercises").glob("[0-9][0-9]-*") if p.is_dir())
    return tuple(sorted({*folders, WORKSHOP}))


def exercise_files(notebook: str | None = WORKSHOP) -> list[Path]:
    """The exercise files of one notebook, in order; ``None``: of every notebook. The workshop's are
    ``data/exercises/NN-name.yaml`` (``solutions.yaml`` is not one), the others' ``data/exercises/<notebook>/``."""
    if notebook is None:
        return [p for nb in notebooks() for p in exercise_files(nb)]
    if notebook not in notebooks():
        raise ScenarioError(f"no exercises for notebook {notebook!r}", f"known: {', '.join(notebooks())}",
                            file="data/exercises")
    folder = data_path("exercises") if notebook == WORKSHOP else data_path("exercises", notebook)
    return sorted(folder.glob("[0-9][0-9]-*.yaml"))


def load_exercises(notebook: str | None = WORKSHOP) -> tuple[Exercise, ...]:
    """The exercises of one notebook (default: the workshop's), or of every notebook with ``None``."""
    out = tuple(_exercise(p) for p in exercise_files(notebook))
    ids = [e.id for e in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ScenarioError(f"duplicate exercise id {sorted(dup)[0]!r}", "ids must be unique", file="data/exercises")
    return out


def load_exercise(exercise_id: str) -> Exercise:
    """One exercise by id (``linux-ephemeral``, ``edge-ttl-for-95``) or by workshop number (``"04"``)."""
    if not isinstance(exercise_id, str):
        raise ScenarioError(f"an exercise id is text, got {type(exercise_id).__name__} {_short(exercise_id)}",
                            "e.g. load_exercise('primer-cidr-size'), or '04' for the workshop's fourth",
                            file="data/exercises")
    for p in exercise_files():
        if p.stem == exercise_id or p.stem.split("-", 1)[1] == exercise_id or p.stem[:2] == exercise_id:
            return _exercise(p)
    for p in exercise_files(None):  # the other notebooks' files are named by the exercise id without its prefix
        if p.parent.name != "exercises" and exercise_id.endswith(p.stem.split("-", 1)[1]):
            ex = _exercise(p)
            if ex.id == exercise_id:
                return ex
    ids = [e.id for e in load_exercises(None)]  # every notebook's, not only the workshop's
    close = difflib.get_close_matches(exercise_id, ids, n=1)
    raise ScenarioError(f"no exercise {_short(exercise_id)}",
                        (f"did you mean {close[0]!r}? " if close else "")
                        + "the id is in bold above the check cell; tl.exercises.overview(None) lists all "
                        f"{len(ids)}", file="data/exercises")


def overview(notebook: str | None = WORKSHOP) -> "pd.DataFrame":
    """The exercises of one notebook (default: the workshop), one row each (no solutions here)."""
    import pandas as pd

    starts = {"topology": lambda e: e.topology, "code": lambda e: "starter code", "value": lambda e: "None"}
    return pd.DataFrame([{"number": p.stem[:2], "id": e.id, "title": e.title, "kind": e.kind,
                          "starts_from": starts[e.kind](e), "answer": e.answer_type,
                          "checks": ", ".join(c["assert"] for c in e.checks),
                          "reason": e.prompt.strip().split("\n\n")[0].replace("\n", " ")}
                         for p, e in zip(exercise_files(notebook), load_exercises(notebook))])


# ---------------------------------------------------------------------------- solutions (instructor side)


@dataclass(frozen=True)
class Solution:
    exercise: str
    whatif: Mapping[str, Any]
    code: str
    notes: str
    value: str = ""  # a value exercise's answer, as a Python expression (names: tl, topo, reqs)


#: Points at the instructors' ``solutions.yaml`` where the data folder has none (a learner's wheel).
SOLUTIONS_ENV = "TIERLAB_SOLUTIONS"


def solutions_path() -> Path:
    """The instructors' solutions file: ``$TIERLAB_SOLUTIONS``, else ``data/exercises/solutions.yaml`` (a checkout
    has it; the wheel and a handout do not, so a learner's install carries no answers)."""
    env = env_path(SOLUTIONS_ENV)
    path = env if env is not None else data_path("exercises", "solutions.yaml")
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if not is_file:
        where = f"${SOLUTIONS_ENV} = {printable(str(env))}" if env else f"{path} (the learners' install ships no answers)"
        raise ScenarioError(f"no solutions file at {where}",
                            f"instructors: work from a checkout of the tierlab repository, or set {SOLUTIONS_ENV} "
                            "to its data/exercises/solutions.yaml; learners: ex.grade(answer) needs no solutions")
    return path


def load_solutions() -> dict[str, Solution]:
    """The instructors' ``solutions.yaml`` (see :func:`solutions_path`): per exercise id, the fix (a what-if or
    code) and instructor notes. Grading never reads it: ``Exercise.grade`` checks an answer against its checks."""
    path = solutions_path()
    file = short_file(path)
    doc = check_keys(read_yaml(path), ("solutions",), ("solutions",), file=file, path="")
    out = {}
    for eid, raw in (doc["solutions"] or {}).items():
        s = check_keys(raw, ("apply", "code", "value", "notes"), ("notes",), file=file, path=f"solutions.{eid}")
        if sum(k in s for k in ("apply", "code", "value")) != 1:
            raise ScenarioError("give exactly one of apply (a what-if), code or value", "apply for rule fixes, code "
                                "for code exercises, value for an answer", file=file, path=f"solutions.{eid}")
        if "apply" in s:
            check_keys(s["apply"], WHATIF_KEYS, (), file=file, path=f"solutions.{eid}.apply")
        out[str(eid)] = Solution(str(eid), s.get("apply") or {}, s.get("code", "") or "", str(s["notes"]),
                                 str(s.get("value", "") or ""))
    return out


def solved(ex: Exercise, solution: Solution | None = None) -> Any:
    """The solved state: the start topology with the solution applied, or the solution's function."""
    sol = solution or load_solutions().get(ex.id)
    if sol is None:
        raise ScenarioError(f"no solution for exercise {ex.id!r}", "add it to data/exercises/solutions.yaml",
                            file="data/exercises/solutions.yaml")
    if ex.kind == "code":
        return _function_from(sol.code, "data/exercises/solutions.yaml", f"solutions.{ex.id}.code")
    if ex.kind == "value":
        import tierlab

        topo = _seed_topology()
        env = {"tl": tierlab, "topo": topo, "reqs": _reqs(topo)}
        try:
            return eval(sol.value, env)  # noqa: S307 - our own data file, not learner input
        except Exception as exc:
            raise ScenarioError(f"the value does not evaluate: {exc}", "fix the expression",
                                file="data/exercises/solutions.yaml", path=f"solutions.{ex.id}.value") from None
    return apply_whatif(ex.start(), sol.whatif, file="data/exercises/solutions.yaml", path=f"solutions.{ex.id}.apply")


def unsolved(ex: Exercise) -> Any:
    """What the learner starts from: the broken topology, the starter function, or ``None`` (no answer yet)."""
    if ex.kind == "value":
        return None
    return ex.starter_function() if ex.kind == "code" else ex.start()


def solutions_frame(notebook: str | None = WORKSHOP) -> "pd.DataFrame":
    """Every exercise of a notebook (default: the workshop; ``None``: all): its check on the unsolved state
    (must fail) and on the solution (must pass)."""
    import pandas as pd

    sols = load_solutions()
    rows = []
    for ex in load_exercises(notebook):
        before, after = ex.grade(unsolved(ex)), ex.grade(solved(ex, sols.get(ex.id)))
        rows.append({"exercise": ex.id, "title": ex.title, "unsolved": "PASS" if before.passed else "NOT YET",
                     "solved": "PASS" if after.passed else "NOT YET",
                     "reason": f"unsolved: {before.message} → solved: {after.message}"})
    return pd.DataFrame(rows)
