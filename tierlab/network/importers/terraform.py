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

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..readfile import read_import_text
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
        files = [self.only] if self.only is not None else sorted(self.dir.glob("*.tf"))
        for f in files:
            name = f"{self.rel}{f.name}"
            try:
                doc = _parse_cached(f)
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
        if isinstance(child, list):  # count: module.x[0].out
            return [_Namespace(c.output) for c in child]
        if isinstance(child, dict):  # for_each: module.x["key"].out
            return {k: _Namespace(c.output) for k, c in child.items()}
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
            kids = child if isinstance(child, list) else list(child.values()) if isinstance(child, dict) else [child]
            for kid in kids:
                if isinstance(kid, _Module):
                    out.extend(kid.instances())
        return out


_PARSED: dict[tuple[str, int, int], Any] = {}


def _parse_cached(f: Path) -> Any:
    """python-hcl2's parse of ``f``, kept per (path, mtime, size) for the life of the process
    (a notebook that imports the same project again does not parse it again). Read-only."""
    st = f.stat()
    key = (str(f.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _PARSED:
        if len(_PARSED) > 512:
            _PARSED.clear()
        _PARSED[key] = parse_text(read_import_text(f, f.name))
    return _PARSED[key]


def cache_dir() -> Path | None:
    """Where parses of .tf files are kept between processes: ``$TIERLAB_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/tierlab`` (``~/.cache/tierlab``); ``TIERLAB_CACHE_DIR=off`` keeps none."""
    import os

    env = os.environ.get("TIERLAB_CACHE_DIR", "")
    if env.lower() in ("off", "0", "none"):
        return None
    from ...errors import TierlabError
    from ...paths import env_path

    try:
        mine = env_path("TIERLAB_CACHE_DIR")
        if mine is not None:
            return mine
        return (env_path("XDG_CACHE_HOME") or Path.home() / ".cache") / "tierlab"
    except (TierlabError, RuntimeError):  # ~user with no home, or no home at all: no cache, only slower
        return None


def _cache_folder(folder: Path) -> Path | None:
    """``folder/hcl``, made private (0700) if new; ``None`` unless it is ours and nobody else may write to it.

    A cached parse is trusted as if it were the file's: in a folder another account can write to (say
    ``TIERLAB_CACHE_DIR=/tmp/cache``) it could plant a parse of its own, or a link that redirects the write."""
    import os

    hcl = folder / "hcl"
    try:
        hcl.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(hcl)
    except (OSError, ValueError, RecursionError):  # RecursionError: thousands of levels to make
        return None
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    return hcl


def parse_text(text: str) -> Any:
    """``hcl2.loads(text)``, or the same result read back from the cache (keyed by the text and the
    python-hcl2 version): a new process then needs neither python-hcl2 nor its parser, which take
    most of a first import (the parse itself is the same JSON either way)."""
    import hashlib

    from importlib.metadata import PackageNotFoundError, version

    try:
        hv = version("python-hcl2")
    except PackageNotFoundError:  # pragma: no cover - installed with tierlab
        hv = "?"
    digest = hashlib.sha256(f"{hv}\0{text}".encode()).hexdigest()
    folder = cache_dir()
    hcl = _cache_folder(folder) if folder is not None else None
    path = hcl / f"{digest}.json" if hcl is not None else None
    if path is not None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            pass
    import hcl2

    doc = hcl2.loads(text)
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            blob = json.dumps(doc).encode()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, path)  # atomic: a parallel reader sees the whole file or none
        except (OSError, TypeError, ValueError):
            with contextlib.suppress(OSError):
                if tmp.is_file() and not tmp.is_symlink():
                    tmp.unlink()
            # a cache that cannot be written is only slower
    return doc


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
        name = f.name if f.parent == self.root else str(f)
        try:
            if f.suffix == ".json":
                doc = json.loads(read_import_text(f, name))
                return doc if isinstance(doc, dict) else {}
            doc = parse_text(read_import_text(f, name))
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
        if not directory.is_dir():
            self.notes.add(file, addr, "source", "not understood", f"module directory {source!r} not found",
                           "its resources are missing", True)
            return _Namespace(lambda o: Unknown(f"output {o} of missing module {name}"))
        rel = f"{parent.rel}{source.strip('./')}/" if source.startswith("./") else f"{source}/"
        if "count" in body or "for_each" in body:
            keys = self._module_keys(parent, body, file, addr)
            if isinstance(keys, list):
                return [self._instance(parent, body, file, f"{addr}[{i}]", directory, rel, {"count": {"index": i}})
                        for i in keys]
            return {k: self._instance(parent, body, file, f'{addr}["{k}"]', directory, rel,
                                      {"each": {"key": k, "value": v}}) for k, v in keys.items()}
        return self._instance(parent, body, file, addr, directory, rel, {})

    def _module_keys(self, parent: _Module, body: dict[str, Any], file: str, addr: str) -> list[int] | dict[str, Any]:
        """The instance keys of a module call with ``count`` (0..n-1) or ``for_each`` (its keys)."""
        key = "count" if "count" in body else "for_each"
        try:
            v = _eval_leaf(body[key], parent.scope)
        except ExprError as exc:
            v = Unknown(str(exc))
        if key == "count" and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 64:
            return list(range(int(v)))
        if key == "for_each" and isinstance(v, list) and not is_unknown(v):
            return {str(x): x for x in v}
        if key == "for_each" and isinstance(v, dict) and len(v) <= 64:
            return {str(k): x for k, x in v.items()}
        if is_unknown(v) or v is None:  # a data source, a value after apply, a variable without a value
            if key == "count":
                self.notes.add(file, addr, key, "partly", f"the count of this module call is not known offline ({v})",
                               "one instance: every verdict involving its resources depends on this assumption", True)
                return [0]
            self.notes.add(file, addr, key, "partly", f"the for_each of this module call is not known offline ({v})",
                           "no instance: its resources are left out, so every verdict involving them depends on "
                           "this assumption", True)
            return {}
        from ...errors import TopologyError

        raise TopologyError(f"{file}: {addr}: the {key} of this module call ({v!r}) is not one tierlab expands",
                            f"give {key} a whole number 0-64 or a list or map of up to 64, or import `terraform "
                            "show -json` of a plan, where Terraform has expanded every module instance")

    def _instance(self, parent: _Module, body: dict[str, Any], file: str, addr: str, directory: Path, rel: str,
                  names: dict[str, Any]) -> Any:
        """One instance of a module call: its inputs evaluated with ``count.index`` / ``each`` of that instance."""
        self.modules_seen += 1
        if self.modules_seen > 50:
            self.notes.add(file, addr, "source", "not understood", "more than 50 module instances",
                           "the rest are missing", True)
            return _Namespace(lambda o: Unknown(f"output {o} of module {addr}"))
        scope = parent.scope.child(**names) if names else parent.scope
        inputs: dict[str, Any] = {}
        for k, v in body.items():
            if k.startswith("__") or k in ("source", "version", "providers", "count", "for_each", "depends_on"):
                continue
            try:
                inputs[k] = _eval_leaf(v, scope)
            except ExprError as exc:
                self.notes.add(file, addr, k, "partly", str(exc), "unknown", True)
                inputs[k] = Unknown(str(exc))
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
    """Resources of ``terraform show -json`` output (a state or a plan): see :mod:`.showjson`."""
    from .showjson import read_show_json as _read

    return _read(doc, file, notes)


def is_project(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


__all__ += ["is_project", "is_unknown", "Unknown"]


def _d(v: Any) -> dict[str, Any]:
    """``v`` if it is a mapping, else an empty one (a malformed file must not crash a reader)."""
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []
