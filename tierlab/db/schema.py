"""The seed's schema (``data/schema.sql``), applied idempotently."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ..errors import DatabaseError
from ..paths import data_path

__all__ = ["SCHEMA_FILE", "TABLES", "schema_sql", "apply_schema"]

SCHEMA_FILE = "schema.sql"
#: The seed's tables, in the order they are created (orders refers to users).
TABLES = ("users", "products", "orders")
#: An advisory-lock key, so two processes applying the schema at once do not collide.
_LOCK_KEY = 0x7469_6572  # "tier"


def schema_sql(path: Path | None = None) -> str:
    """The text of ``data/schema.sql`` (or of ``path``)."""
    path = path or data_path(SCHEMA_FILE)
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise DatabaseError(
            f"schema file {path} cannot be read: {exc.strerror}",
            "set $TIERLAB_DATA to the folder that holds schema.sql, or reinstall tierlab",
        ) from exc


def apply_schema(engine: sa.Engine, path: Path | None = None) -> tuple[str, ...]:
    """Create the seed's tables when missing; a second call changes nothing. Returns the tables."""
    sql = schema_sql(path)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        conn.exec_driver_sql(sql)
    return TABLES
