"""The app server's kernel manager, which Voila loads by name (see ``serve.voila_argv``).

Kept apart from ``serve`` because importing jupyter_server's kernel manager costs seconds (it pulls
in jupyter_events, jsonschema and rfc3987_syntax, which compiles dozens of grammars): building the
command line, checking arguments and the tests of both need none of it.
"""

from __future__ import annotations

__all__ = ["FreshPoolKernelManager"]

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager


class FreshPoolKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager base: a pre-heated kernel waiting in the pool counts as active, so
    the page that takes it gets the whole idle timeout to connect (otherwise a kernel pre-heated
    long ago could be culled between the page's request and its websocket connecting)."""

    async def cull_kernels(self) -> None:
        from jupyter_server._tz import utcnow

        for pool in getattr(self, "_pools", {}).values():
            for item in list(pool):
                try:
                    kid = item.result().get("kernel_id") if item.done() else None
                except Exception:  # a failed pre-heat: Voila drops it itself
                    kid = None
                if isinstance(kid, str) and kid in self._kernels:
                    self._kernels[kid].last_activity = utcnow()
        await super().cull_kernels()
