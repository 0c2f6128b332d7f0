"""Security groups and network ACLs, with the semantics AWS gives them.

Pure functions over frozen values: nothing here knows about subnets or the journey.

* Security groups only allow; all rules of all groups on an ENI are unioned; they filter on
  protocol, destination port and the peer (a CIDR or another security group). They are
  stateful: a reply to an allowed flow passes whatever the rules say.
* Network ACLs are ordered lists, lowest number first, first match wins, each rule ALLOW or
  DENY, with a final ``*`` DENY; inbound rules match the source, outbound the destination,
  and the port range is always the packet's destination port. They are stateless.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Literal

from ..errors import RuleError
from . import limits
from .limits import NACL_RULE_MAX, NACL_RULE_MIN

__all__ = [
    "Action",
    "Direction",
    "Protocol",
    "PortRange",
    "ALL_PORTS",
    "EPHEMERAL",
    "SgRule",
    "SecurityGroup",
    "NaclRule",
    "NetworkAcl",
    "NaclSegment",
    "NaclDecision",
    "nacl_decide",
    "sg_matches",
    "safe_id",
    "parse_cidr",
    "nacl_rule_id",
    "NACL_RULE_MIN",
    "NACL_RULE_MAX",
]

Action = limits.Action
Direction = limits.Direction
Protocol = limits.ProtocolName

PROTOCOLS: tuple[str, ...] = limits.PROTOCOLS


def safe_id(text: str) -> str:
    """A companion id safe for Graphviz and CSS: letters, digits and underscores only."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", text.replace("*", "star"))
    return out if out[:1].isalpha() else f"x{out}"


def parse_cidr(text: object, what: str = "CIDR") -> ipaddress.IPv4Network:
    """Parse an IPv4 CIDR strictly (explicit prefix, host bits zero), with an error that teaches."""
    return limits.cidr(text, what)


@dataclass(frozen=True, order=True)
class PortRange:
    """An inclusive range of TCP/UDP ports, ``lo``..``hi``."""

    lo: int
    hi: int

    def __post_init__(self) -> None:
        limits.port_bounds(self.lo, self.hi)

    @classmethod
    def parse(cls, value: object) -> "PortRange":
        """``443``, ``"1024-65535"``, ``"all"`` or ``[lo, hi]``; port 0 only as the start of a range."""
        if isinstance(value, PortRange):
            return value
        shown = limits._show(value)
        if isinstance(value, bool):
            raise RuleError(f"port {shown} is not a number", "write a port such as 443 or 1024-65535")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            return cls._checked(value, value)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            lo_hi = [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in lo_hi):
                raise RuleError(f"port range {shown} is not two numbers", "write [1024, 65535]")
            return cls._checked(lo_hi[0], lo_hi[1])
        s = str(value).strip().lower() if isinstance(value, (str, int)) else ""
        if s in ("all", "*", "-1", "0-65535"):
            return cls(0, 65535)
        m = re.fullmatch(r"(\d{1,6})\s*(?:-\s*(\d{1,6}))?", s)
        if not m:
            raise RuleError(f"port {shown} is not a port or range", "write 443, 1024-65535 or all")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        return cls._checked(lo, hi)

    @classmethod
    def _checked(cls, lo: object, hi: object) -> "PortRange":
        a, b = limits.port_bounds(lo, hi)
        if b == 0:
            raise RuleError("port 0 is not a port a connection can use",
                            "0 is valid only as the start of a range, as in 0-65535 (all); write 1-65535 or a real port")
        return cls(a, b)

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1

    def contains(self, port: int) -> bool:
        return self.lo <= port <= self.hi

    def covers(self, other: "PortRange") -> bool:
        return self.lo <= other.lo and other.hi <= self.hi

    def intersect(self, other: "PortRange") -> "PortRange | None":
        lo, hi = max(self.lo, other.lo), min(self.hi, other.hi)
        return PortRange(lo, hi) if lo <= hi else None

    def minus(self, other: "PortRange") -> list["PortRange"]:
        """The parts of this range that ``other`` does not cover (0, 1 or 2 ranges)."""
        if self.intersect(other) is None:
            return [self]
        parts = []
        if self.lo < other.lo:
            parts.append(PortRange(self.lo, other.lo - 1))
        if other.hi < self.hi:
            parts.append(PortRange(other.hi + 1, self.hi))
        return parts

    def __str__(self) -> str:
        if (self.lo, self.hi) == (0, 65535):
            return "all"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


ALL_PORTS = PortRange(0, 65535)

#: Ephemeral (client-side) port ranges by who opens the connection.
EPHEMERAL: dict[str, PortRange] = {
    "linux": PortRange(32768, 60999),
    "windows": PortRange(49152, 65535),
    "macos": PortRange(49152, 65535),
    "elb": PortRange(1024, 65535),
}


def _check_protocol(protocol: object, where: str) -> Protocol:
    return limits.protocol(protocol, where)


def _proto_matches(rule_protocol: str, protocol: str) -> bool:
    return rule_protocol == "all" or rule_protocol == protocol


# --------------------------------------------------------------------------- security groups


@dataclass(frozen=True, kw_only=True)
class SgRule:
    """One security-group rule. ``peer`` is a CIDR (``peer_cidr``) or a group (``peer_sg``)."""

    id: str
    direction: Direction
    protocol: Protocol
    ports: PortRange
    peer_cidr: ipaddress.IPv4Network | None = None
    peer_sg: str | None = None
    description: str = ""
    enabled: bool = True
    seed_checkpoint: int | None = None
    peer_prefix_list: str | None = None
    prefix_cidrs: tuple[ipaddress.IPv4Network, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "protocol", _check_protocol(self.protocol, f"rule {self.id}"))
        limits.direction(self.direction)
        peers = [p for p in (self.peer_cidr, self.peer_sg, self.peer_prefix_list) if p is not None]
        if len(peers) != 1:
            raise RuleError(
                f"security-group rule {self.id} needs exactly one peer",
                "give one of cidr: a.b.c.d/n, sg: <group name> or prefix_list: <list name>",
            )

    @property
    def safe_id(self) -> str:
        return safe_id(self.id)

    @property
    def peer(self) -> str:
        if self.peer_cidr is not None:
            return str(self.peer_cidr)
        return self.peer_sg if self.peer_sg is not None else str(self.peer_prefix_list)

    def covers_port(self, protocol: str, port: int) -> bool:
        if not _proto_matches(self.protocol, protocol):
            return False
        return self.protocol in ("icmp", "all") or self.ports.contains(port)

    def describe(self) -> str:
        way = "from" if self.direction == "inbound" else "to"
        return f"{self.id} ({self.protocol} {self.ports} {way} {self.peer})"


@dataclass(frozen=True)
class SecurityGroup:
    """A security group: allow-only rules, stateful. A group written without ``egress`` gets
    AWS's default rule (all traffic out to 0.0.0.0/0) from the loader."""

    name: str
    rules: tuple[SgRule, ...] = ()
    description: str = ""

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)

    def rules_in(self, direction: Direction, *, enabled: bool | None = True) -> tuple[SgRule, ...]:
        return tuple(
            r for r in self.rules if r.direction == direction and (enabled is None or r.enabled == enabled)
        )

    def with_rule(self, rule: SgRule) -> "SecurityGroup":
        kept = tuple(r for r in self.rules if r.id != rule.id)
        return replace(self, rules=kept + (rule,))


def sg_matches(
    rules: Iterable[SgRule],
    protocol: str,
    port: int,
    peer_ip: ipaddress.IPv4Address | None,
    peer_sgs: frozenset[str],
) -> list[SgRule]:
    """Every rule that allows this packet (SGs union their rules; order does not matter)."""
    hits = []
    for r in rules:
        if not r.covers_port(protocol, port):
            continue
        if r.peer_sg is not None and r.peer_sg in peer_sgs:
            hits.append(r)
        elif r.peer_cidr is not None and peer_ip is not None and peer_ip in r.peer_cidr:
            hits.append(r)
        elif r.peer_prefix_list is not None and peer_ip is not None and any(peer_ip in c for c in r.prefix_cidrs):
            hits.append(r)
    return hits


# --------------------------------------------------------------------------- network ACLs


@dataclass(frozen=True, kw_only=True)
class NaclRule:
    """One numbered network-ACL rule. ``cidr`` is the source (inbound) or destination (outbound)."""

    nacl: str
    number: int
    direction: Direction
    action: Action
    protocol: Protocol
    ports: PortRange
    cidr: ipaddress.IPv4Network
    description: str = ""
    enabled: bool = True
    seed_checkpoint: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "protocol", _check_protocol(self.protocol, f"rule {self.id}"))
        limits.nacl_rule_number(self.number, self.nacl, self.direction)
        limits.direction(self.direction)
        object.__setattr__(self, "action", limits.nacl_action(self.action, self.id))

    @property
    def id(self) -> str:
        return nacl_rule_id(self.nacl, self.direction, self.number)

    @property
    def safe_id(self) -> str:
        return safe_id(self.id)

    def matches(self, protocol: str, peer_ip: ipaddress.IPv4Address) -> bool:
        return _proto_matches(self.protocol, protocol) and peer_ip in self.cidr

    def port_span(self) -> PortRange:
        return ALL_PORTS if self.protocol in ("all", "icmp") else self.ports

    def describe(self) -> str:
        way = "from" if self.direction == "inbound" else "to"
        return f"#{self.number} {self.action.upper()} {self.protocol} {self.ports} {way} {self.cidr}"


def nacl_rule_id(nacl: str, direction: str, number: object) -> str:
    """``nacl-public-in-100``: a NACL rule is named by its ACL, direction and number."""
    return f"{nacl}-{'in' if direction == 'inbound' else 'out'}-{number}"


def default_rule_id(nacl: str, direction: Direction) -> str:
    return f"{nacl}-{'in' if direction == 'inbound' else 'out'}-star"


@dataclass(frozen=True)
class NetworkAcl:
    """A network ACL: numbered inbound and outbound rules, each list ending in ``*`` DENY."""

    name: str
    rules: tuple[NaclRule, ...] = ()
    description: str = ""

    @property
    def safe_id(self) -> str:
        return safe_id(self.name)

    def ordered(self, direction: Direction, *, enabled: bool | None = True) -> tuple[NaclRule, ...]:
        return tuple(
            sorted(
                (r for r in self.rules if r.direction == direction and (enabled is None or r.enabled == enabled)),
                key=lambda r: r.number,
            )
        )


@dataclass(frozen=True)
class NaclSegment:
    """Part of a destination-port range, decided by one rule (``rule is None``: the ``*`` rule)."""

    ports: PortRange
    action: Action
    rule: NaclRule | None

    @property
    def rule_id(self) -> str:
        return self.rule.id if self.rule else "*"


@dataclass(frozen=True)
class NaclDecision:
    """How a NACL treats every port of a packet's destination-port range."""

    nacl: str
    direction: Direction
    ports: PortRange
    segments: tuple[NaclSegment, ...] = field(default_factory=tuple)

    @property
    def allowed_ports(self) -> int:
        return sum(s.ports.size for s in self.segments if s.action == "allow")

    @property
    def share(self) -> float:
        """Share of the port range that passes (1.0 all, 0.0 none)."""
        return self.allowed_ports / self.ports.size

    @property
    def verdict(self) -> Literal["allow", "deny", "partial"]:
        s = self.share
        return "allow" if s == 1.0 else "deny" if s == 0.0 else "partial"

    @property
    def deciding(self) -> list[NaclSegment]:
        return list(self.segments)

    @property
    def rule_ids(self) -> list[str]:
        seen: list[str] = []
        for s in self.segments:
            rid = s.rule.id if s.rule else default_rule_id(self.nacl, self.direction)
            if rid not in seen:
                seen.append(rid)
        return seen


def nacl_decide(
    nacl: NetworkAcl,
    direction: Direction,
    protocol: str,
    peer_ip: ipaddress.IPv4Address,
    ports: PortRange,
    *,
    extra: NaclRule | None = None,
) -> NaclDecision:
    """First match wins, lowest number first, per destination port; the rest meets ``*`` DENY.

    ``extra`` evaluates as if that (switched-off) rule were on, to find what would allow it.
    """
    rules = list(nacl.ordered(direction))
    if extra is not None:
        rules = sorted(rules + [replace(extra, enabled=True)], key=lambda r: r.number)
    remaining = [ports]
    segments: list[NaclSegment] = []
    for rule in rules:
        if not remaining:
            break
        if not rule.matches(protocol, peer_ip):
            continue
        span = rule.port_span()
        nxt: list[PortRange] = []
        for part in remaining:
            hit = part.intersect(span)
            if hit is not None:
                segments.append(NaclSegment(hit, rule.action, rule))
            nxt.extend(part.minus(span))
        remaining = nxt
    segments.extend(NaclSegment(part, "deny", None) for part in remaining)
    segments.sort(key=lambda s: s.ports.lo)
    return NaclDecision(nacl.name, direction, ports, tuple(segments))
