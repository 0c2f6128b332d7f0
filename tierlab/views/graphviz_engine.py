"""Find a Graphviz layout engine that works after a plain ``pip install``.

Order of preference:

1. ``$TIERLAB_DOT`` (an explicit path to a ``dot``-compatible executable), when set;
2. the ``graphviz-pure`` executable that the ``graphviz-pure`` wheel puts next to this Python
   (looked up by absolute path: a Jupyter kernel does not get the venv's ``bin`` on ``PATH``);
3. ``graphviz-pure`` on ``PATH``;
4. a system ``dot`` (Debian's ``graphviz`` package, conda's ``graphviz``).

The learner never meets ``graphviz.ExecutableNotFound``: with none of these, a
:class:`~tierlab.errors.TierlabError` says what to install. Rendering is a plain subprocess
call (DOT on stdin, SVG or PNG on stdout), so it works whatever ``PATH`` the kernel has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

from ..errors import TierlabError
from ..paths import env_path

__all__ = ["Engine", "candidates", "choose_engine", "find_engine", "render", "FORMATS"]

#: Output formats tierlab asks for. Both graphviz-pure and Graphviz's ``dot`` make these.
FORMATS = ("svg", "png")


@dataclass(frozen=True)
class Engine:
    """A working layout engine: what it is, where it lives, what it says its version is."""

    kind: Literal["graphviz-pure", "dot"]
    path: str
    version: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.version}) at {self.path}"


def _bin_dirs() -> list[Path]:
    """Where a pip-installed executable of *this* Python lives (not resolved: a venv's
    ``python`` is often a symlink to the system one)."""
    dirs = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts")), Path(sys.prefix) / "bin"]
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def candidates() -> list[tuple[str, Path]]:
    """Every executable worth trying, best first, as (kind, absolute path)."""
    found: list[tuple[str, Path]] = []
    p = env_path("TIERLAB_DOT")
    if p is not None:
        found.append(("graphviz-pure" if "graphviz-pure" in p.name else "dot", p))
    for d in _bin_dirs():
        found.append(("graphviz-pure", d / "graphviz-pure"))
    on_path = shutil.which("graphviz-pure")
    if on_path:
        found.append(("graphviz-pure", Path(on_path)))
    dot = shutil.which("dot")
    if dot:
        found.append(("dot", Path(dot)))
    for sys_dot in ("/usr/bin/dot", "/usr/local/bin/dot", "/opt/homebrew/bin/dot"):
        found.append(("dot", Path(sys_dot)))
    return found


def _probe(path: Path, timeout_s: float = 10.0) -> str | None:
    """The engine's version line if ``path`` runs and lays out a one-edge graph, else None."""
    try:
        if not (path.is_file() and os.access(path, os.X_OK)):
            return None
        ver = subprocess.run([str(path), "-V"], capture_output=True, text=True, timeout=timeout_s)
        out = subprocess.run([str(path), "-Tsvg"], input="digraph{a->b}", capture_output=True, text=True,
                             timeout=timeout_s)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or "<svg" not in out.stdout:
        return None
    line = (ver.stderr or ver.stdout).strip().splitlines()
    return line[0] if line else "unknown version"


def choose_engine(options: Iterable[tuple[str, Path]]) -> Engine:
    """The first option that really works; a TierlabError naming what to install if none does."""
    tried: list[str] = []
    for kind, path in options:
        if str(path) in tried:
            continue
        tried.append(str(path))
        version = _probe(path)
        if version is not None:
            return Engine(kind, str(path), version)  # type: ignore[arg-type]
    raise TierlabError(
        "no Graphviz layout engine found: the diagram cannot be drawn "
        f"(tried {', '.join(tried) or 'nothing'})",
        "pip install graphviz-pure (in the same environment as this kernel), "
        "or install Graphviz (apt-get install graphviz / conda install graphviz); "
        "TIERLAB_DOT=/path/to/dot picks one explicitly",
    )


@lru_cache(maxsize=1)
def find_engine() -> Engine:
    """The engine tierlab uses (found once per process; ``find_engine.cache_clear()`` to look again)."""
    engine = choose_engine(candidates())
    _point_graphviz_package_at(engine)
    return engine


def _point_graphviz_package_at(engine: Engine) -> None:
    """Let ``graphviz.Digraph`` in a learner's own cells work too, when no ``dot`` is on PATH."""
    try:
        from graphviz.backend import dot_command
    except ImportError:  # pragma: no cover - graphviz is a dependency
        return
    if str(dot_command.DOT_BINARY) == "dot" and shutil.which("dot") is None:
        dot_command.DOT_BINARY = Path(engine.path)


def render(source: str, fmt: str = "svg", *, engine: Engine | None = None, timeout_s: float = 30.0) -> bytes:
    """Lay out DOT ``source`` and return it in ``fmt`` (``svg`` or ``png``)."""
    if fmt not in FORMATS:
        raise TierlabError(f"cannot render a diagram as {fmt!r}", f"use one of {', '.join(FORMATS)}")
    eng = engine or find_engine()
    try:
        out = subprocess.run([eng.path, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise TierlabError(f"{eng.kind} took longer than {timeout_s:.0f} s to lay out the diagram",
                           "a diagram this size should take milliseconds: report it as a bug") from None
    except OSError as exc:
        raise TierlabError(f"{eng.kind} at {eng.path} could not run ({exc})",
                           "reinstall graphviz-pure, or set TIERLAB_DOT to a working dot") from None
    if out.returncode != 0 or not out.stdout:
        err = out.stderr.decode(errors="replace").strip()[:400]
        raise TierlabError(f"{eng.kind} could not lay out the diagram: {err or 'no output'}",
                           "this is a bug in tierlab's diagram source: please report it")
    return out.stdout
