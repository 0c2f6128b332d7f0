"""The learners' edition of the course: the notebooks and the data, without the answers.

    tl.handout("class-2026-12")            # or: tierlab handout class-2026-12

writes ``DIR/notebooks/`` (every course notebook without its cells tagged ``solution``; no
``notebooks/solutions/``), ``DIR/data/`` (tierlab's data without ``exercises/solutions.yaml``) and
``DIR/README.md`` telling the learner how to open it. The instructor keeps the checkout, where the
solutions and the notes stay. ``nbgitpuller_link`` builds the link that pulls a published handout
into each learner's home on a JupyterHub.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import TierlabError
from ..paths import data_dir, user_path
from .syllabus import notebooks_dir

__all__ = ["Handout", "handout", "nbgitpuller_link", "SOLUTION_TAG"]

#: The cell tag that marks an answer (course notebooks fold each answer in one such markdown cell).
SOLUTION_TAG = "solution"
#: Left out of the learners' data: the instructors' answers and notes, and Python's package files.
_DATA_SKIP = ("exercises/solutions.yaml", "__init__.py")
#: Left out of the learners' notebooks folder: the instructors' notebooks and the test suite's files.
_NOTEBOOK_SKIP = ("solutions", "conftest.py", "nbval-sanitize.cfg", ".ipynb_checkpoints", "__pycache__")

_README = """# {title}

The learners' edition of the tierlab course (built by `tierlab handout`): {n} notebooks, no answers.

Open it with tierlab installed (`pip install tierlab`, or the class's JupyterHub has it):

    cd {name}
    TIERLAB_DATA=$PWD/data jupyter lab notebooks/00-start-here.ipynb

`TIERLAB_DATA` makes tierlab read the exercises from this folder's `data/`. Every exercise checks your answer
with `ex.grade(answer)`; the hints fold under each prompt.
"""


@dataclass(frozen=True)
class Handout:
    """What ``handout`` wrote: where, which notebooks, how many answer cells it left out."""

    path: Path
    notebooks: tuple[str, ...]
    removed_cells: int
    data_files: int

    def summary(self) -> str:
        return (f"learners' edition in {self.path}: {len(self.notebooks)} notebooks ({self.removed_cells} answer cells "
                f"left out, no notebooks/solutions/), {self.data_files} data files (no exercises/solutions.yaml)")

    def __repr__(self) -> str:
        return self.summary()


def _strip(path: Path) -> tuple[dict, int]:
    """A notebook without its solution cells (and how many there were)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TierlabError(f"notebook {path.name} cannot be read: {exc}", "fix or re-execute the notebook") from None
    cells = nb.get("cells", [])
    kept = [c for c in cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    nb["cells"] = kept
    return nb, len(cells) - len(kept)


def _copy_notebooks(src: Path, dest: Path) -> tuple[list[str], int]:
    names, removed = [], 0
    for f in sorted(src.rglob("*")):
        rel = f.relative_to(src)
        if f.is_dir() or any(part in _NOTEBOOK_SKIP for part in rel.parts):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix == ".ipynb":
            nb, n = _strip(f)
            out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            names.append(rel.as_posix())
            removed += n
        else:
            shutil.copy2(f, out)
    return names, removed


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


def _is_handout(folder: Path) -> bool:
    """``folder`` holds an earlier handout: its README.md (a file, not a link) is the one :func:`handout` writes."""
    readme = folder / "README.md"
    if readme.is_symlink() or not readme.is_file():
        return False
    with open(readme, encoding="utf-8", errors="replace") as f:
        return "(built by `tierlab handout`)" in f.read(4096)


def handout(dest: str | Path, *, notebooks: str | Path | None = None, data: str | Path | None = None,
            overwrite: bool = False) -> Handout:
    """Write the learners' edition of the course into ``dest`` (a new or empty folder; ``overwrite=True``
    replaces what a previous handout wrote there). ``notebooks`` and ``data`` default to the checkout's
    ``notebooks/`` and tierlab's data folder."""
    dest = user_path(dest).resolve()
    src_nb = user_path(notebooks).resolve() if notebooks is not None else notebooks_dir()
    src_data = user_path(data).resolve() if data is not None else data_dir()
    for what, folder in (("notebooks", src_nb), ("data", src_data)):
        if not folder.is_dir():
            raise TierlabError(f"the course's {what} folder {folder} does not exist",
                               f"pass {what}=PATH (a checkout's {what}/ folder)")
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
                               "data/ and README.md, never another folder's")
        for part in ("notebooks", "data", "README.md"):
            target = dest / part
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif os.path.lexists(target):
                target.unlink()  # a link is removed, never followed
    dest.mkdir(parents=True, exist_ok=True)
    names, removed = _copy_notebooks(src_nb, dest / "notebooks")
    files = _copy_data(src_data, dest / "data")
    (dest / "README.md").write_text(_README.format(title=f"tierlab course: {dest.name}", n=len(names),
                                                   name=dest.name), encoding="utf-8")
    return Handout(dest, tuple(names), removed, files)


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
