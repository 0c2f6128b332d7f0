"""Shared pytest fixtures. Each helper keeps its fixtures in its own clearly marked block."""

# ==== hypothesis: laws, not timings =========================================================
# Hypothesis fails an example slower than 200 ms by default. On a busy 2-core CI machine that
# turns a law that holds into a red run (it did: DeadlineExceeded at 291 ms). Speed is measured
# by benchmarks/, so the suite's profile has no per-example deadline; too_slow health checks off
# for the same reason. A test's own @settings still wins for what it sets.
import hypothesis as _hyp

_hyp.settings.register_profile("tierlab", deadline=None,
                               suppress_health_check=[_hyp.HealthCheck.too_slow])
_hyp.settings.load_profile("tierlab")

# `make test-fast` passes --hypothesis-profile=tierlab-fast: every property test runs a quarter of
# its examples (at least FAST_MIN_EXAMPLES, never more than its own count), so the fast tier stays a
# quick feedback loop. `make test` (and CI) runs the full count each test asks for; a failing example
# saved in .hypothesis/ is replayed first in either tier.
FAST_PROFILE, FAST_SHARE, FAST_MIN_EXAMPLES = "tierlab-fast", 4, 5
_hyp.settings.register_profile(FAST_PROFILE, _hyp.settings.get_profile("tierlab"))


def _fast_examples(n: int) -> int:
    return min(n, max(FAST_MIN_EXAMPLES, -(-n // FAST_SHARE)))


def _scale_examples_for_the_fast_tier(items) -> None:
    if _hyp.settings.get_current_profile_name() != FAST_PROFILE:
        return
    done = set()
    for item in items:
        test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if not _hyp.is_hypothesis_test(test) or id(test) in done:
            continue
        done.add(id(test))
        # @settings and @given keep the test's settings here; hypothesis reads them when the test runs.
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None:
            test._hypothesis_internal_use_settings = _hyp.settings(own, max_examples=_fast_examples(own.max_examples))

# ==== database tier (tierlab.db) — owner: the db branch ====================================
import os as _db_os

import pytest as _db_pytest


@_db_pytest.fixture(scope="session")
def tierlab_db():
    """One real PostgreSQL for the whole test session, with the seed's schema.

    The server named by $TIERLAB_DATABASE_URL / DB_HOST when set, otherwise the embedded
    server (what CI uses). Stopped at the end of the session; nothing is left behind.
    """
    from tierlab.db import connect, url_from_env

    backend = "url" if url_from_env() is not None else "embedded"
    db = connect(backend=backend, shared=False, verbose=False)
    print(f"\n[tierlab_db] {db.describe()}")
    yield db
    db.stop()


@_db_pytest.fixture
def db_engine(tierlab_db):
    """The session database's pooled engine (10 connections, no overflow)."""
    return tierlab_db.engine


@_db_pytest.fixture(scope="session")
def db_in_ci() -> bool:
    """True under CI (the `CI` environment variable is set): skips there become failures."""
    return bool(_db_os.environ.get("CI"))
# ==== end of database tier block ===========================================================


# ==== test tiers — owner: infra ==========================================================
# A test that needs a tier's resource carries the tier's marker even if its file forgets it,
# so `make test-fast` (-m "not (browser or database or ...)") never starts a server.
@_db_pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"tierlab_db", "db_engine"} and item.get_closest_marker("database") is None:
            item.add_marker(_db_pytest.mark.database)
        if "browser" in item.path.parts and item.get_closest_marker("browser") is None:
            item.add_marker(_db_pytest.mark.browser)
    _scale_examples_for_the_fast_tier(items)


def pytest_report_header(config):
    if _hyp.settings.get_current_profile_name() == FAST_PROFILE:
        return (f"hypothesis profile {FAST_PROFILE}: each property test runs 1/{FAST_SHARE} of its examples "
                f"(at least {FAST_MIN_EXAMPLES}); `make test` runs them all")
# ==== end of test tiers block ============================================================


# ==== progress (tierlab.course.progress) — owner: class ====================================
# Grading records progress in the learner's home; the suite grades thousands of answers and must not write
# the runner's ~/.tierlab (tests of progress set TIERLAB_PROGRESS to a temporary file themselves).
_db_os.environ.setdefault("TIERLAB_PROGRESS", "off")
# ==== end of progress block ================================================================


def pytest_collection_finish(session):
    """Everything collection built (modules, parameters, loaded topologies) lives to the end: moved out of
    the garbage collector's view, so its full passes stop re-walking it during every test."""
    import gc

    gc.collect()
    gc.freeze()
