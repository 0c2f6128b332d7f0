"""Every notebook that nbval collects here carries the ``notebook`` marker, so that
``make test-fast`` (``-m "not notebook ..."``) leaves the notebooks out and ``-m notebook`` picks them."""

import pytest


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
