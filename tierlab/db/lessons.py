"""Questions notebook 05 asks the real database, each answered as a DataFrame with a ``reason``.

* ``tables_frame`` — the seed's tables as PostgreSQL holds them (read from the catalog, not
  from ``schema.sql``): every column, its type, NULL or not, default, and the constraint on it;
* ``find_users`` — the rows with one email (how the injection string was stored);
* ``same_email_race`` — N sign-ups with one email at the same time: what each one was told;
* ``answers_frame`` — the handler's answer to each (name, email), and what decided it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from ..errors import DatabaseError
from .schema import TABLES
from .service import Response, create_user, validate_user

if TYPE_CHECKING:
    from .provider import Database

__all__ = ["tables_frame", "find_users", "same_email_race", "answers_frame"]

_COLUMNS = sa.text("""
SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length, c.numeric_precision,
       c.numeric_scale, c.is_nullable, c.column_default
FROM information_schema.columns c
WHERE c.table_schema = current_schema() AND c.table_name = ANY(:tables)
ORDER BY array_position(:tables, c.table_name::text), c.ordinal_position
""")

_CONSTRAINTS = sa.text("""
SELECT con.conname, con.contype, rel.relname AS table_name, att.attname AS column_name,
       frel.relname AS ref_table, fatt.attname AS ref_column
FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = rel.relnamespace AND ns.nspname = current_schema()
JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, n) ON true
JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum
LEFT JOIN pg_class frel ON frel.oid = con.confrelid
LEFT JOIN pg_attribute fatt ON fatt.attrelid = con.confrelid AND fatt.attnum = con.confkey[k.n]
WHERE con.contype IN ('p', 'u', 'f') AND rel.relname = ANY(:tables)
""")


def _type(row) -> str:
    t = row.data_type
    if t == "character varying":
        return f"varchar({row.character_maximum_length})"
    if t == "numeric" and row.numeric_precision is not None:
        return f"numeric({row.numeric_precision},{row.numeric_scale})"
    return {"timestamp without time zone": "timestamp"}.get(t, t)


def _constraint_reason(kind: str, name: str, ref: str) -> tuple[str, str]:
    if kind == "p":
        return f"PRIMARY KEY ({name})", "unique and NOT NULL; its index finds a row by id"
    if kind == "u":
        return f"UNIQUE ({name})", ("a unique index: the second row with the same value is refused (SQLSTATE 23505); "
                                    "the seed's 'email_idx'")
    return f"REFERENCES {ref} ({name})", "every value must exist there (SQLSTATE 23503 otherwise)"


def tables_frame(db: "Database") -> pd.DataFrame:
    """Every column of the seed's tables as the live database defines them, with its constraint and a reason."""
    with db.engine.connect() as conn:
        cols = conn.execute(_COLUMNS, {"tables": list(TABLES)}).all()
        cons = conn.execute(_CONSTRAINTS, {"tables": list(TABLES)}).all()
    if not cols:
        raise DatabaseError(f"{db.describe()}: none of the tables {', '.join(TABLES)} exists",
                            "connect with schema=True (the default) to create the seed's schema")
    by_col = {(c.table_name, c.column_name): _constraint_reason(c.contype, c.conname, f"{c.ref_table}.{c.ref_column}")
              for c in cons}
    rows = []
    for c in cols:
        constraint, why = by_col.get((c.table_name, c.column_name), ("", ""))
        default = c.column_default or ""
        if not why:
            why = ("NOT NULL: the INSERT must give it or a default fills it" if c.is_nullable == "NO"
                   else "may be NULL")
            if default:
                why += f"; default {default}"
        elif default.startswith("nextval("):
            why += "; SERIAL: a sequence numbers new rows (numbers used by failed INSERTs are not reused)"
        rows.append(dict(table=c.table_name, column=c.column_name, type=_type(c),
                         not_null=c.is_nullable == "NO", default=default, constraint=constraint, reason=why))
    return pd.DataFrame(rows)


def find_users(db: "Database", email: str) -> pd.DataFrame:
    """The users with exactly this email (id, name, email): at most one, thanks to UNIQUE."""
    with db.engine.connect() as conn:
        return pd.read_sql_query(sa.text("SELECT id, name, email FROM users WHERE email = :email ORDER BY id"),
                                 conn, params={"email": email})


def same_email_race(db: "Database", email: str, *, n: int = 20) -> pd.DataFrame:
    """``n`` sign-ups with the same ``email`` at once (``n`` threads, the pooled engine).

    One row per attempt: ``attempt, name, status, body, server_log, reason``. The UNIQUE index
    decides: one INSERT wins; the others wait for its COMMIT and then fail with 23505.
    """
    if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= 100:
        raise DatabaseError(f"n={n!r} sign-ups: give a whole number from 2 to 100", "e.g. same_email_race(db, email, n=20)")
    names = [f"Racer {i:02d}" for i in range(n)]
    with ThreadPoolExecutor(max_workers=n) as ex:
        answers = list(ex.map(lambda name: create_user(db.engine, name, email), names))
    rows = []
    for i, (name, a) in enumerate(zip(names, answers)):
        reason = ("its INSERT took the unique index entry first and committed" if a.status == 200 else
                  "its INSERT met the winner's entry in the unique index (waiting for its COMMIT if needed): 23505"
                  if a.body == {"error": "Email already exists"} else "failed otherwise: see server_log")
        rows.append(dict(attempt=i, name=name, status=a.status, body=a.body, server_log=a.server_log, reason=reason))
    return pd.DataFrame(rows)


#: SQLSTATEs the handler meets, in words.
SQLSTATE_WORDS = {
    "23505": "unique_violation",
    "23503": "foreign_key_violation",
    "22001": "string_data_right_truncation: longer than the column's varchar(n)",
    "23502": "not_null_violation",
}


def _why(name: object, email: object, r: Response) -> str:
    problem = validate_user(name, email)
    if problem:
        return f"validation: {problem}; the database is never asked"
    if r.ok:
        return "created: INSERT ... RETURNING id through a pooled connection"
    state = r.server_log.split()[-1] if r.server_log.split() and r.server_log.split()[-1].isdigit() else ""
    if r.body == {"error": "Email already exists"}:
        return "the UNIQUE index users_email_key refused a second row (SQLSTATE 23505): the handler's 400"
    tail = "; any error but 23505 becomes 500 'Server error', details only in the server's log"
    if state:
        return f"the database refused it (SQLSTATE {state} {SQLSTATE_WORDS.get(state, '')})".replace(" )", ")") + tail
    return f"the INSERT failed with no SQLSTATE from the server ({r.server_log or 'no log'})" + tail


def answers_frame(engine: sa.Engine, cases: list[tuple[object, object]]) -> pd.DataFrame:
    """Send each ``(name, email)`` through the handler, in order; one row per answer with a ``reason``."""
    rows = []
    for case in cases:
        if not isinstance(case, (tuple, list)) or len(case) != 2:
            raise DatabaseError(f"case {case!r} is not a (name, email) pair", 'e.g. [("John Doe", "john@example.com")]')
        name, email = case
        r = create_user(engine, name, email)
        rows.append(dict(name=name, email=email, status=r.status, body=r.body, server_log=r.server_log,
                         reason=_why(name, email, r)))
    return pd.DataFrame(rows)
