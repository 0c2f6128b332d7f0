"""Where tierlab's data lives: the ``tierlab.data`` package, or ``$TIERLAB_DATA``.

The top-level ``data/`` folder of the checkout is the ``tierlab.data`` package (pyproject maps
it with ``package-dir``), so an editable install reads the checkout's files and a wheel reads
the copy inside its own ``site-packages/tierlab/data``. Never relative to the current directory.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from .errors import TierlabError

__all__ = ["data_dir", "data_path", "user_path"]

#: The checkout's ``data/`` beside the package, for a checkout on ``sys.path`` that was never installed.
_CHECKOUT_DATA = Path(__file__).resolve().parent.parent / "data"


def user_path(path: "str | os.PathLike[str]") -> Path:
    """``path`` with ``~`` or ``~user`` expanded; a user with no home folder is a TierlabError, not a RuntimeError."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        shown = str(path).encode("utf-8", "backslashreplace").decode("utf-8")[:120]
        raise TierlabError(f"{shown}: no home folder is known for that user", "write the full path instead of ~user") \
            from None


def data_dir() -> Path:
    """The data folder: ``$TIERLAB_DATA`` if set, else the installed ``tierlab.data`` package."""
    env = os.environ.get("TIERLAB_DATA")
    if env:
        return user_path(env).resolve()
    try:
        root = resources.files("tierlab.data")
    except ModuleNotFoundError:  # not installed: a bare checkout on sys.path
        return _CHECKOUT_DATA
    if not isinstance(root, Path):  # e.g. imported from a zip file
        raise TierlabError(
            f"tierlab's data is not a folder on disk ({root})",
            "install tierlab as a wheel or with `pip install -e .`, or set TIERLAB_DATA to a data/ folder",
        )
    return root


def data_path(*parts: str) -> Path:
    """A file or folder inside :func:`data_dir`."""
    return data_dir().joinpath(*parts)
