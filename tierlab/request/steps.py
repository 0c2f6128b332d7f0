"""The step catalogue: the seed's "Create Account" journey as data.

Each step has a stable id, the seed's Section 3 number (``None`` where the seed lists no such
step), the latency component the latency model charges it to, and the flow and leg its packet
belongs to: ``front`` (browser -> ALB node), ``back`` (ALB node -> server), ``db`` (server ->
database), ``dns`` (the DNS query) or ``browser`` (work in the browser, no packet).

``STEP_OF`` says which step each check of each flow belongs to, and ``HANDSHAKE`` where each
flow's connection opens: a reply-leg drop (the server's SYN-ACK) stops the flow there, whatever
later step the reply's checks are listed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Step", "STEPS", "STEP_IDS", "STEP_INDEX", "STEP_OF", "HANDSHAKE", "SEED_CHECKPOINTS", "OSES",
           "Flow", "Leg", "step_of"]

Flow = Literal["browser", "dns", "front", "back", "db"]
Leg = Literal["request", "reply"]

#: The internet user's operating systems (each sets the ephemeral ports the NACLs must admit).
OSES: tuple[str, ...] = ("linux", "windows", "macos")


@dataclass(frozen=True)
class Step:
    """One step of the journey: what happens, where, which latency component it costs."""

    id: str
    seed_step: int | None
    title: str
    latency: str  # latency component: client, dns, tls, firewall, alb, node, db, return
    layer: str
    flow: Flow = "browser"
    leg: Leg = "request"
    note: str = ""  # what happens at a step with no packet filter


_NOTES = {
    "click": "nothing crosses the network yet: React updates its state and calls fetch()",
    "alb-process": ("the ALB decrypts with the *.myapp.com certificate, then sends the request to a target this "
                    "node considers healthy (round robin, any AZ); its own work is a few ms"),
    "node-process": "the seed's handler checks that name and email are present (and the name's length, the email's form)",
    "db-connect": ("a pooled connection is handed over in well under a millisecond; a new one would cost a TCP "
                   "handshake, a TLS handshake and authentication first"),
    "db-query": ("INSERT ... RETURNING id: the unique index on email rejects a duplicate (SQLSTATE 23505 -> 400), "
                 "the WAL is flushed, and Multi-AZ waits for the standby's acknowledgement"),
    "node-respond": 'Express answers {"success": true, "userId": N, "message": "User created"}',
    "browser-receive": "the browser decrypts the response and React shows 'Account created'",
}


def _s(id: str, seed_step: int | None, title: str, latency: str, layer: str, flow: Flow, leg: Leg = "request") -> Step:
    return Step(id, seed_step, title, latency, layer, flow, leg, _NOTES.get(id, ""))


#: The journey, in the order packets meet things. On the way out of a subnet AWS checks the
#: security group before the NACL, so the seed's steps 12 and 11 come in that order.
STEPS: tuple[Step, ...] = (
    _s("click", 1, "User clicks Create Account; React calls POST /api/users", "client", "browser", "browser"),
    _s("dns", 2, "DNS: api.myapp.com resolves (alias) to the ALB nodes' addresses", "dns", "dns", "dns"),
    _s("connect-alb", 3, "TCP and TLS handshake with an ALB node through the internet gateway", "tls", "edge", "front"),
    _s("alb-nacl-in", 4, "Public NACL, inbound: HTTPS from the browser", "firewall", "alb", "front"),
    _s("alb-sg-in", 5, "alb-public-sg, inbound, and the 443 listener", "firewall", "alb", "front"),
    _s("alb-reply-out", None, "Public NACL, outbound: the ALB's replies to the browser's ephemeral port", "firewall",
       "alb", "front", "reply"),
    _s("alb-process", 6, "ALB terminates TLS and picks a healthy target (round robin, cross-zone)", "alb", "alb", "front"),
    _s("alb-sg-out", None, "alb-public-sg, outbound: to web-sg on 3000", "firewall", "alb", "back"),
    _s("alb-nacl-out", None, "Public NACL, outbound, and the route to the app subnet", "firewall", "alb", "back"),
    _s("app-nacl-in", 7, "App NACL, inbound: 3000 from the ALB node's subnet", "firewall", "app", "back"),
    _s("web-sg-in", 8, "web-sg, inbound: from alb-public-sg on 3000, and the Node.js listener", "firewall", "app", "back"),
    _s("node-process", 9, "Express: authentication, validation, createUser()", "node", "app", "back"),
    _s("db-connect", 10, "A database connection from the pool", "db", "app", "db"),
    _s("web-sg-out", 12, "web-sg, outbound: to database-sg on 5432", "firewall", "app", "db"),
    _s("app-nacl-out", 11, "App NACL, outbound: 5432 to the DB subnet, and the route", "firewall", "app", "db"),
    _s("db-nacl-in", 13, "DB NACL, inbound: 5432 from the app subnets", "firewall", "db", "db"),
    _s("db-sg-in", 14, "database-sg, inbound: from web-sg on 5432, and PostgreSQL's listener", "firewall", "db", "db"),
    _s("db-query", 15, "INSERT INTO users ... RETURNING id (unique check, WAL, Multi-AZ sync)", "db", "db", "db"),
    _s("db-reply", 16, "The result returns: DB NACL outbound, app NACL inbound (ephemeral ports)", "db", "db", "db",
       "reply"),
    _s("node-respond", 17, "Node.js formats {success, userId, message}", "node", "app", "back", "reply"),
    _s("alb-receive", 18, "The response returns to the ALB: app NACL outbound, public NACL inbound", "return", "alb",
       "back", "reply"),
    _s("browser-receive", 19, "The browser decrypts the response and React shows 'Account created'", "return",
       "browser", "front", "reply"),
)
STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
STEP_INDEX: dict[str, int] = {s.id: i for i, s in enumerate(STEPS)}
_BY_ID: dict[str, Step] = {s.id: s for s in STEPS}


def step_of(step_id: str) -> Step | None:
    """The step with id ``step_id`` (None when there is none)."""
    return _BY_ID.get(step_id)


#: Which step each check of each flow belongs to: flow -> (leg, kind, direction) -> step id
#: (``""`` matches any direction, ``"*"`` any kind and direction).
STEP_OF: dict[str, dict[tuple[str, str, str], str]] = {
    "front": {
        ("request", "igw", ""): "connect-alb", ("request", "nacl", "inbound"): "alb-nacl-in",
        ("request", "sg", "inbound"): "alb-sg-in", ("request", "listener", ""): "alb-sg-in",
        ("request", "forward", ""): "alb-process", ("reply", "*", "*"): "alb-reply-out",
    },
    "back": {
        ("request", "sg", "outbound"): "alb-sg-out", ("request", "nacl", "outbound"): "alb-nacl-out",
        ("request", "route", ""): "alb-nacl-out", ("request", "nacl", "inbound"): "app-nacl-in",
        ("request", "sg", "inbound"): "web-sg-in", ("request", "listener", ""): "web-sg-in",
        ("reply", "*", "*"): "alb-receive",
    },
    "db": {
        ("request", "sg", "outbound"): "web-sg-out", ("request", "nacl", "outbound"): "app-nacl-out",
        ("request", "route", ""): "app-nacl-out", ("request", "nacl", "inbound"): "db-nacl-in",
        ("request", "sg", "inbound"): "db-sg-in", ("request", "listener", ""): "db-sg-in",
        ("reply", "*", "*"): "db-reply",
    },
}

#: Where each flow's TCP connection opens: the step whose listener answers the SYN. The reply
#: leg's first packet is the SYN-ACK, so a reply-leg drop stops the flow right after this step
#: (the steps that need the connection, such as node-process or db-query, are never reached).
HANDSHAKE: dict[str, str] = {"front": "alb-sg-in", "back": "web-sg-in", "db": "db-sg-in"}

#: The seed's Section 4 table, as the seed wrote it: number, layer, what it says, kind.
SEED_CHECKPOINTS: tuple[tuple[int, str, str, str], ...] = (
    (1, "NACL-Public Inbound", "Allow HTTPS 443", "stateless"),
    (2, "NACL-Public Inbound", "Allow ephemeral reply", "stateless"),
    (3, "ALB Security Group", "0.0.0.0/0 on 443", "stateful"),
    (4, "NACL-App Inbound", "Allow 3000 from ALB subnet", "stateless"),
    (5, "Web-SG Inbound", "alb-public-sg on 3000", "stateful"),
    (6, "NACL-App Outbound", "Allow 5432 to DB subnet", "stateless"),
    (7, "NACL-App Outbound", "Allow ephemeral response", "stateless"),
    (8, "Web-SG Outbound", "database-sg on 5432", "stateful"),
    (9, "NACL-DB Inbound", "Allow 5432 from App subnet", "stateless"),
    (10, "NACL-DB Inbound", "Allow ephemeral response", "stateless"),
    (11, "Database-SG Inbound", "web-sg on 5432", "stateful"),
)
