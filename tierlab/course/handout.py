"""The learners' edition of the course: the notebooks and the data, without the answers.

    tl.handout("class-2026-12")            # or: tierlab handout class-2026-12

writes ``DIR/notebooks/`` (every course notebook without its cells tagged ``solution`` and without the
notes for the instructor: cells tagged ``instructor`` and markdown paragraphs opening with ``*Instructors:*``;
no ``notebooks/solutions/``), ``DIR/data/`` (tierlab's data without ``exercises/solutions.yaml``), the wheel
of the tierlab it was built with (``DIR/tierlab-VERSION-py3-none-any.whl``, no answers in it: tierlab is not on
PyPI) and ``DIR/README.md`` telling the learner how to install it and open the course. ``wheel=False`` (``tierlab
handout DIR --no-wheel``) leaves the wheel out, for a JupyterHub or Binder image that has tierlab installed.
The instructor keeps the checkout, where the solutions and the notes stay. ``nbgitpuller_link`` builds the link
that pulls a published handout into each learner's home on a JupyterHub.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import TierlabError
from ..paths import data_dir, user_path
from .syllabus import notebooks_dir

__all__ = ["Handout", "handout", "nbgitpuller_link", "SOLUTION_TAG", "INSTRUCTOR_TAG", "INSTRUCTOR_MARK",
           "instructor_notes"]

#: The cell tag that marks an answer (course notebooks fold each answer in one such markdown cell).
SOLUTION_TAG = "solution"
#: The cell tag that marks a note for the instructor (how to run the class, where the answers are kept).
INSTRUCTOR_TAG = "instructor"
#: A markdown paragraph opening with this is a note for the instructor inside a learner's cell; the edition drops
#: the paragraph (and the cell, if nothing else is left in it).
INSTRUCTOR_MARK = "*Instructors:*"
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
#: Left out of the learners' data: the instructors' answers and notes, and Python's package files.
_DATA_SKIP = ("exercises/solutions.yaml", "__init__.py")
#: Left out of the learners' notebooks folder: the instructors' notebooks and the test suite's files.
_NOTEBOOK_SKIP = ("solutions", "conftest.py", "nbval-sanitize.cfg", ".ipynb_checkpoints", "__pycache__")

_README = """# {title}

The learners' edition of the tierlab course (built by `tierlab handout`): {n} notebooks, no answers.

{install}
`TIERLAB_DATA` makes tierlab read the exercises from this folder's `data/`. Every exercise checks your answer
with `ex.grade(answer)`; the hints fold under each prompt.
"""

#: How to open the edition when it carries tierlab's wheel: every line runs as written, from this folder.
_INSTALL_WHEEL = """tierlab is not on PyPI: this folder carries it, as `{wheel}`. With Python 3.11 or newer, from this
folder, in a Linux or macOS shell (the first two lines once; the install fetches tierlab's dependencies,
JupyterLab among them, from PyPI):

    python3 -m venv .venv
    .venv/bin/python -m pip install ./{wheel}
    TIERLAB_DATA=$PWD/data .venv/bin/python -m jupyterlab notebooks/00-start-here.ipynb
"""

#: How to open it without the wheel (``--no-wheel``): where tierlab is installed already.
_INSTALL_NONE = """This folder carries no copy of tierlab (it is not on PyPI either): open it where tierlab is installed already,
such as the class's JupyterHub or Binder, from this folder:

    TIERLAB_DATA=$PWD/data jupyter lab notebooks/00-start-here.ipynb
"""


@dataclass(frozen=True)
class Handout:
    """What ``handout`` wrote: where, which notebooks, how many answer cells it left out."""

    path: Path
    notebooks: tuple[str, ...]
    removed_cells: int
    data_files: int
    removed_notes: int = 0
    wheel: Path | None = None

    def summary(self) -> str:
        wheel = f", tierlab's wheel {self.wheel.name}" if self.wheel else ", no wheel (tierlab installed where it runs)"
        return (f"learners' edition in {self.path}: {len(self.notebooks)} notebooks ({self.removed_cells} answer cells "
                f"and {self.removed_notes} notes for the instructor left out, no notebooks/solutions/), "
                f"{self.data_files} data files (no exercises/solutions.yaml){wheel}")

    def __repr__(self) -> str:
        return self.summary()


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def instructor_notes(cell: dict) -> list[str]:
    """The notes for the instructor in ``cell``: all of it when tagged ``instructor``, else every markdown paragraph
    opening with ``*Instructors:*``. A learners' edition holds none."""
    if INSTRUCTOR_TAG in cell.get("metadata", {}).get("tags", []):
        return [_source(cell)]
    if cell.get("cell_type") != "markdown":
        return []
    return [p for p in _PARAGRAPHS.split(_source(cell)) if p.strip().startswith(INSTRUCTOR_MARK)]


def _without_notes(cells: list[dict]) -> tuple[list[dict], int]:
    """``cells`` without the instructor's notes (a cell left empty goes too), and how many notes there were."""
    kept, notes = [], 0
    for cell in cells:
        found = instructor_notes(cell)
        notes += len(found)
        if not found:
            kept.append(cell)
            continue
        if INSTRUCTOR_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        paragraphs = [p for p in _PARAGRAPHS.split(_source(cell)) if p not in found and p.strip()]
        if paragraphs:
            text = "\n\n".join(p.strip("\n") for p in paragraphs)
            kept.append({**cell, "source": text.splitlines(keepends=True)})
    return kept, notes


def _strip_counted(path: Path) -> tuple[dict, int, int]:
    """A notebook without its solution cells and its notes for the instructor (and how many of each there were)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TierlabError(f"notebook {path.name} cannot be read: {exc}", "fix or re-execute the notebook") from None
    cells = nb.get("cells", [])
    answers = [c for c in cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    nb["cells"], notes = _without_notes(answers)
    return nb, len(cells) - len(answers), notes


def _strip(path: Path) -> tuple[dict, int]:
    """A notebook without its solution cells and its notes for the instructor (and how many answer cells there were)."""
    nb, answers, _ = _strip_counted(path)
    return nb, answers


def _copy_notebooks(src: Path, dest: Path) -> tuple[list[str], int, int]:
    names, removed, notes = [], 0, 0
    for f in sorted(src.rglob("*")):
        rel = f.relative_to(src)
        if f.is_dir() or any(part in _NOTEBOOK_SKIP for part in rel.parts):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix == ".ipynb":
            nb, n, k = _strip_counted(f)
            out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            names.append(rel.as_posix())
            removed += n
            notes += k
        else:
            shutil.copy2(f, out)
    return names, removed, notes


def _copy_data(src: Path, dest: Path) -> int:
    count = 0
    for f in sorted(src.rglob("*")):
        rel = f.relative_to(src).as_posix()
        if f.is_dir() or rel in _DATA_SKIP or "__pycache__" in rel:
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest / rel)
        count += 1
    return count


def _source_checkout() -> Path | None:
    """The checkout this tierlab runs from (``pyproject.toml`` beside the package), or None for an install."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or 'name = "tierlab"' not in pyproject.read_text(encoding="utf-8"):
        return None
    return root


def _build_wheel(dest: Path) -> Path:
    """tierlab's wheel, built from a copy of the checkout into ``dest`` (the checkout is left as it was; the wheel
    carries no answers: pyproject.toml leaves ``exercises/solutions.yaml`` out, and the copy never holds it)."""
    root = _source_checkout()
    if root is None:
        raise TierlabError(f"this tierlab ({Path(__file__).resolve().parents[1]}) is an install, not a checkout, so "
                           "there is no source to build the learners' wheel from",
                           "run tierlab handout from a checkout, or pass wheel=False (tierlab handout DIR --no-wheel) "
                           "for a hub or image where tierlab is installed")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "solutions.yaml")
    with tempfile.TemporaryDirectory(prefix="tierlab-wheel-") as tmp:
        src = Path(tmp) / "src"
        for name in ("tierlab", "data"):
            shutil.copytree(root / name, src / name, ignore=skip)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, src / name)
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
               "-w", str(Path(tmp) / "dist"), str(src)]
        if importlib.util.find_spec("setuptools") is not None:  # build with it, offline; else pip fetches it
            cmd.insert(4, "--no-build-isolation")
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        wheels = sorted((Path(tmp) / "dist").glob("tierlab-*.whl"))
        if done.returncode != 0 or not wheels:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise TierlabError(f"building tierlab's wheel for the handout failed: {tail}",
                               "check that pip can build the checkout (pip wheel --no-deps .), or pass wheel=False "
                               "(--no-wheel)")
        out = dest / wheels[-1].name
        shutil.copy2(wheels[-1], out)
    return out


def _refuse_outside_links(what: str, src: Path) -> None:
    """A symbolic link in the course leading out of it would copy that file (a key, another account's notes)
    into what learners receive: refused, before anything is written."""
    for top, dirs, files in os.walk(src):
        for name in (*dirs, *files):
            link = Path(top) / name
            if not link.is_symlink():
                continue
            target = link.resolve()
            if target != src and src not in target.parents:
                shown = str(link.relative_to(src)).encode("utf-8", "backslashreplace").decode("utf-8")[:160]
                raise TierlabError(f"the course's {what} folder holds {shown}, a link to {target} outside it",
                                   "a handout copies only the course's own files: put a copy in its place, "
                                   "or remove the link")


def _is_handout(folder: Path) -> bool:
    """``folder`` holds an earlier handout: its README.md (a file, not a link) is the one :func:`handout` writes."""
    readme = folder / "README.md"
    if readme.is_symlink() or not readme.is_file():
        return False
    with open(readme, encoding="utf-8", errors="replace") as f:
        return "(built by `tierlab handout`)" in f.read(4096)


def _remove_earlier_handout(dest: Path) -> None:
    """What an earlier handout wrote into ``dest`` (and nothing else there)."""
    for part in ("notebooks", "data", "README.md", *(p.name for p in dest.glob("tierlab-*.whl"))):
        target = dest / part
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif os.path.lexists(target):
            target.unlink()  # a link is removed, never followed


def handout(dest: str | Path, *, notebooks: str | Path | None = None, data: str | Path | None = None,
            overwrite: bool = False, wheel: bool = True) -> Handout:
    """Write the learners' edition of the course into ``dest`` (a new or empty folder; ``overwrite=True``
    replaces what a previous handout wrote there). ``notebooks`` and ``data`` default to the checkout's
    ``notebooks/`` and tierlab's data folder. ``wheel=True`` puts tierlab's wheel beside them (built from the
    checkout) and a README whose lines install it; ``wheel=False`` is for a hub or image with tierlab installed."""
    dest = user_path(dest).resolve()
    src_nb = user_path(notebooks).resolve() if notebooks is not None else notebooks_dir()
    src_data = user_path(data).resolve() if data is not None else data_dir()
    for what, folder in (("notebooks", src_nb), ("data", src_data)):
        if not folder.is_dir():
            raise TierlabError(f"the course's {what} folder {folder} does not exist",
                               f"pass {what}=PATH (a checkout's {what}/ folder)")
    _refuse_outside_links("notebooks", src_nb)
    _refuse_outside_links("data", src_data)
    if any(dest == src or src in dest.parents or dest in src.parents for src in (src_nb, src_data)):
        raise TierlabError(f"handout folder {dest} would overwrite the course itself", "choose a folder outside it")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        if not overwrite or not dest.is_dir():
            raise TierlabError(f"handout folder {dest} already exists and is not empty",
                               "choose a new folder, or pass overwrite=True (tierlab handout DIR --force)")
        if not _is_handout(dest):
            raise TierlabError(f"handout folder {dest} is not empty and is not an earlier handout "
                               "(its README.md is not the one tierlab handout writes)",
                               "choose a new or empty folder: --force replaces an earlier handout's notebooks/, "
                               "data/, README.md and wheel, never another folder's")
    with tempfile.TemporaryDirectory(prefix="tierlab-handout-") as tmp:
        built = _build_wheel(Path(tmp)) if wheel else None  # a failed build leaves dest as it was
        if dest.exists():
            _remove_earlier_handout(dest)
        dest.mkdir(parents=True, exist_ok=True)
        whl = Path(shutil.copy2(built, dest / built.name)) if built else None
    names, removed, notes = _copy_notebooks(src_nb, dest / "notebooks")
    files = _copy_data(src_data, dest / "data")
    install = _INSTALL_WHEEL.format(wheel=whl.name) if whl else _INSTALL_NONE
    (dest / "README.md").write_text(_README.format(title=f"tierlab course: {dest.name}", n=len(names),
                                                   install=install), encoding="utf-8")
    return Handout(dest, tuple(names), removed, files, notes, whl)


def nbgitpuller_link(hub: str, repo: str, *, branch: str = "main", notebook: str = "notebooks/00-start-here.ipynb",
                     app: str = "lab") -> str:
    """The nbgitpuller link that clones (first click) or merges (later clicks) a published handout ``repo`` into
    each learner's home on the JupyterHub at ``hub``, then opens ``notebook`` in JupyterLab (``app="lab"``)."""
    if not hub.startswith(("http://", "https://")) or not repo.startswith(("http://", "https://")):
        raise TierlabError(f"nbgitpuller needs full URLs, got hub={hub!r} repo={repo!r}",
                           "e.g. nbgitpuller_link('https://hub.example.org', 'https://github.com/you/tierlab-class')")
    folder = repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")  # nbgitpuller clones into the repo's name
    path = f"{app}/tree/{folder}/{notebook}"
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in (("repo", repo), ("branch", branch), ("urlpath", path)))
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"
