"""The create-user service, mirroring the seed's ``server.js`` (``POST /api/users``).

* validation first: name and email required (``'Name and email required'``), then the seed's
  middleware rules: name at least 3 characters, email in the usual ``a@b.c`` form;
* ``INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id`` through a pooled engine
  (parameters travel apart from the SQL, so ``'); DROP TABLE users;--`` is stored as text);
* SQLSTATE 23505 (unique violation) -> 400 ``{"error": "Email already exists"}``;
* any other failure -> 500 ``{"error": "Server error"}``, nothing internal leaked (what the
  seed prints with ``console.error`` goes to ``Response.server_log``, not into the body);
* success -> ``{"success": True, "userId": N, "message": "User created"}``.

Orders for a missing user (SQLSTATE 23503, foreign key) answer 400 with a message that names the
user and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

__all__ = [
    "Response",
    "validate_user",
    "create_user",
    "create_order",
    "health",
    "deep_health",
    "INSERT_USER",
    "EMAIL_RE",
    "NAME_MIN_CHARS",
]

INSERT_USER = "INSERT INTO users (name, email) VALUES (:name, :email) RETURNING id"
INSERT_ORDER = "INSERT INTO orders (user_id, total_amount, status) VALUES (:user_id, :total, :status) RETURNING id"
#: "Validate email (correct format)": the usual browser-side pattern, no spaces, one @, a dot after it.
EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
#: "Validate name (min 3 chars)".
NAME_MIN_CHARS = 3


@dataclass(frozen=True)
class Response:
    """What the API answers: an HTTP status and a JSON body; ``server_log`` stays on the server."""

    status: int
    body: dict[str, Any]
    server_log: str = field(default="", compare=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def reason(self) -> str:
        return self.body.get("message") or self.body.get("error", "")


def validate_user(name: Any, email: Any) -> str | None:
    """The first validation message for this input, or None when it passes."""
    if not name or not email:
        return "Name and email required"
    if not isinstance(name, str) or not isinstance(email, str):
        return "Name and email must be text"
    if len(name.strip()) < NAME_MIN_CHARS:
        return f"Name must be at least {NAME_MIN_CHARS} characters"
    if not EMAIL_RE.match(email):
        return "Invalid email format"
    return None


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def create_user(engine: sa.Engine, name: Any, email: Any) -> Response:
    """``POST /api/users`` with body ``{name, email}``: the seed's handler, status and body."""
    problem = validate_user(name, email)
    if problem:
        return Response(400, {"error": problem})
    try:
        with engine.begin() as conn:
            user_id = conn.execute(sa.text(INSERT_USER), {"name": name, "email": email}).scalar_one()
    except sa.exc.DBAPIError as exc:
        log = f"Database error: {type(getattr(exc, 'orig', exc)).__name__} {_sqlstate(exc) or ''}".strip()
        if _sqlstate(exc) == "23505":  # unique_violation
            return Response(400, {"error": "Email already exists"}, log)
        return Response(500, {"error": "Server error"}, log)
    except Exception as exc:  # a failure before the database (driver, encoding): still no internals
        return Response(500, {"error": "Server error"}, f"Error: {type(exc).__name__}")
    return Response(200, {"success": True, "userId": int(user_id), "message": "User created"})


def create_order(engine: sa.Engine, user_id: Any, total_amount: Any, status: str = "pending") -> Response:
    """An order for ``user_id``; a missing user gives a clear foreign-key message (400)."""
    try:
        total = Decimal(str(total_amount))
    except (InvalidOperation, ValueError):
        return Response(400, {"error": f"total_amount {total_amount!r} is not a number"})
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return Response(400, {"error": f"user_id {user_id!r} is not an integer"})
    try:
        with engine.begin() as conn:
            order_id = conn.execute(
                sa.text(INSERT_ORDER), {"user_id": user_id, "total": total, "status": status}
            ).scalar_one()
    except sa.exc.DBAPIError as exc:
        state = _sqlstate(exc)
        log = f"Database error: {type(getattr(exc, 'orig', exc)).__name__} {state or ''}".strip()
        if state == "23503":  # foreign_key_violation
            return Response(
                400,
                {"error": f"User {user_id} does not exist: orders.user_id must refer to an existing users.id "
                          "(foreign key orders_user_id_fkey)"},
                log,
            )
        return Response(500, {"error": "Server error"}, log)
    return Response(200, {"success": True, "orderId": int(order_id), "message": "Order created"})


def health() -> Response:
    """``GET /health`` as the seed writes it: ``{status: 'ok', timestamp}``, and no database query.

    It answers 200 while the database is down, so the ALB keeps sending requests that fail
    (the shallow health check of notebooks 03 and 04).
    """
    from datetime import datetime, timezone

    return Response(200, {"status": "ok", "timestamp": datetime.now(timezone.utc).isoformat()})


def deep_health(engine: sa.Engine, timeout_s: float = 2.0) -> Response:
    """A health check that also asks the database (``SELECT 1``): 503 when it cannot answer.

    The body says only ``unhealthy``; which error it was stays in ``server_log``.
    """
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(int(timeout_s * 1000))})
            conn.execute(sa.text("SELECT 1")).scalar_one()
    except Exception as exc:
        orig = getattr(exc, "orig", exc)
        return Response(503, {"status": "unhealthy"}, f"health: {type(orig).__name__} {_sqlstate(exc) or ''}".strip())
    return Response(200, {"status": "ok", "database": "ok"})
