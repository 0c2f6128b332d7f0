"""The command line: tables, JSON, exit codes 0 / 1 / 2."""

import json
import subprocess
import sys

import pytest

from tierlab.cli import main


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_journey_on_seed_exits_0_with_a_table(capsys):
    code, out, _ = run(capsys, "journey")
    assert code == 0
    assert "gets through for every" in out and "db-sg-in" in out and "database-sg-in-5432" in out


def test_journey_blocked_exits_1_and_names_the_rule(capsys):
    code, out, _ = run(capsys, "journey", "--off", "database-sg-in-5432")
    assert code == 1
    assert "ENI_SG_RULES_MISMATCH" in out and "database-sg" in out


def test_journey_json_is_machine_readable(capsys):
    code, out, _ = run(capsys, "journey", "-t", "seed-as-written", "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert {"component", "rule_id", "direction", "code"} <= set(data["blocked"][0])
    assert any(b["rule_id"] == "nacl-private-db-in-star" for b in data["blocked"])
    assert data["steps"] and all("reason" in s and "step" in s for s in data["steps"])
    assert json.loads(run(capsys, "journey", "--json")[1])["ok"] is True


def test_journey_os_option_changes_the_verdict(capsys, tmp_path):
    import tierlab as tl
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    raw["nacls"]["nacl-public"]["outbound"][1]["ports"] = "49152-65535"
    f = tmp_path / "windows-only.yaml"
    import yaml
    f.write_text(yaml.safe_dump(raw))
    assert run(capsys, "journey", "-t", str(f), "--os", "windows")[0] == 0
    assert run(capsys, "journey", "-t", str(f), "--os", "linux")[0] == 1


@pytest.mark.parametrize("args", [["journey", "--off", "no-such-rule"], ["journey", "-t", "nope"],
                                  ["journey", "--os", "beos"], ["check", "/nonexistent.yaml"], ["frobnicate"]])
def test_bad_input_exits_2_with_a_message_not_a_traceback(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert "Traceback" not in out + err
    assert (out + err).strip()


def test_check_reports_every_problem(capsys, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(open(__import__("tierlab").data_path("topologies", "seed.yaml")).read()
                 .replace("10.0.5.0/24,  az: us-east-1a", "10.0.5.0/33,  az: us-east-1q"))
    code, out, _ = run(capsys, "check", str(f))
    assert code == 2 and "10.0.5.0/33" in out and "us-east-1q" in out
    assert run(capsys, "check", "seed.yaml" if False else str(__import__("tierlab").data_path("topologies", "seed.yaml")))[0] == 0


def test_rules_and_reach(capsys):
    code, out, _ = run(capsys, "rules", "-t", "seed-as-written")
    assert code == 0 and "nacl-private-db-in-110" in out
    assert run(capsys, "reach", "node-api-1", "rds-primary", "5432")[0] == 0
    code, out, _ = run(capsys, "reach", "node-api-1", "internet", "443")
    assert code == 1 and "NO_ROUTE_TO_DESTINATION" in out


def test_installed_console_script_runs():
    exe = __import__("pathlib").Path(sys.executable).parent / "tierlab"
    r = subprocess.run([str(exe), "journey", "--json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True


def test_check_reports_every_file_even_after_an_unreadable_one(capsys, tmp_path):
    import os
    import tierlab as tl
    os.mkfifo(tmp_path / "pipe.yaml")
    seed = str(tl.data_path("topologies", "seed.yaml"))
    code, out, err = run(capsys, "check", "/nonexistent.yaml", str(tmp_path), str(tmp_path / "pipe.yaml"), seed)
    assert code == 2
    assert "nonexistent.yaml: file not found" in err and "is a folder" in err and "not a regular file" in err
    assert "OK — topology 'seed'" in out


@pytest.mark.parametrize("args", [["check", "x" * 5000], ["journey", "-t", "x" * 5000], ["rules", "-t", "a\x00b"],
                                  ["reach", "node-api-1", "rds-primary", "0"], ["journey", "--off", "\udcff"]])
def test_odd_arguments_exit_2_with_a_printable_message(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2 and (out + err).strip() and "Traceback" not in out + err
    out.encode("utf-8")


@pytest.mark.parametrize("args", [["handout", "x\x00y"], ["book", "x\x00y", "--force"], ["progress", "a", "x\x00y"],
                                  ["handout", "ok", "--hub", "http://h\x00", "--repo", "http://r"]])
def test_a_nul_byte_in_any_argument_is_a_message_and_nothing_is_written(capsys, args, tmp_path, monkeypatch):
    """The OS refuses a NUL in a path with a ValueError (not an OSError): it once escaped as a traceback."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert code == 2 and "contains a NUL byte" in err and "Traceback" not in out + err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("args", [["progress", "~nobody-here-at-all/x"], ["handout", "~nobody-here-at-all/x"],
                                  ["book", "~nobody-here-at-all/x"]])
def test_a_home_of_no_known_user_is_a_message(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2 and "no home folder is known" in err and "Traceback" not in out + err


def test_control_characters_from_a_file_never_reach_the_terminal(capsys, tmp_path):
    """A learner's progress file is printed on the instructor's terminal: an escape sequence in an exercise name
    (OSC 52 writes the clipboard, CSI moves the cursor) is shown escaped, never sent."""
    import json

    home = tmp_path / "eve" / ".tierlab"
    home.mkdir(parents=True)
    evil = "close-5432\x1b]52;c;cm0gLXJmIH4=\x07\r\x1b[2K"
    (home / "progress.jsonl").write_text(json.dumps({"exercise": evil, "passed": True}) + "\n")
    code, out, err = run(capsys, "progress", str(tmp_path / "eve"))
    assert code == 0 and "\x1b" not in out + err and "\r" not in out + err and "\x07" not in out + err
    assert "close-5432\\x1b]52" in out
