"""The database tier: a real PostgreSQL with the seed's schema, its create-user service and pool.

    import tierlab as tl
    db = tl.db.connect()                      # URL given, else Docker, else embedded; one line says which
    tl.db.create_user(db.engine, "John Doe", "john@example.com")   # the seed's server.js
    tl.db.pool_lesson(db)                     # pooled vs a new connection per request, measured
    tl.db.connection_phases(db)               # TCP, TLS, auth, first query, pool checkout, insert (ms)
    tl.db.explain_email_lookup(db, "john@example.com").index    # 'users_email_key'

The learner's role is the application's (``app_user``, owner of ``appdb``, no superuser); every
connection has client-side time limits (``tierlab.db.guard``), so a frozen or lost server is a
:class:`~tierlab.errors.DatabaseError` within seconds, and ``tl.database()`` replaces a server
that died.
"""

from __future__ import annotations

from .containers import DockerOptions, EngineProbe, docker_engine
from .embedded import (Binaries, HeldBinaries, ServerAccount, can_run, find_binaries, hold_binaries, reap_stale,
                       server_account)
from .inside import QueryPlan, explain_email_lookup, users_frame, wal_around_commit
from .pool import (PHASE_KEYS, SEED_NEW_CONNECTION_MS, connection_phases, connection_phases_frame, new_connection_ms,
                   pool_lesson)
from .provider import POOL_SIZE, Database, connect, database, parse_url, read_env_file, stop_all, url_from_env
from .schema import TABLES, apply_schema, schema_sql
from .service import Response, create_order, create_user, deep_health, health, validate_order, validate_user
from .lessons import answers_frame, find_users, same_email_race, tables_frame
from .wire import Phases, open_connection_phases

__all__ = [
    "Database", "connect", "database", "url_from_env", "parse_url", "read_env_file", "stop_all", "POOL_SIZE",
    "DockerOptions", "EngineProbe", "docker_engine", "Binaries", "find_binaries", "reap_stale",
    "ServerAccount", "server_account", "can_run", "HeldBinaries", "hold_binaries",
    "TABLES", "apply_schema", "schema_sql",
    "Response", "create_user", "create_order", "validate_user", "validate_order", "health", "deep_health",
    "tables_frame", "find_users", "same_email_race", "answers_frame",
    "pool_lesson", "connection_phases", "connection_phases_frame", "new_connection_ms", "PHASE_KEYS", "SEED_NEW_CONNECTION_MS",
    "QueryPlan", "explain_email_lookup", "users_frame", "wal_around_commit",
    "Phases", "open_connection_phases",
]
