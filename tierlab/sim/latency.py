"""How long the Create Account request takes, step by step, and why.

The one entry point (the latency widget is built on it)::

    latency_model(topo: Topology | None = None, preset: str = "physics", *,
                  db_timings_ms: Mapping[str, float] | None = None, **params) -> LatencyModel

    m = tl.latency_model(tl.load("seed"), "physics", rtt_ms=80, tls_version="1.2",
                         dns_cache="miss", keep_alive=False, pool=True)
    m.waterfall()                  # DataFrame: step, seed_step, component, start_ms, duration_ms, end_ms, reason
    m.total_ms                     # the mean total of one request
    r = m.simulate(100_000, seed=1)
    r.percentiles()                # DataFrame: percentile, total_ms, reason  (p50, p95, p99)
    r.frame()                      # per step: mean/p50/p95/p99, reason
    m.with_params(tls_version="1.3")   # a new model (models are frozen)
    seed_vs_physics(topo)          # where the seed's budget and the physics disagree, and why

Presets
  ``seed``      the seed's Section 3 budget: DNS 50-100, TLS 100-150, ALB 10-20, Node 50-100,
                DB 30-100, return 50-100 ms, each value in a range equally likely. The seed
                claims 300-500 ms in total; its own ranges add up to 290-570 ms.
  ``physics``   every step derived from named parameters (``PhysicsParams``): the client's
                round-trip time, TLS version and resumption, DNS cache state and the record's
                TTL (from the topology), keep-alive, ALB work, the app's work, pool acquire vs a
                new PostgreSQL connection (TCP + TLS + SCRAM auth), the INSERT (WAL flush, index,
                synchronous Multi-AZ = one cross-AZ round trip), the response.
  ``measured``  physics, with the database phases replaced by timings from a real PostgreSQL
                (``db_timings_ms`` with keys ``tcp_connect_ms, tls_handshake_ms, auth_ms,
                first_query_ms, pool_acquire_ms, insert_ms``; tierlab's database layer measures
                them).

Step times are keyed by the journey's step ids (``tierlab.request.journey.STEPS``). Every step is a
sum of parts; each part is scaled per simulated request by a random factor of its kind
(internet round trips, VPC round trips, server work: log-normal with mean 1) or drawn from a
range (the seed). ``waterfall()`` shows the means, so the waterfall's total is the mean total.
The simulation draws the same random numbers whatever the parameters (common random numbers),
so two models compared with the same seed differ only by what was changed.

Pure model: numpy and pandas only.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Literal, Mapping

import numpy as np

from ..errors import ParameterError
from ..network.topology import Topology
from ..phases import PHASE_KEYS
from ..request.journey import STEPS, Step, Trace, journey
from ..request.outcomes import RequestOutcome
from .outcome import LatencyOutcome

__all__ = [
    "PhysicsParams",
    "TopologyFacts",
    "Part",
    "Branch",
    "StepTime",
    "LatencyModel",
    "Simulation",
    "Comparison",
    "latency_model",
    "seed_vs_physics",
    "implied_rtt_ms",
    "tls_round_trips",
    "PRESETS",
    "SEED_BUDGET_MS",
    "SEED_CLAIM_MS",
    "DB_TIMING_KEYS",
    "CONTROLS",
    "compare",
]

PRESETS = ("seed", "physics", "measured")

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

#: The database phases the measured preset reads: the one tuple in ``tierlab.phases`` (``tierlab.db`` measures them).
DB_TIMING_KEYS = PHASE_KEYS

#: Light in optical fibre covers about 200 km per millisecond.
FIBRE_KM_PER_MS = 200.0

DnsCache = Literal["browser", "resolver", "miss", "mixed"]
TlsVersion = Literal["1.2", "1.3"]
_DNS_STATES = ("browser", "resolver", "miss", "mixed")
_TLS_VERSIONS = ("1.2", "1.3")
_KINDS = ("net", "vpc", "work")


# ============================================================================ parameters


@dataclass(frozen=True)
class PhysicsParams:
    """Every number the physics preset uses, with its unit in its name.

    Defaults describe a learner on the same continent as the region (30 ms round trip), a
    first request (nothing cached, no open connection) and the seed's pool.
    """

    # the client and the internet
    rtt_ms: float = 30.0                  #: browser <-> ALB round trip over the internet
    rtt_jitter_frac: float = 0.25         #: spread of internet round trips (log-normal sigma)
    click_ms: float = 1.0                 #: React handles the click and calls fetch()
    render_ms: float = 8.0                #: React updates state and re-renders
    # DNS
    dns_cache: DnsCache = "miss"          #: browser | resolver | miss | mixed (drawn from the TTL)
    dns_ttl_s: float | None = None        #: None: the api record's TTL from the topology
    revisit_s: float = 600.0              #: mixed: mean time between this browser's lookups of the name
    resolver_hit_share: float = 0.8       #: mixed: share of browser misses the resolver has cached
    dns_browser_ms: float = 0.2           #: answer from the browser's/OS's host cache
    resolver_rtt_ms: float = 10.0         #: browser <-> its recursive resolver (ISP or public)
    authoritative_rtt_ms: float = 25.0    #: resolver <-> Route 53's name servers, per lookup
    # TCP + TLS with the ALB
    keep_alive: bool = False              #: reuse an open HTTPS connection (no TCP, no TLS)
    tls_version: TlsVersion = "1.3"
    tls_resumption: bool = False          #: session resumption (TLS 1.2 abbreviated / 1.3 PSK)
    tls_crypto_ms: float = 1.5            #: key exchange + certificate signature and verify
    tls_resume_crypto_ms: float = 0.3
    # inside the VPC
    intra_az_rtt_ms: float = 0.15         #: round trip inside one AZ
    cross_az_rtt_ms: float = 0.8          #: round trip between AZs of one region
    vpc_jitter_frac: float = 0.2
    alb_processing_ms: float = 1.0        #: ALB: decrypt, parse, rules, pick a target
    alb_response_ms: float = 0.2          #: ALB: encrypt and forward the response
    app_ms: float = 5.0                   #: Express: JWT verify, validation, createUser()
    respond_ms: float = 0.5               #: Express: JSON response
    work_jitter_frac: float = 0.3         #: spread of server work (log-normal sigma)
    # the database connection
    pool: bool = True                     #: take a pooled connection (else open a new one)
    pool_acquire_ms: float = 0.05         #: take an idle connection from the pool
    pool_pre_ping: bool = False           #: check a pooled connection before use (1 DB round trip)
    db_tls: bool = True                   #: DB_SSL=true in the seed's .env
    db_tls_version: TlsVersion = "1.3"
    db_tls_crypto_ms: float = 1.5
    vpc_dns_ms: float = 0.5               #: Route 53 Resolver answers the RDS endpoint (TTL 5 s)
    auth_round_trips: int = 3             #: startup -> SASL offer, client-first -> server-first, client-final -> ok
    scram_ms: float = 4.0                 #: PBKDF2 (4096 iterations) on both ends
    backend_start_ms: float = 3.0         #: the postmaster forks a backend for the connection
    # the INSERT
    query_exec_ms: float = 0.3            #: parse, plan, unique check on email, heap insert
    index_update_ms: float = 0.1          #: email_idx and the primary key
    wal_flush_ms: float = 1.0             #: commit: WAL fsync to EBS storage
    multi_az: bool | None = None          #: None: from the topology
    standby_flush_ms: float = 1.0         #: the standby's storage acknowledges the write
    # page load (CloudFront, before the click)
    cloudfront_hit: bool = True
    edge_rtt_ms: float = 10.0             #: browser <-> nearest CloudFront edge
    origin_rtt_ms: float = 30.0           #: edge <-> S3 in the bucket's region
    s3_first_byte_ms: float = 20.0
    bundle_kb: float = 300.0
    bandwidth_mbps: float = 50.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("dns_cache", "tls_version", "db_tls_version"):
                continue
            if isinstance(v, bool) or v is None:
                if v is None and f.name not in ("dns_ttl_s", "multi_az"):
                    problems.append(f"{f.name} is None")
                continue
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                problems.append(f"{f.name}={v!r} is not a finite number")
            elif v < 0:
                problems.append(f"{f.name}={v} is negative" + (
                    ": a round trip cannot take less than no time" if "rtt" in f.name else ""))
        if self.dns_cache not in _DNS_STATES:
            problems.append(f"dns_cache={self.dns_cache!r} is not one of {', '.join(_DNS_STATES)}")
        for k in ("tls_version", "db_tls_version"):
            if getattr(self, k) not in _TLS_VERSIONS:
                problems.append(f"{k}={getattr(self, k)!r} is not '1.2' or '1.3'")
        if isinstance(self.resolver_hit_share, (int, float)) and not 0 <= self.resolver_hit_share <= 1:
            problems.append(f"resolver_hit_share={self.resolver_hit_share} is outside 0-1")
        if isinstance(self.revisit_s, (int, float)) and self.revisit_s == 0 and self.dns_cache == "mixed":
            problems.append("revisit_s=0 with dns_cache='mixed': the mean time between lookups must be positive")
        if problems:
            raise ParameterError("latency parameters: " + "; ".join(problems),
                       "times and round trips are milliseconds >= 0; shares lie in 0-1; "
                       "see tl.PhysicsParams for every parameter and its default")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def make(cls, **params: Any) -> "PhysicsParams":
        unknown = [k for k in params if k not in cls.names()]
        if unknown:
            import difflib

            hints = [f"{k!r} -> {difflib.get_close_matches(k, cls.names(), 1)[0]!r}"
                     for k in unknown if difflib.get_close_matches(k, cls.names(), 1)]
            raise ParameterError(f"unknown latency parameter(s): {', '.join(unknown)}",
                       ("did you mean " + ", ".join(hints) + "? " if hints else "")
                       + "known: " + ", ".join(cls.names()))
        return cls(**params)


#: The parameters a latency panel exposes, with the range or choices a control should offer.
CONTROLS: dict[str, dict[str, Any]] = {
    "rtt_ms": {"min": 0.0, "max": 300.0, "step": 1.0, "description": "client <-> region round trip (ms)"},
    "tls_version": {"options": _TLS_VERSIONS, "description": "TLS version with the ALB"},
    "tls_resumption": {"options": (False, True), "description": "TLS session resumption"},
    "dns_cache": {"options": _DNS_STATES, "description": "where the DNS answer comes from"},
    "keep_alive": {"options": (False, True), "description": "reuse an open HTTPS connection"},
    "pool": {"options": (True, False), "description": "pooled database connection (else a new one)"},
    "pool_pre_ping": {"options": (False, True), "description": "check a pooled connection before use"},
    "multi_az": {"options": (None, True, False), "description": "synchronous standby (None: the topology's)"},
    "app_ms": {"min": 0.0, "max": 200.0, "step": 1.0, "description": "the app's own work (ms)"},
}


def tls_round_trips(version: str, resumption: bool = False) -> int:
    """Round trips a TLS handshake costs before the request can go: 1.2 full 2, 1.2 resumed 1,
    1.3 full 1, 1.3 resumed 1 (0-RTT early data is not used)."""
    if version not in _TLS_VERSIONS:
        raise ParameterError(f"TLS version {version!r} is not '1.2' or '1.3'", "use tls_version='1.2' or '1.3'")
    if version == "1.2":
        return 1 if resumption else 2
    return 1


def implied_rtt_ms(handshake_ms: float, tls_version: str = "1.3", *, with_tcp: bool = True) -> float:
    """The round-trip time a TCP+TLS handshake of ``handshake_ms`` implies."""
    if handshake_ms < 0:
        raise ParameterError(f"handshake of {handshake_ms} ms is negative", "pass a time in ms >= 0")
    return handshake_ms / (tls_round_trips(tls_version) + (1 if with_tcp else 0))


# ============================================================================ the topology's part


@dataclass(frozen=True)
class TopologyFacts:
    """What the latency model reads from a topology."""

    name: str
    api_host: str
    api_ttl_s: int
    api_record: str            # "alias", "CNAME", or "none"
    dns_lookups_on_miss: int
    multi_az: bool
    alb_cross_az_share: float  # ALB node -> target pairs that cross AZs (cross-zone on)
    db_cross_az_share: float   # API servers not in the primary's AZ
    edge_ttl_s: int
    app_host: str

    @classmethod
    def of(cls, topo: Topology) -> "TopologyFacts":
        rec = next((r for r in topo.records if r.name == topo.api_host and not r.private), None)
        if rec is None:
            kind, ttl, lookups = "none", 0, 1
        elif rec.alias:
            kind, ttl, lookups = "alias", rec.ttl_s, 1
        else:
            kind, ttl, lookups = rec.type, rec.ttl_s, 2
        az_of_target = {}
        for t in topo.alb.targets:
            inst = next((i for i in topo.instances if i.name == t), None)
            if inst is not None:
                az_of_target[t] = topo.subnet(inst.subnet).az
        node_azs = [topo.subnet(n.subnet).az for n in topo.alb.nodes]
        pairs = [(na, ta) for na in node_azs for ta in az_of_target.values()
                 if topo.alb.cross_zone or na == ta]
        alb_cross = sum(1 for na, ta in pairs if na != ta) / len(pairs) if pairs else 0.0
        primary = topo.database.instance("primary")
        p_az = topo.subnet(primary.subnet).az if primary else None
        db_cross = (sum(1 for a in az_of_target.values() if a != p_az) / len(az_of_target)) if az_of_target else 0.0
        return cls(topo.name, topo.api_host, ttl, kind, lookups, topo.database.multi_az, alb_cross, db_cross,
                   topo.edge.default_ttl_s if topo.edge else 0, topo.edge.domain if topo.edge else "")


# ============================================================================ step times


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
            return f"{self.what} {_fmt(self.ms)}-{_fmt(self.hi_ms or self.ms)} ms"
        return f"{self.what} {_fmt(self.ms)} ms"


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


def _fmt(x: float | None) -> str:
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


def _physics_steps(p: PhysicsParams, facts: TopologyFacts, db: Mapping[str, float] | None) -> tuple[StepTime, ...]:
    ttl_s = facts.api_ttl_s if p.dns_ttl_s is None else p.dns_ttl_s
    multi_az = facts.multi_az if p.multi_az is None else p.multi_az
    rtt = p.rtt_ms
    tgt_rtt = facts.alb_cross_az_share * p.cross_az_rtt_ms + (1 - facts.alb_cross_az_share) * p.intra_az_rtt_ms
    db_rtt = facts.db_cross_az_share * p.cross_az_rtt_ms + (1 - facts.db_cross_az_share) * p.intra_az_rtt_ms
    out: list[StepTime] = []
    for s in STEPS:
        if s.latency == "firewall":
            out.append(_one(s, Part("hypervisor check", 0.0, "fixed"), note=_FIREWALL_NOTE))
        elif s.id == "click":
            out.append(_one(s, Part("React handles the click and calls fetch()", p.click_ms, "work")))
        elif s.id == "dns":
            shares = _dns_shares(p, ttl_s)
            cache = Part(f"host cache answers (TTL {_fmt(ttl_s)} s)", p.dns_browser_ms, "fixed")
            res = Part("one round trip to the recursive resolver", p.resolver_rtt_ms, "net")
            look = Part(f"resolver asks Route 53 ({facts.dns_lookups_on_miss} lookup"
                        f"{'s' if facts.dns_lookups_on_miss > 1 else ''}: "
                        f"{'an alias answers directly' if facts.api_record == 'alias' else 'a CNAME adds one'})",
                        p.authoritative_rtt_ms * facts.dns_lookups_on_miss, "net")
            branches = (Branch("browser cache hit", shares["browser"], (cache,)),
                        Branch("resolver cache hit", shares["resolver"], (Part("browser cache misses", p.dns_browser_ms, "fixed"), res)),
                        Branch("full lookup", shares["miss"], (Part("browser cache misses", p.dns_browser_ms, "fixed"), res, look)))
            if p.dns_cache != "mixed":
                branches = tuple(b for b in branches if b.share == 1.0)
                note = {"browser": f"a repeat within the {_fmt(ttl_s)} s TTL",
                        "resolver": "someone using the same resolver looked it up within the TTL",
                        "miss": "nobody's cache has it: a first visit"}[p.dns_cache]
            else:
                note = (f"the browser caches for the record's TTL {_fmt(ttl_s)} s and looks the name up every "
                        f"{_fmt(p.revisit_s)} s on average, so TTL/(TTL + {_fmt(p.revisit_s)} s) = "
                        f"{shares['browser'] * 100:.0f}% of lookups hit its cache")
            out.append(StepTime(s, branches, note))
        elif s.id == "connect-alb":
            if p.keep_alive:
                out.append(_one(s, Part("reuse the open keep-alive connection", 0.0, "fixed"),
                                note="no TCP or TLS handshake: the browser already has a connection to this ALB node"))
            else:
                n = tls_round_trips(p.tls_version, p.tls_resumption)
                kind = "resumed" if p.tls_resumption else "full"
                out.append(_one(
                    s, Part("TCP handshake 1 RTT", rtt, "net"),
                    Part(f"TLS {p.tls_version} {kind} handshake {n} RTT", n * rtt, "net"),
                    Part("crypto", p.tls_resume_crypto_ms if p.tls_resumption else p.tls_crypto_ms, "work"),
                    note=f"RTT {_fmt(rtt)} ms; TLS 1.2 needs 2 RTT, 1.3 needs 1, resumption 1"))
        elif s.id == "alb-process":
            out.append(_one(s, Part("the request crosses the internet ½ RTT", rtt / 2, "net"),
                            Part("ALB decrypts, parses, picks a target", p.alb_processing_ms, "work"),
                            Part("to the target ½ VPC RTT", tgt_rtt / 2, "vpc"),
                            note=f"{facts.alb_cross_az_share * 100:.0f}% of (ALB node, target) pairs cross AZs "
                                 "(cross-zone load balancing)"))
        elif s.id == "node-process":
            out.append(_one(s, Part("Express: JWT, validation, createUser()", p.app_ms, "work")))
        elif s.id == "db-connect":
            acquire = db["pool_acquire_ms"] if db else p.pool_acquire_ms
            src = " (measured)" if db else ""
            if p.pool:
                parts = [Part(f"take an idle pooled connection{src}", acquire, "work")]
                if p.pool_pre_ping:
                    parts.append(Part("pre-ping: SELECT 1 on it, 1 DB RTT", db_rtt, "vpc"))
                out.append(_one(s, *parts, note="the pool already holds a connection to the primary"))
            else:
                parts = [Part(f"wait for a pool slot{src}", acquire, "work"),
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
                    parts.append(Part("PBKDF2 work", p.scram_ms, "work"))
                    parts.append(Part("backend fork", p.backend_start_ms, "work"))
                out.append(_one(s, *parts, note="a new connection for this request (no pool)"
                                + ("; measured on the learner's PostgreSQL, plus the VPC round trips that "
                                   "loopback did not have" if db else "")))
        elif s.id == "db-query":
            parts = [Part("the query travels ½ DB RTT", db_rtt / 2, "vpc")]
            if db:
                key = "insert_ms" if p.pool else "first_query_ms"
                parts.append(Part(f"INSERT ... RETURNING id ({key}, measured)", db[key], "work"))
            else:
                parts += [Part("parse, plan, unique check, insert", p.query_exec_ms, "work"),
                          Part("index update", p.index_update_ms, "work"),
                          Part("WAL flush at commit", p.wal_flush_ms, "work")]
            if multi_az:
                parts += [Part("synchronous Multi-AZ: 1 cross-AZ RTT", p.cross_az_rtt_ms, "vpc"),
                          Part("standby storage ack", p.standby_flush_ms, "work")]
            note = ("Multi-AZ: the commit waits for the standby in the other AZ" if multi_az
                    else "single-AZ: no standby to wait for")
            if db and not p.pool:
                note += "; a fresh backend's first query warms its caches"
            out.append(_one(s, *parts, note=note))
        elif s.id == "db-reply":
            out.append(_one(s, Part("the result returns ½ DB RTT", db_rtt / 2, "vpc"),
                            note=f"{facts.db_cross_az_share * 100:.0f}% of API servers sit in another AZ than the primary"))
        elif s.id == "node-respond":
            out.append(_one(s, Part("Express formats the JSON response", p.respond_ms, "work")))
        elif s.id == "alb-receive":
            out.append(_one(s, Part("to the ALB node ½ VPC RTT", tgt_rtt / 2, "vpc"),
                            Part("ALB encrypts and forwards", p.alb_response_ms, "work")))
        elif s.id == "browser-receive":
            out.append(_one(s, Part("the response crosses the internet ½ RTT", rtt / 2, "net"),
                            Part("React updates and re-renders", p.render_ms, "work")))
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


def _seed_steps() -> tuple[StepTime, ...]:
    out = []
    for s in STEPS:
        if s.latency == "firewall":
            out.append(_one(s, Part("hypervisor check", 0.0, "fixed"), note="the seed: <1 ms, not in its total"))
            continue
        lo, hi, words = _SEED_SPLIT.get(s.id, (0, 0, "the seed gives no time"))
        part = Part("the seed's range", float(lo), "range", float(hi)) if hi > lo else Part("the seed's value", float(lo), "fixed")
        out.append(_one(s, part, note=words + "; every value in the range equally likely"))
    return tuple(out)


# ============================================================================ the model


@dataclass(frozen=True)
class LatencyModel:
    """A preset (and its parameters) applied to a topology: per-step times with reasons."""

    preset: str
    facts: TopologyFacts
    params: PhysicsParams | None
    db_timings_ms: tuple[tuple[str, float], ...] | None = None
    #: the journey's outcomes on the topology (``Trace.outcomes``); empty: not evaluated, taken as getting through
    journey_outcomes: tuple[RequestOutcome, ...] = ()

    @cached_property
    def outcome(self) -> LatencyOutcome:
        """Whether the request gets through; when it fails, what the browser gets and how long the
        user waits (``outcome.failed``, ``outcome.status``, ``outcome.wait_ms``, ``outcome.failures``)."""
        return LatencyOutcome.of(self.journey_outcomes, {st.step.id: st.mean_ms for st in self.steps})

    @property
    def failed(self) -> bool:
        """No Create Account request succeeds: there is no total, only a wait (``outcome.wait_ms``)."""
        return self.outcome.failed

    def headline(self) -> str:
        """The latency panel's one line: the mean total, or that the request fails and how long the user waits."""
        return self.outcome.headline(self.total_ms)

    @cached_property
    def steps(self) -> tuple[StepTime, ...]:
        if self.preset == "seed":
            return _seed_steps()
        db = dict(self.db_timings_ms) if self.db_timings_ms else None
        return _physics_steps(self.params or PhysicsParams(), self.facts, db)

    def step(self, step_id: str) -> StepTime:
        for st in self.steps:
            if st.step.id == step_id:
                return st
        raise ParameterError(f"no journey step {step_id!r}", "step ids: " + ", ".join(s.id for s in STEPS))

    @property
    def total_ms(self) -> float:
        """The mean total of one request (the waterfall's end)."""
        return float(sum(st.mean_ms for st in self.steps))

    def component_ms(self) -> dict[str, float]:
        """Mean time per latency component (client, dns, tls, firewall, alb, node, db, return)."""
        out: dict[str, float] = {}
        for st in self.steps:
            out[st.step.latency] = out.get(st.step.latency, 0.0) + st.mean_ms
        return out

    @property
    def notes(self) -> tuple[str, ...]:
        if self.preset == "seed":
            return (
                f"The seed claims {_fmt(SEED_CLAIM_MS[0])}-{_fmt(SEED_CLAIM_MS[1])} ms from click to confirmation, "
                f"but its own Section 3 ranges add up to {_fmt(SEED_SUM_MS[0])}-{_fmt(SEED_SUM_MS[1])} ms "
                "(DNS 50-100 + TLS 100-150 + ALB 10-20 + Node 50-100 + DB 30-100 + return 50-100).",
                "The seed's per-step numbers disagree with its own total in places (Step 19 says 100-150 ms, the "
                "total's return trip 50-100); this preset keeps the total's ranges.",
            )
        p = self.params or PhysicsParams()
        ttl = self.facts.api_ttl_s if p.dns_ttl_s is None else p.dns_ttl_s
        article = "an" if self.facts.api_record[:1] in "aeiou" else "a"
        notes = [f"{self.facts.api_host} is {article} {self.facts.api_record} record with TTL {ttl} s "
                 "(the seed says browsers cache for 300 s; an alias to an ELB takes the ELB's 60 s)."]
        if self.preset == "measured":
            notes.append("Database phases come from the learner's real PostgreSQL (loopback); the VPC round trips "
                         "and the Multi-AZ sync are added by the model.")
        return tuple(notes)

    # ------------------------------------------------------------------ answers
    def waterfall(self):
        """One request step by step: each step's mean time, where it starts, and why."""
        import pandas as pd

        rows, t = [], 0.0
        for st in self.steps:
            d = st.mean_ms
            rows.append({"step": st.step.id, "seed_step": st.step.seed_step, "component": st.step.latency,
                         "title": st.step.title, "start_ms": t, "duration_ms": d, "end_ms": t + d,
                         "reason": st.reason})
            t += d
        df = pd.DataFrame(rows)
        df["seed_step"] = df["seed_step"].astype("Int64")
        return df

    frame = waterfall

    def simulate(self, n: int = 10_000, seed: int = 0) -> "Simulation":
        """``n`` requests, each step drawn from its distribution; seeded and repeatable."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ParameterError(f"simulate(n={n!r}): n must be a whole number >= 1", "e.g. simulate(10_000, seed=0)")
        if n > 5_000_000:
            raise ParameterError(f"simulate(n={n}): more than 5,000,000 requests would need gigabytes",
                       "100,000 requests give stable p99s")
        p = self.params or PhysicsParams()
        sig = {"net": p.rtt_jitter_frac, "vpc": p.vpc_jitter_frac, "work": p.work_jitter_frac}
        stream_id = {"net": 0, "vpc": 1, "work": 2, "range": 3, "branch": 4}
        cache: dict[tuple[str, int], np.ndarray] = {}

        def draw(kind: str, j: int) -> np.ndarray:
            # one random stream per (kind, step), the same whatever the parameters: common random
            # numbers, and only the streams a model uses are drawn
            key = (kind, j)
            if key not in cache:
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_id[kind], j)))
                if kind in ("range", "branch"):
                    cache[key] = rng.random(n)
                else:
                    s = sig[kind]
                    z = rng.standard_normal(n)
                    cache[key] = np.exp(s * z - s * s / 2) if s > 0 else np.ones(n)
            return cache[key]

        out = np.zeros((n, len(self.steps)))
        for j, st in enumerate(self.steps):
            amounts = []
            for b in st.branches:
                amount = np.zeros(n)
                for part in b.parts:
                    if part.ms == 0 and not part.hi_ms:
                        continue
                    if part.kind == "fixed":
                        amount += part.ms
                    elif part.kind == "range":
                        amount += part.ms + ((part.hi_ms or part.ms) - part.ms) * draw("range", j)
                    else:
                        amount += part.ms * draw(part.kind, j)
                amounts.append(amount)
            if len(amounts) == 1:
                out[:, j] = amounts[0]
                continue
            u = draw("branch", j)
            edges = np.cumsum([b.share for b in st.branches])
            idx = np.minimum(np.searchsorted(edges, u, side="right"), len(amounts) - 1)
            out[:, j] = np.choose(idx, amounts)
        return Simulation(self, int(n), int(seed), out)

    def with_params(self, **changes: Any) -> "LatencyModel":
        """A new model with some parameters changed (``seed`` has none)."""
        if self.preset == "seed":
            if changes:
                raise ParameterError("the seed preset takes no parameters: it reproduces the seed's own ranges",
                           "use preset='physics' to move RTT, TLS, DNS cache, keep-alive or the pool")
            return self
        unknown = [k for k in changes if k not in PhysicsParams.names()]
        if unknown:
            PhysicsParams.make(**changes)  # raises with the hint
        return replace(self, params=replace(self.params or PhysicsParams(), **changes))

    def page_load(self):
        """Loading the app from CloudFront before the click (layer 0): hit vs miss to S3."""
        import pandas as pd

        p = self.params or PhysicsParams()
        transfer = p.bundle_kb * 8 / p.bandwidth_mbps  # kb*8 = kbit; Mbit/s = kbit/ms
        rows = [
            ("connect-edge", 2 * p.edge_rtt_ms if p.tls_version == "1.3" else 3 * p.edge_rtt_ms,
             f"TCP + TLS {p.tls_version} with the nearest edge ({_fmt(p.edge_rtt_ms)} ms RTT)"),
            ("edge-request", p.edge_rtt_ms, "GET index.html, app.js: one round trip to the edge"),
        ]
        if p.cloudfront_hit:
            rows.append(("edge-cache", 0.0, f"hit: the edge has the files (default TTL {self.facts.edge_ttl_s} s)"))
        else:
            rows.append(("origin-fetch", p.origin_rtt_ms + p.s3_first_byte_ms,
                         f"miss: the edge fetches from S3 (origin RTT {_fmt(p.origin_rtt_ms)} ms + first byte "
                         f"{_fmt(p.s3_first_byte_ms)} ms) through the origin access identity"))
        rows.append(("transfer", transfer, f"{_fmt(p.bundle_kb)} kB at {_fmt(p.bandwidth_mbps)} Mbit/s"))
        df = pd.DataFrame(rows, columns=["part", "duration_ms", "reason"])
        df.insert(1, "start_ms", df["duration_ms"].cumsum() - df["duration_ms"])
        return df

    def label(self) -> str:
        if self.preset == "seed":
            return "seed budget"
        p = self.params or PhysicsParams()
        bits = [f"RTT {_fmt(p.rtt_ms)} ms", f"TLS {p.tls_version}", f"DNS {p.dns_cache}"]
        if p.keep_alive:
            bits.append("keep-alive")
        bits.append("pool" if p.pool else "no pool")
        return f"{self.preset}: " + ", ".join(bits)

    def _repr_html_(self) -> str:
        """Compact: the label, the mean total and the notes. The step-by-step table is ``.waterfall()``."""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div class='tl-latency'><p><b>{html.escape(self.label())}</b> — {html.escape(self.headline())}"
                f" for one request.</p>{f'<ul>{notes}</ul>' if notes else ''}"
                f"<p>Step by step: <code>.waterfall()</code>.</p></div>")

    def __repr__(self) -> str:
        if self.outcome.failures:
            return f"<LatencyModel {self.label()} on {self.facts.name}: {self.headline()}>"
        return f"<LatencyModel {self.label()} on {self.facts.name}: {self.total_ms:.1f} ms>"


# ============================================================================ results


@dataclass(frozen=True, eq=False)
class Simulation:
    """``n`` simulated requests: samples_ms[i, j] is request i's time in step j."""

    model: LatencyModel
    n: int
    seed: int
    samples_ms: np.ndarray = field(repr=False)

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(st.step.id for st in self.model.steps)

    @cached_property
    def totals_ms(self) -> np.ndarray:
        return self.samples_ms.sum(axis=1)

    def step_ms(self, step_id: str) -> np.ndarray:
        return self.samples_ms[:, self.step_ids.index(self.model.step(step_id).step.id)]

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.totals_ms, q))

    def percentiles(self, qs: tuple[float, ...] = (50, 95, 99)):
        """The total's percentiles (p50, p95, p99 by default), with what each means."""
        import pandas as pd

        vals = np.percentile(self.totals_ms, qs)
        rows = [{"percentile": f"p{q:g}", "total_ms": float(v),
                 "reason": f"{q:g}% of {self.n:,} simulated requests finish within {v:.0f} ms"}
                for q, v in zip(qs, vals)]
        return pd.DataFrame(rows)

    def spread(self) -> dict[str, float]:
        """Mean, percentiles and the spread (p95 - p5, max - min) of the total."""
        t = self.totals_ms
        p5, p50, p95, p99 = np.percentile(t, (5, 50, 95, 99))
        return {"mean_ms": float(t.mean()), "min_ms": float(t.min()), "p5_ms": float(p5), "p50_ms": float(p50),
                "p95_ms": float(p95), "p99_ms": float(p99), "max_ms": float(t.max()),
                "p5_p95_ms": float(p95 - p5), "std_ms": float(t.std())}

    def frame(self):
        """Per step: mean, p50, p95, p99 and share of the mean total, with the step's reason."""
        import pandas as pd

        s = self.samples_ms
        qs = np.percentile(s, (50, 95, 99), axis=0)
        mean = s.mean(axis=0)
        total = mean.sum() or 1.0
        rows = []
        for j, st in enumerate(self.model.steps):
            rows.append({"step": st.step.id, "seed_step": st.step.seed_step, "component": st.step.latency,
                         "mean_ms": mean[j], "p50_ms": qs[0, j], "p95_ms": qs[1, j], "p99_ms": qs[2, j],
                         "share": mean[j] / total, "reason": st.reason})
        df = pd.DataFrame(rows)
        df["seed_step"] = df["seed_step"].astype("Int64")
        return df

    def histogram(self, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
        return np.histogram(self.totals_ms, bins=bins)

    def _repr_html_(self) -> str:
        return (f"<div class='tl-simulation'><b>{html.escape(self.model.label())}</b>, {self.n:,} requests "
                f"(seed {self.seed}){self.percentiles().to_html(index=False, float_format='%.1f')}</div>")

    def __repr__(self) -> str:
        s = self.spread()
        return (f"<Simulation {self.model.label()}: n={self.n} p50={s['p50_ms']:.1f} p95={s['p95_ms']:.1f} "
                f"p99={s['p99_ms']:.1f} ms>")


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two scenarios simulated with the same random numbers, step by step."""

    a: Simulation
    b: Simulation
    labels: tuple[str, str]

    def frame(self):
        import pandas as pd

        ma, mb = self.a.samples_ms.mean(axis=0), self.b.samples_ms.mean(axis=0)
        rows = []
        for j, (sa, sb) in enumerate(zip(self.a.model.steps, self.b.model.steps)):
            d = mb[j] - ma[j]
            if abs(d) < 1e-9:
                reason = "the same in both"
            else:
                reason = f"{self.labels[1]}: {sb.reason} | {self.labels[0]}: {sa.reason}"
            rows.append({"step": sa.step.id, f"{self.labels[0]}_ms": ma[j], f"{self.labels[1]}_ms": mb[j],
                         "difference_ms": d, "reason": reason})
        rows.append({"step": "total", f"{self.labels[0]}_ms": ma.sum(), f"{self.labels[1]}_ms": mb.sum(),
                     "difference_ms": mb.sum() - ma.sum(),
                     "reason": f"p95 {self.a.percentile(95):.0f} ms vs {self.b.percentile(95):.0f} ms"})
        return pd.DataFrame(rows)

    def percentiles(self):
        pa, pb = self.a.percentiles(), self.b.percentiles()
        out = pa[["percentile"]].copy()
        out[f"{self.labels[0]}_ms"] = pa["total_ms"]
        out[f"{self.labels[1]}_ms"] = pb["total_ms"]
        out["difference_ms"] = pb["total_ms"] - pa["total_ms"]
        out["reason"] = [f"{self.labels[1]} minus {self.labels[0]} at {p}" for p in out["percentile"]]
        return out


def compare(a: LatencyModel, b: LatencyModel, *, n: int = 20_000, seed: int = 0,
            labels: tuple[str, str] | None = None) -> Comparison:
    """Simulate two models with the same random numbers and compare them step by step."""
    return Comparison(a.simulate(n, seed), b.simulate(n, seed), labels or ("a", "b"))


# ============================================================================ entry points


def latency_model(topo: Topology | None = None, preset: str = "physics", *,
                  db_timings_ms: Mapping[str, float] | None = None, trace: Trace | None = None,
                  **params: Any) -> LatencyModel:
    """The latency model of the Create Account request on ``topo`` (default: ``load('seed')``).

    ``preset``: ``seed`` | ``physics`` | ``measured``; ``params``: any field of
    :class:`PhysicsParams` (``rtt_ms``, ``tls_version``, ``dns_cache``, ``keep_alive``,
    ``pool``, ``multi_az`` ...); ``db_timings_ms``: the database phases for ``measured``.
    ``trace``: the journey on ``topo`` when already evaluated (default: ``journey(topo)``); when it
    is blocked, ``model.outcome`` says the request fails and how long the user waits.
    """
    if topo is None:
        if trace is not None:
            topo = trace.topology
        else:
            from ..network.loader import load

            topo = load("seed")
    if not isinstance(topo, Topology):
        raise ParameterError(f"latency_model needs a Topology, got {type(topo).__name__}",
                   "pass tl.load('seed') (or leave it out for the seed)")
    if trace is not None and trace.topology is not topo:
        raise ParameterError("latency_model: the trace was evaluated on another topology",
                   "pass trace=tl.journey(topo) for the same topo, or leave trace out")
    if preset not in PRESETS:
        raise ParameterError(f"unknown latency preset {preset!r}", f"use one of {', '.join(PRESETS)}")
    facts = TopologyFacts.of(topo)
    outcomes = (trace if trace is not None else journey(topo)).outcomes
    if preset == "seed":
        if params or db_timings_ms:
            raise ParameterError("the seed preset takes no parameters: it reproduces the seed's own ranges",
                       "use preset='physics' to move RTT, TLS, DNS cache, keep-alive or the pool")
        return LatencyModel("seed", facts, None, journey_outcomes=outcomes)
    p = PhysicsParams.make(**params)
    if preset == "measured":
        return LatencyModel("measured", facts, p, _check_timings(db_timings_ms), journey_outcomes=outcomes)
    if db_timings_ms is not None:
        raise ParameterError("db_timings_ms is only used by the measured preset", "pass preset='measured'")
    return LatencyModel("physics", facts, p, journey_outcomes=outcomes)


def _check_timings(t: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    how = ("measure them on your PostgreSQL with tierlab's database layer (tierlab.db) and pass the dict: "
           "latency_model(topo, 'measured', db_timings_ms=timings); keys: " + ", ".join(DB_TIMING_KEYS))
    if t is None:
        raise ParameterError("the measured preset needs database timings (db_timings_ms) from a real PostgreSQL", how)
    if not isinstance(t, Mapping):
        raise ParameterError(f"db_timings_ms must be a dict of ms values, got {type(t).__name__}", how)
    missing = [k for k in DB_TIMING_KEYS if k not in t]
    extra = [k for k in t if k not in DB_TIMING_KEYS]
    bad = [f"{k}={t[k]!r}" for k in DB_TIMING_KEYS if k in t and (
        isinstance(t[k], bool) or not isinstance(t[k], (int, float)) or not math.isfinite(t[k]) or t[k] < 0)]
    if missing or extra or bad:
        what = "; ".join(x for x in (
            f"missing {', '.join(missing)}" if missing else "", f"unknown {', '.join(extra)}" if extra else "",
            f"not a time in ms >= 0: {', '.join(bad)}" if bad else "") if x)
        raise ParameterError(f"db_timings_ms: {what}", how)
    return tuple((k, float(t[k])) for k in DB_TIMING_KEYS)


def seed_vs_physics(topo: Topology | None = None, **params: Any):
    """The seed's budget beside the physics, component by component, with why they differ."""
    import pandas as pd

    phys = latency_model(topo, "physics", **params)
    p = phys.params or PhysicsParams()
    comp = phys.component_ms()
    lo_t, hi_t = SEED_BUDGET_MS["tls"]
    r_lo, r_hi = implied_rtt_ms(lo_t, "1.3"), implied_rtt_ms(hi_t, "1.3")
    r12_lo, r12_hi = implied_rtt_ms(lo_t, "1.2"), implied_rtt_ms(hi_t, "1.2")
    km_lo, km_hi = r_lo / 2 * FIBRE_KM_PER_MS, r_hi / 2 * FIBRE_KM_PER_MS
    ttl = phys.facts.api_ttl_s if p.dns_ttl_s is None else p.dns_ttl_s
    why = {
        "dns": (f"50-100 ms is a full lookup; the physics uses DNS state '{p.dns_cache}'. A repeat within the TTL "
                f"is a browser-cache hit (~{_fmt(p.dns_browser_ms)} ms; the seed itself says ~5 ms), and the TTL "
                f"is {ttl} s here (an alias takes the ELB's 60 s), not the seed's 300 s"),
        "tls": (f"TCP + TLS 1.3 is 2 RTT, so 100-150 ms implies an RTT of {r_lo:.0f}-{r_hi:.0f} ms "
                f"({r12_lo:.0f}-{r12_hi:.0f} ms with TLS 1.2): {km_lo:,.0f}-{km_hi:,.0f} km of fibre each way, "
                f"a far-away client (e.g. Europe to us-east-1). At RTT {_fmt(p.rtt_ms)} ms it is "
                f"{comp.get('tls', 0):.0f} ms; with keep-alive it is 0"),
        "alb": ("an ALB adds a few ms of its own; the physics also counts the request's ½ RTT across the internet "
                "here, which the seed's budget leaves out"),
        "node": ("JWT checks and validation take a few ms; 50-100 ms fits only heavy work such as hashing a "
                 "password with bcrypt (cost 10 is ~50-100 ms), which the seed's handler does not do"),
        "db": ("a single-row INSERT with an index, a WAL flush and one cross-AZ round trip for Multi-AZ takes a "
               "few ms on a pooled connection; the seed's own Step 15 items add to 24-34 ms (2+5+10-20+5+2), "
               "below its 30-100 ms. A new connection (no pool) costs more: TCP + TLS + SCRAM auth + a backend fork"),
        "return": ("the response's ½ RTT plus a re-render; 50-100 ms would need a slow network or a heavy "
                   "re-render"),
    }
    rows = []
    for c, (lo, hi) in SEED_BUDGET_MS.items():
        v = comp.get(c, 0.0)
        verdict = "inside" if lo <= v <= hi else ("physics faster" if v < lo else "physics slower")
        rows.append({"component": c, "seed_low_ms": lo, "seed_high_ms": hi, "physics_ms": v,
                     "verdict": verdict, "reason": why[c]})
    total = phys.total_ms
    rows.append({"component": "total", "seed_low_ms": SEED_SUM_MS[0], "seed_high_ms": SEED_SUM_MS[1],
                 "physics_ms": total,
                 "verdict": "inside" if SEED_SUM_MS[0] <= total <= SEED_SUM_MS[1] else
                 ("physics faster" if total < SEED_SUM_MS[0] else "physics slower"),
                 "reason": (f"the seed claims {_fmt(SEED_CLAIM_MS[0])}-{_fmt(SEED_CLAIM_MS[1])} ms, its ranges add up "
                            f"to {_fmt(SEED_SUM_MS[0])}-{_fmt(SEED_SUM_MS[1])} ms; the physics ({phys.label()}) "
                            f"gives {total:.0f} ms, firewall checks and the click included")})
    return pd.DataFrame(rows)
