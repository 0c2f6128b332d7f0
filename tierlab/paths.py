"""Where tierlab's data lives: the ``tierlab.data`` package, or ``$TIERLAB_DATA``.

The top-level ``data/`` folder of the checkout is the ``tierlab.data`` package (pyproject maps
it with ``package-dir``), so an editable install reads the checkout's files and a wheel reads
the copy inside its own ``site-packages/tierlab/data``. Never relative to the current directory.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Callable

from .errors import TierlabError

__all__ = ["data_dir", "data_path", "env_path", "user_path", "write_whole"]

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


#: The longest path taken from the environment: Linux's 4095 bytes, less room for the names tierlab adds under it
#: (``topologies/seed.yaml``, ``hcl/<sha256>.json``), so a file below it never has a name too long to open.
_ENV_PATH_MAX = 4095 - 512


def env_path(var: str) -> Path | None:
    """The path in environment variable ``var`` (``~`` expanded); ``None`` if unset or blank.

    One reader for every path tierlab takes from the environment, so the same odd value gets the same message:
    a ``~user`` with no home, or a name longer than the system allows, is a TierlabError naming the variable."""
    value = os.environ.get(var, "")
    if not value.strip():
        return None
    shown = _shown(value)
    try:
        p = Path(value).expanduser()
    except RuntimeError:
        raise TierlabError(f"${var}={shown[:120]}: no home folder is known for that user",
                           f"write the full path instead of ~user, or unset {var}") from None
    raw = os.fsencode(os.path.abspath(p))  # a relative path counts from the current folder
    if len(raw) > _ENV_PATH_MAX or any(len(part) > 255 for part in raw.split(b"/")):
        raise TierlabError(f"${var}={shown[:60]}...: longer than a path may be ({len(raw)} bytes)",
                           f"point {var} at an existing path, or unset it")
    return p


def data_dir() -> Path:
    """The data folder: ``$TIERLAB_DATA`` if set, else the installed ``tierlab.data`` package."""
    env = env_path("TIERLAB_DATA")
    if env is not None:
        try:
            return env.resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of symbolic links
            raise TierlabError(f"$TIERLAB_DATA={_shown(env)}: {exc.strerror if isinstance(exc, OSError) else exc}",
                               "point TIERLAB_DATA at a data/ folder (a checkout's or a handout's), or unset it") \
                from None
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


def _shown(path: object) -> str:
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")[:160]


def write_whole(path: "str | os.PathLike[str]", data: str | bytes, *, what: str,
                replace_if: "Callable[[bytes], bool] | None" = None) -> Path:
    """Write ``data`` to ``path`` whole or not at all; returns the path (``~`` expanded).

    Written to a new file beside it, then renamed over it: a reader, or a failure half-way, never sees half a
    file. A symbolic link at ``path`` is refused, never followed (a link left in a shared folder such as /tmp
    would otherwise redirect the write into any file of the learner's). An existing file is replaced only if
    ``replace_if(its first 4 KiB)`` says so (``None``: always). Any failure is a TierlabError naming
    ``what`` and the path."""
    p = user_path(path)
    shown = _shown(p)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        if p.is_symlink():
            raise TierlabError(f"{what} {shown} is a symbolic link: tierlab writes no file through a link",
                               "remove the link, or choose another name")
        if p.exists() and not p.is_file():
            raise TierlabError(f"{what} {shown} exists and is not a file", "choose another name")
        if replace_if is not None and p.exists():
            with open(p, "rb") as f:
                head = f.read(4096)
            if not replace_if(head):
                raise TierlabError(f"{what} {shown} already exists and tierlab did not write it",
                                   "choose another folder, or move that file away first")
        if not p.parent.is_dir():
            raise TierlabError(f"{what} {shown}: its folder does not exist", "create the folder first")
        name = str(p.parent / f".{p.name[:200]}.{os.getpid()}.tmp")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        tmp = name  # ours from here: removed if anything below fails
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, p)
        tmp = None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TierlabError(f"{what} {shown} cannot be written: {reason}",
                           "choose a folder you can write to (a full path, no NUL bytes)") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return p
