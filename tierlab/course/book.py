"""The static edition of the course: the executed notebooks as a website, built offline with Jupyter Book 1.x.

    tierlab book build/book          # or: make book;  tl.course.book.build("build/book")

reads ``book/_config.yml`` and ``book/_toc.yml`` (course order, the syllabus's; :func:`toc_text` writes it and the
build refuses a TOC that has drifted from the notebooks) and stages the pages in ``DIR/src``: ``book/intro.md``, every
course notebook without its cells tagged ``solution`` (the solutions notebook is not a course notebook, so it is
never staged) and the files the notebooks link to. Jupyter Book then writes ``DIR/_build/html`` from the committed
outputs (``execute_notebooks: off``): no kernel, no database, no network. Jupyter Book 2 fetches its theme at build
time, so the pin is ``jupyter-book<2`` (the ``book`` and ``test`` extras; the learner's install does not carry it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import TierlabError
from ..paths import user_path
from .handout import _refuse_outside_links, _strip
from .syllabus import notebook_paths, notebooks_dir

__all__ = ["Book", "book_dir", "toc_text", "stage", "build"]

#: Files outside notebooks/ that the notebooks link to (relative to the checkout), copied beside the pages.
LINKED = ("docs/cheatsheet.pdf", "docs/cheatsheet.png")

#: Runs jupyter-book with every network call refused (a Python audit hook): the build is offline by
#: construction, and anything that tries to fetch (an inventory, a theme, a font) fails it with the address.
OFFLINE_BUILD = """
import sys
def _offline(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        raise OSError(f"tierlab book builds offline, refused {event} {args[1] if event == 'socket.connect' else args[:2]}")
sys.addaudithook(_offline)
from jupyter_book.cli.main import main
main()
"""


def book_dir() -> Path:
    """The checkout's ``book/`` folder (``_config.yml``, ``_toc.yml``, ``intro.md``)."""
    here = notebooks_dir().parent / "book"
    if not (here / "_config.yml").is_file():
        raise TierlabError(f"no book/_config.yml at {here}", "run this from a checkout of the tierlab repository")
    return here


def toc_text(folder: Path | None = None) -> str:
    """``_toc.yml`` for the course: ``intro`` first, then every notebook in the syllabus's order."""
    lines = ["# The course in order: written by tierlab.course.book.toc_text() from the syllabus, which a test and",
             "# the build both compare with this file. Regenerate: python -m tierlab.course.book --toc > book/_toc.yml",
             "format: jb-book", "root: intro", "chapters:"]
    lines += [f"  - file: notebooks/{p.stem}" for p in notebook_paths(folder)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Book:
    """What ``build`` wrote: the HTML folder, its pages (one per course notebook) and how long it took."""

    html: Path
    pages: tuple[str, ...]
    removed_cells: int
    seconds: float

    def summary(self) -> str:
        return (f"static edition in {self.html}: {len(self.pages)} course notebooks ({self.removed_cells} answer "
                f"cells left out, no solutions notebook), built offline in {self.seconds:.0f} s; "
                f"open {self.html / 'index.html'}")

    def __repr__(self) -> str:
        return self.summary()


def stage(dest: Path, *, notebooks: Path | None = None) -> tuple[list[str], int]:
    """Write the book's sources into ``dest`` (a new folder): config, TOC, intro and the stripped notebooks."""
    src_nb = notebooks or notebooks_dir()
    config = book_dir()
    written = (config / "_toc.yml").read_text(encoding="utf-8")
    if written != toc_text(src_nb):
        raise TierlabError("book/_toc.yml no longer lists the course's notebooks in order",
                           "regenerate it: python -m tierlab.course.book --toc > book/_toc.yml")
    _refuse_outside_links("notebooks", src_nb.resolve())  # the book is published: nothing from outside the course
    dest.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "intro.md"):
        shutil.copy2(config / name, dest / name)
    (dest / "notebooks").mkdir()
    pages, removed = [], 0
    for path in notebook_paths(src_nb):
        nb, n = _strip(path)
        for cell in nb["cells"]:  # the test suite's markers mean nothing to a reader
            if cell["cell_type"] == "code":
                src = "".join(cell["source"]).splitlines(keepends=True)
                cell["source"] = [line for line in src if line.strip() != "# NBVAL_IGNORE_OUTPUT"]
        (dest / "notebooks" / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
        pages.append(path.stem)
        removed += n
    root = src_nb.parent
    for rel in LINKED:
        if (root / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest / rel)
    return pages, removed


#: What a build writes into its folder; ``overwrite`` removes these and nothing else.
_BUILD_PARTS = ("src", "_build")


def _remove_previous_build(out: Path) -> None:
    """Remove what an earlier build wrote (``src/``, ``_build/``), and only that: ``tierlab book ~ --force``
    once meant ``rm -rf ~``. A folder holding no earlier build is refused; a link is removed, never followed."""
    parts = [out / name for name in _BUILD_PARTS if os.path.lexists(out / name)]
    if not parts:
        raise TierlabError(f"book folder {out} is not empty and holds no earlier build (no src/ or _build/)",
                           "choose a new or empty folder: --force replaces an earlier build, it does not empty a folder")
    for part in parts:
        if part.is_dir() and not part.is_symlink():
            shutil.rmtree(part)
        else:
            part.unlink()


def build(dest: str | Path, *, notebooks: str | Path | None = None, overwrite: bool = False) -> Book:
    """Build the static edition into ``dest`` (``dest/src`` the staged pages, ``dest/_build/html`` the site)."""
    out = user_path(dest).resolve()
    if importlib.util.find_spec("jupyter_book") is None:
        raise TierlabError("Jupyter Book 1.x is not installed",
                           "pip install 'tierlab[book]' (or make book, which installs it)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not overwrite or not out.is_dir():
            raise TierlabError(f"book folder {out} already exists and is not empty",
                               "choose a new folder, or pass overwrite=True (tierlab book DIR --force)")
        _remove_previous_build(out)
    src_nb = user_path(notebooks).resolve() if notebooks is not None else None
    start = time.perf_counter()
    pages, removed = stage(out / "src", notebooks=src_nb)
    cmd = [sys.executable, "-c", OFFLINE_BUILD, "build", str(out / "src"), "--path-output", str(out),
           "--builder", "html", "--warningiserror", "--keep-going", "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
        raise TierlabError(f"jupyter-book could not build the course:\n{tail}",
                           "fix the notebook or link it names, then build again")
    return Book(out / "_build" / "html", tuple(pages), removed, time.perf_counter() - start)


def _main(argv: list[str]) -> int:
    if argv == ["--toc"]:
        sys.stdout.write(toc_text())
        return 0
    print(build(argv[0] if argv else "build/book", overwrite=True).summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
