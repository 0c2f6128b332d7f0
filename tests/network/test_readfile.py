"""Reading a data file: every way it fails is a ScenarioError that names the file and the fix, fast."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.network.readfile import MAX_BYTES, read_yaml

SEED_TEXT = tl.data_path("topologies", "seed.yaml").read_text()


def refused(path: Path | str, words: str) -> tl.ScenarioError:
    start = time.perf_counter()
    with pytest.raises(tl.ScenarioError) as exc:
        read_yaml(path)
    assert time.perf_counter() - start < 2.0
    assert words in exc.value.message and exc.value.hint, str(exc.value)
    str(exc.value).encode("utf-8")  # printable
    return exc.value


def test_a_folder_an_empty_name_and_a_missing_file(tmp_path: Path) -> None:
    assert str(tmp_path) in refused(tmp_path, "is a folder").message
    refused("", "empty file name")
    refused(tmp_path / "nope.yaml", "file not found")


def test_a_fifo_does_not_block_and_a_device_does_not_fill_memory(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    refused(tmp_path / "pipe.yaml", "not a regular file")
    refused("/dev/zero", "not a regular file")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    refused(tmp_path / "zero.yaml", "not a regular file")


def test_a_symlink_loop_and_a_file_over_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    refused(tmp_path / "loop.yaml", "loops back on itself")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    refused(big, "over the limit")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "locked.yaml"
    f.write_text(SEED_TEXT)
    f.chmod(0)
    refused(f, "permission denied")


@pytest.mark.parametrize("data,words", [
    (SEED_TEXT.encode() + b"\x00", "NUL byte"),
    (SEED_TEXT.replace("myapp", "caf\u00e9").encode("latin-1"), "not UTF-8"),
    (b"name: " + b"9" * 5000, "4,300 digits"),
    (b"[" * 1000 + b"]" * 1000, "levels deep"),
    (b"name: [unclosed", "not valid YAML"),
    (b"name: !!python/object/apply:os.system ['true']", "not valid YAML"),
    (b"name: 2020-99-99", "cannot be read"),
])
def test_hostile_bytes(tmp_path: Path, data: bytes, words: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_bytes(data)
    refused(f, words)


def test_an_alias_bomb_is_refused_before_it_is_built(tmp_path: Path) -> None:
    text, prev = "a: &a [x, x, x, x, x, x, x, x, x]\n", "a"
    for i in range(1, 10):
        name = chr(97 + i)
        text += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
        prev = name
    f = tmp_path / "bomb.yaml"
    f.write_text(text)
    refused(f, "expands to more than")


def test_inf_in_a_whole_number_field_and_a_lone_surrogate_in_a_name_are_problems_not_crashes() -> None:
    raw = tl.read_yaml(tl.data_path("topologies", "seed.yaml"))
    raw["load_balancer"]["target_group"]["health_check"]["interval_s"] = float("inf")
    raw["instances"]["node-\udcff"] = raw["instances"].pop("node-api-3")
    with pytest.raises(tl.ValidationError) as exc:
        tl.load_dict(raw, file="x.yaml")
    text = str(exc.value)
    text.encode("utf-8")  # prints anywhere
    assert "inf is not a whole number" in text and "node-\\udcff" in text
