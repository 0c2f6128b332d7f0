"""Where tierlab's data lives: ``data/`` beside the package, or ``$TIERLAB_DATA``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "data_path"]


def data_dir() -> Path:
    """The data folder: ``$TIERLAB_DATA`` if set, else ``data/`` next to the package."""
    env = os.environ.get("TIERLAB_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return (Path(__file__).resolve().parent.parent / "data").resolve()


def data_path(*parts: str) -> Path:
    return data_dir().joinpath(*parts)
