"""The static edition (issue 14.7): Jupyter Book 1.x builds the executed notebooks offline, in course order,
one page per course notebook, no broken link between pages, and none of the answers' text (tests/answers.py).

The build runs with every socket call refused (tierlab.course.book.OFFLINE_BUILD), so passing is the proof that it
fetches nothing. A minute or so on this 2-core machine: marked ``book``, left out of ``make test-fast``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from answers import NOTEBOOKS, ROOT, _answers, _haystack, _norm, html_text

from tierlab.course import book
from tierlab.course.syllabus import notebook_paths
from tierlab.errors import TierlabError


def test_the_committed_toc_is_the_syllabus_order():
    """Fast: book/_toc.yml lists every course notebook, in the syllabus's order, and nothing else."""
    assert (ROOT / "book" / "_toc.yml").read_text() == book.toc_text(), \
        "regenerate: python -m tierlab.course.book --toc > book/_toc.yml"
    assert "solutions" not in book.toc_text()


def test_a_drifted_toc_is_refused_before_anything_is_built(tmp_path):
    (tmp_path / "nb").mkdir()
    for p in notebook_paths()[:2]:
        (tmp_path / "nb" / p.name).write_text(p.read_text())
    with pytest.raises(TierlabError, match="_toc.yml"):
        book.stage(tmp_path / "src", notebooks=tmp_path / "nb")
    assert not (tmp_path / "src").exists()


def test_a_notebook_linked_from_outside_the_course_is_refused_before_anything_is_built(tmp_path):
    """The book is published: a notebook that is a link to a file outside the course (someone's private copy) is
    refused, as the handout refuses one."""
    (tmp_path / "nb").mkdir()
    (tmp_path / "private").mkdir()
    for p in notebook_paths():
        (tmp_path / "nb" / p.name).write_text(p.read_text())
    first = notebook_paths()[0].name
    (tmp_path / "nb" / first).rename(tmp_path / "private" / first)
    (tmp_path / "nb" / first).symlink_to(tmp_path / "private" / first)
    with pytest.raises(TierlabError, match="outside it"):
        book.stage(tmp_path / "src", notebooks=tmp_path / "nb")
    assert not (tmp_path / "src").exists()


def test_the_offline_guard_refuses_a_fetch():
    """The hook the build runs under: a name lookup fails at once, naming the address (no packet leaves)."""
    probe = book.OFFLINE_BUILD.replace("from jupyter_book.cli.main import main\nmain()",
                                       "import urllib.request\nurllib.request.urlopen('https://example.org/x.inv')")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "builds offline" in run.stderr and "example.org" in run.stderr


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> book.Book:
    if not os.environ.get("CI"):
        pytest.importorskip("jupyter_book", reason="pip install -e '.[book]' (the test extra has it)")
    b = book.build(tmp_path_factory.mktemp("book") / "out")
    print(b.summary())
    return b


@pytest.mark.book
def test_every_course_notebook_has_a_page_in_course_order(site):
    names = [p.stem for p in notebook_paths()]
    assert list(site.pages) == names and len(names) >= 15
    index = (site.html / "intro.html").read_text()
    positions = [index.find(f'href="notebooks/{n}.html"') for n in names]
    assert -1 not in positions and positions == sorted(positions), "the contents list the notebooks in course order"
    for p in notebook_paths():
        page = site.html / "notebooks" / f"{p.stem}.html"
        assert page.is_file(), p.name
        title = "".join(json.loads(p.read_text())["cells"][0]["source"]).splitlines()[0].lstrip("# ")
        assert _norm(title) in _norm(html_text(page.read_text())), f"{p.stem}: its H1 is on its page"
    assert not list(site.html.rglob("*solutions*")), "no page of the instructors' notebook"


@pytest.mark.book
def test_outputs_are_the_committed_ones_not_re_executed(site):
    """execute: off: the diagram and tables are those committed (no kernel, no database ran)."""
    page = (site.html / "notebooks" / "06-full-journey.html").read_text()
    assert "<svg" in page or "<img" in page
    assert "NBVAL_IGNORE_OUTPUT" not in page
    assert list((site.html / "_images").glob("*.png")), "the committed PNG outputs are pages' pictures"


@pytest.mark.book
def test_no_page_links_to_a_missing_page(site):
    checked, missing = 0, []
    for page in site.html.rglob("*.html"):
        if "_static" in page.relative_to(site.html).parts:  # the theme's template macros, not a page
            continue
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:", "javascript:")) or not parts.path:
                continue
            checked += 1
            if not (page.parent / unquote(parts.path)).resolve().exists():
                missing.append((page.relative_to(site.html).as_posix(), link))
    assert checked > 500
    assert not missing, f"{len(missing)} links to nothing, e.g. {missing[:5]}"


@pytest.mark.book
def test_the_book_holds_no_solution_text(site):
    needles, _ = _answers()
    assert len(needles) > 200
    hay = _haystack(site.html.parent.parent)  # the site and the staged sources both
    assert any("00-start-here" in name for name in hay)
    leaks = [(name, n) for name, text in hay.items() for n in needles if n in text]
    assert not leaks, f"{len(leaks)} answer lines in the static edition, e.g. {leaks[:3]}"
    assert site.removed_cells == sum(
        "solution" in c.get("metadata", {}).get("tags", [])
        for p in notebook_paths() for c in json.loads(p.read_text())["cells"]) > 0


@pytest.mark.book
def test_the_search_would_find_an_answer_on_a_page(site, tmp_path):
    """The law above is worth something only if an answer, rendered into a page, is found there."""
    needles, _ = _answers()
    src = json.loads((NOTEBOOKS / "04-api-servers.ipynb").read_text())
    answer = next(c for c in src["cells"] if "solution" in c.get("metadata", {}).get("tags", []))
    page = (site.html / "notebooks" / "04-api-servers.html").read_text()
    (tmp_path / "x.html").write_text(page.replace("</main>", f"<p>{''.join(answer['source'])}</p></main>"))
    assert any(n in _haystack(tmp_path)["x.html"] for n in needles)


def test_force_replaces_an_earlier_build_and_never_empties_another_folder(tmp_path):
    """``tierlab book ~ --force`` once ran ``shutil.rmtree(~)``: it now removes src/ and _build/ and nothing else."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("x")
    with pytest.raises(TierlabError, match="holds no earlier build"):
        book._remove_previous_build(home)
    assert (home / "thesis.tex").exists()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    (home / "_build").mkdir()
    (home / "src").symlink_to(outside)  # a link is removed, never followed
    book._remove_previous_build(home)
    assert not os.path.lexists(home / "src") and not (home / "_build").exists()
    assert (outside / "keep.txt").exists() and (home / "thesis.tex").exists()
