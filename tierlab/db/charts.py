"""Moved: the database lessons' charts are views and live in :mod:`tierlab.views.charts`
(``tl.charts.pool_chart(frame)``, ``tl.charts.phases_chart(phases)``).

This name is kept only while notebooks 05 and 08 still write ``from tierlab.db import charts``;
it resolves lazily, so importing ``tierlab.db`` never imports a view. Delete it once they use
``tl.charts``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pool_chart", "phases_chart"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        return getattr(importlib.import_module("tierlab.views.charts"), name)
    raise AttributeError(f"module 'tierlab.db.charts' has no attribute {name!r}")
