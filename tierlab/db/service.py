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

import math
import numbers
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from ..errors import DatabaseError
from .guard import deadline

__all__ = [
    "Response",
    "validate_user",
    "validate_order",
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
#: ``users.name VARCHAR(100)`` and ``users.email VARCHAR(100)`` in the seed's schema.
NAME_MAX_CHARS = 100
EMAIL_MAX_CHARS = 100
#: ``orders.total_amount DECIMAL(10, 2)``: eight digits before the point.
TOTAL_MAX = Decimal("99999999.99")
#: ``orders.status VARCHAR(50)``.
STATUS_MAX_CHARS = 50
#: ``SERIAL`` is a 4-byte integer.
ID_MAX = 2**31 - 1


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


def _missing(value: Any) -> bool:
    """The seed's ``!value``, safe for any object: None, '', NaN and pandas' NA count as missing.

    Never calls ``bool(value)``: ``bool(pd.NA)`` and ``bool(numpy_array)`` raise.
    """
    if value is None or (isinstance(value, str) and value == ""):
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")  # pandas' missing markers, without importing pandas


def validate_user(name: Any, email: Any) -> str | None:
    """The first validation message for this input, or None when it passes. Never raises."""
    if _missing(name) or _missing(email):
        return "Name and email required"
    if not isinstance(name, str) or not isinstance(email, str):
        return "Name and email must be text"
    if len(name.strip()) < NAME_MIN_CHARS:
        return f"Name must be at least {NAME_MIN_CHARS} characters"
    if len(name) > NAME_MAX_CHARS:
        return f"Name must be at most {NAME_MAX_CHARS} characters (users.name is VARCHAR({NAME_MAX_CHARS}))"
    if len(email) > EMAIL_MAX_CHARS:
        return f"Email must be at most {EMAIL_MAX_CHARS} characters (users.email is VARCHAR({EMAIL_MAX_CHARS}))"
    if not EMAIL_RE.match(email):
        return "Invalid email format"
    return None


def validate_order(user_id: Any, total_amount: Any, status: Any = "pending") -> str | None:
    """The first reason this order cannot be stored, or None. Never raises."""
    if isinstance(user_id, bool) or not isinstance(user_id, numbers.Integral):
        return f"user_id {_show(user_id)} is not an integer"
    if not 1 <= int(user_id) <= ID_MAX:
        return f"user_id {int(user_id)} is outside 1..{ID_MAX} (users.id is SERIAL)"
    if isinstance(total_amount, bool) or not isinstance(total_amount, (numbers.Real, Decimal, str)):
        return f"total_amount {_show(total_amount)} is not a number"
    try:
        total = Decimal(str(total_amount).strip())
    except (InvalidOperation, ValueError):
        return f"total_amount {_show(total_amount)} is not a number"
    if not total.is_finite():
        return f"total_amount {_show(total_amount)} must be a finite amount"
    if total < 0:
        return f"total_amount {_show(total_amount)} must not be negative"
    if total > TOTAL_MAX:
        return f"total_amount {_show(total_amount)} is over {TOTAL_MAX} (orders.total_amount is DECIMAL(10, 2))"
    if not isinstance(status, str) or not status.strip():
        return f"status {_show(status)} must be non-empty text"
    if len(status) > STATUS_MAX_CHARS:
        return f"status must be at most {STATUS_MAX_CHARS} characters (orders.status is VARCHAR({STATUS_MAX_CHARS}))"
    return None


def _show(value: Any, limit: int = 40) -> str:
    """A short, safe repr for a message (a huge array or string is cut)."""
    try:
        text = repr(value)
    except Exception:  # a repr that raises is still answered
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    except DatabaseError as exc:  # a lost, frozen or unreachable server (tierlab.db.guard): said on the server only
        return Response(500, {"error": "Server error"}, f"Database error: {exc.message}")
    except Exception as exc:  # a failure before the database (driver, encoding): still no internals
        return Response(500, {"error": "Server error"}, f"Error: {type(exc).__name__}")
    return Response(200, {"success": True, "userId": int(user_id), "message": "User created"})


def create_order(engine: sa.Engine, user_id: Any, total_amount: Any, status: str = "pending") -> Response:
    """An order for ``user_id``; bad input is a 400 with the reason; a missing user names the foreign key."""
    problem = validate_order(user_id, total_amount, status)
    if problem:
        return Response(400, {"error": problem})
    total = Decimal(str(total_amount).strip())
    user_id = int(user_id)
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
    except DatabaseError as exc:
        return Response(500, {"error": "Server error"}, f"Database error: {exc.message}")
    except Exception as exc:
        return Response(500, {"error": "Server error"}, f"Error: {type(exc).__name__}")
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

    The body says only ``unhealthy``; which error it was stays in ``server_log``. A server that
    does not answer (frozen, cut off) is unhealthy after about ``timeout_s`` (the client's own
    limit, see ``tierlab.db.guard``), not after minutes.
    """
    try:
        with deadline(timeout_s + 0.5), engine.connect() as conn:
            conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(int(timeout_s * 1000))})
            conn.execute(sa.text("SELECT 1")).scalar_one()
    except DatabaseError as exc:
        return Response(503, {"status": "unhealthy"}, f"health: DatabaseError: {exc.message}")
    except Exception as exc:
        orig = getattr(exc, "orig", exc)
        return Response(503, {"status": "unhealthy"}, f"health: {type(orig).__name__} {_sqlstate(exc) or ''}".strip())
    return Response(200, {"status": "ok", "database": "ok"})
