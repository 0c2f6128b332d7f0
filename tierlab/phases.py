"""The phases of a database request, in the order they happen, as keys of a timings dict (ms).

One copy for the two layers that speak of them: ``tierlab.db`` measures them on a real
PostgreSQL, ``tierlab.sim.latency`` puts them into the measured latency preset. Base layer: it
imports nothing but the standard library.
"""

from __future__ import annotations

__all__ = ["PHASE_KEYS"]

#: A new connection's TCP connect, TLS handshake and authentication, its first query; then taking a
#: pooled connection and the INSERT on it.
PHASE_KEYS: tuple[str, ...] = ("tcp_connect_ms", "tls_handshake_ms", "auth_ms", "first_query_ms", "pool_acquire_ms",
                               "insert_ms")
