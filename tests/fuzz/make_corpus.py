"""Write the fuzz corpus: malformed topology files and odd command lines (deterministic; re-run to refresh).

    .venv/bin/python tests/fuzz/make_corpus.py      # writes tests/fuzz/corpus/topologies.tar.gz and args.json

Each file is the seed with one thing broken (a value of the wrong type or out of range, a key
renamed or removed, a section of the wrong shape), or a hostile text (alias bomb, deep nesting,
NUL bytes, Latin-1, a 5,000-digit number, unclosed brackets...). Special files that git cannot
hold (a FIFO, a symlink loop, a folder, /dev/zero, an unreadable file) are made by the test itself.
"""

from __future__ import annotations

import copy
import io
import json
import random
import tarfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SEED = HERE.parents[1] / "data" / "topologies" / "seed.yaml"
OUT = HERE / "corpus"

BAD_VALUES: list[Any] = [
    None, -1, 0, 65536, 70000, 32767, 2**63, 1e308, float("inf"), float("-inf"), float("nan"), 30.5, True, "",
    "x" * 300, "10.0.2.0", "10.0.2.1/23", "999.1.1.1/8", "0.0.0.0/33", "-5", "1-2-3", "65535-1", "all", "*",
    [], [1, 2, 3], {}, {"a": 1}, [[[[]]]], "\u00e9\u00e8", "\U0001f600", "a\tb", "null", "~", "yes", "0x1F",
]


def leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in ``node`` (mapping keys and list indexes)."""
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += leaves(v, path + (i,))
    return out


def set_path(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node: Any = out
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return out


def delete_path(raw: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node: Any = out
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]
    return out


def dump(raw: Any) -> str:
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, default_flow_style=None, width=200)


def hostile_texts(seed_text: str) -> dict[str, bytes]:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    prev = "a"
    for i in range(1, 10):
        name = chr(97 + i)
        bomb += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
        prev = name
    texts = {
        "alias-bomb": bomb,
        "deep-list": "[" * 1000 + "]" * 1000,
        "deep-map": "".join(f"{' ' * i}k{i}:\n" for i in range(300)) + " " * 300 + "v: 1\n",
        "digits-5000": seed_text.replace("name: seed", "name: " + "9" * 5000),
        "digits-in-port": seed_text.replace("port: 5432", "port: " + "7" * 4400),
        "empty": "",
        "only-comment": "# nothing here\n",
        "scalar": "just a string\n",
        "top-list": "- a\n- b\n",
        "unclosed": "name: [unclosed\n",
        "tabs": "name:\tseed\n\tvpc: x\n",
        "python-tag": "name: !!python/object/apply:os.system ['echo hi']\n",
        "bad-escape": 'name: "\\ud800"\n',
        "undefined-alias": "name: *nothing\n",
        "recursive-anchor": "azs: &a [*a]\nname: x\n",
        "duplicate-anchor": seed_text.replace("name: seed", "name: &x a\nregion: &x b"),
        "bad-date": "name: 2020-99-99\n",
        "huge-list": "azs:\n" + "- us-east-1a\n" * 150_000,
        "many-subnets": "subnets:\n" + "".join(
            f"  s{i}: {{cidr: 10.{i // 256}.{i % 256}.0/24, az: us-east-1a, tier: app, route_table: r, nacl: n}}\n"
            for i in range(3000)),
        "many-sg-rules": seed_text.replace(
            "    ingress:\n      - {ports: 5432, sg: web-sg",
            "    ingress:\n" + "".join(f"      - {{ports: {1000 + i}, cidr: 10.0.0.0/16}}\n" for i in range(3000))
            + "      - {ports: 5432, sg: web-sg"),
        "long-line": "name: " + "x" * 2_000_000 + "\n",
    }
    out = {k: v.encode("utf-8") for k, v in texts.items()}
    out["nul-bytes"] = seed_text.encode() + b"\x00\x00"
    out["latin-1"] = seed_text.replace("myapp", "caf\u00e9").encode("latin-1", "replace")
    out["utf-16"] = seed_text.encode("utf-16")
    out["binary"] = bytes(range(256)) * 4
    out["truncated"] = seed_text.encode()[: len(seed_text) // 2]
    out["crlf"] = seed_text.replace("\n", "\r\n").encode()
    out["bom"] = b"\xef\xbb\xbf" + seed_text.encode()
    return out


def topologies(rng: random.Random) -> dict[str, bytes]:
    seed_text = SEED.read_text()
    raw = yaml.safe_load(seed_text)
    files = hostile_texts(seed_text)
    prose = {"description", "purpose", "why", "what", "seed_says", "here", "label", "certificate", "name", "region"}
    paths = [p for p in leaves(raw) if not prose & {str(k) for k in p}]
    for i, path in enumerate(rng.sample(paths, min(len(paths), 330))):
        files[f"value-{i:03d}"] = dump(set_path(raw, path, rng.choice(BAD_VALUES))).encode()
    for i, path in enumerate(rng.sample(paths, 120)):
        files[f"delete-{i:03d}"] = dump(delete_path(raw, path)).encode()
    for i, section in enumerate(raw):
        for j, value in enumerate((None, [], "x", 5, [{"a": 1}], {"x": None})):
            files[f"section-{section}-{j}"] = dump({**raw, section: value}).encode()
    for i in range(40):  # two or three things broken at once
        broken = raw
        for path in rng.sample(paths, 3):
            try:
                broken = set_path(broken, path, rng.choice(BAD_VALUES))
            except (KeyError, IndexError, TypeError):
                pass
        files[f"several-{i:03d}"] = dump(broken).encode()
    for i, path in enumerate(rng.sample([p for p in paths if isinstance(p[-1], str)], 30)):
        text = seed_text.replace(f"{path[-1]}:", f"{path[-1]}x:", 1)
        files[f"renamed-key-{i:03d}"] = text.encode()
    return files


def arguments(rng: random.Random) -> list[list[str]]:
    odd = ["", " ", "-", "--", "\u00e9", "\udcff", "x" * 5000, "seed\x01", "../../etc/passwd", "/dev/zero",
           "/nonexistent.yaml", "data", "SEED", "seed-as-written", "-1", "0", "65536", "99999999999999999999",
           "nan", "1e3", "10.0.2.45", "256.1.1.1", "internet", "rds-primary", "node-api-1", "alb-node-az1"]
    cmds: list[list[str]] = [[], ["--help"], ["frobnicate"], ["journey", "--bogus"], ["check"], ["reach"],
                             ["reach", "a"], ["reach", "a", "b"], ["journey", "--os"], ["journey", "-t"]]
    for o in odd:
        cmds += [["journey", "-t", o], ["journey", "--off", o], ["journey", "--os", o], ["journey", "--database", o],
                 ["check", o], ["rules", "-t", o], ["reach", o, "rds-primary", "5432"],
                 ["reach", "node-api-1", o, "5432"], ["reach", "node-api-1", "rds-primary", o], ["audit", o]]
    for _ in range(60):
        cmd = [rng.choice(["journey", "check", "rules", "reach", "audit"])]
        cmd += [rng.choice(odd + ["-t", "--json", "--all", "--off", "--os", "linux"]) for _ in range(rng.randint(0, 5))]
        cmds.append(cmd)
    return cmds


def main() -> None:
    rng = random.Random(20261201)
    OUT.mkdir(exist_ok=True)
    files = topologies(rng)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=9) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{name}.yaml")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    (OUT / "topologies.tar.gz").write_bytes(buf.getvalue())
    args = arguments(rng)
    (OUT / "args.json").write_text(json.dumps(args, indent=0, ensure_ascii=True) + "\n")
    print(f"{len(files)} topology files, {len(args)} argument lists -> {OUT}")


if __name__ == "__main__":
    main()
