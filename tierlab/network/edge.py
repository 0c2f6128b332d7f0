"""Layer 0 as a pure model: CloudFront in front of a private S3 bucket.

Reads ``topo.edge`` (distribution, domain, bucket, origin_access, default_ttl_s, bucket_public) and the
apex record in ``topo.records``. Everything here is a frozen value or a pure function:

    import tierlab as tl
    topo = tl.load("seed")
    tl.edge.files_frame(topo)                              # the seed's static files, TTL and why
    reqs = tl.edge.page_loads(topo, pages=200, duration_s=4 * 3600, seed=1)
    run = tl.edge.simulate(topo, reqs)                     # hit / miss per request, with a reason
    run.hit_ratio, run.origin_fetches
    tl.edge.simulate(topo, reqs, deploy_at_s=3600, strategy="same-names").summary()
    tl.edge.origin_access_frame(topo)                      # via CloudFront: 200; straight to S3: 403
    tl.edge.origin_access_frame(tl.edge.what_if(topo, bucket_public=True))

A model of one edge location (one cache), with CloudFront's semantics: an object is served from the edge
while its age is below its TTL; an expired or absent object is fetched from the origin (a *miss*, one GET
to S3); an invalidation removes it; the origin's content can change (a deploy) without the edge knowing.
Simplifications, said out loud: one edge location (a real distribution has hundreds, each with its own
cache, plus regional caches between them and S3); an expired copy counts as a full fetch (CloudFront
revalidates with a conditional GET, so an unchanged object costs a request and a 304, not its bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Literal, Mapping, Sequence


from ..errors import ParameterError, TierlabError, TopologyError
from . import limits
from .topology import DnsRecord, Edge, Topology

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "StaticFile", "SEED_FILES", "LONG_TTL_S", "SHORT_TTL_S", "edge_of", "apex_record", "files", "files_frame",
    "ttl_policy", "Request", "page_loads", "CacheEvent", "CacheRun", "simulate", "hit_ratio_by_ttl",
    "deploy_frame", "OriginAnswer", "fetch", "origin_access_frame", "bucket_policy", "exposure_frame",
    "what_if", "path_frame",
]

LONG_TTL_S = 31_536_000  # one year: "Cache-Control: max-age=31536000, immutable" for hashed file names
SHORT_TTL_S = 60  # index.html: revalidated often so a deploy shows within a minute

Strategy = Literal["same-names", "invalidate", "versioned"]
Policy = Literal["seed", "recommended"]


# --------------------------------------------------------------------------- the edge and its files


def edge_of(topo: Topology) -> Edge:
    """The topology's edge section, or a clear error when it has none."""
    if not isinstance(topo, Topology):
        raise TierlabError(f"expected a Topology, got {type(topo).__name__}", "load one with tl.load('seed')")
    if topo.edge is None:
        raise TopologyError(f"topology {topo.name!r} has no edge (CloudFront + S3) section",
                            "add an `edge:` block (distribution, domain, bucket, origin_access, default_ttl_s)")
    return topo.edge


def apex_record(topo: Topology) -> DnsRecord:
    """The record that sends browsers to the distribution (the seed's ``myapp.com``)."""
    edge = edge_of(topo)
    for r in topo.records:
        if r.target.rstrip(".") == edge.domain:
            return r
    raise TopologyError(f"no DNS record in {topo.name!r} points at the distribution {edge.domain!r}",
                        "add an alias A record at the apex (myapp.com) targeting the CloudFront domain")


@dataclass(frozen=True)
class StaticFile:
    """One object of the front-end bucket, as the seed lists them."""

    path: str  # the object key as the seed names it
    role: str
    size_kb: int
    hashed_name: str  # the versioned key a build tool would emit (content hash in the name)
    entry_point: bool = False  # index.html: its URL cannot change, so it cannot carry a hash

    def key(self, version: int, versioned: bool) -> str:
        """The object key served for a given release (same name, or a content hash per release)."""
        if not versioned or self.entry_point:
            return self.path
        stem, dot, ext = self.hashed_name.rpartition(".")
        return f"{stem}{version:02d}{dot}{ext}" if dot else f"{self.hashed_name}{version:02d}"


# The seed: "index.html, app.js, styles.css, images/, manifest.json". Sizes are typical, for the byte counts.
SEED_FILES: tuple[StaticFile, ...] = (
    StaticFile("index.html", "main app entry point", 2, "index.html", entry_point=True),
    StaticFile("app.js", "React/Angular compiled code", 480, "app.3f9a1c.js"),
    StaticFile("styles.css", "styling", 40, "styles.8d2e47.css"),
    StaticFile("images/logo.svg", "image (images/)", 6, "images/logo.a41b09.svg"),
    StaticFile("images/hero.jpg", "image (images/)", 220, "images/hero.c7d310.jpg"),
    StaticFile("manifest.json", "app metadata", 1, "manifest.json", entry_point=True),
)


def files(topo: Topology) -> tuple[StaticFile, ...]:
    """The static files the seed puts in the bucket (checked against the topology's edge)."""
    edge_of(topo)
    return SEED_FILES


def _file(path: str) -> StaticFile:
    for f in SEED_FILES:
        if f.path == path:
            return f
    raise TierlabError(f"no static file {path!r} in the bucket",
                       f"known: {', '.join(f.path for f in SEED_FILES)}")


def ttl_policy(topo: Topology, policy: Policy | str = "seed") -> dict[str, int]:
    """TTL per file: ``seed`` caches everything for ``default_ttl_s``; ``recommended`` splits by name."""
    edge = edge_of(topo)
    if policy == "seed":
        return {f.path: edge.default_ttl_s for f in SEED_FILES}
    if policy == "recommended":
        return {f.path: (SHORT_TTL_S if f.entry_point else LONG_TTL_S) for f in SEED_FILES}
    raise TierlabError(f"unknown cache policy {policy!r}", "use 'seed' or 'recommended'")


def _policy_reason(f: StaticFile, policy: Policy, ttl_s: int) -> str:
    if policy == "seed":
        return (f"the seed caches everything for {ttl_s} s: after a deploy this file may stay old at the edge "
                f"for up to {ttl_s} s, and old and new files can mix in one page")
    if f.entry_point:
        return (f"its URL ({f.path}) never changes, so it cannot carry a hash: keep it short ({ttl_s} s) "
                "so a new release (which names new hashed files) is seen within a minute")
    return (f"the build puts a content hash in the name ({f.hashed_name}): a new release is a new key, "
            f"so this key's bytes never change and can be cached for a year ({ttl_s} s, immutable)")


def files_frame(topo: Topology, policy: Policy = "seed") -> "pd.DataFrame":
    """The bucket's files with their TTL under a policy and the reason for it."""
    import pandas as pd

    edge = edge_of(topo)
    ttls = ttl_policy(topo, policy)
    rows = []
    for f in SEED_FILES:
        ttl = ttls[f.path]
        key = f.path if (policy == "seed" or f.entry_point) else f.hashed_name
        control = f"max-age={ttl}" + (", immutable" if ttl == LONG_TTL_S else "")
        rows.append({"path": f.path, "key": key, "role": f.role, "size_kb": f.size_kb, "bucket": edge.bucket,
                     "ttl_s": ttl, "cache_control": control, "reason": _policy_reason(f, policy, ttl)})
    return pd.DataFrame(rows)


def path_frame(topo: Topology) -> "pd.DataFrame":
    """How a browser reaches the files: apex record -> distribution -> origin -> bucket, each with a reason."""
    import pandas as pd

    edge = edge_of(topo)
    rec = apex_record(topo)
    kind = "alias A" if rec.alias else rec.type
    oa = {"OAI": "Origin Access Identity (the older mechanism; AWS now recommends OAC)",
          "OAC": "Origin Access Control (signs each origin request with SigV4)"}.get(edge.origin_access,
                                                                                     edge.origin_access)
    rows = [
        {"hop": "DNS", "from": rec.name, "to": edge.domain, "how": kind,
         "reason": f"Route 53 {kind} record in zone {rec.zone}: the browser gets the address of a nearby edge"},
        {"hop": "edge", "from": edge.domain, "to": f"edge cache of {edge.distribution}", "how": "HTTPS",
         "reason": "TLS ends at the edge with the distribution's certificate; a cached object is answered here"},
        {"hop": "origin", "from": f"edge cache of {edge.distribution}", "to": f"s3://{edge.bucket}",
         "how": edge.origin_access,
         "reason": f"only on a miss: the edge fetches the object from the bucket as the {oa}"},
    ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- requests over time


@dataclass(frozen=True)
class Request:
    """One browser request for one object at the edge."""

    t_s: float
    path: str
    page: int  # which page load it belongs to


def page_loads(topo: Topology, *, pages: int = 200, duration_s: float = 4 * 3600, seed: int = 0,
               paths: Sequence[str] | None = None) -> tuple[Request, ...]:
    """A seeded stream of page loads at random times; each load requests every file of the page.

    A page is index.html, app.js, styles.css, manifest.json and the logo; one load in three shows the hero
    image. The same ``seed`` always gives the same stream.
    """
    edge_of(topo)
    if not isinstance(pages, int) or pages < 0:
        raise TierlabError(f"pages must be a whole number >= 0, got {pages!r}", "e.g. pages=200")
    if not (isinstance(duration_s, (int, float)) and duration_s > 0 and math.isfinite(duration_s)):
        raise TierlabError(f"duration_s must be a positive number of seconds, got {duration_s!r}",
                           "e.g. duration_s=4 * 3600")
    page_paths = list(paths) if paths is not None else [
        "index.html", "app.js", "styles.css", "manifest.json", "images/logo.svg"]
    for p in page_paths:
        _file(p)
    import numpy as np  # here, not at import: `import tierlab` needs no numpy

    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, duration_s, pages))
    hero = rng.random(pages) < 1 / 3
    out: list[Request] = []
    for i, t in enumerate(times):
        for p in page_paths:
            out.append(Request(float(t), p, i))
        if paths is None and hero[i]:
            out.append(Request(float(t), "images/hero.jpg", i))
    return tuple(out)


@dataclass(frozen=True)
class CacheEvent:
    """What the edge did with one request."""

    t_s: float
    page: int
    path: str
    key: str
    result: Literal["hit", "miss"]
    age_s: float  # age of the cached copy that was served (0 on a miss)
    ttl_s: int
    release: int  # the release whose bytes were served
    current: int  # the release the origin holds at that moment
    origin_fetch: bool
    reason: str

    @property
    def stale(self) -> bool:
        return self.release < self.current


@dataclass(frozen=True)
class CacheRun:
    """The edge's answers to a stream of requests, with the deploy (if any) that happened during it."""

    distribution: str
    bucket: str
    events: tuple[CacheEvent, ...]
    strategy: str
    deploy_at_s: float | None
    invalidation_paths: int

    @property
    def requests(self) -> int:
        return len(self.events)

    @property
    def hits(self) -> int:
        return sum(e.result == "hit" for e in self.events)

    @property
    def origin_fetches(self) -> int:
        return sum(e.origin_fetch for e in self.events)

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests if self.events else 0.0

    @property
    def stale_responses(self) -> int:
        return sum(e.stale for e in self.events)

    @property
    def origin_kb(self) -> int:
        return sum(_file(e.path).size_kb for e in self.events if e.origin_fetch)

    @property
    def mixed_pages(self) -> int:
        """Page loads that got files from two different releases (new index.html with old app.js...)."""
        releases: dict[int, set[int]] = {}
        for e in self.events:
            releases.setdefault(e.page, set()).add(e.release)
        return sum(len(r) > 1 for r in releases.values())

    @property
    def last_stale_s(self) -> float | None:
        """How long after the deploy the last old file was served (None: never)."""
        stale = [e.t_s for e in self.events if e.stale]
        if not stale or self.deploy_at_s is None:
            return None
        return max(stale) - self.deploy_at_s

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([{"t_s": round(e.t_s, 1), "page": e.page, "path": e.path, "key": e.key,
                              "result": e.result, "age_s": round(e.age_s, 1), "ttl_s": e.ttl_s,
                              "release": e.release, "stale": e.stale, "origin_fetch": e.origin_fetch,
                              "reason": e.reason} for e in self.events])

    def per_object_frame(self) -> "pd.DataFrame":
        """Hits, misses and hit ratio per object."""
        import pandas as pd

        rows = []
        for f in SEED_FILES:
            ev = [e for e in self.events if e.path == f.path]
            if not ev:
                continue
            hits = sum(e.result == "hit" for e in ev)
            ttl = ev[0].ttl_s
            rows.append({"path": f.path, "requests": len(ev), "hits": hits, "misses": len(ev) - hits,
                         "hit_ratio": round(hits / len(ev), 3), "ttl_s": ttl,
                         "reason": f"{len(ev) - hits} origin fetch(es): the first request and each one "
                                   f"after a copy expired (TTL {ttl} s)"
                                   + (" or was invalidated" if self.strategy != "same-names" and
                                      self.deploy_at_s is not None else "")})
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, object]:
        return {"strategy": self.strategy, "requests": self.requests, "hits": self.hits,
                "hit_ratio": round(self.hit_ratio, 3), "origin_fetches": self.origin_fetches,
                "origin_kb": self.origin_kb, "stale_responses": self.stale_responses,
                "mixed_pages": self.mixed_pages, "invalidation_paths": self.invalidation_paths,
                "last_stale_s": None if self.last_stale_s is None else round(self.last_stale_s, 1)}

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        s = self.summary()
        return (f"<b>CloudFront {self.distribution}</b> over {self.requests} requests: hit ratio "
                f"{s['hit_ratio']:.1%}, {s['origin_fetches']} origin fetches from s3://{self.bucket}"
                + (f"; deploy at {self.deploy_at_s:.0f} s ({self.strategy}): {s['stale_responses']} stale "
                   f"responses, {s['mixed_pages']} mixed pages" if self.deploy_at_s is not None else ""))


def _ttls(topo: Topology, ttl_s: int | Mapping[str, int] | str | None) -> dict[str, int]:
    edge = edge_of(topo)
    if ttl_s is None:
        table = {f.path: edge.default_ttl_s for f in SEED_FILES}
    elif isinstance(ttl_s, str):
        table = ttl_policy(topo, ttl_s)
    elif isinstance(ttl_s, Mapping):
        table = {f.path: edge.default_ttl_s for f in SEED_FILES}
        for k, v in ttl_s.items():
            _file(k)
            table[k] = v
    else:
        table = {f.path: ttl_s for f in SEED_FILES}
    for k, v in table.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise TierlabError(f"TTL for {k!r} must be a whole number of seconds >= 0, got {v!r}",
                               "e.g. ttl_s=3600, or a mapping {'index.html': 60}")
    return table


def simulate(topo: Topology, requests: Iterable[Request], *, ttl_s: int | Mapping[str, int] | str | None = None,
             deploy_at_s: float | None = None, strategy: Strategy = "same-names") -> CacheRun:
    """Replay requests against one edge cache.

    ``ttl_s``: one TTL for all files, a mapping per path, a policy name (``"seed"``, ``"recommended"``), or
    None for the edge's ``default_ttl_s``. ``deploy_at_s``: a new release lands in the bucket then;
    ``strategy`` says how: ``same-names`` (overwrite, nothing else), ``invalidate`` (overwrite, then
    invalidate ``/*``), ``versioned`` (new hashed names for assets; invalidate only the entry points).
    """
    edge = edge_of(topo)
    ttls = _ttls(topo, ttl_s)
    if strategy not in ("same-names", "invalidate", "versioned"):
        raise TierlabError(f"unknown deploy strategy {strategy!r}", "use 'same-names', 'invalidate' or 'versioned'")
    if deploy_at_s is not None and not (isinstance(deploy_at_s, (int, float)) and deploy_at_s >= 0):
        raise TierlabError(f"deploy_at_s must be a time in seconds >= 0, got {deploy_at_s!r}", "e.g. deploy_at_s=3600")
    reqs = list(requests)
    for r in reqs:
        if not isinstance(r, Request):
            raise TierlabError(f"expected Request values, got {type(r).__name__}", "make them with tl.edge.page_loads(...)")
        _file(r.path)
    reqs.sort(key=lambda r: r.t_s)
    versioned = strategy == "versioned"
    invalidated = [f.path for f in SEED_FILES if (strategy == "invalidate" or (versioned and f.entry_point))]
    inv_paths = 0 if deploy_at_s is None or strategy == "same-names" else (1 if strategy == "invalidate" else
                                                                           len(invalidated))
    cache: dict[str, tuple[float, int]] = {}  # key -> (fetched at, release)
    deployed = False
    seen: set[str] = set()
    events: list[CacheEvent] = []
    for r in reqs:
        if deploy_at_s is not None and not deployed and r.t_s >= deploy_at_s:
            deployed = True
            for p in invalidated:
                cache.pop(p, None)
        current = 2 if deployed else 1
        f = _file(r.path)
        key = f.key(current, versioned)
        ttl = ttls[r.path]
        cached = cache.get(key)
        if cached is not None and r.t_s - cached[0] < ttl:
            age = r.t_s - cached[0]
            rel = cached[1]
            why = f"cached {age:.0f} s ago, TTL {ttl} s: served from the edge"
            if rel < current:
                why += f"; but release {current} is in the bucket since {deploy_at_s:.0f} s: this copy is stale"
            events.append(CacheEvent(r.t_s, r.page, r.path, key, "hit", age, ttl, rel, current, False, why))
            continue
        if cached is None:
            if deployed and key != r.path and versioned:
                why = f"new key {key} (a new release has a new name): fetched from s3://{edge.bucket}"
            elif deployed and r.path in invalidated and key in seen:
                why = f"invalidated at {deploy_at_s:.0f} s: fetched again from s3://{edge.bucket}"
            else:
                why = f"first request at this edge: fetched from s3://{edge.bucket} via {edge.origin_access}"
        else:
            why = (f"copy expired ({r.t_s - cached[0]:.0f} s old >= TTL {ttl} s): fetched again from "
                   f"s3://{edge.bucket}")
        cache[key] = (r.t_s, current)
        seen.add(key)
        events.append(CacheEvent(r.t_s, r.page, r.path, key, "miss", 0.0, ttl, current, current, True, why))
    return CacheRun(edge.distribution, edge.bucket, tuple(events), strategy, deploy_at_s, inv_paths)


def hit_ratio_by_ttl(topo: Topology, requests: Sequence[Request], ttls_s: Iterable[int]) -> "pd.DataFrame":
    """Hit ratio and origin fetches of the same request stream under different TTLs."""
    import pandas as pd

    reqs = tuple(requests)
    rows = []
    for ttl in ttls_s:
        run = simulate(topo, reqs, ttl_s=ttl)
        rows.append({"ttl_s": ttl, "hit_ratio": round(run.hit_ratio, 4), "origin_fetches": run.origin_fetches,
                     "reason": f"{run.origin_fetches} misses in {run.requests} requests: an object is fetched "
                               f"again only after a copy is {ttl} s old"})
    return pd.DataFrame(rows)


def deploy_frame(topo: Topology, requests: Sequence[Request], *, deploy_at_s: float,
                 policies: Mapping[Strategy, int | Mapping[str, int] | str | None] | None = None) -> "pd.DataFrame":
    """The three ways to ship a release compared on the same requests: staleness vs origin load."""
    import pandas as pd

    reqs = tuple(requests)
    plans: Mapping[Strategy, int | Mapping[str, int] | str | None] = (
        policies or {"same-names": None, "invalidate": None, "versioned": "recommended"})
    reasons = {
        "same-names": "overwrite files, no invalidation: every edge keeps old copies until their TTL runs out, "
                      "and a page can get the new index.html with the old app.js",
        "invalidate": "overwrite, then invalidate /* (one wildcard path; AWS charges per path beyond 1,000 a month): "
                      "no stale copies, but every cached object is gone: each edge fetches each one again from S3 on its next request there",
        "versioned": "new hashed names for assets, long TTL; only index.html and manifest.json invalidated: "
                     "old pages keep working, new pages fetch new keys once",
    }
    rows = []
    for strategy, ttl in plans.items():
        run = simulate(topo, reqs, ttl_s=ttl, deploy_at_s=deploy_at_s, strategy=strategy)
        rows.append({**run.summary(), "reason": reasons[strategy]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- origin access


@dataclass(frozen=True)
class OriginAnswer:
    """What S3 answers to one request for an object."""

    via: Literal["cloudfront", "direct"]
    url: str
    status: int
    code: str
    reason: str

    @property
    def ok(self) -> bool:
        return self.status == 200


def bucket_policy(topo: Topology) -> dict[str, object]:
    """The bucket policy the topology implies (a JSON document as AWS stores it)."""
    edge = edge_of(topo)
    arn = f"arn:aws:s3:::{edge.bucket}/*"
    statements: list[dict[str, object]] = []
    if edge.origin_access == "OAI":
        statements.append({"Sid": "AllowCloudFrontOAI", "Effect": "Allow",
                           "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "
                                                f"{edge.distribution.upper()}OAI"},
                           "Action": "s3:GetObject", "Resource": arn})
    else:
        statements.append({"Sid": "AllowCloudFrontOAC", "Effect": "Allow",
                           "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                           "Resource": arn,
                           "Condition": {"StringEquals": {"AWS:SourceArn":
                                                          f"arn:aws:cloudfront::111122223333:distribution/{edge.distribution}"}}})
    if edge.bucket_public:
        statements.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": arn})
    return {"Version": "2012-10-17", "Statement": statements}


def fetch(topo: Topology, path: str = "index.html", *, via: Literal["cloudfront", "direct"] = "cloudfront") -> OriginAnswer:
    """Ask S3 for an object, through CloudFront or straight at the bucket's own URL."""
    edge = edge_of(topo)
    _file(path)
    if via == "cloudfront":
        rec = apex_record(topo)
        return OriginAnswer(via, f"https://{rec.name}/{path}", 200, "OK",
                            f"the edge signs its origin request as the distribution's {edge.origin_access}, which "
                            f"the bucket policy allows (s3:GetObject on {edge.bucket})")
    if via != "direct":
        raise TierlabError(f"unknown way in {via!r}", "use via='cloudfront' or via='direct'")
    url = f"https://{edge.bucket}.s3.amazonaws.com/{path}"
    if edge.bucket_public:
        return OriginAnswer(via, url, 200, "OK",
                            "bucket_public: a 'Principal: *' statement serves anyone who knows the URL, bypassing "
                            "CloudFront: no edge cache, not the site's certificate, every object exposed")
    return OriginAnswer(via, url, 403, "AccessDenied",
                        f"the bucket policy trusts only CloudFront's {edge.origin_access} and Block Public Access "
                        "is on: an anonymous request matches no Allow, so S3 denies it")


def origin_access_frame(topo: Topology, path: str = "index.html") -> "pd.DataFrame":
    """Both ways to ask for an object, with S3's answer and the reason."""
    import pandas as pd

    return pd.DataFrame([{"via": a.via, "url": a.url, "status": a.status, "code": a.code, "reason": a.reason}
                         for a in (fetch(topo, path, via="cloudfront"), fetch(topo, path, via="direct"))])


def exposure_frame(topo: Topology) -> "pd.DataFrame":
    """What a public bucket would give away, compared with the private one behind CloudFront."""
    import pandas as pd

    edge = edge_of(topo)
    public = edge.bucket_public
    rows = [
        ("direct GET of any object", "403 AccessDenied", "200 OK",
         "every object is readable by anyone, including keys no page links to (old builds, source maps, "
         "files uploaded by mistake)"),
        ("edge cache", "every browser request meets the cache", "direct requests skip it",
         "each direct request is an S3 GET you pay for and that no edge absorbs; hit ratio means nothing"),
        ("TLS certificate", f"the distribution's certificate for {apex_record(topo).name}",
         f"S3's *.s3.amazonaws.com certificate",
         "users and links learn a second address for the site, with somebody else's name on it"),
        ("one front door", "only the edge reaches the bucket", "two doors",
         "CloudFront's protections (WAF rules, geo restriction, signed URLs, logs) do not apply to the side door"),
    ]
    return pd.DataFrame([{"what": w, "private (OAI/OAC only)": a, "public bucket": b,
                          "now": "public bucket" if public else "private (OAI/OAC only)", "reason": r}
                         for w, a, b, r in rows])


def what_if(topo: Topology, **changes: object) -> Topology:
    """A new topology with the edge changed (``bucket_public=True``, ``default_ttl_s=60``, ``origin_access='OAC'``)."""
    edge = edge_of(topo)
    allowed = {"bucket_public", "default_ttl_s", "origin_access", "bucket", "domain", "distribution"}
    for k, v in changes.items():
        if k not in allowed:
            raise TierlabError(f"the edge has no setting {k!r}", f"change one of: {', '.join(sorted(allowed))}")
    public = changes.get("bucket_public", edge.bucket_public)
    if not isinstance(public, bool):
        raise ParameterError(f"bucket_public must be True or False, got {limits._show(public)}",
                             "bucket_public=True is the what-if; False is the seed")

    def name(key: str) -> str:
        value = changes.get(key, getattr(edge, key))
        if not isinstance(value, str) or not value:
            raise ParameterError(f"edge {key} must be a non-empty name, got {limits._show(value)}",
                                 "e.g. bucket='my-app-frontend'")
        return value

    new = Edge(distribution=name("distribution"), domain=name("domain"), bucket=name("bucket"),
               origin_access=limits.origin_access(changes.get("origin_access", edge.origin_access)),
               default_ttl_s=limits.ttl(changes.get("default_ttl_s", edge.default_ttl_s), "edge default_ttl_s"),
               bucket_public=public)
    return replace(topo, edge=new)
