"""Every AWS limit tierlab enforces, in one place: quotas, ranges and reserved addresses.

The loader, every what-if (``Topology.with_*``, ``add_*``, ``change_rule``, the course's what-if
specs) and every importer call these functions, so the same bad value gets the same message
wherever it comes from. Each function returns the checked value or raises:

* ``RuleError``       a rule or a part of one (CIDR, port, protocol, NACL number, rule quotas);
* ``ParameterError``  a setting (health check, TTL, timeouts, whole numbers);
* ``TopologyError``   a placement (reserved or foreign addresses, SGs per ENI, subnets per VPC).

Numbers follow AWS's documentation: "Amazon VPC quotas" (rules per NACL, SG rules, SGs per
ENI, subnets per VPC), "Network ACL rules" (numbers 1-32766), "Subnet CIDR blocks" (five
reserved addresses), "Health checks for Application Load Balancer target groups" (bounds) and
the Route 53 API reference (TTL 0 to 2147483647 seconds).
"""

from __future__ import annotations

import ipaddress
from typing import Final, Literal, Mapping

from ..errors import ParameterError, Problem, RuleError, TopologyError

__all__ = [
    "NACL_RULE_MIN", "NACL_RULE_MAX", "NACL_RULES_PER_DIRECTION", "SG_RULES_PER_DIRECTION", "SGS_PER_ENI",
    "SUBNETS_PER_VPC", "PORT_MIN", "PORT_MAX", "PROTOCOLS", "HEALTH_CHECK_BOUNDS", "TTL_MAX", "RESERVED_HINT",
    "printable", "Action", "Direction", "ProtocolName", "cidr", "address", "port_bounds", "single_port", "protocol", "direction", "nacl_rule_number", "nacl_action",
    "nacl_rule_count", "entry_count", "nacl_number_taken", "sg_rule_duplicate", "sg_rule_count", "sgs_per_eni", "subnet_count", "is_reserved", "not_reserved",
    "in_subnet", "endpoint_service", "GATEWAY_SERVICES", "INTERFACE_SERVICES", "whole_number", "seconds", "ttl", "health_check_problems", "health_check", "os_name", "tier", "OsName", "Tier", "origin_access",
]

Action = Literal["allow", "deny"]
Direction = Literal["inbound", "outbound"]
ProtocolName = Literal["tcp", "udp", "icmp", "all"]
OsName = Literal["linux", "windows", "macos"]
Tier = Literal["public", "app", "db"]

#: Network ACL rule numbers (AWS evaluates 1 first; 32767 is the ``*`` rule's place).
NACL_RULE_MIN: Final = 1
NACL_RULE_MAX: Final = 32766
#: Rules per NACL and direction, counting the ``*`` rule (adjustable to 40).
NACL_RULES_PER_DIRECTION: Final = 20
#: Inbound (and, separately, outbound) rules per security group.
SG_RULES_PER_DIRECTION: Final = 60
#: Security groups per network interface (adjustable to 16).
SGS_PER_ENI: Final = 5
#: Subnets per VPC (adjustable).
SUBNETS_PER_VPC: Final = 200
#: More AWS defaults ("Amazon VPC quotas", "Quotas for your Application Load Balancers").
ROUTE_TABLES_PER_VPC: Final = 200
ROUTES_PER_TABLE: Final = 50
NACLS_PER_VPC: Final = 200
SGS_PER_VPC: Final = 2500
LISTENERS_PER_ALB: Final = 50
TARGETS_PER_GROUP: Final = 1000
#: Not AWS quotas: how many entries of a section tierlab reads at most (the seed has a few of each).
ENTRIES_READ: Final = 5000
PORT_MIN: Final = 0
PORT_MAX: Final = 65535
PROTOCOLS: Final[tuple[str, ...]] = ("tcp", "udp", "icmp", "all")
#: ALB target-group health check: (low, high) for each setting.
HEALTH_CHECK_BOUNDS: Final[dict[str, tuple[int, int]]] = {
    "interval_s": (5, 300),
    "timeout_s": (2, 120),
    "healthy_threshold": (2, 10),
    "unhealthy_threshold": (2, 10),
}
HEALTH_CHECK_PROTOCOLS: Final[tuple[str, ...]] = ("HTTP", "HTTPS")
#: Route 53's largest TTL (a signed 32-bit number of seconds).
TTL_MAX: Final = 2**31 - 1
_OSES: Final[dict[object, OsName]] = {"linux": "linux", "windows": "windows", "macos": "macos"}
_TIERS: Final[dict[object, Tier]] = {"public": "public", "app": "app", "db": "db"}
#: The hint for an address AWS keeps for itself.
RESERVED_HINT: Final = "the first four and the last address of every subnet are reserved"

IPv4Network = ipaddress.IPv4Network
IPv4Address = ipaddress.IPv4Address


def printable(text: str, limit: int = 200) -> str:
    """``text`` cut to a readable length and safe to print anywhere (lone surrogates escaped)."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _show(value: object, limit: int = 60) -> str:
    """``repr`` of a value from a file or a caller, cut and printable."""
    if isinstance(value, (list, tuple, dict, set)) and len(value) > 20:
        return f"<a {type(value).__name__} of {len(value)} items>"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"<a number of about {int(value.bit_length() * 0.30103) + 1} digits>"
    return printable(repr(value), limit)


# --------------------------------------------------------------------------- addresses


def cidr(text: object, what: str = "CIDR") -> IPv4Network:
    """An IPv4 CIDR with an explicit prefix and no host bits set, as AWS requires."""
    s = str(text).strip() if isinstance(text, (str, IPv4Network)) else None
    if s is None:
        raise RuleError(f"{what} {_show(text)} is not a valid IPv4 CIDR (not text)",
                        "write it as a.b.c.d/n with each part 0-255 and n 0-32")
    if "/" not in s:
        try:
            ipaddress.IPv4Address(s)
        except ValueError:
            pass
        else:  # ipaddress would read it as a /32; AWS refuses a CIDR without its prefix length
            raise RuleError(f"{what} {_show(s)} is not a valid IPv4 CIDR (no prefix length)",
                            f"AWS needs a.b.c.d/n: write {s}/32 for one address, or the block's size such as /24")
    try:
        return ipaddress.IPv4Network(s, strict=True)
    except ValueError as exc:
        hint = "write it as a.b.c.d/n with each part 0-255 and n 0-32"
        try:
            net = ipaddress.IPv4Network(s, strict=False)
            hint = f"host bits are set: did you mean {net}?"
        except ValueError:
            pass
        raise RuleError(f"{what} {_show(s)} is not a valid IPv4 CIDR ({printable(str(exc))})", hint) from None


def address(value: object, what: str = "address") -> IPv4Address:
    """One IPv4 address, a.b.c.d."""
    if isinstance(value, IPv4Address):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError
        return ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise RuleError(f"{what} {_show(value)} is not an IPv4 address", "write it as a.b.c.d, each part 0-255") from None


def is_reserved(net: IPv4Network, ip: IPv4Address) -> bool:
    """AWS reserves the first four addresses and the last one of every subnet."""
    return ip == net.broadcast_address or 0 <= int(ip) - int(net.network_address) < 4


def not_reserved(who: str, ip: IPv4Address, net: IPv4Network) -> IPv4Address:
    if is_reserved(net, ip):
        raise TopologyError(f"{who} {ip} is one of the five addresses AWS reserves in {net}", RESERVED_HINT)
    return ip


def in_subnet(who: str, ip: IPv4Address, subnet: str, net: IPv4Network, *, hint: str = "") -> IPv4Address:
    """``ip`` must lie in the subnet ``subnet`` (``net``) and not be one of its reserved addresses."""
    if ip not in net:
        raise TopologyError(f"subnet {subnet!r} {net} does not contain {who} {ip}",
                            hint or "pick an address inside the subnet, or another subnet")
    return not_reserved(who, ip, net)


# --------------------------------------------------------------------------- ports and protocols


def port_bounds(lo: object, hi: object) -> tuple[int, int]:
    """A rule's port range: whole numbers 0-65535, low end first (0 only as the start of a range)."""
    for p in (lo, hi):
        if not isinstance(p, int) or isinstance(p, bool) or not PORT_MIN <= p <= PORT_MAX:
            raise RuleError(f"port {_show(p)} is outside {PORT_MIN}-{PORT_MAX}", "ports are whole numbers 0-65535")
    assert isinstance(lo, int) and isinstance(hi, int)
    if lo > hi:
        raise RuleError(f"port range {lo}-{hi} runs backwards", f"write it as {hi}-{lo}")
    return lo, hi


def single_port(value: object, what: str = "port") -> int:
    """One port a flow, listener or target uses: 1-65535 (0 is only ever the start of a rule's range)."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleError(f"{what} {_show(value)} must be a single port", "write one port such as 443")
    if not 1 <= value <= PORT_MAX:
        raise RuleError(f"{what} {value} is outside 1-{PORT_MAX}",
                        "a connection needs a real port; 0 is valid only as the start of a rule's range (0-65535)")
    return value


_PROTOCOLS: Final[dict[str, ProtocolName]] = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "all": "all", "-1": "all"}
_DIRECTIONS: Final[dict[object, Direction]] = {"inbound": "inbound", "outbound": "outbound"}
_ACTIONS: Final[dict[str, Action]] = {"allow": "allow", "deny": "deny"}


def protocol(value: object, where: str) -> ProtocolName:
    """``tcp``, ``udp``, ``icmp`` or ``all`` (``-1``, AWS's spelling of all, too)."""
    p = str(value).lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    found = _PROTOCOLS.get(p)
    if found is None:
        raise RuleError(f"{where}: protocol {_show(value)} is unknown", "use tcp, udp, icmp or all")
    return found


def direction(value: object) -> Direction:
    found = _DIRECTIONS.get(value) if isinstance(value, str) else None
    if found is None:
        raise RuleError(f"direction {_show(value)} is unknown", "use inbound or outbound")
    return found


# --------------------------------------------------------------------------- network ACLs and security groups


def nacl_rule_number(number: object, nacl: str, direction: str) -> int:
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool) or not NACL_RULE_MIN <= number <= NACL_RULE_MAX:
        raise RuleError(
            f"network ACL {nacl} {direction} rule number {_show(number)} is outside {NACL_RULE_MIN}-{NACL_RULE_MAX}",
            "number rules 1-32766, in steps of 10 or 100 so you can insert rules later",
        )
    return number


def nacl_action(value: object, rule_id: str) -> Action:
    found = _ACTIONS.get(value.lower()) if isinstance(value, str) else None
    if found is None:
        raise RuleError(f"rule {rule_id}: action {_show(value)} is unknown", "use allow or deny")
    return found


def nacl_rule_count(nacl: str, direction: str, numbered: int) -> int:
    """``numbered`` rules plus the ``*`` rule must fit the quota of 20 per direction."""
    count = numbered + 1
    if count > NACL_RULES_PER_DIRECTION:
        raise RuleError(
            f"network ACL {nacl} has {numbered} {direction} rules plus the * rule, over the quota of "
            f"{NACL_RULES_PER_DIRECTION} per direction",
            "the quota counts the * rule; merge rules (wider CIDRs or port ranges) or ask AWS to raise it (max 40)",
        )
    return count


def nacl_number_taken(nacl: str, direction: str, number: int, *, holder: str = "",
                      used: "tuple[int, ...] | list[int]" = ()) -> RuleError:
    """The error for a second rule with the same number in one direction (raise it, or record it). ``holder`` names
    the rule that has the number; ``used`` (every number taken in that direction) lets the hint name free ones."""
    hint = "rule numbers are unique per direction: pick a free number (lower numbers are evaluated first)"
    if used:
        taken = set(used)
        before = next((n for n in range(number - 1, NACL_RULE_MIN - 1, -1) if n not in taken), None)
        after = next((n for n in range(number + 1, NACL_RULE_MAX + 1) if n not in taken), None)
        free = " or ".join(f"#{n}" for n in (before, after) if n is not None)
        hint = (f"rule numbers are unique per direction; {direction} uses {', '.join(f'#{n}' for n in sorted(taken))}: "
                f"pick a free one such as {free} (lower numbers are evaluated first)")
    return RuleError(f"network ACL {nacl} already has {direction} rule #{number}" + (f" ({holder})" if holder else ""),
                     hint)


def sg_rule_duplicate(group: str, existing_id: str, what: str) -> RuleError:
    """The error for a security-group rule identical to ``existing_id`` (``what``: protocol, ports, peer)."""
    return RuleError(f"{group}: this rule duplicates {existing_id} ({what})",
                     "AWS refuses a rule identical to an existing one: delete one and merge their descriptions")


def sg_rule_count(group: str, direction: str, count: int) -> int:
    if count > SG_RULES_PER_DIRECTION:
        raise RuleError(f"security group {group} has {count} {direction} rules, over the quota of "
                        f"{SG_RULES_PER_DIRECTION}", "merge rules, or reference a security group instead of many CIDRs")
    return count


def sgs_per_eni(who: str, count: int) -> int:
    if count > SGS_PER_ENI:
        raise TopologyError(f"{who} has {count} security groups, over the quota of {SGS_PER_ENI} per ENI",
                            "merge groups (the quota can be raised to 16)")
    return count


def entry_count(what: str, count: int, quota: int, *, aws: bool = True) -> int:
    """``count`` entries of one kind (``route tables per VPC``) within ``quota``."""
    if count > quota:
        if aws:
            raise TopologyError(f"{count} {what}, over the quota of {quota}",
                                "AWS refuses more by default (some quotas can be raised on request): merge or remove some")
        raise TopologyError(f"{count} {what}, more than tierlab reads ({quota})",
                            "a topology for this lab needs far fewer: check that this is the right file")
    return count


def subnet_count(count: int) -> int:
    if count > SUBNETS_PER_VPC:
        raise TopologyError(f"the VPC has {count} subnets, over the quota of {SUBNETS_PER_VPC} per VPC",
                            "use fewer, larger subnets (the quota can be raised on request)")
    return count


# --------------------------------------------------------------------------- VPC endpoints

#: Services with a *gateway* endpoint ("Gateway endpoints": only Amazon S3 and DynamoDB have one).
GATEWAY_SERVICES: Final[tuple[str, ...]] = ("s3", "dynamodb")
#: The interface-endpoint services this lab knows (AWS has many more: "AWS services that integrate with
#: AWS PrivateLink"). Session Manager needs ssm, ssmmessages and ec2messages; ECR needs ecr.api, ecr.dkr
#: and the S3 gateway endpoint for image layers.
INTERFACE_SERVICES: Final[tuple[str, ...]] = ("ssm", "ssmmessages", "ec2messages", "secretsmanager", "ecr.api",
                                              "ecr.dkr", "logs", "monitoring", "sts", "kms")


def endpoint_service(kind: object, service: object, who: str) -> str:
    """A service a VPC endpoint of ``kind`` (gateway or interface) can serve."""
    if kind not in ("gateway", "interface"):
        raise TopologyError(f"{who}: type {_show(kind)} is unknown", "use gateway (S3, DynamoDB) or interface")
    known = GATEWAY_SERVICES if kind == "gateway" else INTERFACE_SERVICES
    if service not in known:
        other = INTERFACE_SERVICES if kind == "gateway" else GATEWAY_SERVICES
        hint = (f"{service} is served by {'an interface' if kind == 'gateway' else 'a gateway'} endpoint"
                if service in other else f"known {kind} services: {', '.join(known)}")
        raise TopologyError(f"{who}: no {kind} endpoint for service {_show(service)}", hint)
    return str(service)


# --------------------------------------------------------------------------- numbers and settings


def whole_number(value: object, what: str, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number (``30``, ``30.0``) within ``lo``..``hi``; never a bool, a string, NaN or infinity."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{what} {_show(value)} is not a whole number",
                             "write a number such as 30 (units are in the key's name)")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = f"{lo}-{hi}" if lo is not None and hi is not None else (f">= {lo}" if lo is not None else f"<= {hi}")
        raise ParameterError(f"{what} {_show(value)} is outside {span}", f"pick a value in {span}")
    return value


def seconds(value: object, what: str, lo: int = 0, hi: int = 86_400) -> int:
    """A duration in whole seconds (a timeout, a failover time)."""
    return whole_number(value, what, lo, hi)


def ttl(value: object, what: str = "TTL") -> int:
    """A DNS or cache TTL: 0 to 2147483647 seconds (never negative)."""
    return whole_number(value, what, 0, TTL_MAX)


def origin_access(value: object) -> str:
    """How CloudFront reaches a private bucket: OAC (recommended) or the legacy OAI."""
    if value not in ("OAI", "OAC"):
        raise ParameterError(f"origin_access {_show(value)} is unknown", "use OAC (what AWS recommends) or OAI")
    return str(value)


def os_name(value: object, who: str) -> OsName:
    found = _OSES.get(value) if isinstance(value, str) else None
    if found is None:
        raise TopologyError(f"{who}: os {_show(value)} is unknown", "use linux, windows or macos")
    return found


def tier(value: object, subnet: str) -> Tier:
    found = _TIERS.get(value) if isinstance(value, str) else None
    if found is None:
        raise TopologyError(f"subnet {subnet}: tier {_show(value)} is unknown", "use public, app or db")
    return found


_HC_HINTS: Final = {"interval_s": "AWS's default is 30 s", "timeout_s": "AWS's default is 5 s"}


def health_check_problems(hc: Mapping[str, object]) -> list[Problem]:
    """Every way a target-group health check (its settings by name) breaks AWS's bounds (empty: it is fine)."""
    out: list[Problem] = []
    ok: dict[str, int] = {}
    for key, (lo, hi) in HEALTH_CHECK_BOUNDS.items():
        what = f"health-check {key.replace('_', ' ')}" if "threshold" in key else f"health-check {key}"
        try:
            ok[key] = whole_number(hc.get(key), what, lo, hi)
        except ParameterError as exc:
            hint = _HC_HINTS.get(key, "AWS allows 2-10 consecutive checks") if "outside" in exc.message else exc.hint
            out.append(Problem(key, exc.message, hint))
    if "interval_s" in ok and "timeout_s" in ok and ok["timeout_s"] >= ok["interval_s"]:
        out.append(Problem("timeout_s", f"health-check timeout_s {ok['timeout_s']} is not shorter than the interval "
                           f"{ok['interval_s']} s", "the timeout must be shorter than the interval"))
    try:
        single_port(hc.get("port"), "health-check port")
    except RuleError as exc:
        out.append(Problem("port", exc.message, exc.hint))
    proto, path = hc.get("protocol"), hc.get("path")
    if proto not in HEALTH_CHECK_PROTOCOLS:
        out.append(Problem("protocol", f"health-check protocol {_show(proto)} is unknown", "use HTTP or HTTPS"))
    if not isinstance(path, str) or not path.startswith("/"):
        out.append(Problem("path", f"health-check path {_show(path)} does not start with /", "e.g. /health"))
    return out


def health_check(hc: Mapping[str, object]) -> None:
    """Raise the first problem of :func:`health_check_problems` as a ParameterError."""
    problems = health_check_problems(hc)
    if problems:
        raise ParameterError(problems[0].message, problems[0].hint)
