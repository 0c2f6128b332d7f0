"""Route 53 as a pure model: resolve names against the topology's records, cache answers over time.

    import tierlab as tl
    topo = tl.load("seed")
    tl.dns.resolve(topo, "api.myapp.com")                  # alias A -> the ALB's name -> its node addresses
    tl.dns.resolve(topo, "db.myapp.internal")              # NXDOMAIN: a private zone, asked from the internet
    tl.dns.resolve(topo, "db.myapp.internal", where="vpc") # CNAME -> RDS endpoint -> the primary's private IP
    after = tl.dns.failover(topo)                          # what-if: the standby becomes the primary
    tl.dns.timeline(topo, "db.myapp.internal", where="vpc", change=after, change_at_s=100,
                    lookups_s=range(0, 400, 10), client=tl.dns.RESOLVER).frame()
    tl.dns.stale_frame(topo, "api.myapp.com", tl.dns.move_alb(topo), change_at_s=30)

Each hop of an answer carries its own TTL, taken from the records (an alias answers with its target's
TTL: 60 s for an ELB; the RDS endpoint's A record has ``database.endpoint_ttl_s``). A cache keeps each
answer until its TTL runs out, so after a change a client keeps using the old address for the
*remaining* TTL; a client with a hard-coded address never follows.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Literal, Sequence

from ..errors import TierlabError, TopologyError
from . import limits
from .topology import DnsRecord, Topology

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Hop", "Answer", "resolve", "records_frame", "Client", "RESOLVER", "SEED_BROWSER", "hard_coded",
    "Lookup", "Timeline", "timeline", "timelines", "stale_frame", "failover", "move_alb", "zones", "slip",
]

Where = Literal["internet", "vpc"]
IP = ipaddress.IPv4Address


@dataclass(frozen=True)
class Hop:
    """One step of an answer: a name, the record that answered it, what it said, for how long, and why."""

    name: str
    type: str
    answer: str
    ttl_s: int
    source: str
    reason: str


@dataclass(frozen=True)
class Answer:
    """The whole answer chain for one query, as a client in ``where`` gets it."""

    query: str
    where: Where
    rcode: Literal["NOERROR", "NXDOMAIN"]
    hops: tuple[Hop, ...]
    addresses: tuple[IP, ...]

    @property
    def ok(self) -> bool:
        return self.rcode == "NOERROR" and bool(self.addresses)

    @property
    def ttl_s(self) -> int:
        """How long the whole answer may be cached: the shortest TTL along the chain."""
        return min((h.ttl_s for h in self.hops), default=0)

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([{"name": h.name, "type": h.type, "answer": h.answer, "ttl_s": h.ttl_s,
                              "source": h.source, "reason": h.reason} for h in self.hops])

    def __str__(self) -> str:
        if self.rcode == "NXDOMAIN":
            return f"{self.query} ({self.where}): NXDOMAIN"
        return f"{self.query} ({self.where}): {', '.join(map(str, self.addresses)) or '(edge addresses)'}"

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        head = f"<b>{self.query}</b> asked from the {self.where}: <b>{self.rcode}</b>"
        if self.addresses:
            head += f" → {', '.join(map(str, self.addresses))} (cache for {self.ttl_s} s)"
        return head + self.frame().to_html(index=False)


# --------------------------------------------------------------------------- resolution


def _topo(topo: Topology) -> Topology:
    if not isinstance(topo, Topology):
        raise TierlabError(f"expected a Topology, got {type(topo).__name__}", "load one with tl.load('seed')")
    return topo


def _name(name: object) -> str:
    if not isinstance(name, str) or not name.strip(". "):
        raise TierlabError(f"a DNS name must be a non-empty string, got {name!r}", "e.g. 'api.myapp.com'")
    return name.strip().rstrip(".").lower()


_WHERE: dict[object, Where] = {"internet": "internet", "vpc": "vpc"}


def _where(where: object) -> Where:
    found = _WHERE.get(where) if isinstance(where, str) else None
    if found is None:
        raise TierlabError(f"where must be 'internet' or 'vpc', got {limits._show(where)}",
                           "'vpc' asks from inside the VPC (the API servers), where private zones answer")
    return found


def zones(topo: Topology) -> dict[str, bool]:
    """Hosted zones named by the records, and whether each is private."""
    out: dict[str, bool] = {}
    for r in _topo(topo).records:
        out[r.zone] = r.private
    return out


def _zone_of(topo: Topology, name: str) -> str | None:
    best = None
    for z in zones(topo):
        if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
            best = z
    return best


def _aws_name(topo: Topology, name: str, where: Where, hops: list[Hop]) -> tuple[IP, ...] | None:
    """Names AWS answers itself (the ALB's, the RDS endpoint, the CloudFront domain); None if not one."""
    alb = topo.alb
    if name == alb.dns_name.lower():
        ips = tuple(n.public_ip for n in alb.nodes)
        hops.append(Hop(alb.dns_name, "A", ", ".join(map(str, ips)), 60, "elb.amazonaws.com",
                        f"one address per ALB node ({len(ips)} enabled AZs); AWS assigns them and may change "
                        "them, which is why clients use the name (an ALB cannot have an Elastic IP)"))
        return ips
    db = topo.database
    if name == db.endpoint.lower():
        primary = db.instance("primary")
        if primary is None:
            raise TopologyError(f"database {db.name!r} has no primary instance", "mark one instance role: primary")
        hops.append(Hop(db.endpoint, "A", str(primary.ip), db.endpoint_ttl_s, "rds.amazonaws.com",
                        f"the endpoint names the current primary ({primary.name}, {primary.subnet}); a failover "
                        f"changes this answer, so its TTL is short ({db.endpoint_ttl_s} s)"
                        + ("" if where == "vpc" else "; a private address: the name resolves from the "
                           "internet but nothing there can route to it — DNS is not the firewall")))
        return (primary.ip,)
    if topo.edge is not None and name == topo.edge.domain.lower():
        hops.append(Hop(topo.edge.domain, "A", "(addresses of the nearest edge location)", 60, "cloudfront.net",
                        "CloudFront answers with edge addresses chosen by where the resolver is"))
        return ()
    return None


def resolve(topo: Topology, name: str, *, where: Where = "internet") -> Answer:
    """Resolve ``name`` as a client on the internet or inside the VPC would, hop by hop."""
    topo = _topo(topo)
    where = _where(where)
    qname = _name(name)
    hops: list[Hop] = []
    current = qname
    for _ in range(8):  # CNAME chains are short; a loop would be a topology bug
        zone = _zone_of(topo, current)
        if zone is not None:
            private = zones(topo)[zone]
            if private and where == "internet":
                hops.append(Hop(current, "-", "NXDOMAIN", 0, f"private zone {zone}",
                                f"{zone} is a private hosted zone: Route 53 answers it only to resolvers inside "
                                "the VPCs associated with it; from the internet the name does not exist"))
                return Answer(qname, where, "NXDOMAIN", tuple(hops), ())
            recs = [r for r in topo.records if r.name.lower() == current and r.zone == zone]
            if not recs:
                hops.append(Hop(current, "-", "NXDOMAIN", 0, f"zone {zone}",
                                f"no record named {current} in {'private' if private else 'public'} zone {zone}"))
                return Answer(qname, where, "NXDOMAIN", tuple(hops), ())
            rec = recs[0]
            hops.append(_record_hop(rec))
            if rec.type == "A" and not rec.alias:
                try:
                    ip = ipaddress.IPv4Address(rec.target)
                except ValueError:
                    raise TopologyError(f"record {rec.name!r}: a plain A record needs an IPv4 address, got "
                                        f"{rec.target!r}", "make it an alias (alias: true) to name a resource") from None
                return Answer(qname, where, "NOERROR", tuple(hops), (ip,))
            current = rec.target.rstrip(".").lower()
            continue
        ips = _aws_name(topo, current, where, hops)
        if ips is None:
            hops.append(Hop(current, "-", "NXDOMAIN", 0, "the internet",
                            f"{current} is in no zone of this topology and names no AWS resource in it"))
            return Answer(qname, where, "NXDOMAIN", tuple(hops), ())
        if hops and hops[0].type == "A" and len(hops) > 1:  # alias: the target's TTL is what clients see
            hops[0] = replace(hops[0], ttl_s=min(hops[0].ttl_s, hops[-1].ttl_s))
        return Answer(qname, where, "NOERROR", tuple(hops), ips)
    raise TopologyError(f"{qname!r}: CNAME chain longer than 8 hops (a loop?)", "check the records' targets")


def _record_hop(rec: DnsRecord) -> Hop:
    zone = f"Route 53 {'private' if rec.private else 'public'} zone {rec.zone}"
    if rec.alias:
        return Hop(rec.name, "A (alias)", rec.target, rec.ttl_s, zone,
                   "an alias: Route 53 looks up the target itself and answers with its A records in one response "
                   f"(the client never sees {rec.target}); allowed at a zone apex; TTL is the target's")
    if rec.type == "CNAME":
        return Hop(rec.name, "CNAME", rec.target, rec.ttl_s, zone,
                   f"a CNAME: the client must look up {rec.target} next; this hop is cached {rec.ttl_s} s, "
                   "but only the name is cached — the address behind it has its own TTL")
    return Hop(rec.name, rec.type, rec.target, rec.ttl_s, zone, f"a plain {rec.type} record, cached {rec.ttl_s} s")


def records_frame(topo: Topology) -> "pd.DataFrame":
    """The topology's Route 53 records, with what each is for and why it is shaped that way."""
    import pandas as pd

    rows = []
    for r in _topo(topo).records:
        if r.alias:
            why = "alias A: points at an AWS resource by name, follows its address changes, works at the apex"
        elif r.type == "CNAME":
            why = "CNAME: another name for the target; not allowed at a zone apex"
        else:
            why = f"{r.type} record"
        if r.private:
            why += "; private zone: answered only inside the VPC"
        rows.append({"zone": r.zone, "name": r.name, "type": r.type, "alias": r.alias, "target": r.target,
                     "ttl_s": r.ttl_s, "private": r.private, "purpose": r.purpose, "reason": why})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- what-ifs


def failover(topo: Topology) -> Topology:
    """What-if: RDS Multi-AZ failover — the standby becomes the primary; the endpoint flips to its address."""
    db = _topo(topo).database
    if not db.multi_az or db.instance("standby") is None:
        raise TopologyError(f"database {db.name!r} has no Multi-AZ standby to fail over to",
                            "set multi_az: true and add a standby instance in a second AZ")
    swapped = tuple(replace(i, role="standby" if i.role == "primary" else "primary") for i in db.instances)
    return replace(topo, database=replace(db, instances=swapped))


def move_alb(topo: Topology, public_ips: Sequence[str] | None = None) -> Topology:
    """What-if: AWS replaces the ALB's nodes (scaling, maintenance) and their public addresses change."""
    alb = _topo(topo).alb
    if public_ips is None:
        new = [ipaddress.IPv4Address(int(n.public_ip) + 100) for n in alb.nodes]
    else:
        if isinstance(public_ips, (str, bytes)) or not isinstance(public_ips, Sequence):
            raise TopologyError(f"public_ips must be a list of addresses, got {limits._show(public_ips)}",
                                "give one public address per node, e.g. ['12.34.56.178', '12.34.56.179']")
        if len(public_ips) != len(alb.nodes):
            raise TopologyError(f"ALB {alb.name!r} has {len(alb.nodes)} nodes, got {len(public_ips)} addresses",
                                "give one public address per node")
        new = [limits.address(p, "public address") for p in public_ips]
    nodes = tuple(replace(n, public_ip=ip) for n, ip in zip(alb.nodes, new))
    return replace(topo, alb=replace(alb, nodes=nodes))


def slip(difference_id: str, topology: str = "seed-as-written") -> Exception:
    """Re-apply one of the seed's slips and return what loading it raises: ``tl.slips.replay`` (kept for ``tl.dns``)."""
    from .slips import replay  # the one implementation (imported late: slips loads topologies through the loader)

    return replay(difference_id, topology)  # type: ignore[return-value]


# --------------------------------------------------------------------------- caching over time


@dataclass(frozen=True)
class Client:
    """Who caches the answer and for how long.

    ``hold_s=None`` honours each answer's TTL (a stub or recursive resolver); a number holds every answer
    that long whatever the TTL says (the seed's "browser caches for 300 seconds"); ``fixed`` is an address
    written into code or config, never looked up at all.
    """

    name: str
    hold_s: int | None = None
    fixed: IP | None = None

    def __post_init__(self) -> None:
        if self.hold_s is not None and (isinstance(self.hold_s, bool) or not isinstance(self.hold_s, int)
                                        or self.hold_s < 0):
            raise TierlabError(f"client {self.name!r}: hold_s must be seconds >= 0 or None, got {self.hold_s!r}",
                               "None honours the record's TTL")


RESOLVER = Client("resolver (honours TTL)")
SEED_BROWSER = Client("browser (seed: 300 s)", hold_s=300)


def hard_coded(address: str) -> Client:
    """A client with an address written into its code (the seed's MISTAKE 1)."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise TierlabError(f"not an IPv4 address: {address!r}", "e.g. hard_coded('10.0.5.42')") from None
    return Client(f"hard-coded {ip}", fixed=ip)


@dataclass(frozen=True)
class Lookup:
    """One moment a client needs the address: where it got it, how old it is, and whether it is still right."""

    t_s: float
    source: Literal["route53", "cache", "hard-coded"]
    addresses: tuple[IP, ...]
    truth: tuple[IP, ...]
    age_s: float
    ttl_s: float  # how long this client keeps the answer (inf for a hard-coded address)
    reason: str

    @property
    def stale(self) -> bool:
        """An address in use that Route 53 no longer answers (holding one of several current ones is fine)."""
        return not set(self.addresses) <= set(self.truth)


@dataclass(frozen=True)
class Timeline:
    """A client's lookups of one name over time, around a change (failover, new ALB addresses)."""

    name: str
    client: Client
    where: Where
    change_at_s: float | None
    lookups: tuple[Lookup, ...]

    @property
    def stale_lookups(self) -> int:
        return sum(l.stale for l in self.lookups)

    @property
    def stale_for_s(self) -> float:
        """From the change to the first lookup that got the new address (0: never stale; inf: never followed).

        If the lookups end while still stale, the time to the last stale lookup (a lower bound).
        """
        if self.change_at_s is None:
            return 0.0
        after = [l for l in self.lookups if l.t_s >= self.change_at_s]
        if not any(l.stale for l in after):
            return 0.0
        if self.client.fixed is not None:
            return math.inf
        last_stale = max(l.t_s for l in after if l.stale)
        fresh = [l.t_s for l in after if not l.stale and l.t_s > last_stale]
        last = fresh[0] if fresh else last_stale
        return last - self.change_at_s

    @property
    def queries(self) -> int:
        return sum(l.source == "route53" for l in self.lookups)

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([{"t_s": l.t_s, "client": self.client.name, "source": l.source,
                              "addresses": ", ".join(map(str, l.addresses)), "age_s": l.age_s,
                              "ttl_s": l.ttl_s, "stale": l.stale, "reason": l.reason} for l in self.lookups])


def _times(lookups_s: Iterable[float]) -> list[float]:
    try:
        times = sorted(float(t) for t in lookups_s)
    except (TypeError, ValueError):
        raise TierlabError("lookups_s must be numbers of seconds", "e.g. range(0, 600, 10)") from None
    if any(t < 0 or not math.isfinite(t) for t in times):
        raise TierlabError("lookup times must be finite and >= 0 seconds", "e.g. range(0, 600, 10)")
    return times


def timeline(topo: Topology, name: str, *, lookups_s: Iterable[float], client: Client = RESOLVER,
             where: Where = "internet", change: Topology | None = None, change_at_s: float | None = None) -> Timeline:
    """Replay a client's lookups of ``name``; from ``change_at_s`` on, Route 53 answers from ``change``."""
    topo = _topo(topo)
    if not isinstance(client, Client):
        raise TierlabError(f"expected a tl.dns.Client, got {type(client).__name__}",
                           "use tl.dns.RESOLVER, tl.dns.SEED_BROWSER or tl.dns.hard_coded('10.0.5.42')")
    if (change is None) != (change_at_s is None):
        raise TierlabError("give both change= (the topology after) and change_at_s= (when), or neither",
                           "e.g. change=tl.dns.failover(topo), change_at_s=100")
    if change is not None:
        _topo(change)
        if not (isinstance(change_at_s, (int, float)) and change_at_s >= 0):
            raise TierlabError(f"change_at_s must be seconds >= 0, got {change_at_s!r}", "e.g. change_at_s=100")
    times = _times(lookups_s)
    before = resolve(topo, name, where=where)
    after = resolve(change, name, where=where) if change is not None else before

    def truth(t: float) -> Answer:
        return after if change_at_s is not None and t >= change_at_s else before

    out: list[Lookup] = []
    cached: tuple[float, Answer] | None = None
    for t in times:
        now = truth(t)
        if client.fixed is not None:
            out.append(Lookup(t, "hard-coded", (client.fixed,), now.addresses, t, math.inf,
                              "written into the code: never looked up, never refreshed"
                              + ("" if client.fixed in now.addresses else
                                 f"; {name} now answers {', '.join(map(str, now.addresses)) or 'nothing'}")))
            continue

        def hold(a: Answer) -> float:
            return a.ttl_s if client.hold_s is None else client.hold_s

        if cached is not None and t - cached[0] < hold(cached[1]):
            age = t - cached[0]
            left = hold(cached[1]) - age
            why = f"from the cache: {age:.0f} s old, {left:.0f} s left of {hold(cached[1])} s"
            if not set(cached[1].addresses) <= set(now.addresses):
                why += f"; Route 53 already answers {', '.join(map(str, now.addresses))}: stale"
            out.append(Lookup(t, "cache", cached[1].addresses, now.addresses, age, hold(cached[1]), why))
            continue
        if not now.ok:
            out.append(Lookup(t, "route53", (), now.addresses, 0.0, 0,
                              f"Route 53 answers {now.rcode}: nothing to cache"))
            cached = None
            continue
        cached = (t, now)
        ttl_note = (f"TTL {now.ttl_s} s" if client.hold_s is None else
                    f"held {client.hold_s} s whatever the TTL ({now.ttl_s} s) says")
        out.append(Lookup(t, "route53", now.addresses, now.addresses, 0.0, hold(now),
                          f"asked Route 53 ({'expired' if out else 'first lookup'}): {ttl_note}"))
    return Timeline(_name(name), client, where, change_at_s, tuple(out))


def timelines(topo: Topology, name: str, clients: Sequence[Client], *, lookups_s: Iterable[float],
              where: Where = "internet", change: Topology | None = None,
              change_at_s: float | None = None) -> tuple[Timeline, ...]:
    """The same lookups of ``name`` replayed by each client in turn, one Timeline per client (in order):
    the way to compare clients side by side, e.g. with ``tl.edge_charts.dns_timelines(...)``."""
    times = _times(lookups_s)
    return tuple(timeline(topo, name, lookups_s=times, client=c, where=where, change=change, change_at_s=change_at_s)
                 for c in clients)


def stale_frame(topo: Topology, name: str, change: Topology, *, change_at_s: float, cached_at_s: float = 0.0,
                where: Where = "internet", clients: Sequence[Client] | None = None) -> "pd.DataFrame":
    """How long each client keeps using the old address after a change: its remaining TTL, or forever.

    Each client looked the name up at ``cached_at_s``, then needs it again from the change on, every second.
    """
    topo = _topo(topo)
    if not (isinstance(cached_at_s, (int, float)) and isinstance(change_at_s, (int, float))
            and 0 <= cached_at_s <= change_at_s):
        raise TierlabError(f"need 0 <= cached_at_s <= change_at_s, got {cached_at_s!r} and {change_at_s!r}",
                           "the client caches the old answer before the change happens")
    old = resolve(topo, name, where=where)
    if not old.ok:
        raise TierlabError(f"{name!r} does not resolve from the {where} ({old.rcode})",
                           "ask from where='vpc' for a private zone")
    clients = list(clients) if clients is not None else [
        RESOLVER, SEED_BROWSER, hard_coded(str(old.addresses[0]))]
    import pandas as pd

    end = change_at_s + 2 * max([old.ttl_s] + [c.hold_s or 0 for c in clients]) + 1
    rows = []
    for c in clients:
        tl_ = timeline(topo, name, lookups_s=[cached_at_s] + [change_at_s + t for t in range(math.ceil(end - change_at_s))],
                       client=c, where=where, change=change, change_at_s=change_at_s)
        s = tl_.stale_for_s
        held = c.hold_s if c.hold_s is not None else old.ttl_s
        remaining = max(0.0, held - (change_at_s - cached_at_s))
        if c.fixed is not None:
            why = "never re-resolves: keeps sending to the old address until someone edits the code and redeploys"
        elif s == 0:
            why = f"its {held} s copy had already expired when the change came: the next lookup is fresh"
        else:
            why = (f"cached at {cached_at_s:.0f} s for {held} s; the change came at {change_at_s:.0f} s, so "
                   f"{remaining:.0f} s of that copy were left")
        rows.append({"client": c.name, "holds_s": math.inf if c.fixed is not None else held,
                     "stale_for_s": s, "stale_lookups": tl_.stale_lookups, "reason": why})
    return pd.DataFrame(rows)
