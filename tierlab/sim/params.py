"""The physics preset's parameters: every number with its unit in its name, validated; the
controls a latency panel offers; TLS round trips."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields
from typing import Any, Literal

from ..errors import ParameterError

__all__ = ["PhysicsParams", "CONTROLS", "DnsCache", "TlsVersion", "tls_round_trips", "implied_rtt_ms",
           "FIBRE_KM_PER_MS", "DNS_STATES", "TLS_VERSIONS"]

#: Light in optical fibre covers about 200 km per millisecond.
FIBRE_KM_PER_MS = 200.0

DnsCache = Literal["browser", "resolver", "miss", "mixed"]
TlsVersion = Literal["1.2", "1.3"]
DNS_STATES = ("browser", "resolver", "miss", "mixed")
TLS_VERSIONS = ("1.2", "1.3")

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
        if self.dns_cache not in DNS_STATES:
            problems.append(f"dns_cache={self.dns_cache!r} is not one of {', '.join(DNS_STATES)}")
        for k in ("tls_version", "db_tls_version"):
            if getattr(self, k) not in TLS_VERSIONS:
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
            hints = [f"{k!r} -> {difflib.get_close_matches(k, cls.names(), 1)[0]!r}"
                     for k in unknown if difflib.get_close_matches(k, cls.names(), 1)]
            raise ParameterError(f"unknown latency parameter(s): {', '.join(unknown)}",
                       ("did you mean " + ", ".join(hints) + "? " if hints else "")
                       + "known: " + ", ".join(cls.names()))
        return cls(**params)


#: The parameters a latency panel exposes, with the range or choices a control should offer.
CONTROLS: dict[str, dict[str, Any]] = {
    "rtt_ms": {"min": 0.0, "max": 300.0, "step": 1.0, "description": "client <-> region round trip (ms)"},
    "tls_version": {"options": TLS_VERSIONS, "description": "TLS version with the ALB"},
    "tls_resumption": {"options": (False, True), "description": "TLS session resumption"},
    "dns_cache": {"options": DNS_STATES, "description": "where the DNS answer comes from"},
    "keep_alive": {"options": (False, True), "description": "reuse an open HTTPS connection"},
    "pool": {"options": (True, False), "description": "pooled database connection (else a new one)"},
    "pool_pre_ping": {"options": (False, True), "description": "check a pooled connection before use"},
    "multi_az": {"options": (None, True, False), "description": "synchronous standby (None: the topology's)"},
    "app_ms": {"min": 0.0, "max": 200.0, "step": 1.0, "description": "the app's own work (ms)"},
}


def tls_round_trips(version: str, resumption: bool = False) -> int:
    """Round trips a TLS handshake costs before the request can go: 1.2 full 2, 1.2 resumed 1,
    1.3 full 1, 1.3 resumed 1 (0-RTT early data is not used)."""
    if version not in TLS_VERSIONS:
        raise ParameterError(f"TLS version {version!r} is not '1.2' or '1.3'", "use tls_version='1.2' or '1.3'")
    if version == "1.2":
        return 1 if resumption else 2
    return 1


def implied_rtt_ms(handshake_ms: float, tls_version: str = "1.3", *, with_tcp: bool = True) -> float:
    """The round-trip time a TCP+TLS handshake of ``handshake_ms`` implies."""
    if handshake_ms < 0:
        raise ParameterError(f"handshake of {handshake_ms} ms is negative", "pass a time in ms >= 0")
    return handshake_ms / (tls_round_trips(tls_version) + (1 if with_tcp else 0))


