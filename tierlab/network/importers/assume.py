"""The notes that can change a verdict, placed on the model: which components each touches.

A note names a file, a resource and an attribute; a verdict names components (a security group,
a NACL, a route table, a server, an ALB node...). This module joins them: the resource's own
objects (``Builder.origin``: the model paths it became), else the objects of the resources its
attributes refer to (an ``aws_network_acl_rule`` -> its NACL, a listener -> the load balancer),
else ``*`` (a variable or a file: any verdict may depend on it). A rule the reader left out of a
security group is kept as that rule (:class:`LeftOutRule`), which the journey can try.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ..assumptions import EVERYTHING, Assumption
from ..topology import Topology
from .report import ImportNote, Notes

if TYPE_CHECKING:
    from .build import Builder

__all__ = ["assumptions"]


def _keys_of(b: "Builder", address: str) -> list[str]:
    return [k for k, (_, a) in b.origin.items() if a == address or a.startswith(address + " ")]


def _strings(v: Any) -> Iterable[str]:
    if isinstance(v, str):
        yield v
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _strings(x)


def _model_keys(b: "Builder", n: ImportNote) -> list[str]:
    """The model paths (``nacls.app``, ``load_balancer``...) the note's resource became or refers to."""
    keys = _keys_of(b, n.resource)
    if keys:
        return keys
    r = b.by_id.get(n.resource)
    if r is None:
        return []
    for k, v in r.attrs.items():
        if k in ("tags", "name", "description", "id", "arn"):
            continue
        for s in _strings(v):
            ref = b.ref(s)
            if ref is not None and ref.address != r.address:
                keys += _keys_of(b, ref.address)
    return list(dict.fromkeys(keys))


def _objects(topo: Topology, key: str) -> list[str]:
    """The names verdicts use for what ``key`` became: a subnet's endpoints, the ALB's nodes..."""
    head, _, rest = key.partition(".")
    name = rest.split(".")[0]
    if head == "load_balancer":
        lb = topo.alb
        return [lb.name, lb.target_group] + [x.name for x in lb.nodes]
    if head == "database":
        return [topo.database.name] + [e.name for e in topo.endpoints if e.kind == "db"]
    if head == "subnets":
        return [name] + [e.name for e in topo.endpoints if e.subnet == name]
    if head == "auto_scaling_groups":
        g = next((g for g in topo.auto_scaling_groups if g.name == name), None)
        return [name] + (list(g.instances) if g is not None else [])
    if head == "vpc_endpoints":
        return [name] + [e.name for e in topo.endpoints if e.kind == "vpce" and e.name.startswith(name)]
    return [name] if name else [head]


def _fallbacks(topo: Topology, b: "Builder", n: ImportNote) -> list[str]:
    """An association left out: the subnet it meant uses the main route table or the default NACL instead,
    so verdicts through those may change too."""
    r = b.by_id.get(n.resource)
    kind = r.type if r is not None else ""
    if kind in ("aws_route_table_association", "aws_main_route_table_association"):
        main = getattr(b, "main_rt", None)
        return [main] if main else []
    if kind == "aws_network_acl_association" or (kind == "aws_network_acl" and n.attribute == "subnet_ids"):
        return [nacl.name for nacl in topo.nacls if nacl.name.startswith("default")]
    return []


def assumptions(topo: Topology, notes: Notes, b: "Builder") -> tuple[Assumption, ...]:
    """One Assumption per note that can change a verdict, with what it touches in ``topo``."""
    out = []
    for i, n in enumerate(notes.items):
        if not n.affects_verdicts:
            continue
        where = f"{n.file}: {n.resource}".strip(": ") + (f" ({n.attribute})" if n.attribute else "")
        rule = notes.rules.get(i)
        objs: list[str] = []
        if rule is None:
            for k in _model_keys(b, n):
                objs += _objects(topo, k)
            objs += _fallbacks(topo, b, n)
        out.append(Assumption(where=where, message=n.message, assumed=n.assumption, rule=rule,
                              objects=tuple(dict.fromkeys(objs)) if objs or rule is not None else (EVERYTHING,)))
    return tuple(out)
