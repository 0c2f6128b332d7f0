"""Inside the database: what PostgreSQL does with the seed's request.

* ``explain_email_lookup`` — ``EXPLAIN (ANALYZE, BUFFERS)`` of ``SELECT ... WHERE email = $1``:
  the UNIQUE constraint's index (``users_email_key``, the seed's "email_idx") at work;
* ``users_frame`` — the rows just inserted, as a DataFrame;
* ``wal_around_commit`` — the write-ahead log position before the INSERT, before the COMMIT and
  after it: a transaction's changes reach the WAL, and COMMIT makes them durable.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from ..errors import DatabaseError
from .service import INSERT_USER

if TYPE_CHECKING:
    from .provider import Database

__all__ = ["QueryPlan", "explain_email_lookup", "users_frame", "wal_around_commit"]

EMAIL_LOOKUP = "SELECT id, name, email FROM users WHERE email = :email"


@dataclass(frozen=True)
class QueryPlan:
    """The plan PostgreSQL ran, as text lines, with the index it used (if any)."""

    query: str
    lines: tuple[str, ...]
    index: str | None
    execution_ms: float
    shared_hit: int
    shared_read: int

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"plan": list(self.lines)})

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        import html

        return f"<pre class='tl-plan'>{html.escape(str(self))}</pre>"


def explain_email_lookup(db: "Database", email: str) -> QueryPlan:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the email lookup the UNIQUE constraint makes fast."""
    with db.engine.connect() as conn:
        lines = tuple(r[0] for r in conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + EMAIL_LOOKUP),
                                                 {"email": email}))
        conn.rollback()
    text = "\n".join(lines)
    m = re.search(r"Index (?:Only )?Scan using (\S+) on users", text)
    t = re.search(r"Execution Time: ([\d.]+) ms", text)
    hit = sum(int(x) for x in re.findall(r"shared hit=(\d+)", text.split("Planning")[0]))
    read = sum(int(x) for x in re.findall(r"read=(\d+)", text.split("Planning")[0]))
    return QueryPlan(EMAIL_LOOKUP, lines, m.group(1) if m else None, float(t.group(1)) if t else float("nan"), hit, read)


def users_frame(db: "Database", limit: int = 20) -> pd.DataFrame:
    """The newest ``limit`` rows of ``users`` (newest first)."""
    if not isinstance(limit, int) or limit < 1:
        raise DatabaseError(f"limit {limit!r} must be a positive whole number", "e.g. users_frame(db, limit=20)")
    with db.engine.connect() as conn:
        return pd.read_sql_query(
            sa.text("SELECT id, name, email, created_at, updated_at FROM users ORDER BY id DESC LIMIT :n"),
            conn, params={"n": limit},
        )


def wal_around_commit(db: "Database", name: str = "WAL Watcher", email: str | None = None) -> pd.DataFrame:
    """Insert one user in a transaction and read the WAL insert position at each step."""
    email = email or f"wal-{uuid.uuid4().hex[:10]}@example.com"
    lsn = sa.text("SELECT pg_current_wal_insert_lsn()::text, pg_current_wal_flush_lsn()::text")
    diff = sa.text("SELECT pg_wal_lsn_diff(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn))")
    steps = []
    with db.engine.connect() as conn:
        conn.commit()
        steps.append(("before BEGIN", *conn.execute(lsn).one(), "nothing written yet"))
        user_id = conn.execute(sa.text(INSERT_USER), {"name": name, "email": email}).scalar_one()
        steps.append(("after INSERT (not committed)", *conn.execute(lsn).one(),
                      f"row id {user_id} and its index entry are in WAL buffers, not yet durable or visible to others"))
        conn.commit()
        steps.append(("after COMMIT", *conn.execute(lsn).one(),
                      "the commit record is written and flushed: now durable and visible"))
        rows = []
        start = steps[0][1]
        for step, insert_lsn, flush_lsn, reason in steps:
            rows.append(dict(
                step=step, wal_insert_lsn=insert_lsn, wal_flush_lsn=flush_lsn,
                wal_bytes_since_start=int(conn.execute(diff, {"a": insert_lsn, "b": start}).scalar_one()),
                reason=reason,
            ))
        conn.rollback()
    return pd.DataFrame(rows)
