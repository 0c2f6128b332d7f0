"""Terraform in: ``.tf`` files (python-hcl2, no terraform binary, no network) or the JSON of
``terraform show -json`` (a plan or a state), to the resources the builder reads.

The HCL reader evaluates what real projects use: variables with defaults, ``*.tfvars`` and
``*.auto.tfvars``, locals, ``count``, ``for_each``, ``dynamic`` blocks, references between
resources and local modules. A resource's ``id`` is its address (``aws_subnet.app[0]``), so
references connect without knowing AWS's ids. What cannot be known offline (registry modules,
data sources, values known only after apply) becomes a note and an :class:`Unknown`, never a
guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hclexpr import ExprError, Lazy, Scope, Unknown, evaluate, is_unknown, source_to_node
from .report import Notes

__all__ = ["Resource", "read_hcl", "read_show_json"]


@dataclass
class Resource:
    """One resource instance: its type, address, evaluated attributes and the file it came from."""

    type: str
    address: str
    attrs: dict[str, Any]
    file: str
    id: str = ""
    notes_status: str = "parsed"
    known: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id = self.id or self.address


def _unq(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == '"' and label[-1] == '"' else label


def _blocks(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    out = doc.get(key) or []
    return out if isinstance(out, list) else [out]


# ----------------------------------------------------------------------------- values


def _eval_leaf(value: Any, scope: Scope) -> Any:
    if isinstance(value, str):
        return evaluate(source_to_node(value), scope)
    if isinstance(value, list):
        return [_eval_leaf(v, scope) for v in value]
    if isinstance(value, dict):
        return {_unq(str(k)): _eval_leaf(v, scope) for k, v in value.items() if not str(k).startswith("__")}
    return value


def _is_block_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) and x.get("__is_block__") for x in v)


class _Module:
    """One module instance: its files, its inputs, and the lazily evaluated names inside it."""

    def __init__(self, reader: "_Reader", directory: Path, prefix: str, inputs: dict[str, Any], rel: str,
                 only: Path | None = None) -> None:
        self.only = only
        self.reader = reader
        self.dir = directory
        self.prefix = prefix
        self.rel = rel
        self.inputs = inputs
        self.variables: dict[str, tuple[dict[str, Any], str]] = {}
        self.locals: dict[str, tuple[Any, str]] = {}
        self.resources: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self.data: dict[tuple[str, str], str] = {}
        self.modules: dict[str, tuple[dict[str, Any], str]] = {}
        self.outputs: dict[str, tuple[dict[str, Any], str]] = {}
        self._local_cache: dict[str, Any] = {}
        self._busy: set[str] = set()
        self._groups: dict[tuple[str, str], Any] = {}
        self._children: dict[str, Any] = {}
        self._read_files()
        self.scope = Scope(self._root)

    # -------------------------------------------------------------- files
    def _read_files(self) -> None:
        import hcl2

        files = [self.only] if self.only is not None else sorted(self.dir.glob("*.tf"))
        for f in files:
            name = f"{self.rel}{f.name}"
            try:
                doc = _parse_cached(f, hcl2)
            except Exception as exc:  # python-hcl2 raises lark errors of many kinds: all mean "not HCL"
                msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                self.reader.notes.add(name, "(file)", "", "not understood", f"not valid HCL: {msg}",
                                      "every resource of this file is missing", True)
                continue
            if not isinstance(doc, dict):
                continue
            for block in _blocks(doc, "variable"):
                for k, body in block.items():
                    if isinstance(body, dict):
                        self.variables[_unq(k)] = (body, name)
            for block in _blocks(doc, "locals"):
                for k, v in block.items():
                    if not k.startswith("__"):
                        self.locals[k] = (v, name)
            for kind in ("resource", "data"):
                for block in _blocks(doc, kind):
                    for rtype, named in block.items():
                        if not isinstance(named, dict):
                            continue
                        for rname, body in named.items():
                            if not isinstance(body, dict) or rname.startswith("__"):
                                continue
                            key = (_unq(rtype), _unq(rname))
                            if kind == "resource":
                                self.resources[key] = (body, name)
                            else:
                                self.data[key] = name
            for block in _blocks(doc, "module"):
                for mname, body in block.items():
                    if isinstance(body, dict):
                        self.modules[_unq(mname)] = (body, name)
            for block in _blocks(doc, "output"):
                for oname, body in block.items():
                    if isinstance(body, dict):
                        self.outputs[_unq(oname)] = (body, name)

    # -------------------------------------------------------------- names
    def _root(self, name: str) -> Any:
        if name == "var":
            return _Namespace(self._var)
        if name == "local":
            return _Namespace(self._local)
        if name == "module":
            return _Namespace(self._module_outputs)
        if name == "data":
            return _DataNS(self)
        if name == "path":
            return {"module": str(self.dir), "root": str(self.reader.root), "cwd": str(self.reader.root)}
        if name == "terraform":
            return {"workspace": "default"}
        if name in ("count", "each", "self"):
            raise ExprError(f"{name} is used outside a resource that sets it")
        if any(t == name for t, _ in self.resources):
            return _Namespace(lambda rn: self.group(name, rn))
        raise ExprError(f"unknown name {name!r}")

    def _var(self, name: str) -> Any:
        if name in self.inputs:
            return self.inputs[name]
        if name not in self.variables:
            raise ExprError(f"no variable {name!r} is declared")
        body, file = self.variables[name]
        if "default" in body:
            return _eval_leaf(body["default"], Scope(lambda n: _no_refs(n)))
        self.reader.notes.add(file, f"var.{name}", "default", "partly",
                              f"variable {name!r} has no default and no value in a .tfvars file",
                              "unknown: what depends on it is left out", True)
        return Unknown(f"variable {name} has no value")

    def _local(self, name: str) -> Any:
        if name in self._local_cache:
            return self._local_cache[name]
        if name not in self.locals:
            raise ExprError(f"no local {name!r}")
        if name in self._busy:
            raise ExprError(f"local.{name} refers to itself")
        self._busy.add(name)
        try:
            v = _eval_leaf(self.locals[name][0], self.scope)
        finally:
            self._busy.discard(name)
        self._local_cache[name] = v
        return v

    def _module(self, name: str) -> Any:
        if name not in self._children:
            self._children[name] = self.reader.child(self, name)
        return self._children[name]

    def _module_outputs(self, name: str) -> Any:
        if name not in self.modules:
            raise ExprError(f"no module {name!r}")
        child = self._module(name)
        return _Namespace(child.output) if isinstance(child, _Module) else child

    def group(self, rtype: str, rname: str) -> Any:
        """A resource as an expression sees it: one instance, a list (count) or a map (for_each)."""
        key = (rtype, rname)
        if key not in self.resources:
            raise ExprError(f"no resource {rtype}.{rname}")
        if key not in self._groups:
            self._groups[key] = _Busy()
            self._groups[key] = self._expand(rtype, rname)
        g = self._groups[key]
        if isinstance(g, _Busy):
            raise ExprError(f"{rtype}.{rname} depends on itself")
        return g

    def _expand(self, rtype: str, rname: str) -> Any:
        body, file = self.resources[(rtype, rname)]
        addr = f"{self.prefix}{rtype}.{rname}"
        notes = self.reader.notes
        if "count" in body:
            try:
                n = _eval_leaf(body["count"], self.scope)
            except ExprError as exc:
                n = Unknown(str(exc))
            if isinstance(n, Unknown) or isinstance(n, bool) or not isinstance(n, (int, float)):
                notes.add(file, addr, "count", "partly", f"count is not known offline ({n})",
                          "one instance", True)
                n = 1
            return [_Instance(self, rtype, rname, body, file, f"{addr}[{i}]", {"count": {"index": i}})
                    for i in range(int(n))]
        if "for_each" in body:
            try:
                fe = _eval_leaf(body["for_each"], self.scope)
            except ExprError as exc:
                fe = Unknown(str(exc))
            if isinstance(fe, list):
                fe = {str(x): x for x in fe if not isinstance(x, Unknown)}
            if not isinstance(fe, dict):
                notes.add(file, addr, "for_each", "partly", f"for_each is not known offline ({fe})",
                          "no instance: the resource is left out", True)
                return {}
            return {k: _Instance(self, rtype, rname, body, file, f'{addr}["{k}"]', {"each": {"key": k, "value": v}})
                    for k, v in fe.items()}
        return _Instance(self, rtype, rname, body, file, addr, {})

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise ExprError(f"module has no output {name!r}")
        body, _ = self.outputs[name]
        return _eval_leaf(body.get("value"), self.scope)

    def instances(self) -> list["_Instance"]:
        out: list[_Instance] = []
        for rtype, rname in self.resources:
            try:
                g = self.group(rtype, rname)
            except ExprError as exc:
                _, file = self.resources[(rtype, rname)]
                self.reader.notes.add(file, f"{self.prefix}{rtype}.{rname}", "", "not understood", str(exc),
                                      "left out", True)
                continue
            out.extend(g if isinstance(g, list) else g.values() if isinstance(g, dict) else [g])
        for m in self.modules:
            child = self._module(m)
            if isinstance(child, _Module):
                out.extend(child.instances())
        return out


_PARSED: dict[tuple[str, int, int], Any] = {}


def _parse_cached(f: Path, hcl2: Any) -> Any:
    """python-hcl2's parse of ``f``, kept per (path, mtime, size) for the life of the process
    (a notebook that imports the same project again does not parse it again). Read-only."""
    st = f.stat()
    key = (str(f.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _PARSED:
        if len(_PARSED) > 512:
            _PARSED.clear()
        _PARSED[key] = hcl2.loads(f.read_text())
    return _PARSED[key]


class _Busy:
    pass


def _no_refs(name: str) -> Any:
    raise ExprError(f"a variable's default cannot refer to {name!r}")


class _Namespace(Lazy):
    def __init__(self, fn: Callable[[str], Any]) -> None:
        self.fn = fn

    def get_attr(self, name: str) -> Any:
        return self.fn(name)


class _DataNS(Lazy):
    def __init__(self, module: _Module) -> None:
        self.module = module

    def get_attr(self, name: str) -> Any:
        return _Namespace(lambda dn: self._data(name, dn))

    def _data(self, dtype: str, dname: str) -> Any:
        file = self.module.data.get((dtype, dname), "")
        addr = f"{self.module.prefix}data.{dtype}.{dname}"
        self.module.reader.notes.add(file, addr, "", "partly",
                                     "a data source is read from the AWS account at plan time: not known offline",
                                     "its attributes are unknown; what depends on them is reported", False)
        return Unknown(f"data source {addr} is read from the account")


#: Attributes AWS (not the file) sets, which other resources refer to by reference.
_COMPUTED_REFS = {"default_security_group_id", "default_network_acl_id", "main_route_table_id",
                  "default_route_table_id", "dns_name", "zone_id", "arn_suffix", "identifier"}


class _Instance(Lazy):
    """One resource instance; its attributes evaluate on first use."""

    def __init__(self, module: _Module, rtype: str, rname: str, body: dict[str, Any], file: str, address: str,
                 names: dict[str, Any]) -> None:
        self.module = module
        self.type = rtype
        self.name = rname
        self.body = body
        self.file = file
        self.address = address
        self.scope = module.scope.child(**names)
        self._cache: dict[str, Any] = {}

    def get_attr(self, name: str) -> Any:
        if name in ("id", "arn") or (name == "name" and name not in self.body):
            return self.address
        if name in _COMPUTED_REFS and name not in self.body:
            return f"{self.address}.{name}"
        if name in self._cache:
            return self._cache[name]
        if name in self.body and name not in ("count", "for_each"):
            self._cache[name] = _Busy()
            try:
                v = self.value(name, self.body[name])
            except ExprError as exc:
                self.module.reader.notes.add(self.file, self.address, name, "partly", str(exc), "unknown", True)
                v = Unknown(str(exc))
            self._cache[name] = v
            return v
        if isinstance(self._cache.get(name), _Busy):
            raise ExprError(f"{self.address}.{name} depends on itself")
        return Unknown(f"{self.address}.{name} is set by AWS when the resource is created")

    def value(self, name: str, raw: Any) -> Any:
        if name == "dynamic":
            return raw
        if _is_block_list(raw):
            return [self.block(b) for b in raw]
        return _eval_leaf(raw, self.scope)

    def block(self, body: dict[str, Any], scope: Scope | None = None) -> dict[str, Any]:
        """A nested block, its attributes evaluated, its own ``dynamic`` blocks expanded."""
        scope = scope or self.scope
        out: dict[str, Any] = {}
        for k, v in body.items():
            if k.startswith("__") or k == "dynamic":
                continue
            try:
                if _is_block_list(v):
                    out[k] = [self.block(b, scope) for b in v]
                else:
                    out[k] = _eval_leaf(v, scope)
            except ExprError as exc:
                self.module.reader.notes.add(self.file, self.address, k, "partly", str(exc), "unknown", True)
                out[k] = Unknown(str(exc))
        for dyn in body.get("dynamic") or []:
            for label, spec in dyn.items():
                if label.startswith("__") or not isinstance(spec, dict):
                    continue
                out.setdefault(_unq(label), []).extend(self.dynamic(_unq(label), spec, scope))
        return out

    def dynamic(self, label: str, spec: dict[str, Any], scope: Scope) -> list[dict[str, Any]]:
        it = _unq(str(_eval_leaf(spec["iterator"], Scope(lambda n: n)))) if "iterator" in spec else label
        try:
            coll = _eval_leaf(spec.get("for_each"), scope)
        except ExprError as exc:
            coll = Unknown(str(exc))
        if isinstance(coll, Unknown) or not isinstance(coll, (list, dict)):
            self.module.reader.notes.add(self.file, self.address, f"dynamic.{label}", "partly",
                                         f"the for_each of dynamic {label!r} is not known offline",
                                         "no block generated", True)
            return []
        pairs = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
        out: list[dict[str, Any]] = []
        for content in spec.get("content") or []:
            for k, v in pairs:
                out.append(self.block(content, scope.child(**{it: {"key": k, "value": v}})))
        return out

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in self.body:
            if k.startswith("__") or k in ("count", "for_each", "depends_on", "lifecycle", "provider", "provisioner",
                                           "connection", "timeouts"):
                continue
            if k == "dynamic":
                for label, blocks in self.block({"dynamic": self.body["dynamic"]}).items():
                    out.setdefault(label, []).extend(blocks)
                continue
            v = self.get_attr(k)
            out[k] = v if not isinstance(v, list) or k not in out else out[k] + v
        return out

    def resource(self) -> Resource:
        return Resource(self.type, self.address, self.attrs(), self.file)


class _Reader:
    def __init__(self, root: Path, notes: Notes, var_files: list[Path], variables: dict[str, Any]) -> None:
        self.root = root
        self.notes = notes
        self.var_files = var_files
        self.variables = variables
        self.modules_seen = 0
        self.only: Path | None = None

    def root_module(self) -> _Module:
        inputs: dict[str, Any] = {}
        files = sorted(self.root.glob("terraform.tfvars")) + sorted(self.root.glob("*.auto.tfvars")) + self.var_files
        for f in files:
            inputs.update(self._tfvars(f))
        inputs.update(self.variables)
        return _Module(self, self.root, "", inputs, "", self.only)

    def _tfvars(self, f: Path) -> dict[str, Any]:
        import hcl2

        name = f.name if f.parent == self.root else str(f)
        try:
            if f.suffix == ".json":
                doc = json.loads(f.read_text())
                return doc if isinstance(doc, dict) else {}
            doc = hcl2.loads(f.read_text())
            return {k: _eval_leaf(v, Scope(_no_refs)) for k, v in doc.items() if not k.startswith("__")}
        except FileNotFoundError:
            self.notes.add(name, "(file)", "", "not understood", "the .tfvars file does not exist", "ignored", True)
        except Exception as exc:  # lark errors, ExprError: a variables file that is not HCL
            self.notes.add(name, "(file)", "", "not understood", f"not a valid .tfvars file: {str(exc)[:160]}",
                           "ignored: variables keep their defaults", True)
        return {}

    def child(self, parent: _Module, name: str) -> Any:
        body, file = parent.modules[name]
        addr = f"{parent.prefix}module.{name}"
        try:
            source = _unq(str(body.get("source", "")))
        except Exception:
            source = ""
        if not (source.startswith("./") or source.startswith("../")):
            self.notes.add(file, addr, "source", "not understood",
                           f"module source {source!r} is a registry or remote module: not fetched offline",
                           "its resources are missing; import `terraform show -json` output to include them", True)
            return _Namespace(lambda o: Unknown(f"output {o} of remote module {name}"))
        directory = (parent.dir / source).resolve()
        self.modules_seen += 1
        if not directory.is_dir() or self.modules_seen > 50:
            self.notes.add(file, addr, "source", "not understood", f"module directory {source!r} not found",
                           "its resources are missing", True)
            return _Namespace(lambda o: Unknown(f"output {o} of missing module {name}"))
        if "count" in body or "for_each" in body:
            self.notes.add(file, addr, "count", "partly", "count/for_each on a module is not expanded",
                           "one instance of the module", True)
        inputs: dict[str, Any] = {}
        for k, v in body.items():
            if k.startswith("__") or k in ("source", "version", "providers", "count", "for_each", "depends_on"):
                continue
            try:
                inputs[k] = _eval_leaf(v, parent.scope)
            except ExprError as exc:
                self.notes.add(file, addr, k, "partly", str(exc), "unknown", True)
                inputs[k] = Unknown(str(exc))
        rel = f"{parent.rel}{source.strip('./')}/" if source.startswith("./") else f"{source}/"
        return _Module(self, directory, f"{addr}.", inputs, rel)


def read_hcl(path: Path, notes: Notes, *, var_files: list[Path] | None = None,
             variables: dict[str, Any] | None = None) -> list[Resource]:
    """Every resource instance of the Terraform project in ``path`` (a folder or one ``.tf`` file)."""
    root = path if path.is_dir() else path.parent
    reader = _Reader(root, notes, list(var_files or []), dict(variables or {}))
    reader.only = None if path.is_dir() else path  # one .tf file: that file alone
    mod = reader.root_module()
    out = []
    for inst in mod.instances():
        r = inst.resource()
        out.append(r)
    return out


# ----------------------------------------------------------------------------- terraform show -json


def read_show_json(doc: Any, file: str, notes: Notes) -> list[Resource]:
    """Resources of ``terraform show -json`` output: a state (``values``) or a plan (``planned_values``).

    In a plan, a value known only after apply is absent from ``planned_values`` and true in
    ``after_unknown``; where the configuration says which resource it refers to, the reference
    is used instead (that is how a subnet finds its VPC before either exists)."""
    if not isinstance(doc, dict) or "format_version" not in doc:
        notes.add(file, "(file)", "", "not understood",
                  "not the output of `terraform show -json` (no format_version)", "nothing imported", True)
        return []
    values = _d(doc.get("planned_values") or doc.get("values"))
    refs = _config_refs(_d(doc.get("configuration")))
    unknown = {rc.get("address"): _d(rc.get("change")).get("after_unknown") or {}
               for rc in _l(doc.get("resource_changes")) if isinstance(rc, dict)}
    out: list[Resource] = []

    def walk(module: Any) -> None:
        if not isinstance(module, dict):
            return
        for r in _l(module.get("resources")):
            if not isinstance(r, dict) or r.get("mode", "managed") != "managed":
                if isinstance(r, dict) and r.get("mode") == "data":
                    notes.add(file, str(r.get("address")), "", "partly", "a data source: its values are as read then",
                              "taken as recorded")
                continue
            addr = str(r.get("address", ""))
            attrs = dict(_d(r.get("values")))
            cfg_key = _config_key(addr)
            for k, is_unknown in _d(unknown.get(addr)).items():
                targets = refs.get((cfg_key, k)) or []
                if is_unknown is True and k not in attrs:
                    attrs[k] = _module_addr(addr, targets[0]) if len(targets) == 1 else Unknown(f"{addr}.{k} is known after apply")
                elif isinstance(is_unknown, list) and all(x is True for x in is_unknown) and not attrs.get(k):
                    if len(targets) == len(is_unknown):
                        attrs[k] = [_module_addr(addr, t) for t in targets]
                    else:
                        attrs[k] = Unknown(f"{addr}.{k} is known after apply")
                if isinstance(attrs.get(k), Unknown):
                    notes.add(file, addr, k, "partly", "known only after apply, and the plan's configuration does not "
                              "say which resource it refers to", "unknown", True)
            for (ck, k), targets in refs.items():
                if ck == cfg_key and attrs.get(k) is None and len(targets) == 1 and k in (
                        "vpc_id", "subnet_id", "route_table_id", "security_group_id", "network_acl_id"):
                    attrs[k] = _module_addr(addr, targets[0])
            rid = str(attrs.get("id") or addr)
            out.append(Resource(str(r.get("type", "")), addr, attrs, file, id=rid))
        for child in _l(module.get("child_modules")):
            walk(child)

    walk(_d(values.get("root_module")))
    return out


def _config_key(address: str) -> str:
    """``module.net.aws_subnet.app[0]`` -> ``module.net.aws_subnet.app`` (the configuration's address)."""
    import re

    return re.sub(r"\[[^\]]*\]", "", address)


def _module_addr(address: str, target: str) -> str:
    prefix = address[: address.rfind("aws_")] if "aws_" in address else ""
    return prefix + target


def _config_refs(cfg: dict[str, Any], prefix: str = "") -> dict[tuple[str, str], list[str]]:
    """(resource, attribute) -> the resources the configuration's expression refers to, in order.
    An indexed reference (``aws_subnet.app[count.index]``) names no single instance: left out."""
    out: dict[tuple[str, str], list[str]] = {}
    mod = _d(cfg.get("root_module", cfg)) if isinstance(cfg, dict) else {}
    for r in _l(mod.get("resources")):
        if not isinstance(r, dict):
            continue
        for attr, expr in _d(r.get("expressions")).items():
            if isinstance(expr, dict):
                found: list[str] = []
                for ref in _l(expr.get("references")):
                    parts = str(ref).split(".")
                    if len(parts) >= 2 and parts[0].startswith("aws_") and "[" not in parts[1]:
                        base = ".".join(parts[:2])
                        if base not in found:
                            found.append(base)
                if found:
                    out[(prefix + str(r.get("address")), attr)] = found
    for name, call in _d(mod.get("module_calls")).items():
        if isinstance(call, dict):
            out.update(_config_refs(call.get("module") or {}, f"{prefix}module.{name}."))
    return out


def is_project(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


__all__ += ["is_project", "is_unknown", "Unknown"]


def _d(v: Any) -> dict[str, Any]:
    """``v`` if it is a mapping, else an empty one (a malformed file must not crash a reader)."""
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []
