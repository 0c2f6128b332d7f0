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
    # too long for VARCHAR(100): a database error, still no internals in the body
    r = create_user(db_engine, "N" * 101, _email("long"))
    assert (r.status, r.body) == (500, {"error": "Server error"})
    assert "22001" in r.server_log


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
