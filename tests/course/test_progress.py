"""Progress (issue 14): every grade is recorded for the learner, never at the cost of the verdict, and the
instructor reads a class from the learners' homes or the files they hand in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.cli import main
from tierlab.course import exercises as E
from tierlab.course import progress as P
from tierlab.errors import TierlabError


@pytest.fixture
def mine(tmp_path, monkeypatch) -> Path:
    f = tmp_path / "home" / ".tierlab" / "progress.jsonl"
    monkeypatch.setenv(P.ENV, str(f))
    return f


def _lines(f: Path) -> list[dict]:
    return [json.loads(x) for x in f.read_text().splitlines()]


def test_every_grade_is_recorded_with_its_attempt(mine):
    ex = E.load_exercise("linux-ephemeral")
    assert not ex.grade(ex.start()).passed
    assert not ex.grade(ex.start()).passed
    assert ex.grade(E.solved(ex)).passed
    recs = _lines(mine)
    assert [(r["exercise"], r["passed"], r["attempt"]) for r in recs] == [
        ("linux-ephemeral", False, 1), ("linux-ephemeral", False, 2), ("linux-ephemeral", True, 3)]
    assert all(r["learner"] and r["time"].endswith("Z") for r in recs)
    other = E.load_exercise("close-5432")
    other.grade(other.start())
    assert _lines(mine)[-1]["attempt"] == 1  # attempts count per exercise


def test_a_timed_out_or_odd_answer_is_recorded_too(mine):
    ex = E.load_exercise("linux-ephemeral")
    assert not ex.grade("not a topology").passed
    assert _lines(mine)[-1]["passed"] is False


def test_an_unwritable_progress_file_costs_a_warning_never_the_verdict(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(P.ENV, str(blocker / "sub" / "progress.jsonl"))  # a folder under a file: cannot exist
    ex = E.load_exercise("linux-ephemeral")
    with pytest.warns(RuntimeWarning, match="could not record progress"):
        g = ex.grade(E.solved(ex))
    assert g.passed


def test_off_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(P.ENV, "off")
    assert P.progress_path() is None
    ex = E.load_exercise("linux-ephemeral")
    assert ex.grade(E.solved(ex)).passed
    assert not any(tmp_path.iterdir())


def test_a_torn_line_is_skipped_and_the_rest_counts(mine):
    mine.parent.mkdir(parents=True)
    mine.write_text('{"learner": "ada", "exercise": "a", "passed": true, "attempt": 1, "time": "t1"}\n{"learn\n')
    assert [r["exercise"] for r in P.read(mine)] == ["a"]
    assert P.record("a", False)["attempt"] == 2


def _home(root: Path, who: str, verdicts: list[tuple[str, bool]]) -> Path:
    f = root / who / ".tierlab" / "progress.jsonl"
    f.parent.mkdir(parents=True)
    for i, (ex, ok) in enumerate(verdicts):
        f.open("a").write(json.dumps({"learner": who, "exercise": ex, "passed": ok, "attempt": i + 1,
                                      "time": f"2026-12-01T10:{i:02d}:00Z"}) + "\n")
    return root / who


@pytest.fixture
def klass(tmp_path) -> list[Path]:
    ada = _home(tmp_path, "ada", [("server3-db", False), ("server3-db", True), ("close-5432", True)])
    bob = _home(tmp_path, "bob", [("server3-db", False), ("server3-db", False), ("server3-db", False)])
    carol = tmp_path / "carol.jsonl"  # an export handed in: the records carry the learner
    carol.write_text(json.dumps({"learner": "carol", "exercise": "close-5432", "passed": True, "attempt": 1,
                                 "time": "2026-12-01T11:00:00Z"}) + "\n")
    return [ada, bob, carol, tmp_path / "dave"]


def test_the_class_table_is_learner_by_exercise(klass):
    (klass[3]).mkdir()  # a home where nothing was graded: a row of its own, so the instructor sees who has not begun
    p = P.class_progress(klass)
    t = p.table()
    assert list(t.index) == ["ada", "bob", "carol", "dave"]
    assert t.loc["ada", "server3-db"] == "pass/2" and t.loc["bob", "server3-db"] == "fail/3"
    assert t.loc["carol", "server3-db"] == "" and t.loc["carol", "close-5432"] == "pass/1"
    assert t.loc["dave", "server3-db"] == "" and t.loc["dave", "close-5432"] == ""
    assert t["passed"].to_dict() == {"ada": 2, "bob": 0, "carol": 1, "dave": 0}
    assert p.summary().startswith("4 learner(s)") and "nothing graded yet: dave" in p.summary()


def test_learners_are_named_by_their_home_even_when_one_account_wrote_every_record(tmp_path):
    """On a hub that runs every learner under the instructor's account, each record says the same user name:
    the table still has a row per home the instructor named, and a handed-in file is named by its file."""
    homes = [_home(tmp_path, who, [("server3-db", who == "ada")]) for who in ("ada", "bob")]
    for h in homes:
        f = h / ".tierlab" / "progress.jsonl"
        f.write_text(f.read_text().replace(f'"learner": "{h.name}"', '"learner": "instructor"'))
    handed = tmp_path / "carol.jsonl"
    handed.write_text((homes[0] / ".tierlab" / "progress.jsonl").read_text())
    t = P.class_progress([*homes, handed, homes[1] / ".tierlab" / "progress.jsonl"]).table()
    assert list(t.index) == ["ada", "bob", "carol"]  # bob's home and bob's own file are one learner
    assert t["server3-db"].to_dict() == {"ada": "pass/1", "bob": "fail/2", "carol": "pass/1"}


def test_the_class_table_follows_the_course_order(tmp_path):
    order = [e.id for e in E.load_exercises(None)]
    late, early = order[-1], order[0]
    t = P.class_progress([_home(tmp_path, "ada", [(late, True), (early, False)])]).table()
    assert list(t.columns) == ["passed", early, late]


def test_running_a_notebook_through_records_no_attempt(mine):
    ex = E.load_exercise("primer-cidr-size")
    assert not ex.grade(None).passed  # the check cell as the notebook ships it: "no answer yet"
    assert not mine.exists()
    assert not ex.grade(7).passed
    assert [(r["exercise"], r["attempt"]) for r in _lines(mine)] == [("primer-cidr-size", 1)]


def test_the_command_line_prints_the_class(klass, capsys):
    assert main(["progress", *map(str, klass[:3])]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split()[:1] in (["ada"], ["bob"],
                                                                                                 ["carol"])}
    assert rows["ada"][:4] == ["2", "of", str(len(E.load_exercises(None))), "3"]  # passed, tries
    assert rows["bob"][-2:] == ["server3-db", "fail/3"] and rows["carol"][:1] == ["1"]
    assert main(["progress", str(klass[3])]) == 2  # neither a home nor a file
    assert "no progress at" in capsys.readouterr().err


def test_a_learner_sees_their_course(mine):
    ex = E.load_exercise("close-5432")
    ex.grade(E.solved(ex))
    mine_now = tl.progress()
    c = mine_now.course()
    assert len(c) == len(E.load_exercises(None))
    assert c.set_index("exercise").loc["close-5432", "status"] == "passed"
    assert (c["status"] == "not started").sum() == len(c) - 1
    assert "1 of" in mine_now._repr_html_()


def test_the_chart_draws_one_cell_per_learner_and_exercise(klass):
    import matplotlib

    matplotlib.use("Agg")
    ax = P.class_progress(klass[:3]).chart()
    assert len(ax.patches) == 4  # ada ×2, bob ×1, carol ×1
    colors = sorted(matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches)
    assert colors.count("#2e7d32") == 3 and colors.count("#c62828") == 1
    with pytest.raises(TierlabError):
        from tierlab.views.progress_chart import progress_chart

        progress_chart(object())


# ----------------------------------------------------------------------------- files nobody should trust

def test_a_hand_edited_line_of_the_wrong_types_is_skipped_never_a_traceback_never_a_pass(tmp_path):
    f = tmp_path / "eve.jsonl"
    f.write_text("\n".join([
        '{"exercise": "a", "passed": true, "attempt": "abc"}',  # an odd attempt: the record still counts
        '{"exercise": "b", "passed": true, "attempt": 1e400}',
        '{"exercise": "c", "passed": "false", "attempt": 1}',  # a string is not a verdict: skipped
        '{"exercise": ["d"], "passed": true}', '{"exercise": "", "passed": true}', '[1, 2]', "7",
        "[" * 100_000,  # deeper than json's recursion limit
    ]) + "\n")
    recs = P.read(f)
    assert [(r["exercise"], r["passed"], r["attempt"]) for r in recs] == [("a", True, 0), ("b", True, 0)]
    assert main(["progress", str(f)]) == 0


def test_a_home_speaks_only_for_its_owner(tmp_path):
    f = tmp_path / "eve" / ".tierlab" / "progress.jsonl"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"learner": "bob", "exercise": "close-5432", "passed": True, "attempt": 1}) + "\n")
    t = P.class_progress([tmp_path / "eve"]).table()
    assert list(t.index) == ["eve"]  # eve cannot pass exercises in bob's name


@pytest.mark.parametrize("plant", ["fifo", "zero", "other", "dir-link", "huge"])
def test_a_link_fifo_or_huge_file_in_a_home_is_refused_in_a_message_without_hanging(tmp_path, plant, capsys):
    bob = tmp_path / "bob" / ".tierlab"
    bob.mkdir(parents=True)
    (bob / "progress.jsonl").write_text(json.dumps({"exercise": "x", "passed": True}) + "\n")
    home = tmp_path / "eve"
    (home / ".tierlab").mkdir(parents=True)
    target = home / ".tierlab" / "progress.jsonl"
    if plant == "fifo":
        os.mkfifo(target)  # reading it would block the instructor's command forever
    elif plant == "zero":
        target.symlink_to("/dev/zero")  # reading it would fill the memory
    elif plant == "other":
        target.symlink_to(bob / "progress.jsonl")  # bob's passes as eve's
    elif plant == "dir-link":
        (home / ".tierlab").rmdir()
        (home / ".tierlab").symlink_to(bob)
    else:
        with open(target, "wb") as f:
            f.truncate(P.MAX_BYTES + 1)
    with pytest.raises(TierlabError, match="symbolic link|not a regular file|larger than"):
        P.read(home)
    assert main(["progress", str(home)]) == 2
    assert "error:" in capsys.readouterr().err


def test_a_record_is_one_whole_line_in_a_private_file_even_after_a_torn_one(mine):
    assert P.record("a", True)["attempt"] == 1
    assert os.stat(mine).st_mode & 0o777 == 0o600 and os.stat(mine.parent).st_mode & 0o777 == 0o700
    with open(mine, "a") as f:
        f.write('{"learner": "x", "exercise": "a", "pa')  # a crash in the middle of a line
    assert P.record("a", False)["attempt"] == 2
    assert [(r["exercise"], r["passed"], r["attempt"]) for r in P.read(mine)] == [("a", True, 1), ("a", False, 2)]


def test_a_fifo_as_the_progress_file_costs_a_warning_not_a_hang(mine):
    mine.parent.mkdir(parents=True)
    os.mkfifo(mine)
    with pytest.warns(RuntimeWarning, match="could not record progress"):
        assert P.record("a", True) is None


def test_a_handed_in_file_speaks_for_the_learner_its_name_says(tmp_path):
    """The hub saves each learner's file as DATA/progress/ACCOUNT.jsonl: its lines cannot move passes to bob."""
    saved = tmp_path / "tierlab-01.jsonl"
    saved.write_text("".join(json.dumps({"learner": who, "exercise": "close-5432", "passed": True}) + "\n"
                             for who in ("tierlab-02", "tierlab-01")))
    assert {r["learner"] for r in P.read(saved)} == {"tierlab-01"}
    own = tmp_path / "ada" / "progress.jsonl"  # a learner's own file, given as a file: the name its records carry
    own.parent.mkdir()
    own.write_text(json.dumps({"learner": "ada", "exercise": "a", "passed": False}) + "\n")
    assert [r["learner"] for r in P.read(own)] == ["ada"]


# ----------------------------------------------------------------------------- what the terminal shows

def _realistic(root: Path, who: str, seed: int, n: int = 120) -> Path:
    """A learner well into the course: most exercises tried, some many times, one id the course no longer has."""
    import random

    rnd = random.Random(seed)
    ids = [e.id for e in E.load_exercises(None)] + ["an-exercise-from-last-years-course-with-a-long-name"]
    return _home(root, who, [(rnd.choice(ids), rnd.random() < 0.4) for _ in range(n)])


def test_the_command_line_fits_an_80_column_terminal_for_one_learner_or_thirty(tmp_path, capsys, monkeypatch):
    """Every line of the default output is at most 80 characters, names and ids cut in a way that still tells
    learners apart; --json keeps every (learner, exercise)."""
    ada = _realistic(tmp_path, "ada", 1)
    assert main(["progress", str(ada)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ada: ") and max(map(len, out.splitlines())) <= 80
    lessons = {e.notebook for e in E.load_exercises(None)}
    assert {line.split()[0] for line in out.splitlines() if line.split()[:1] and line.split()[0] in lessons} == lessons
    monkeypatch.setenv(P.ENV, str(ada / ".tierlab" / "progress.jsonl"))  # the learner's own: no argument
    assert main(["progress"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 80
    names = [f"tierlab-learner-with-a-long-name-{i:02d}" for i in range(30)] + ["eve\x1b]52;c;aGk=\x07\tx"]
    homes = [_realistic(tmp_path / "class", who, i, n=i * 7) for i, who in enumerate(names)]
    assert main(["progress", *map(str, homes)]) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80 and "\x1b" not in out
    shown = [line.split()[0] for line in out.splitlines() if line.startswith("tierlab-")]
    assert len(shown) == len(set(shown)) == 30  # cut in the middle: still one distinct name per learner
    assert main(["progress", "--json", *map(str, homes)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["learners"] == [*names] and len(data["exercises"]) == len(P.class_progress(homes).per_exercise())


def test_a_file_of_only_unreadable_lines_says_how_many_where_and_what_to_do(tmp_path, capsys):
    f = tmp_path / "ada.jsonl"
    raw = b'{"learner": "ada", "exercise": \n\n\xff\xfe binary \x00\x01\nnot json at all\n'
    f.write_bytes(raw)
    p = P.class_progress([f])
    assert [(u.bad, u.lines, u.first_line) for u in p.unreadable] == [(3, 3, 1)]
    assert main(["progress", str(f)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert "".join(f"progress file {f}: none of its 3 lines could be read (the first is line 1)".split()) in \
        "".join(out.split())
    assert out.startswith("ada: nothing graded yet warning: ")
    assert "nothing in it counts" in out and "hint: open it in a text editor and fix or delete" in out
    assert "Traceback" not in out and f.read_bytes() == raw  # read, never rewritten
    assert P.record("close-5432", True, path=f)["attempt"] == 1  # grading still appends after them
    assert f.read_bytes().startswith(raw)


def test_good_lines_among_bad_ones_still_count_and_the_bad_ones_are_reported(mine, capsys):
    mine.parent.mkdir(parents=True)
    good = [json.dumps({"learner": "ada", "exercise": "close-5432", "passed": ok, "attempt": i + 1}) for i, ok in
            enumerate([False, True])]
    mine.write_text("\n".join([good[0], "{torn", "", '{"exercise": "x", "passed": "yes"}', good[1]]) + "\n")
    p = tl.progress()
    assert [u.first_line for u in p.unreadable] == [2] and p.unreadable[0].bad == 2 and p.unreadable[0].lines == 4
    assert p.table().loc["ada", "close-5432"] == "pass/2"
    assert "2 line(s) in 1 file(s) could not be read" in repr(p) and "tl-warning" in p._repr_html_()
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80  # a long path is broken across lines too
    assert "".join(f"progress file {mine}: 2 of its 4 lines could not be read (the first is line 2)".split()) in \
        "".join(out.split())
    out = " ".join(out.split())
    assert "they do not count" in out and "ada: 1 of" in out


def test_a_learner_with_nothing_graded_is_told_where_verdicts_go(mine, capsys):
    assert main(["progress"]) == 0
    assert capsys.readouterr().out.split() == ["nothing", "graded", "yet", "a", "check", "cell", "you", "run",
                                               "records", "its", "verdict", "in", str(mine)]
