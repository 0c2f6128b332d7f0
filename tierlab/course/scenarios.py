"""What-if specs written as data, shared by the interview puzzles and the workshop exercises.

A what-if spec is a small mapping applied to a topology, in this order::

    remove: [nacl-private-app-in-101]              # delete rules (the learner must add them back)
    switch_off: [database-sg-in-5432]              # switch rules off (they stay visible)
    switch_on: [...]                               # switch rules on
    change: {nacl-public-out-110: {ports: 49152-65535}}   # change fields of a rule
    add_nacl: [{nacl: nacl-public, direction: inbound, number: 105, action: allow, ports: 80, cidr: 0.0.0.0/0}]
    add_sg: [{group: database-sg, direction: inbound, ports: 5432, cidr: 0.0.0.0/0}]
    without_route: [{table: rt-public, destination: 0.0.0.0/0}]
    with_route: [{table: rt-private-az2, destination: 0.0.0.0/0, target: nat-az1}]   # add or replace a route
    zones_down: [us-east-1a]                       # whole Availability Zones down (last: after every change)

Every problem becomes a ``ScenarioError`` naming the file and the YAML key path, so a typo in a
data file says where it is instead of failing deep inside a what-if.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..errors import ScenarioError, TierlabError
from ..network import limits
from ..network.loader import load
from ..paths import data_path
from ..network.topology import Topology

__all__ = ["WHATIF_KEYS", "apply_whatif", "check_keys", "need", "topology_for", "short_file"]

WHATIF_KEYS = ("remove", "switch_off", "switch_on", "change", "add_nacl", "add_sg", "without_route", "with_route",
               "zones_down")
_ADD_NACL_KEYS = ("nacl", "direction", "number", "action", "ports", "cidr", "protocol", "description")
_ADD_SG_KEYS = ("group", "direction", "ports", "cidr", "sg", "protocol", "description", "rule_id")


def check_keys(entry: object, allowed: tuple[str, ...], required: tuple[str, ...], *, file: str, path: str) -> dict:
    """``entry`` must be a mapping with every ``required`` key and no key outside ``allowed``."""
    if not isinstance(entry, Mapping):
        raise ScenarioError(f"expected a mapping, got {type(entry).__name__}",
                            f"write it as key: value pairs ({', '.join(required or allowed)})", file=file, path=path)
    unknown = [k for k in entry if k not in allowed]
    if unknown and isinstance(unknown[0], bool):
        raise ScenarioError(f"a key reads as {unknown[0]}", "YAML reads off/on/yes/no as false/true: "
                            "write switch_off / switch_on, or quote the key", file=file, path=path)
    if unknown:
        raise ScenarioError(f"unknown key {unknown[0]!r}", f"allowed keys: {', '.join(allowed)}",
                            file=file, path=f"{path}.{unknown[0]}" if path else str(unknown[0]))
    missing = [k for k in required if k not in entry]
    if missing:
        raise ScenarioError(f"missing key {missing[0]!r}", f"every entry needs {', '.join(required)}",
                            file=file, path=path)
    return dict(entry)


def need(entry: Mapping, key: str, kind: type | tuple[type, ...], *, file: str, path: str) -> Any:
    """``entry[key]`` with the right type, or a ScenarioError at ``path.key``."""
    value = entry.get(key)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise ScenarioError(f"{key} must be {names}, got {value!r}", f"fix the value of {key}",
                            file=file, path=f"{path}.{key}")
    return value


_CACHE: dict[tuple[str, str, int], Topology] = {}


def topology_for(name: object, *, file: str = "", path: str = "") -> Topology:
    """Load a topology named in a data file, turning a bad name into a ScenarioError there.

    Topologies are frozen, so one loaded copy is shared; it is reloaded when its file changes."""
    key_file = data_path("topologies", f"{name}.yaml")
    try:
        key = (str(name), str(key_file), key_file.stat().st_mtime_ns) if key_file.exists() else None
        if key is not None and key in _CACHE:
            return _CACHE[key]
        topo = load(str(name))
    except TierlabError as exc:
        raise ScenarioError(exc.message, exc.hint, file=file, path=path) from None
    if key is not None:
        _CACHE[key] = topo
    return topo


def _ids(value: object, *, file: str, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"expected a list of rule ids, got {limits._show(value)}", "write [rule-id, ...]", file=file, path=path)
    return value


def _entries(value: object, *, file: str, path: str) -> list[Mapping[str, Any]]:
    """A what-if list (``add_sg``, ``add_nacl``, ``without_route``): a list of mappings, or a ScenarioError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError(f"expected a list of entries, got {type(value).__name__} {limits._show(value)}",
                            "write a list: [{key: value, ...}, ...]", file=file, path=path)
    return value


def _apply_changes(t: Topology, changes: object, *, file: str, path: str) -> Topology:
    if changes is None:
        return t
    if not isinstance(changes, Mapping):
        raise ScenarioError("change must map rule ids to {field: value}", "e.g. {web-sg-in-3000: {ports: 3000}}",
                            file=file, path=path)
    for rid, fields in changes.items():
        fields = check_keys(fields, ("ports", "cidr", "action", "number", "enabled", "peer_sg"), (),
                            file=file, path=f"{path}.{rid}")
        t = t.change_rule(str(rid), **fields)
    return t


def apply_whatif(topo: Topology, spec: Mapping[str, Any] | None, *, file: str = "", path: str = "") -> Topology:
    """A new topology: ``topo`` with the what-if ``spec`` applied (see the module docstring).

    Every value goes through the same checks as the loader's (:mod:`tierlab.network.limits`), so a
    spec that a topology file could not express is refused with the loader's message."""
    if not spec:
        return topo
    spec = check_keys(spec, WHATIF_KEYS, (), file=file, path=path)
    at = (lambda k: f"{path}.{k}" if path else k)
    t = topo
    try:
        for rid in _ids(spec.get("remove", []), file=file, path=at("remove")):
            t = t.without_rule(rid)
        t = t.switch_off(*_ids(spec.get("switch_off", []), file=file, path=at("switch_off")))
        t = t.switch_on(*_ids(spec.get("switch_on", []), file=file, path=at("switch_on")))
        t = _apply_changes(t, spec.get("change"), file=file, path=at("change"))
        for i, add in enumerate(_entries(spec.get("add_nacl"), file=file, path=at("add_nacl"))):
            add = check_keys(add, _ADD_NACL_KEYS, ("nacl", "direction", "number", "action", "ports", "cidr"),
                             file=file, path=f"{at('add_nacl')}[{i}]")
            t = t.add_nacl_rule(add.pop("nacl"), add.pop("direction"), **add)
        for i, add in enumerate(_entries(spec.get("add_sg"), file=file, path=at("add_sg"))):
            add = check_keys(add, _ADD_SG_KEYS, ("group", "direction", "ports"), file=file, path=f"{at('add_sg')}[{i}]")
            t = t.add_sg_rule(add.pop("group"), add.pop("direction"), **add)
        for i, route in enumerate(_entries(spec.get("without_route"), file=file, path=at("without_route"))):
            route = check_keys(route, ("table", "destination"), ("table", "destination"), file=file,
                               path=f"{at('without_route')}[{i}]")
            t = t.without_route(route["table"], route["destination"])
        for i, route in enumerate(_entries(spec.get("with_route"), file=file, path=at("with_route"))):
            route = check_keys(route, ("table", "destination", "target"), ("table", "destination", "target"),
                               file=file, path=f"{at('with_route')}[{i}]")
            t = t.with_route(route["table"], route["destination"], route["target"])  # the loader's checks
        zones = spec.get("zones_down", [])
        t = t.with_zone_down(*_ids(zones, file=file, path=at("zones_down"))) if zones else t
    except ScenarioError:
        raise
    except TierlabError as exc:
        raise ScenarioError(exc.message, exc.hint, file=file, path=path) from None
    return t


def short_file(path: Path) -> str:
    """``data/…`` relative name for messages (the full path is noise for a learner)."""
    parts = Path(path).parts
    return str(Path(*parts[parts.index("data"):])) if "data" in parts else str(path)
