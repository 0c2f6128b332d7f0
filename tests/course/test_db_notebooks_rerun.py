"""Every notebook that touches the database runs twice in a row against one shared server, as on a class server
many learners share (TIERLAB_DATABASE_URL), and on a fresh one (nbval runs each on its own server). The second run is
checked for errors only: its ids and timings differ."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.database, pytest.mark.slow]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
STARTS_DB = re.compile(r"\btl\.(database|db\.connect)\(")
DB_NOTEBOOKS = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb") if STARTS_DB.search(p.read_text()))


def test_the_database_notebooks_are_found():
    assert {"04-api-servers", "05-database", "08-common-mistakes"} <= {p.stem for p in DB_NOTEBOOKS}


@pytest.fixture(scope="module")
def shared_url():
    import tierlab as tl

    db = tl.db.connect(backend="embedded", shared=False, verbose=False)
    try:
        yield db.url.render_as_string(hide_password=False)
    finally:
        db.stop()


def _run(path: Path, url: str) -> list[str]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, TIERLAB_DATABASE_URL=url)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits the environment of the process that starts it
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    errors = [f"{path.stem} cell {i}: {o.get('ename')}: {o.get('evalue')}"
              for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    said = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "$TIERLAB_DATABASE_URL is set" in said, f"{path.stem} did not use the shared server: {said[:300]}"
    return errors


@pytest.mark.parametrize("path", DB_NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_twice_against_one_shared_server(path, shared_url):
    first = _run(path, shared_url)
    second = _run(path, shared_url)
    assert first == [] and second == [], first + second
