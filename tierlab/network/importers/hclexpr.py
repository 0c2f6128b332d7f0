"""Terraform's expression language, enough of it to read a network offline.

python-hcl2 hands back every attribute as HCL source text (``"\\"web\\""``, ``"${var.cidr}"``);
this module parses that text and evaluates it against a scope. What cannot be known before
``apply`` (an ``id``, an ``arn``, a data source) evaluates to :class:`Unknown`, which carries its
reason and spreads through every operation that touches it, so nothing downstream guesses.

Supported: literals, string templates, ``var.`` / ``local.`` / ``each.`` / ``count.`` /
resource / ``module.`` references, indexing, attribute access, splats, ``for`` expressions,
conditionals, arithmetic and comparison, and the functions real network code uses
(``cidrsubnet``, ``cidrhost``, ``element``, ``length``, ``concat``, ``merge``, ``lookup``,
``format``, ``join``, ``split``, ``tolist``, ``toset``, ``flatten``, ``range``, ``keys``,
``values``, ``zipmap``, ``min``, ``max``, ``coalesce``, ``contains``, ``distinct``,
``try``, ``can``, ``jsonencode``, ``lower``, ``upper``, ``replace``, ``substr``, ``tostring``,
``tonumber``, ``slice``, ``compact``, ``cidrsubnets``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Unknown", "ExprError", "parse", "evaluate", "Scope", "FUNCTIONS", "is_unknown"]


class ExprError(Exception):
    """An expression that cannot be parsed or evaluated (turned into a note by the importer)."""


@dataclass(frozen=True)
class Unknown:
    """A value known only after ``terraform apply`` (or outside the files): why it is unknown."""

    reason: str

    def __str__(self) -> str:
        return f"(known after apply: {self.reason})"


def is_unknown(v: Any) -> bool:
    if isinstance(v, Unknown):
        return True
    if isinstance(v, list):
        return any(is_unknown(x) for x in v)
    if isinstance(v, dict):
        return any(is_unknown(x) for x in v.values())
    return False


def _first_unknown(*vals: Any) -> Unknown | None:
    for v in vals:
        if isinstance(v, Unknown):
            return v
    return None


# An expression's syntax tree: (kind, *operands), e.g. ("attr", node, "name"); operands vary by kind.
Node = tuple[Any, ...]
# A quoted template's part: literal text, or ("interp" | "directive", source inside the braces).
TemplatePart = str | tuple[str, str]

# ----------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<heredoc><<-?[A-Za-z_]+)
  | (?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|\[\*\]|\.\*|[-+*/%<>!?:.,()\[\]{}=])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<quote>")
""", re.X)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def _scan_string(src: str, i: int) -> tuple[list[TemplatePart], int]:
    """A quoted template starting after the opening quote: parts (str or source of ${...})."""
    parts: list[TemplatePart] = []
    buf = []
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src):
            nxt = src[i + 1]
            buf.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(nxt, nxt))
            if nxt == "u" and i + 5 < len(src):
                buf[-1] = chr(int(src[i + 2:i + 6], 16))
                i += 4
            i += 2
            continue
        if ch == '"':
            if buf:
                parts.append("".join(buf))
            return parts, i + 1
        if src.startswith("$${", i) or src.startswith("%%{", i):
            buf.append(src[i + 1:i + 3])
            i += 3
            continue
        if src.startswith("${", i) or src.startswith("%{", i):
            j = _match_brace(src, i + 1)
            if buf:
                parts.append("".join(buf))
                buf = []
            inner = src[i + 2:j]
            parts.append(("directive" if ch == "%" else "interp", inner))
            i = j + 1
            continue
        buf.append(ch)
        i += 1
    raise ExprError("a string is not closed (missing \")")


def _match_brace(src: str, i: int) -> int:
    """Index of the ``}`` that closes the ``{`` at ``i`` (strings inside are skipped)."""
    depth = 0
    while i < len(src):
        ch = src[i]
        if ch == '"':
            _, i = _scan_string(src, i + 1)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ExprError("a '${' or '{' is not closed")


def tokenize(src: str) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if not m:
            raise ExprError(f"unexpected character {src[i]!r} at {i} in {src!r}")
        kind = m.lastgroup or ""
        if kind == "ws":
            i = m.end()
            continue
        if kind == "quote":
            parts, j = _scan_string(src, i + 1)
            out.append(Tok("str", json.dumps(parts), i))
            i = j
            continue
        if kind == "heredoc":
            raise ExprError("heredocs inside expressions are not supported")
        out.append(Tok(kind, m.group(), i))
        i = m.end()
    out.append(Tok("eof", "", len(src)))
    return out


# ----------------------------------------------------------------------------- syntax tree
# Nodes are tuples: (kind, ...). Kept as plain tuples: small, hashable, cacheable.

_BINARY = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = tokenize(src)
        self.i = 0

    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self, text: str | None = None, kind: str | None = None) -> Tok:
        t = self.peek()
        if (text is not None and t.text != text) or (kind is not None and t.kind != kind):
            want = text or kind
            raise ExprError(f"expected {want!r} but found {t.text or 'the end'!r} in {self.src!r}")
        self.i += 1
        return t

    def at(self, text: str) -> bool:
        t = self.peek()
        return t.text == text and t.kind in ("op", "ident")

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "eof":
            raise ExprError(f"unexpected {self.peek().text!r} in {self.src!r}")
        return node

    def expr(self) -> Node:
        cond = self.binary(0)
        if self.at("?"):
            self.take("?")
            a = self.expr()
            self.take(":")
            b = self.expr()
            return ("cond", cond, a, b)
        return cond

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in _BINARY[level]:
            op = self.take().text
            right = self.binary(level + 1)
            left = ("bin", op, left, right)
        return left

    def unary(self) -> Node:
        if self.at("!") or self.at("-"):
            op = self.take().text
            return ("un", op, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.at("."):
                self.take(".")
                t = self.peek()
                if t.kind in ("ident", "num"):
                    self.take()
                    node = ("attr", node, t.text) if t.kind == "ident" else ("index", node, ("lit", int(float(t.text))))
                else:
                    raise ExprError(f"expected a name after '.' in {self.src!r}")
            elif self.at("[*]") or self.at(".*"):
                self.take()
                rest: list[tuple[str, Any]] = []
                while self.at(".") or self.at("["):
                    if self.at("."):
                        self.take(".")
                        rest.append(("attr", self.take(kind="ident").text))
                    else:
                        self.take("[")
                        rest.append(("index", self.expr()))
                        self.take("]")
                node = ("splat", node, tuple(rest))
            elif self.at("["):
                self.take("[")
                idx = self.expr()
                self.take("]")
                node = ("index", node, idx)
            else:
                return node

    def primary(self) -> Node:
        t = self.peek()
        if t.kind == "num":
            self.take()
            v = float(t.text)
            return ("lit", int(v) if v.is_integer() and "." not in t.text and "e" not in t.text.lower() else v)
        if t.kind == "str":
            self.take()
            return self.template(json.loads(t.text))
        if t.kind == "ident":
            self.take()
            if t.text in ("true", "false"):
                return ("lit", t.text == "true")
            if t.text == "null":
                return ("lit", None)
            if self.at("("):
                self.take("(")
                args = []
                expand = False
                while not self.at(")"):
                    args.append(self.expr())
                    if self.at("..."):
                        self.take("...")
                        expand = True
                    if not self.at(")"):
                        self.take(",")
                self.take(")")
                return ("call", t.text, tuple(args), expand)
            return ("var", t.text)
        if self.at("("):
            self.take("(")
            e = self.expr()
            self.take(")")
            return e
        if self.at("["):
            return self.list_or_for()
        if self.at("{"):
            return self.object_or_for()
        raise ExprError(f"unexpected {t.text or 'end'!r} in {self.src!r}")

    def template(self, parts: list[TemplatePart]) -> Node:
        nodes = []
        for p in parts:
            if isinstance(p, str):
                nodes.append(("lit", p))
            elif p[0] == "interp":
                nodes.append(_Parser(p[1].strip().rstrip("~").lstrip("~")).parse())
            else:
                nodes.append(("unknown", "template directives (%{ }) are not evaluated"))
        if len(nodes) == 1 and nodes[0][0] == "lit":
            return nodes[0]
        return ("tmpl", tuple(nodes))

    def list_or_for(self) -> Node:
        self.take("[")
        if self.at("for"):
            self.take("for")
            k, v = self.for_names()
            coll = self.expr()
            self.take(":")
            body = self.expr()
            cond = self.for_if()
            self.take("]")
            return ("forlist", k, v, coll, body, cond)
        items = []
        while not self.at("]"):
            items.append(self.expr())
            if not self.at("]"):
                self.take(",")
        self.take("]")
        return ("list", tuple(items))

    def for_names(self) -> tuple[str | None, str]:
        a = self.take(kind="ident").text
        if self.at(","):
            self.take(",")
            b = self.take(kind="ident").text
            self.take("in")
            return a, b
        self.take("in")
        return None, a

    def for_if(self) -> Node | None:
        if self.at("if"):
            self.take("if")
            return self.expr()
        return None

    def object_or_for(self) -> Node:
        self.take("{")
        if self.at("for"):
            self.take("for")
            k, v = self.for_names()
            coll = self.expr()
            self.take(":")
            key = self.expr()
            self.take("=>")
            val = self.expr()
            group = False
            if self.at("..."):
                self.take("...")
                group = True
            cond = self.for_if()
            self.take("}")
            return ("formap", k, v, coll, key, val, cond, group)
        items = []
        while not self.at("}"):
            t = self.peek()
            if t.kind == "ident" and self.peek(1).text in ("=", ":"):
                self.take()
                key = ("lit", t.text)
            else:
                key = self.expr()
            if self.at("="):
                self.take("=")
            else:
                self.take(":")
            items.append((key, self.expr()))
            if self.at(","):
                self.take(",")
        self.take("}")
        return ("obj", tuple(items))


_CACHE: dict[str, Node] = {}


def parse(src: str) -> Node:
    """Parse one HCL expression (raises ExprError)."""
    node = _CACHE.get(src)
    if node is None:
        node = _Parser(src).parse()
        if len(_CACHE) < 20000:
            _CACHE[src] = node
    return node


# ----------------------------------------------------------------------------- evaluation


class Scope:
    """Names an expression can see. ``lookup(root)`` returns the value of ``var``, ``local``,
    ``aws_subnet`` ...; ``attr(value, name)`` reads an attribute of a referenced object."""

    def __init__(self, lookup: Callable[[str], Any], names: dict[str, Any] | None = None) -> None:
        self._lookup = lookup
        self.names = names or {}

    def child(self, **names: Any) -> "Scope":
        s = Scope(self._lookup, {**self.names, **names})
        return s

    def get(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        return self._lookup(name)


class Lazy:
    """An object whose attributes are computed on demand (a resource, a module, ``var``)."""

    def get_attr(self, name: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def get_attr(v: Any, name: str) -> Any:
    if isinstance(v, Unknown):
        return v
    if isinstance(v, Lazy):
        return v.get_attr(name)
    if isinstance(v, dict):
        if name in v:
            return v[name]
        raise ExprError(f"no attribute {name!r} (keys: {', '.join(map(str, v)) or 'none'})")
    if v is None:
        raise ExprError(f"attribute {name!r} of null")
    raise ExprError(f"cannot read attribute {name!r} of a {type(v).__name__}")


def get_index(v: Any, i: Any) -> Any:
    u = _first_unknown(v, i)
    if u is not None:
        return u
    if isinstance(v, Lazy):
        return v.get_attr(str(i)) if not isinstance(i, int) else v.get_attr(f"[{i}]")
    if isinstance(v, list):
        if isinstance(i, float) and i.is_integer():
            i = int(i)
        if not isinstance(i, int) or isinstance(i, bool):
            raise ExprError(f"list index {i!r} is not a number")
        if not -len(v) < i < len(v) or i < 0:
            raise ExprError(f"index {i} is out of range for a list of {len(v)}")
        return v[i]
    if isinstance(v, dict):
        key = _to_str(i)
        if key not in v:
            raise ExprError(f"no key {key!r} (keys: {', '.join(map(str, v)) or 'none'})")
        return v[key]
    raise ExprError(f"cannot index a {type(v).__name__}")


def _to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float, str)):
        return str(v)
    if v is None:
        return ""
    if hasattr(v, "tf_str"):
        text: str = v.tf_str()
        return text
    raise ExprError(f"a {type(v).__name__} cannot be used as a string")


def _to_num(v: Any) -> int | float:
    if isinstance(v, bool):
        raise ExprError("a bool is not a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            f = float(v)
            return int(f) if f.is_integer() else f
        except ValueError:
            raise ExprError(f"{v!r} is not a number") from None
    raise ExprError(f"a {type(v).__name__} is not a number")


def _collection(v: Any) -> list[tuple[Any, Any]]:
    if isinstance(v, Lazy) and hasattr(v, "items"):
        return list(v.items())
    if isinstance(v, list):
        return list(enumerate(v))
    if isinstance(v, dict):
        return list(v.items())
    raise ExprError(f"cannot iterate over a {type(v).__name__}")


def evaluate(node: Node, scope: Scope) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "unknown":
        return Unknown(node[1])
    if kind == "tmpl":
        vals = [evaluate(n, scope) for n in node[1]]
        u = next((v for v in vals if is_unknown(v)), None)
        if u is not None:
            return u if isinstance(u, Unknown) else Unknown("part of a string is known only after apply")
        return "".join(_to_str(v) for v in vals)
    if kind == "var":
        return scope.get(node[1])
    if kind == "attr":
        return get_attr(evaluate(node[1], scope), node[2])
    if kind == "index":
        return get_index(evaluate(node[1], scope), evaluate(node[2], scope))
    if kind == "splat":
        base = evaluate(node[1], scope)
        if isinstance(base, Unknown):
            return base
        items = [v for _, v in _collection(base)] if isinstance(base, (list, Lazy)) else ([] if base is None else [base])
        out = []
        for it in items:
            for step in node[2]:
                it = get_attr(it, step[1]) if step[0] == "attr" else get_index(it, evaluate(step[1], scope))
            out.append(it)
        return out
    if kind == "list":
        return [evaluate(n, scope) for n in node[1]]
    if kind == "obj":
        obj: dict[str, Any] = {}
        for k, v in node[1]:
            key = evaluate(k, scope)
            if isinstance(key, Unknown):
                return key
            obj[_to_str(key)] = evaluate(v, scope)
        return obj
    if kind == "cond":
        c = evaluate(node[1], scope)
        if isinstance(c, Unknown):
            return c
        return evaluate(node[2] if _truthy(c) else node[3], scope)
    if kind == "un":
        v = evaluate(node[2], scope)
        if isinstance(v, Unknown):
            return v
        return (not _truthy(v)) if node[1] == "!" else -_to_num(v)
    if kind == "bin":
        return _binary(node[1], evaluate(node[2], scope), evaluate(node[3], scope))
    if kind == "call":
        return _call(node, scope)
    if kind == "forlist":
        _, k, v, coll, body, cond = node
        c = evaluate(coll, scope)
        if isinstance(c, Unknown):
            return c
        out_l = []
        for key, val in _collection(c):
            s = scope.child(**({k: key} if k else {}), **{v: val})
            if cond is not None and not _truthy(evaluate(cond, s)):
                continue
            out_l.append(evaluate(body, s))
        return out_l
    if kind == "formap":
        _, k, v, coll, key_n, val_n, cond, group = node
        c = evaluate(coll, scope)
        if isinstance(c, Unknown):
            return c
        out_m: dict[Any, Any] = {}
        for key, val in _collection(c):
            s = scope.child(**({k: key} if k else {}), **{v: val})
            if cond is not None and not _truthy(evaluate(cond, s)):
                continue
            kk = evaluate(key_n, s)
            if isinstance(kk, Unknown):
                return kk
            if group:
                out_m.setdefault(_to_str(kk), []).append(evaluate(val_n, s))
            else:
                out_m[_to_str(kk)] = evaluate(val_n, s)
        return out_m
    raise ExprError(f"cannot evaluate {kind}")


def _truthy(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v in ("true", "false"):
        return v == "true"
    raise ExprError(f"{v!r} is not a bool")


def _binary(op: str, a: Any, b: Any) -> Any:
    if op in ("&&", "||"):
        if not isinstance(a, Unknown) and op == "&&" and not _truthy(a):
            return False
        if not isinstance(a, Unknown) and op == "||" and _truthy(a):
            return True
        u = _first_unknown(a, b)
        return u if u else _truthy(b)
    u = _first_unknown(a, b)
    if u is not None:
        return u
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    x, y = _to_num(a), _to_num(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            raise ExprError("division by zero")
        r = x / y
        return int(r) if r.is_integer() else r
    if op == "%":
        if y == 0:
            raise ExprError("modulo by zero")
        return x % y
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


# ----------------------------------------------------------------------------- functions


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    net = ipaddress.ip_network(str(prefix), strict=False)
    nb, nn = int(_to_num(newbits)), int(_to_num(netnum))
    if net.prefixlen + nb > net.max_prefixlen:
        raise ExprError(f"cidrsubnet: {prefix} has no room for {nb} more bits")
    if not 0 <= nn < 2 ** nb:
        raise ExprError(f"cidrsubnet: network number {nn} does not fit in {nb} bits")
    size = 2 ** (net.max_prefixlen - net.prefixlen - nb)
    base = int(net.network_address) + nn * size
    return str(ipaddress.ip_network((base, net.prefixlen + nb)))


def _cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    net = ipaddress.ip_network(str(prefix), strict=False)
    out, cur = [], int(net.network_address)
    for nb in newbits:
        plen = net.prefixlen + int(_to_num(nb))
        size = 2 ** (net.max_prefixlen - plen)
        cur = (cur + size - 1) // size * size
        out.append(str(ipaddress.ip_network((cur, plen))))
        cur += size
    return out


def _cidrhost(prefix: Any, num: Any) -> str:
    net = ipaddress.ip_network(str(prefix), strict=False)
    n = int(_to_num(num))
    if not -net.num_addresses <= n < net.num_addresses:
        raise ExprError(f"cidrhost: host number {n} is outside {prefix}")
    return str(net[n])


def _element(lst: Any, i: Any) -> Any:
    if not isinstance(lst, list) or not lst:
        raise ExprError("element: needs a non-empty list")
    return lst[int(_to_num(i)) % len(lst)]


def _length(v: Any) -> int:
    if isinstance(v, (list, dict, str)):
        return len(v)
    if isinstance(v, Lazy) and hasattr(v, "items"):
        return len(v.items())
    raise ExprError(f"length: a {type(v).__name__} has no length")


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if not isinstance(m, dict):
        raise ExprError("lookup: the first argument must be a map")
    k = _to_str(key)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise ExprError(f"lookup: no key {k!r} and no default")


def _format(fmt: Any, *args: Any) -> str:
    out, ai = [], 0
    for m in re.finditer(r"%(%|[-+ 0#]*\d*(?:\.\d+)?[sdvfqtxXob])|[^%]+|%", str(fmt)):
        tok = m.group()
        if not tok.startswith("%") or tok == "%":
            out.append(tok)
            continue
        if tok == "%%":
            out.append("%")
            continue
        if ai >= len(args):
            raise ExprError("format: not enough arguments")
        a, ai = args[ai], ai + 1
        verb = tok[-1]
        spec = tok[1:-1]
        if verb in "sv":
            out.append(("%" + spec + "s") % _to_str(a))
        elif verb == "q":
            out.append(json.dumps(_to_str(a)))
        elif verb == "t":
            out.append("true" if a else "false")
        else:
            out.append(("%" + spec + verb) % _to_num(a))
    return "".join(out)


def _flatten(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in v:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


def _merge(*ms: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for m in ms:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise ExprError("merge: every argument must be a map")
        out.update(m)
    return out


def _range(*a: Any) -> list[int]:
    nums = [int(_to_num(x)) for x in a]
    if len(nums) == 1:
        nums = [0, nums[0]]
    r = list(range(*nums))
    if len(r) > 1024:
        raise ExprError("range: more than 1024 elements")
    return r


def _coalesce(*a: Any) -> Any:
    for x in a:
        if x is not None and x != "":
            return x
    raise ExprError("coalesce: every argument is null or empty")


def _distinct(lst: Any) -> list[Any]:
    out: list[Any] = []
    for x in lst:
        if x not in out:
            out.append(x)
    return out


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "cidrsubnet": _cidrsubnet, "cidrsubnets": _cidrsubnets, "cidrhost": _cidrhost,
    "element": _element, "length": _length, "concat": lambda *ls: [x for l in ls for x in l],
    "merge": _merge, "lookup": _lookup, "format": _format,
    "join": lambda sep, lst: _to_str(sep).join(_to_str(x) for x in lst),
    "split": lambda sep, s: _to_str(s).split(_to_str(sep)),
    "tolist": lambda v: list(v), "toset": lambda v: _distinct(list(v)), "tomap": lambda v: dict(v),
    "flatten": _flatten, "range": _range, "keys": lambda m: sorted(m), "values": lambda m: [m[k] for k in sorted(m)],
    "zipmap": lambda ks, vs: dict(zip(map(_to_str, ks), vs)), "min": lambda *a: min(map(_to_num, a)),
    "max": lambda *a: max(map(_to_num, a)), "coalesce": _coalesce, "contains": lambda lst, v: v in lst,
    "distinct": _distinct, "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "lower": lambda s: _to_str(s).lower(), "upper": lambda s: _to_str(s).upper(),
    "replace": lambda s, a, b: _to_str(s).replace(_to_str(a), _to_str(b)),
    "substr": lambda s, o, n: (_to_str(s)[int(o):] if int(o) < 0 else _to_str(s)[int(o):])[: int(n) if int(n) >= 0 else None],
    "tostring": _to_str, "tonumber": _to_num, "slice": lambda lst, a, b: lst[int(_to_num(a)):int(_to_num(b))],
    "compact": lambda lst: [x for x in lst if x not in (None, "")], "abs": lambda x: abs(_to_num(x)),
    "trimspace": lambda s: _to_str(s).strip(), "one": lambda lst: (lst[0] if lst else None),
    "sum": lambda lst: sum(map(_to_num, lst)), "reverse": lambda lst: list(reversed(lst)),
    "index": lambda lst, v: lst.index(v), "sort": lambda lst: sorted(lst, key=_to_str),
    "setproduct": lambda *ls: [list(t) for t in __import__("itertools").product(*ls)],
}
#: Functions whose answer depends on the machine or the account: unknown offline.
UNKNOWABLE = {"file", "templatefile", "fileexists", "filebase64", "timestamp", "uuid", "bcrypt", "sha256",
              "md5", "base64encode", "base64decode", "pathexpand", "abspath", "yamldecode", "jsondecode",
              "filemd5", "filesha256", "fileset", "sensitive", "nonsensitive", "regex", "regexall", "formatdate"}


#: Functions that only move values around: an unknown element stays an unknown element.
_STRUCTURAL = {"concat", "merge", "length", "element", "lookup", "flatten", "tolist", "toset", "distinct", "compact",
               "slice", "keys", "values", "zipmap", "one", "tomap", "coalesce", "reverse", "setproduct"}


def _call(node: Node, scope: Scope) -> Any:
    _, name, arg_nodes, expand = node
    if name == "try":
        for a in arg_nodes:
            try:
                v = evaluate(a, scope)
            except ExprError:
                continue
            return v
        raise ExprError("try: every argument failed")
    if name == "can":
        try:
            evaluate(arg_nodes[0], scope)
            return True
        except ExprError:
            return False
    if name in UNKNOWABLE:
        return Unknown(f"{name}() reads files or the clock: not evaluated offline")
    fn = FUNCTIONS.get(name)
    if fn is None:
        return Unknown(f"the function {name}() is not evaluated by tierlab")
    args = [evaluate(a, scope) for a in arg_nodes]
    if expand and args:
        last = args.pop()
        if isinstance(last, Unknown):
            return last
        args.extend(last if isinstance(last, list) else list(last.values()))
    top = next((a for a in args if isinstance(a, Unknown)), None)
    if top is not None and name != "coalesce":
        return top
    if name not in _STRUCTURAL:
        u = next((a for a in args if is_unknown(a)), None)
        if u is not None:
            return Unknown(f"an argument of {name}() is known only after apply")
    try:
        return fn(*args)
    except ExprError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError) as exc:
        raise ExprError(f"{name}(): {exc}") from None


# ----------------------------------------------------------------------------- python-hcl2 values


def source_to_node(text: str) -> Node:
    """One python-hcl2 leaf string (``"\\"x\\""``, ``"${...}"``, ``"<<EOT..."`` or a bare word) -> node."""
    s = text
    if s.startswith('"<<'):
        body = s[1:-1] if s.endswith('"') else s[1:]
        lines = body.split("\n")
        inner = "\n".join(lines[1:-1]) + "\n"
        if lines[0].startswith("<<-"):
            inner = "\n".join(l.lstrip() for l in inner.split("\n"))
        parts, _ = _scan_string(inner.replace("\\", "\\\\").replace('"', '\\"') + '"', 0)
        return _Parser("0").template(parts)
    if s.startswith("${") and _is_one_interp(s):
        return parse(s[2:-1])
    return parse(s)


def _is_one_interp(s: str) -> bool:
    try:
        return _match_brace(s, 1) == len(s) - 1
    except ExprError:
        return False
