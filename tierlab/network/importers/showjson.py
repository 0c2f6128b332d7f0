"""``terraform show -json`` output (a plan or a state) -> the resources the builder reads.

A state holds every value. A plan (Terraform's JSON output format, format_version 1.x,
https://developer.hashicorp.com/terraform/internals/json-format) leaves out of
``planned_values`` every value known only after apply, marks it ``true`` in the change's
``after_unknown``, and keeps the expression that will produce it in ``configuration``, as the
list of references Terraform writes for it: each reference unwrapped step by step, a keyed
resource instance followed by its resource without the key::

    aws_subnet.app[0].id          -> "aws_subnet.app[0].id", "aws_subnet.app[0]", "aws_subnet.app"
    aws_subnet.app[count.index].id -> "aws_subnet.app", "count.index"
    each.value.id (for_each = aws_subnet.app) -> "each.value.id", "each.value"
    var.subnet_id (inside a module) -> "var.subnet_id"  (the module call's expression says what it is)
    module.net.app_subnet_ids     -> "module.net.app_subnet_ids", "module.net"

So the resource an unknown id refers to is found from those references, the instance's own
key (``count.index``, ``each.key``), its ``for_each`` (``each.value``), the module call's
arguments (``var.*``) and the child module's outputs (``module.*``), through modules that use
``count`` and ``for_each`` themselves. A reference to a network object that cannot be found that
way (a ``local``, a data source, an index computed by a function, a whole inline rule set known
only after apply) is never guessed and never stops the import: it stays unknown, whatever depends
on it is left out, and a ``partly`` note names the resource, the attribute and the references and
says that the verdicts involving it depend on that (Batfish's parse status).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...errors import TopologyError
from .hclexpr import Unknown
from .report import Notes
from .terraform import Resource

__all__ = ["read_show_json", "split_address"]

Key = int | str | None

#: Attributes that name another network object: unknown and unresolved, they would change a verdict.
IDENTITY = {"vpc_id", "subnet_id", "subnet_ids", "subnets", "security_groups", "vpc_security_group_ids",
            "security_group_id", "source_security_group_id", "referenced_security_group_id", "route_table_id",
            "route_table_ids", "network_acl_id", "gateway_id", "nat_gateway_id", "vpc_endpoint_id",
            "load_balancer_arn", "listener_arn", "target_group_arn", "target_group_arns", "target_id",
            "instance_id", "instance", "db_subnet_group_name", "vpc_zone_identifier", "allocation_id",
            "internet_gateway_id", "network_interface_id", "security_group_ids", "autoscaling_group_name",
            "lb_target_group_arn", "prefix_list_id", "prefix_list_ids", "launch_configuration", "id"}
#: Values (not references) a verdict depends on: unknown, they are reported as such.
VERDICT_VALUES = {"cidr_block", "cidr_blocks", "destination_cidr_block", "from_port", "to_port", "port", "protocol",
                  "ip_protocol", "cidr_ipv4", "rule_number", "rule_no", "action", "rule_action", "private_ip",
                  "availability_zone", "egress", "type"}
#: Attributes that hold a list of references.
LISTS = {"subnet_ids", "subnets", "security_groups", "vpc_security_group_ids", "target_group_arns",
         "vpc_zone_identifier", "route_table_ids", "security_group_ids", "prefix_list_ids", "cidr_blocks"}
_KEYWORDS = {"count", "each", "path", "terraform", "self", "local", "data", "var", "module"}


def split_address(addr: str) -> list[str]:
    """``module.net["a.b"].aws_subnet.app[0]`` -> ``['module', 'net["a.b"]', 'aws_subnet', 'app[0]']``."""
    parts: list[str] = []
    cur: list[str] = []
    depth, quote, i = 0, False, 0
    while i < len(addr):
        c = addr[i]
        if quote:
            cur.append(c)
            if c == "\\" and i + 1 < len(addr):
                cur.append(addr[i + 1])
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
            cur.append(c)
        elif c in "[]":
            depth += 1 if c == "[" else -1
            cur.append(c)
        elif c == "." and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)(?:\[(.*)\])?$", re.S)


def _step(token: str) -> tuple[str, Key, bool]:
    """``app[0]`` -> ('app', 0, True); ``app["a"]`` -> ('app', 'a', True); ``app`` -> ('app', None, False)."""
    m = _STEP.match(token)
    if m is None:
        return token, None, False
    raw = m.group(2)
    if raw is None:
        return m.group(1), None, False
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            key = json.loads(raw)
        except ValueError:
            key = raw.strip('"')
        return m.group(1), str(key), True
    try:
        return m.group(1), int(raw), True
    except ValueError:
        return m.group(1), raw, True


@dataclass
class _Ctx:
    """Where an expression is evaluated: its module instance, its configuration, its own key."""

    module: str  # the module instance prefix: "" or 'module.net[0].'
    cfg: str  # the configuration's module prefix: "" or 'module.net.'
    key: Key = None
    has_key: bool = False
    for_each: list[str] = field(default_factory=list)  # references of the resource's own for_each


class _Plan:
    """The instances of a plan or state and the configuration's expressions, to resolve references."""

    def __init__(self, doc: dict[str, Any], file: str, notes: Notes) -> None:
        self.file = file
        self.notes = notes
        self.instances: dict[tuple[str, str], dict[Key, str]] = {}  # (module prefix, "type.name") -> key -> address
        self.children: dict[tuple[str, str], dict[Key, str]] = {}  # (parent prefix, call) -> key -> child prefix
        self.cfg: dict[str, dict[str, Any]] = {}  # config module prefix -> its module configuration
        self.partial: list[str] = []  # what the last resolve could not follow (its result is only part)
        self._index_config(_d(_d(doc.get("configuration")).get("root_module")), "")

    def _index_config(self, mod: dict[str, Any], prefix: str) -> None:
        self.cfg[prefix] = mod
        for name, call in _d(mod.get("module_calls")).items():
            if isinstance(call, dict):
                self._index_config(_d(call.get("module")), f"{prefix}module.{name}.")

    def add_instance(self, addr: str) -> tuple[str, str, str, Key, bool] | None:
        """Index one resource instance; its (module prefix, config prefix, "type.name", key, has_key)."""
        toks = split_address(addr)
        mod, cfg, i = "", "", 0
        while i + 2 < len(toks) and toks[i] == "module":
            call, key, has = _step(toks[i + 1])
            self.children.setdefault((mod, call), {}).setdefault(key if has else None, f"{mod}module.{toks[i + 1]}.")
            mod, cfg, i = f"{mod}module.{toks[i + 1]}.", f"{cfg}module.{call}.", i + 2
        if len(toks) - i != 2 or toks[i] in ("data", "module"):
            return None
        name, key, has = _step(toks[i + 1])
        rk = f"{toks[i]}.{name}"
        self.instances.setdefault((mod, rk), {})[key if has else None] = addr
        return mod, cfg, rk, key, has

    def resource_cfg(self, cfg: str, rk: str) -> dict[str, Any]:
        for r in _l(self.cfg.get(cfg, {}).get("resources")):
            if isinstance(r, dict) and r.get("address") in (rk, f"{cfg}{rk}"):
                return r
        return {}

    # ------------------------------------------------------------------ references
    def resolve(self, refs: list[Any], ctx: _Ctx, depth: int = 0) -> list[str] | None:
        """The resource instances an expression's references name, in order; None when they cannot be known."""
        if depth > 16:
            return None
        strs = [r for r in refs if isinstance(r, str)]
        uses_count, uses_each_key = "count.index" in strs, "each.key" in strs
        out: list[str] = []
        pending: dict[str, int] = {}
        last_module = ""
        opaque = False
        for r in strs:
            toks = split_address(r)
            head = toks[0]
            if head == "each" and len(toks) >= 2 and toks[1] == "value":
                if r != "each.value":
                    continue  # each.value.id: the plain each.value follows
                got = self._each_value(ctx, depth)
                if got is None:
                    return None
                out += got
            elif head == "var" and len(toks) >= 2:
                if len(toks) > 2 or "[" in toks[1]:
                    continue  # var.x.y / var.x[0]: the plain var.x follows
                got = self._var(toks[1], ctx, depth)
                if got is None:
                    opaque = True  # a value (a list of zones, a name), not a reference
                    continue
                out += got
            elif head == "module":
                if last_module.startswith(r) and last_module[len(r):len(r) + 1] in (".", "["):
                    continue  # a shorter step of the reference just read (or the call Terraform adds)
                last_module = r
                if len(toks) >= 3:
                    got = self._module_output(toks, ctx, depth, uses_count, uses_each_key)
                elif len(toks) == 2:  # module.x[count.index].out: Terraform keeps only module.x
                    got = self._module_all(toks, ctx, depth, uses_count, uses_each_key)
                else:
                    continue
                if got is None:
                    opaque = True
                    continue
                out += got
            elif head in ("local", "data"):
                opaque = True  # locals and data sources are not in the JSON: what they hold is not known here
            elif head in _KEYWORDS or len(toks) != 2:
                continue
            else:
                name, key, has = _step(toks[1])
                rk = f"{head}.{name}"
                if has:
                    pending[rk] = pending.get(rk, 0) + 1
                    inst = self.instances.get((ctx.module, rk), {}).get(key)
                    if inst is None:
                        return None
                    out.append(inst)
                elif pending.get(rk):
                    pending[rk] -= 1  # the keyless resource Terraform adds after a keyed instance
                else:
                    got = self._whole(rk, ctx, uses_count, uses_each_key)
                    if got is None:
                        return None
                    out += got
        if opaque and (not out or uses_count or uses_each_key):
            return None  # nothing named, or an index that may be computed from what the plan does not hold
        if opaque and depth == 0:
            self.partial = [r for r in strs if split_address(r)[0] in ("var", "local", "data")]
        return list(dict.fromkeys(out))

    def _whole(self, rk: str, ctx: _Ctx, uses_count: bool, uses_each_key: bool) -> list[str] | None:
        insts = self.instances.get((ctx.module, rk))
        if not insts:
            return None
        if list(insts) == [None]:
            return [insts[None]]
        if uses_count and isinstance(ctx.key, int) and ctx.has_key:
            keys = sorted(k for k in insts if isinstance(k, int))
            if keys == list(range(len(keys))) and keys:  # element(list, count.index) wraps around
                return [insts[keys[ctx.key % len(keys)]]]
            return [insts[ctx.key]] if ctx.key in insts else None
        if uses_each_key and isinstance(ctx.key, str):
            return [insts[ctx.key]] if ctx.key in insts else None
        return list(insts.values())  # a splat, values(...) or a for expression: every instance

    def _each_value(self, ctx: _Ctx, depth: int) -> list[str] | None:
        """``each.value`` where ``for_each`` ranges over a resource (or a for expression over it)."""
        if not ctx.has_key or not ctx.for_each:
            return None
        over = [r for r in ctx.for_each if isinstance(r, str) and split_address(r)[0] not in _KEYWORDS
                and len(split_address(r)) == 2 and "[" not in r]
        for rk in dict.fromkeys(over):
            insts = self.instances.get((ctx.module, rk), {})
            if ctx.key in insts:
                return [insts[ctx.key]]
        outs = [r for r in ctx.for_each if isinstance(r, str) and r.startswith("module.")]
        if outs:  # for_each = module.net.subnets (a map keyed like this instance)
            got = self.resolve(outs, _Ctx(ctx.module, ctx.cfg), depth + 1)
            hit = [a for a in got or [] if a.endswith(f"[{json.dumps(ctx.key)}]") or a.endswith(f"[{ctx.key}]")]
            return hit[:1] or None
        return None

    def _var(self, name: str, ctx: _Ctx, depth: int) -> list[str] | None:
        """``var.x`` in a child module: the module call's argument, evaluated in the calling module."""
        if not ctx.module:
            return None  # a root variable holds a value, not a reference
        toks = split_address(ctx.module.rstrip("."))
        call, key, has = _step(toks[-1])
        parent = ".".join(toks[:-2]) + "." if len(toks) > 2 else ""
        parent_cfg = ctx.cfg[: -len(f"module.{call}.")]
        spec = _d(_d(self.cfg.get(parent_cfg, {}).get("module_calls")).get(call))
        expr = _d(_d(spec.get("expressions")).get(name))
        if "references" not in expr:
            return None
        fe = _l(_d(spec.get("for_each_expression")).get("references"))
        return self.resolve(_l(expr.get("references")), _Ctx(parent, parent_cfg, key, has, fe), depth + 1)

    def _children(self, toks: list[str], ctx: _Ctx, uses_count: bool, uses_each_key: bool) -> tuple[list[str], bool]:
        """The child module instances ``module.x`` / ``module.x[k]`` names; whether count.index/each.key chose."""
        call, key, has = _step(toks[1])
        kids = self.children.get((ctx.module, call), {})
        if has:
            return ([kids[key]] if key in kids else []), False
        if list(kids) == [None]:
            return [kids[None]], False
        if uses_count and isinstance(ctx.key, int) and ctx.key in kids:
            return [kids[ctx.key]], True
        if uses_each_key and isinstance(ctx.key, str) and ctx.key in kids:
            return [kids[ctx.key]], True
        return list(kids.values()), False

    def _module_all(self, toks: list[str], ctx: _Ctx, depth: int, uses_count: bool,
                    uses_each_key: bool) -> list[str] | None:
        """``module.x[count.index].out``: Terraform's references lose ``out``, so every output of the chosen
        instance is a candidate (the attribute's type picks among them)."""
        chosen, _ = self._children(toks, ctx, uses_count, uses_each_key)
        call = _step(toks[1])[0]
        child_cfg = f"{ctx.cfg}module.{call}."
        outputs = _d(self.cfg.get(child_cfg, {}).get("outputs"))
        got: list[str] = []
        for prefix in chosen:
            for spec in outputs.values():
                refs = _l(_d(_d(spec).get("expression")).get("references"))
                got += self.resolve(refs, _Ctx(prefix, child_cfg), depth + 1) or [] if refs else []
        return got or None

    def _module_output(self, toks: list[str], ctx: _Ctx, depth: int, uses_count: bool,
                       uses_each_key: bool) -> list[str] | None:
        """``module.net.out`` / ``module.net[0].out[1]``: the output's expression in each child instance."""
        call = _step(toks[1])[0]
        out_name, index, indexed = _step(toks[2])
        chosen, count_used = self._children(toks, ctx, uses_count, uses_each_key)
        child_cfg = f"{ctx.cfg}module.{call}."
        spec = _d(_d(_d(self.cfg.get(child_cfg, {}).get("outputs")).get(out_name)).get("expression"))
        if not chosen or "references" not in spec:
            return None
        got: list[str] = []
        for prefix in chosen:
            sub = self.resolve(_l(spec.get("references")), _Ctx(prefix, child_cfg), depth + 1)
            if sub is None:
                return None
            got += sub
        if indexed:
            return [got[index]] if isinstance(index, int) and 0 <= index < len(got) else None
        if not count_used and uses_count and ctx.has_key and isinstance(ctx.key, int) and len(got) > 1:
            return [got[ctx.key % len(got)]]  # module.x.ids[count.index] / element(module.x.ids, count.index)
        return got


def read_show_json(doc: Any, file: str, notes: Notes) -> list[Resource]:
    """Resources of ``terraform show -json`` output: a state (``values``) or a plan (``planned_values``)."""
    if not isinstance(doc, dict) or "format_version" not in doc:
        notes.add(file, "(file)", "", "not understood",
                  "not the output of `terraform show -json` (no format_version)", "nothing imported", True)
        return []
    major = str(doc.get("format_version")).split(".")[0]
    if major not in ("0", "1"):
        raise TopologyError(f"{file}: format_version {doc.get('format_version')!r} of `terraform show -json` is not "
                            "one tierlab reads (1.x)", "save the output of a Terraform 1.x `terraform show -json`")
    plan = _Plan(doc, file, notes)
    values = _d(doc.get("planned_values") or doc.get("values"))
    changes = {rc.get("address"): _d(rc.get("change")) for rc in _l(doc.get("resource_changes")) if isinstance(rc, dict)}
    raw: list[tuple[dict[str, Any], str]] = []

    def walk(module: Any) -> None:
        if not isinstance(module, dict):
            return
        for r in _l(module.get("resources")):
            if not isinstance(r, dict):
                continue
            if r.get("mode", "managed") != "managed":
                if r.get("mode") == "data":
                    notes.add(file, str(r.get("address")), "", "partly", "a data source: its values are as read then",
                              "taken as recorded")
                continue
            raw.append((r, str(r.get("address", ""))))
        for child in _l(module.get("child_modules")):
            walk(child)

    walk(_d(values.get("root_module")))
    placed = [(r, addr, plan.add_instance(addr)) for r, addr in raw]
    out: list[Resource] = []
    unresolved: Unresolved = []
    for r, addr, where in placed:
        attrs = dict(_d(r.get("values")))
        if where is not None:
            mod, cfg, rk, key, has = where
            rc = plan.resource_cfg(cfg, rk)
            ctx = _Ctx(mod, cfg, key, has, _l(_d(rc.get("for_each_expression")).get("references")))
            exprs = _d(rc.get("expressions"))
            unknown = _d(changes.get(addr, {}).get("after_unknown"))
            for k in exprs:  # an id the plan has no value for, even where after_unknown is missing
                if k in IDENTITY and attrs.get(k) in (None, []) and k not in unknown:
                    unknown = {**unknown, k: True}
            _fill(plan, attrs, unknown, exprs, ctx, addr, "", unresolved)
        rid = attrs.get("id") if isinstance(attrs.get("id"), str) and attrs.get("id") else addr
        out.append(Resource(str(r.get("type", "")), addr, attrs, file, id=str(rid)))
    for addr, attr, detail in unresolved:
        what = detail if detail.startswith("the whole") else \
            f"cannot tell which resource {attr} refers to ({detail}): the plan knows it only after apply"
        notes.add(file, addr, attr, "partly", what, UNRESOLVED_ASSUMPTION, True)
    return out


#: What tierlab does with a reference it cannot resolve, and how to resolve it.
UNRESOLVED_ASSUMPTION = ("left unknown, not guessed: what depends on it is left out (a rule, a peer, an association), "
                         "so every verdict involving it depends on this assumption; refer to the resource itself "
                         "(aws_subnet.app[count.index].id, or for_each = aws_subnet.app with each.value.id) instead of "
                         "through a local value, a data source or a computed index, or import `terraform show -json` "
                         "of the state after apply, where every id is known")
Unresolved = list[tuple[str, str, str]]  # (resource address, attribute path, the references or why)


def _fill(plan: _Plan, values: dict[str, Any], unknown: dict[str, Any], exprs: dict[str, Any], ctx: _Ctx,
          addr: str, path: str, unresolved: Unresolved) -> None:
    """Put the resolved references where the plan has ``after_unknown``; nested blocks recursively."""
    for k, u in unknown.items():
        expr = exprs.get(k)
        where = f"{path}{k}"
        if isinstance(u, dict) and isinstance(expr, dict) and "references" not in expr:
            old = values.get(k)
            sub: dict[str, Any] = old if isinstance(old, dict) else {}
            values[k] = sub
            _fill(plan, sub, u, expr, ctx, addr, f"{where}.", unresolved)
            continue
        if isinstance(u, list) and any(isinstance(x, dict) for x in u):  # nested blocks: action, ingress, ...
            blocks: list[Any] = _l(values.get(k))
            if isinstance(expr, dict) and "references" in expr:  # ingress/egress/route: attributes as blocks
                values[k] = blocks
                _fill_shared(plan, blocks, u, _l(expr.get("references")), ctx, addr, where, unresolved)
                continue
            block_exprs = expr if isinstance(expr, list) else []
            for i, sub_u in enumerate(u):
                if not isinstance(sub_u, dict) or not sub_u:
                    continue
                while len(blocks) <= i:
                    blocks.append({})
                if not isinstance(blocks[i], dict):
                    continue
                if i >= len(block_exprs) or not isinstance(block_exprs[i], dict):
                    _unknown(plan, blocks[i], sub_u, addr, f"{where}[{i}].", unresolved,
                             "a dynamic block: its expressions are not in the plan's configuration")
                    continue
                _fill(plan, blocks[i], sub_u, block_exprs[i], ctx, addr, f"{where}[{i}].", unresolved)
            values[k] = blocks
            continue
        if u is True and k in INLINE_RULES and isinstance(expr, dict) and _l(expr.get("references")):
            values[k] = Unknown(f"{addr}.{where} is known after apply")  # not the planned (partial) set
            unresolved.append((addr, where, f"the whole {k} set is known only after apply ({_refs(expr)}): "
                                            f"none of its rules is evaluated"))
            continue
        if u is not True and not (isinstance(u, list) and u and all(x is True for x in u)):
            continue  # known, or partly known: taken as planned
        refs = _l(expr.get("references")) if isinstance(expr, dict) else []
        if not refs:
            continue  # computed by AWS (arn, owner_id, ...): absent, as in planned_values
        if k not in IDENTITY:
            values[k] = Unknown(f"{addr}.{where} is known after apply")
            plan.notes.add(plan.file, addr, where, "partly", f"known only after apply (from {refs[0]})", "unknown",
                           k in VERDICT_VALUES)
            continue
        plan.partial = []
        got = plan.resolve(refs, ctx)
        if got and len(got) > 1 and k in ATTR_TYPES and k not in LISTS:
            got = [a for a in got if _type_of(a) in ATTR_TYPES[k]] or got
        if got and ((k in LISTS or isinstance(u, list)) or len(got) == 1):
            values[k] = got if (k in LISTS or isinstance(u, list)) else got[0]
            if plan.partial:
                plan.notes.add(plan.file, addr, where, "partly", f"part of {where} comes from "
                               f"{', '.join(plan.partial)}, which the plan does not hold", f"only {', '.join(got)}: "
                               "anything else it names is left out, so every verdict involving it depends on this "
                               "assumption", True)
        else:
            values[k] = Unknown(f"{addr}.{where} is known after apply")
            unresolved.append((addr, where, ", ".join(str(r) for r in refs)))


def _fill_shared(plan: _Plan, blocks: list[Any], unknown: list[Any], refs: list[Any], ctx: _Ctx, addr: str,
                 where: str, unresolved: Unresolved) -> None:
    """Inline rules and routes (attributes written as blocks) share one list of references: an unknown
    id in them is resolved when one element alone needs that kind of object."""
    got = plan.resolve(refs, ctx) or []
    needs: dict[str, list[int]] = {}
    for i, sub in enumerate(unknown):
        for leaf, lu in (sub.items() if isinstance(sub, dict) else []):
            if leaf in IDENTITY and (lu is True or (isinstance(lu, list) and any(x is True for x in lu))):
                needs.setdefault(leaf, []).append(i)
    for leaf, idx in needs.items():
        types = _LEAF_TYPES.get(leaf)
        cands = [a for a in got if types is None or _type_of(a) in types]
        if len(idx) != 1 or not cands:
            unresolved.append((addr, f"{where}.{leaf}", f"{', '.join(str(r) for r in refs)}; "
                                                        f"{len(idx)} inline block(s) need it"))
            continue
        i = idx[0]
        while len(blocks) <= i:
            blocks.append({})
        if not isinstance(blocks[i], dict):
            continue
        lu = unknown[i][leaf]
        if lu is True and leaf not in LISTS:
            if len(cands) != 1:
                unresolved.append((addr, f"{where}[{i}].{leaf}", ", ".join(str(r) for r in refs)))
                continue
            blocks[i][leaf] = cands[0]
        else:
            known = [x for x in _l(blocks[i].get(leaf)) if x is not None]
            blocks[i][leaf] = known + [c for c in cands if c not in known]


def _type_of(address: str) -> str:
    toks = split_address(address)
    while len(toks) > 2 and toks[0] == "module":
        toks = toks[2:]
    return toks[0]


#: What an id inside an inline block can name (to split one block's references from another's).
_LEAF_TYPES = {"security_groups": ("aws_security_group", "aws_default_security_group"),
               "gateway_id": ("aws_internet_gateway", "aws_vpc_endpoint", "aws_vpn_gateway"),
               "nat_gateway_id": ("aws_nat_gateway",), "vpc_endpoint_id": ("aws_vpc_endpoint",),
               "instance_id": ("aws_instance",), "network_interface_id": ("aws_network_interface",),
               "prefix_list_ids": ("aws_ec2_managed_prefix_list",),
               "transit_gateway_id": ("aws_ec2_transit_gateway",),
               "vpc_peering_connection_id": ("aws_vpc_peering_connection",)}
INLINE_RULES = {"ingress", "egress", "route"}
#: What a scalar reference can name (to pick among the outputs of ``module.x[count.index]``).
ATTR_TYPES = {**_LEAF_TYPES, "subnet_id": ("aws_subnet",), "vpc_id": ("aws_vpc",), "target_id": ("aws_instance",),
              "route_table_id": ("aws_route_table", "aws_default_route_table"),
              "network_acl_id": ("aws_network_acl", "aws_default_network_acl"),
              "security_group_id": ("aws_security_group", "aws_default_security_group"),
              "referenced_security_group_id": ("aws_security_group", "aws_default_security_group"),
              "source_security_group_id": ("aws_security_group", "aws_default_security_group"),
              "target_group_arn": ("aws_lb_target_group", "aws_alb_target_group"),
              "load_balancer_arn": ("aws_lb", "aws_alb"), "listener_arn": ("aws_lb_listener", "aws_alb_listener"),
              "db_subnet_group_name": ("aws_db_subnet_group",), "allocation_id": ("aws_eip",)}


def _unknown(plan: _Plan, values: dict[str, Any], unknown: dict[str, Any], addr: str, path: str,
             unresolved: Unresolved, why: str) -> None:
    for k, u in unknown.items():
        if u is True or (isinstance(u, list) and u and all(x is True for x in u)):
            values[k] = Unknown(f"{addr}.{path}{k} is known after apply")
            if k in IDENTITY:
                unresolved.append((addr, f"{path}{k}", why))


def _refs(expr: Any) -> str:
    return ", ".join(str(r) for r in _l(expr.get("references"))) if isinstance(expr, dict) else ""


def _d(v: Any) -> dict[str, Any]:
    """``v`` if it is a mapping, else an empty one (a malformed file must not crash a reader)."""
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []
