"""The create-user service answers exactly as the seed's server.js does."""

from concurrent.futures import ThreadPoolExecutor
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import given, settings, strategies as st, HealthCheck

from tierlab.db import create_order, create_user, validate_user
from tierlab.db.service import EMAIL_RE

pytestmark = pytest.mark.database


def _email(tag="u"):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def _count(engine, email):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM users WHERE email = :e"), {"e": email}).scalar_one()


# --- validation (pure) ------------------------------------------------------------------------

@pytest.mark.parametrize("name,email,message", [
    ("", "a@b.co", "Name and email required"),
    ("John", "", "Name and email required"),
    (None, None, "Name and email required"),
    ("Jo", "jo@example.com", "Name must be at least 3 characters"),
    ("John", "john.example.com", "Invalid email format"),
    ("John", "john@example", "Invalid email format"),
    ("John", "jo hn@example.com", "Invalid email format"),
])
def test_validation_messages(name, email, message):
    assert validate_user(name, email) == message


@given(st.text(min_size=3).filter(lambda s: len(s.strip()) >= 3), st.text().filter(lambda s: "@" not in s))
def test_an_email_without_at_is_always_refused(name, email):
    assert validate_user(name, email) in ("Invalid email format", "Name and email required")


@given(st.text(max_size=2))
def test_a_name_under_three_characters_is_always_refused(name):
    assert validate_user(name, "ok@example.com") is not None


def test_invalid_input_never_reaches_the_database(db_engine):
    email = "jo@" + uuid.uuid4().hex + ".example.com"
    r = create_user(db_engine, "Jo", email)
    assert (r.status, r.body) == (400, {"error": "Name must be at least 3 characters"})
    assert _count(db_engine, email) == 0


# --- the database paths -----------------------------------------------------------------------

def test_success_is_the_seeds_body(db_engine):
    email = _email()
    r = create_user(db_engine, "John Doe", email)
    assert r.status == 200
    assert set(r.body) == {"success", "userId", "message"}
    assert r.body["success"] is True and r.body["message"] == "User created"
    with db_engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, name FROM users WHERE email = :e"), {"e": email}).one()
    assert row == (r.body["userId"], "John Doe")


def test_duplicate_email_is_400_email_already_exists(db_engine):
    email = _email()
    assert create_user(db_engine, "First User", email).status == 200
    r = create_user(db_engine, "Second User", email)
    assert (r.status, r.body) == (400, {"error": "Email already exists"})
    assert "23505" in r.server_log
    assert _count(db_engine, email) == 1


def test_twenty_concurrent_signups_with_one_email_leave_one_row(db_engine):
    email = _email("race")
    with ThreadPoolExecutor(max_workers=20) as ex:
        answers = list(ex.map(lambda i: create_user(db_engine, f"Racer {i:02d}", email), range(20)))
    ok = [a for a in answers if a.status == 200]
    dup = [a for a in answers if a.status == 400 and a.body == {"error": "Email already exists"}]
    assert len(ok) == 1 and len(dup) == 19, [a.body for a in answers]
    assert _count(db_engine, email) == 1


INJECTIONS = ["'); DROP TABLE users;--", "Robert'); DROP TABLE students;--", "x' OR '1'='1", "$1, $2); --",
              "name\\'; SELECT pg_sleep(10);--"]


@pytest.mark.parametrize("name", INJECTIONS)
def test_injection_strings_are_stored_literally(db_engine, name):
    email = _email("inj")
    r = create_user(db_engine, name, email)
    assert r.status == 200
    with db_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM users WHERE id = :i"), {"i": r.body["userId"]}).scalar_one() == name
        assert conn.execute(sa.text("SELECT to_regclass('users') IS NOT NULL")).scalar_one()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=3,
               max_size=100).filter(lambda s: len(s.strip()) >= 3))
def test_any_valid_name_round_trips_exactly(db_engine, name):
    r = create_user(db_engine, name, _email("prop"))
    assert r.status == 200, r
    with db_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM users WHERE id = :i"), {"i": r.body["userId"]}).scalar_one() == name


def test_other_failures_are_500_without_internals(db_engine):
    # PostgreSQL text cannot hold NUL; the seed's handler answers 500 "Server error"
    r = create_user(db_engine, "Nul\x00Byte", _email("nul"))
    assert (r.status, r.body) == (500, {"error": "Server error"})
    assert "Nul" not in r.server_log  # the log names the error, not the data


def test_order_for_missing_user_names_the_foreign_key(db_engine):
    with db_engine.connect() as conn:
        missing = conn.execute(sa.text("SELECT coalesce(max(id), 0) + 1000 FROM users")).scalar_one()
    r = create_order(db_engine, missing, "19.99")
    assert r.status == 400
    assert f"User {missing} does not exist" in r.body["error"] and "orders_user_id_fkey" in r.body["error"]
    ok_user = create_user(db_engine, "Order Owner", _email("ord")).body["userId"]
    r = create_order(db_engine, ok_user, "19.99")
    assert r.status == 200 and r.body["success"] is True
    with db_engine.connect() as conn:
        row = conn.execute(sa.text("SELECT total_amount, status FROM orders WHERE id = :i"), {"i": r.body["orderId"]}).one()
    assert str(row[0]) == "19.99" and row[1] == "pending"


def test_email_pattern_accepts_ordinary_addresses():
    for e in ("john@example.com", "o'brien@example.co.uk", "a+b@c.io"):
        assert EMAIL_RE.match(e)


# --- odd input: a 400 with the reason, never an exception, never stored ---------------------------

def _odd_values():
    import numpy as np
    import pandas as pd

    return [pd.NA, pd.NaT, float("nan"), np.array(["John Doe"]), np.array([]), np.float64("nan"), 42, b"bytes",
            ["John Doe"], {"name": "John Doe"}, object()]


def test_odd_names_and_emails_are_400_with_a_reason_and_never_stored(db_engine):
    cases = [(v, _email("odd")) for v in _odd_values()] + [("John Doe", v) for v in _odd_values()]
    cases += [("N" * 101, _email("long")), ("John Doe", "e" * 90 + "@example.com")]
    for name, email in cases:
        r = create_user(db_engine, name, email)
        assert r.status == 400, (name, email, r)
        assert r.body["error"] and set(r.body) == {"error"}
        if isinstance(email, str):
            assert _count(db_engine, email) == 0
    assert "at most 100 characters" in create_user(db_engine, "N" * 101, _email()).body["error"]
    assert "at most 100" in create_user(db_engine, "N" * 100 + " ", _email()).body["error"]
    assert create_user(db_engine, "N" * 100, _email("max")).status == 200  # the column's limit itself fits


def _orders(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()


def test_odd_orders_are_400_with_a_reason_and_never_stored(db_engine):
    import numpy as np
    import pandas as pd
    from decimal import Decimal

    user = create_user(db_engine, "Order Checker", _email("ordodd")).body["userId"]
    before = _orders(db_engine)
    bad_totals = [float("nan"), float("inf"), float("-inf"), -1, "-0.01", Decimal("NaN"), Decimal("-Infinity"),
                  np.float64("nan"), pd.NA, np.array([1.0, 2.0]), "1e400", "100000000.00", None, True, "12 dollars"]
    for total in bad_totals:
        r = create_order(db_engine, user, total)
        assert r.status == 400 and "total_amount" in r.body["error"], (total, r)
    for uid in (pd.NA, np.array([user]), "1", 1.0, True, None, 2**31, -5, 0):
        r = create_order(db_engine, uid, "9.99")
        assert r.status == 400 and "user_id" in r.body["error"], (uid, r)
    for status in ("", "s" * 51, None, 7):
        r = create_order(db_engine, user, "9.99", status)  # type: ignore[arg-type]
        assert r.status == 400 and "status" in r.body["error"], (status, r)
    assert _orders(db_engine) == before, "a refused order was stored"
    assert "must not be negative" in create_order(db_engine, user, -1).body["error"]
    assert "finite" in create_order(db_engine, user, float("nan")).body["error"]
    ok = create_order(db_engine, np.int64(user), np.float64(0.0))  # numpy numbers are numbers
    assert ok.status == 200, ok
