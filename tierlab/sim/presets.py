"""How each preset times each journey step: parts that add up, branches with shares, and why.

``physics_steps`` builds each step from named parameters, one builder per step id (``BUILDERS``);
``seed_steps`` splits the seed's Section 3 budget over the steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal, Mapping

from ..request.steps import STEPS, Step
from .facts import TopologyFacts
from .params import PhysicsParams, tls_round_trips

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Part", "Branch", "StepTime", "physics_steps", "seed_steps", "BUILDERS", "SEED_BUDGET_MS",
           "SEED_CLAIM_MS", "SEED_SUM_MS", "fmt", "page_load_frame"]

#: The seed's Section 3 budget, component -> (low, high) ms.
SEED_BUDGET_MS: dict[str, tuple[float, float]] = {
    "dns": (50.0, 100.0),
    "tls": (100.0, 150.0),
    "alb": (10.0, 20.0),
    "node": (50.0, 100.0),
    "db": (30.0, 100.0),
    "return": (50.0, 100.0),
}
#: What the seed says the total is.
SEED_CLAIM_MS: tuple[float, float] = (300.0, 500.0)
#: The seed's own ranges, added up.
SEED_SUM_MS: tuple[float, float] = (sum(v[0] for v in SEED_BUDGET_MS.values()),
                                    sum(v[1] for v in SEED_BUDGET_MS.values()))



@dataclass(frozen=True)
class Part:
    """One additive piece of a step's time. ``kind`` says what scales it per request: ``net``
    (internet round trips), ``vpc`` (round trips inside AWS), ``work`` (server or browser
    work), ``fixed`` (nothing), ``range`` (uniform between ``ms`` and ``hi_ms``)."""

    what: str
    ms: float
    kind: Literal["net", "vpc", "work", "fixed", "range"]
    hi_ms: float | None = None

    @property
    def mean_ms(self) -> float:
        return (self.ms + self.hi_ms) / 2 if self.kind == "range" and self.hi_ms is not None else self.ms

    def words(self) -> str:
        if self.kind == "range":
            return f"{self.what} {fmt(self.ms)}-{fmt(self.hi_ms or self.ms)} ms"
        return f"{self.what} {fmt(self.ms)} ms"


@dataclass(frozen=True)
class Branch:
    """One way a step can go (e.g. a DNS answer from the browser's cache), with its share."""

    label: str
    share: float
    parts: tuple[Part, ...]

    @property
    def mean_ms(self) -> float:
        return sum(p.mean_ms for p in self.parts)

    def words(self) -> str:
        return " + ".join(p.words() for p in self.parts if p.ms or p.hi_ms) or "no time"


@dataclass(frozen=True)
class StepTime:
    """A journey step's time: one or more branches, and the words that explain it."""

    step: Step
    branches: tuple[Branch, ...]
    note: str = ""

    @property
    def mean_ms(self) -> float:
        return sum(b.share * b.mean_ms for b in self.branches)

    @property
    def reason(self) -> str:
        if len(self.branches) == 1:
            text = self.branches[0].words()
            if text == "no time" and self.note:
                return self.note
        else:
            text = "; ".join(f"{b.label} ({b.share * 100:.0f}%): {b.words()}" for b in self.branches if b.share > 0)
        return f"{text}. {self.note}".strip() if self.note else text


def fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else (f"{x:.2f}".rstrip("0").rstrip(".") if x < 10 else f"{x:.1f}")


def _one(step: Step, *parts: Part, note: str = "") -> StepTime:
    return StepTime(step, (Branch("", 1.0, tuple(parts)),), note)


_FIREWALL_NOTE = ("security groups and NACLs are evaluated by the VPC's hypervisor on the packet's "
                  "path: microseconds, counted as 0 (the seed: <1 ms)")


def _dns_shares(p: PhysicsParams, ttl_s: float) -> dict[str, float]:
    if p.dns_cache != "mixed":
        return {s: 1.0 if s == p.dns_cache else 0.0 for s in ("browser", "resolver", "miss")}
    # lookups arrive at random, revisit_s apart on average; a miss caches the answer for the TTL,
    # and the lookups inside that window hit: TTL/revisit hits per miss
    browser = ttl_s / (ttl_s + p.revisit_s) if ttl_s > 0 else 0.0
    resolver = (1.0 - browser) * p.resolver_hit_share
    return {"browser": browser, "resolver": resolver, "miss": max(0.0, 1.0 - browser - resolver)}


@dataclass(frozen=True)
class _Ctx:
    """What every physics builder reads: the parameters, the topology's facts, measured DB phases."""

    p: PhysicsParams
    facts: TopologyFacts
    db: Mapping[str, float] | None

    @property
    def ttl_s(self) -> float:
        return self.facts.api_ttl_s if self.p.dns_ttl_s is None else self.p.dns_ttl_s

    @property
    def multi_az(self) -> bool:
        return self.facts.multi_az if self.p.multi_az is None else self.p.multi_az

    def _vpc_rtt(self, cross_share: float) -> float:
        return cross_share * self.p.cross_az_rtt_ms + (1 - cross_share) * self.p.intra_az_rtt_ms

    @property
    def tgt_rtt(self) -> float:
        """ALB node <-> target round trip, over the share of pairs that cross AZs."""
        return self._vpc_rtt(self.facts.alb_cross_az_share)

    @property
    def db_rtt(self) -> float:
        """Server <-> primary round trip, over the share of servers in another AZ."""
        return self._vpc_rtt(self.facts.db_cross_az_share)


def _click(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("React handles the click and calls fetch()", c.p.click_ms, "work"))


def _dns(s: Step, c: _Ctx) -> StepTime:
    p, facts, ttl_s = c.p, c.facts, c.ttl_s
    shares = _dns_shares(p, ttl_s)
    cache = Part(f"host cache answers (TTL {fmt(ttl_s)} s)", p.dns_browser_ms, "fixed")
    miss = Part("browser cache misses", p.dns_browser_ms, "fixed")
    res = Part("one round trip to the recursive resolver", p.resolver_rtt_ms, "net")
    n = facts.dns_lookups_on_miss
    look = Part(f"resolver asks Route 53 ({n} lookup{'s' if n > 1 else ''}: "
                f"{'an alias answers directly' if facts.api_record == 'alias' else 'a CNAME adds one'})",
                p.authoritative_rtt_ms * n, "net")
    branches: tuple[Branch, ...] = (Branch("browser cache hit", shares["browser"], (cache,)),
                                    Branch("resolver cache hit", shares["resolver"], (miss, res)),
                                    Branch("full lookup", shares["miss"], (miss, res, look)))
    if p.dns_cache != "mixed":
        branches = tuple(b for b in branches if b.share == 1.0)
        note = {"browser": f"a repeat within the {fmt(ttl_s)} s TTL",
                "resolver": "someone using the same resolver looked it up within the TTL",
                "miss": "nobody's cache has it: a first visit"}[p.dns_cache]
    else:
        note = (f"the browser caches for the record's TTL {fmt(ttl_s)} s and looks the name up every "
                f"{fmt(p.revisit_s)} s on average, so TTL/(TTL + {fmt(p.revisit_s)} s) = "
                f"{shares['browser'] * 100:.0f}% of lookups hit its cache")
    return StepTime(s, branches, note)


def _connect_alb(s: Step, c: _Ctx) -> StepTime:
    p, rtt = c.p, c.p.rtt_ms
    if p.keep_alive:
        return _one(s, Part("reuse the open keep-alive connection", 0.0, "fixed"),
                    note="no TCP or TLS handshake: the browser already has a connection to this ALB node")
    n = tls_round_trips(p.tls_version, p.tls_resumption)
    kind = "resumed" if p.tls_resumption else "full"
    return _one(s, Part("TCP handshake 1 RTT", rtt, "net"),
                Part(f"TLS {p.tls_version} {kind} handshake {n} RTT", n * rtt, "net"),
                Part("crypto", p.tls_resume_crypto_ms if p.tls_resumption else p.tls_crypto_ms, "work"),
                note=f"RTT {fmt(rtt)} ms; TLS 1.2 needs 2 RTT, 1.3 needs 1, resumption 1")


def _alb_process(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("the request crosses the internet ½ RTT", c.p.rtt_ms / 2, "net"),
                Part("ALB decrypts, parses, picks a target", c.p.alb_processing_ms, "work"),
                Part("to the target ½ VPC RTT", c.tgt_rtt / 2, "vpc"),
                note=f"{c.facts.alb_cross_az_share * 100:.0f}% of (ALB node, target) pairs cross AZs "
                     "(cross-zone load balancing)")


def _node_process(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("Express: JWT, validation, createUser()", c.p.app_ms, "work"))


def _new_connection(c: _Ctx, src: str) -> list[Part]:
    """A new PostgreSQL connection: endpoint lookup, TCP, TLS, startup and SCRAM auth, a backend."""
    p, db, db_rtt = c.p, c.db, c.db_rtt
    parts = [Part(f"wait for a pool slot{src}", db["pool_acquire_ms"] if db else p.pool_acquire_ms, "work"),
             Part("resolve the RDS endpoint", p.vpc_dns_ms, "vpc"),
             Part("TCP handshake 1 DB RTT", db_rtt, "vpc")]
    if db:
        parts.append(Part("TCP connect (measured)", db["tcp_connect_ms"], "work"))
    if p.db_tls:
        n = tls_round_trips(p.db_tls_version)
        parts.append(Part(f"SSLRequest + TLS {p.db_tls_version} {1 + n} DB RTT", (1 + n) * db_rtt, "vpc"))
        parts.append(Part("TLS handshake (measured)", db["tls_handshake_ms"], "work") if db
                     else Part("TLS crypto", p.db_tls_crypto_ms, "work"))
    parts.append(Part(f"startup + SCRAM-SHA-256 auth {p.auth_round_trips} DB RTT", p.auth_round_trips * db_rtt, "vpc"))
    if db:
        parts.append(Part("auth (measured)", db["auth_ms"], "work"))
    else:
        parts += [Part("PBKDF2 work", p.scram_ms, "work"), Part("backend fork", p.backend_start_ms, "work")]
    return parts


def _db_connect(s: Step, c: _Ctx) -> StepTime:
    p, db = c.p, c.db
    src = " (measured)" if db else ""
    if p.pool:
        parts = [Part(f"take an idle pooled connection{src}", db["pool_acquire_ms"] if db else p.pool_acquire_ms,
                      "work")]
        if p.pool_pre_ping:
            parts.append(Part("pre-ping: SELECT 1 on it, 1 DB RTT", c.db_rtt, "vpc"))
        return _one(s, *parts, note="the pool already holds a connection to the primary")
    return _one(s, *_new_connection(c, src), note="a new connection for this request (no pool)"
                + ("; measured on the learner's PostgreSQL, plus the VPC round trips that loopback did not have"
                   if db else ""))


def _db_query(s: Step, c: _Ctx) -> StepTime:
    p, db = c.p, c.db
    parts = [Part("the query travels ½ DB RTT", c.db_rtt / 2, "vpc")]
    if db:
        key = "insert_ms" if p.pool else "first_query_ms"
        parts.append(Part(f"INSERT ... RETURNING id ({key}, measured)", db[key], "work"))
    else:
        parts += [Part("parse, plan, unique check, insert", p.query_exec_ms, "work"),
                  Part("index update", p.index_update_ms, "work"),
                  Part("WAL flush at commit", p.wal_flush_ms, "work")]
    if c.multi_az:
        parts += [Part("synchronous Multi-AZ: 1 cross-AZ RTT", p.cross_az_rtt_ms, "vpc"),
                  Part("standby storage ack", p.standby_flush_ms, "work")]
    note = ("Multi-AZ: the commit waits for the standby in the other AZ" if c.multi_az
            else "single-AZ: no standby to wait for")
    if db and not p.pool:
        note += "; a fresh backend's first query warms its caches"
    return _one(s, *parts, note=note)


def _db_reply(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("the result returns ½ DB RTT", c.db_rtt / 2, "vpc"),
                note=f"{c.facts.db_cross_az_share * 100:.0f}% of API servers sit in another AZ than the primary")


def _node_respond(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("Express formats the JSON response", c.p.respond_ms, "work"))


def _alb_receive(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("to the ALB node ½ VPC RTT", c.tgt_rtt / 2, "vpc"),
                Part("ALB encrypts and forwards", c.p.alb_response_ms, "work"))


def _browser_receive(s: Step, c: _Ctx) -> StepTime:
    return _one(s, Part("the response crosses the internet ½ RTT", c.p.rtt_ms / 2, "net"),
                Part("React updates and re-renders", c.p.render_ms, "work"))


#: One builder per journey step the physics times (firewall steps cost nothing: see ``_FIREWALL_NOTE``).
BUILDERS: dict[str, Callable[[Step, _Ctx], StepTime]] = {
    "click": _click, "dns": _dns, "connect-alb": _connect_alb, "alb-process": _alb_process,
    "node-process": _node_process, "db-connect": _db_connect, "db-query": _db_query, "db-reply": _db_reply,
    "node-respond": _node_respond, "alb-receive": _alb_receive, "browser-receive": _browser_receive,
}


def physics_steps(p: PhysicsParams, facts: TopologyFacts, db: Mapping[str, float] | None) -> tuple[StepTime, ...]:
    """Every journey step's time from the physics: ``db`` (measured phases) replaces the database's own work."""
    ctx = _Ctx(p, facts, db)
    out: list[StepTime] = []
    for s in STEPS:
        if s.latency == "firewall":
            out.append(_one(s, Part("hypervisor check", 0.0, "fixed"), note=_FIREWALL_NOTE))
        elif s.id in BUILDERS:
            out.append(BUILDERS[s.id](s, ctx))
        else:  # a step added to the journey later
            out.append(_one(s, Part("not modelled yet", 0.0, "fixed")))
    return tuple(out)


#: How the seed preset splits each Section 3 component over the journey's steps:
#: step id -> (low, high, the seed's words).
_SEED_SPLIT: dict[str, tuple[float, float, str]] = {
    "click": (0, 0, "Step 1: 'Time: 0ms'"),
    "dns": (50, 100, "Step 2 and the total: DNS 50-100 ms (a full lookup; the seed says a cached answer is ~5 ms)"),
    "connect-alb": (100, 150, "Step 3 and the total: TLS 100-150 ms"),
    "alb-process": (10, 20, "Step 6 and the total: ALB 10-20 ms"),
    "node-process": (45, 90, "Node.js 50-100 ms in the total, less Step 17's 5-10 ms"),
    "db-connect": (5, 10, "Step 10: 5-10 ms 'if pool already has connection'"),
    "db-query": (20, 85, "Database 30-100 ms in the total, less Steps 10 and 16 (Step 15 alone says 30-100)"),
    "db-reply": (5, 5, "Step 16: 5 ms"),
    "node-respond": (5, 10, "Step 17: 5-10 ms"),
    "alb-receive": (0, 0, "Step 18: <1 ms, not in the total"),
    "browser-receive": (50, 100, "Return trip 50-100 ms in the total (Step 19 itself says 100-150)"),
}


def seed_steps() -> tuple[StepTime, ...]:
    out = []
    for s in STEPS:
        if s.latency == "firewall":
            out.append(_one(s, Part("hypervisor check", 0.0, "fixed"), note="the seed: <1 ms, not in its total"))
            continue
        lo, hi, words = _SEED_SPLIT.get(s.id, (0, 0, "the seed gives no time"))
        part = Part("the seed's range", float(lo), "range", float(hi)) if hi > lo else Part("the seed's value", float(lo), "fixed")
        out.append(_one(s, part, note=words + "; every value in the range equally likely"))
    return tuple(out)


def page_load_frame(p: PhysicsParams, facts: TopologyFacts) -> pd.DataFrame:
    """Loading the app from CloudFront before the click (layer 0): hit vs miss to S3."""
    import pandas as pd

    transfer = p.bundle_kb * 8 / p.bandwidth_mbps  # kb*8 = kbit; Mbit/s = kbit/ms
    rows = [
        ("connect-edge", 2 * p.edge_rtt_ms if p.tls_version == "1.3" else 3 * p.edge_rtt_ms,
         f"TCP + TLS {p.tls_version} with the nearest edge ({fmt(p.edge_rtt_ms)} ms RTT)"),
        ("edge-request", p.edge_rtt_ms, "GET index.html, app.js: one round trip to the edge"),
    ]
    if p.cloudfront_hit:
        rows.append(("edge-cache", 0.0, f"hit: the edge has the files (default TTL {facts.edge_ttl_s} s)"))
    else:
        rows.append(("origin-fetch", p.origin_rtt_ms + p.s3_first_byte_ms,
                     f"miss: the edge fetches from S3 (origin RTT {fmt(p.origin_rtt_ms)} ms + first byte "
                     f"{fmt(p.s3_first_byte_ms)} ms) through the origin access identity"))
    rows.append(("transfer", transfer, f"{fmt(p.bundle_kb)} kB at {fmt(p.bandwidth_mbps)} Mbit/s"))
    df = pd.DataFrame(rows, columns=["part", "duration_ms", "reason"])
    df.insert(1, "start_ms", df["duration_ms"].cumsum() - df["duration_ms"])
    return df
