"""Every notebook that nbval collects here carries the ``notebook`` marker, so that
``make test-fast`` (``-m "not notebook ..."``) leaves the notebooks out and ``-m notebook`` picks them.

A notebook whose metadata says ``tierlab: {needs: netns}`` (real packets, notebook 15) runs only
where Linux namespaces can be built; elsewhere it skips with a one-line reason, except under CI."""

import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

os.environ.setdefault("TIERLAB_PROGRESS", "off")  # the notebooks' kernels grade; the runner's ~/.tierlab stays as it was


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            if _needs(str(item.path)) == "netns":
                item.add_marker(pytest.mark.netns)


@lru_cache(maxsize=None)
def _needs(path: str) -> str:
    try:
        return json.loads(Path(path).read_text()).get("metadata", {}).get("tierlab", {}).get("needs", "")
    except (OSError, ValueError):
        return ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.path.suffix != ".ipynb" or _needs(str(item.path)) != "netns":
        return
    from tierlab.linux import skip_reason

    reason = skip_reason()
    if reason and not os.environ.get("CI"):
        pytest.skip(reason)
