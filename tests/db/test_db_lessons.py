"""The database questions notebooks 04 and 05 ask: schema from the catalog, the race, health checks."""

import uuid

import pytest

from tierlab.db import TABLES, answers_frame, create_user, deep_health, find_users, health, same_email_race, tables_frame
from tierlab.db.provider import connect
from tierlab.errors import DatabaseError

pytestmark = pytest.mark.database


def test_tables_frame_reads_the_seeds_schema_from_the_catalog(tierlab_db):
    f = tables_frame(tierlab_db)
    assert list(f["table"].unique()) == list(TABLES)
    assert (f["reason"].str.len() > 0).all()
    row = f.set_index(["table", "column"])
    assert row.loc[("users", "email"), "constraint"] == "UNIQUE (users_email_key)"
    assert row.loc[("users", "email"), "type"] == "varchar(100)" and row.loc[("users", "email"), "not_null"]
    assert row.loc[("orders", "user_id"), "constraint"] == "REFERENCES users.id (orders_user_id_fkey)"
    assert row.loc[("products", "price"), "type"] == "numeric(10,2)"
    assert row.loc[("users", "id"), "constraint"].startswith("PRIMARY KEY")
    assert row.loc[("orders", "status"), "default"].startswith("'pending'")


def test_same_email_race_leaves_one_row_and_nineteen_clean_answers(tierlab_db):
    email = f"race-{uuid.uuid4().hex[:10]}@example.com"
    race = same_email_race(tierlab_db, email, n=20)
    assert len(race) == 20
    assert (race["status"] == 200).sum() == 1
    losers = race[race["status"] != 200]
    assert len(losers) == 19 and all(b == {"error": "Email already exists"} for b in losers["body"])
    assert all("23505" in log for log in losers["server_log"])
    found = find_users(tierlab_db, email)
    assert len(found) == 1 and found["name"].iloc[0] == race.loc[race["status"] == 200, "name"].iloc[0]


@pytest.mark.parametrize("n", [0, 1, 101, 2.5, True])
def test_same_email_race_refuses_a_silly_n(tierlab_db, n):
    with pytest.raises(DatabaseError, match="n="):
        same_email_race(tierlab_db, "x@example.com", n=n)


def test_find_users_finds_nothing_for_an_unknown_email(tierlab_db):
    assert find_users(tierlab_db, f"nobody-{uuid.uuid4().hex}@example.com").empty


def test_shallow_health_never_asks_the_database_and_deep_health_does():
    db = connect(backend="embedded", shared=False, verbose=False)
    try:
        engine = db.engine
        assert deep_health(engine).status == 200
        assert create_user(engine, "Healthy Person", f"h-{uuid.uuid4().hex[:8]}@example.com").status == 200
    finally:
        db.stop()
    # the database is gone: the seed's /health still says ok, the deep check and the handler do not
    assert health().status == 200 and health().body["status"] == "ok"
    down = deep_health(engine)
    assert (down.status, down.body) == (503, {"status": "unhealthy"})
    assert "DatabaseError" in down.server_log and f"127.0.0.1:{db.port}" in down.server_log
    r = create_user(engine, "Too Late", "late@example.com")
    assert (r.status, r.body) == (500, {"error": "Server error"})
    engine.dispose()


def test_answers_frame_says_what_decided_each_answer(db_engine):
    email = f"ans-{uuid.uuid4().hex[:10]}@example.com"
    f = answers_frame(db_engine, [("Ann Answer", email), ("Ann Again", email), ("Jo", "jo@example.com"),
                                  ("N" * 101, f"long-{email}"), ("Nul\x00Byte", f"nul-{email}")])
    assert list(f["status"]) == [200, 400, 400, 400, 500]
    assert f["reason"].iloc[0].startswith("created")
    assert "23505" in f["reason"].iloc[1] and f["body"].iloc[1] == {"error": "Email already exists"}
    assert f["reason"].iloc[2].startswith("validation: Name must be at least 3 characters")
    # longer than users.name VARCHAR(100): refused before the database is asked (a 400, not a 500)
    assert f["reason"].iloc[3].startswith("validation: Name must be at most 100 characters")
    assert "no SQLSTATE" in f["reason"].iloc[4]


def test_answers_frame_refuses_a_case_that_is_not_a_pair(db_engine):
    with pytest.raises(DatabaseError, match="not a \\(name, email\\) pair"):
        answers_frame(db_engine, [("only a name",)])
