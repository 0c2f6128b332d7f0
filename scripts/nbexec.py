"""Execute notebooks in place (for committing them executed) and strip metadata noise.

    .venv/bin/python scripts/nbexec.py notebooks/00-start-here.ipynb [more.ipynb ...]

Runs each notebook top to bottom on a fresh kernel from this Python environment, in the
notebooks/ folder, then removes execution timestamps so diffs show only real changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def strip(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
    nb.metadata.pop("widgets", None)  # saved widget state: every SVG and PNG a panel drew, and noise in diffs
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})


def run(path: Path, timeout: int = 600) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    strip(nb)
    nbformat.write(nb, path)
    print(f"executed {path}")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        run(Path(p))
