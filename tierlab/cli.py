"""``tierlab`` on the command line.

    tierlab journey [-t seed|FILE] [--off RULE_ID ...] [--os linux|windows|macos]
                    [--database primary|standby] [--json]
    tierlab check FILE [FILE ...]
    tierlab rules [-t seed|FILE]
    tierlab reach SRC DST [PORT] [-t seed|FILE] [--zone-down AZ ...] [--checks]
                    (DST may be an AWS service: ssm, s3, ... or internet; PORT defaults to 443)
    tierlab audit [seed|FILE|TERRAFORM_FOLDER|AWS_JSON_FOLDER] [--json]
    tierlab handout DIR [--force] [--no-wheel] [--hub URL --repo URL]
    tierlab book [DIR] [--force]            (the static edition: HTML built offline, Jupyter Book 1.x)
    tierlab progress [HOME|FILE ...] [--json]   (the class; none: your own progress, lesson by lesson)
    tierlab hub [--learners N | --names a,b] [--port 8000] [--data DIR] [--db-url URL] [--admin NAME]

-t and FILE also take a Terraform folder (``-t ./infra``), a ``terraform show -json`` file or a
folder of AWS describe-*.json outputs.

Exit status: 0 the journey (or reachability) gets through, 1 it is blocked, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Mapping, Sequence

from .errors import ScenarioError, TierlabError, ValidationError
from .network.limits import printable
from .request.journey import OSES, journey
from .network.importers import import_any, load_any as load  # names, YAML, Terraform folders, AWS JSON
from .network.reachability import can_reach

__all__ = ["main"]


#: Control characters other than newline and tab: a file (a learner's progress file, a topology's names) could
#: otherwise move the cursor, retitle the window or write the clipboard of whoever reads the output (OSC 52).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _print(text: object = "", *, err: bool = False) -> None:
    """Print anything a file may hold: characters the terminal cannot show (lone surrogates) and control
    characters (escape sequences) are escaped."""
    stream = sys.stderr if err else sys.stdout
    safe = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    print(safe.encode("utf-8", "backslashreplace").decode("utf-8"), file=stream)


def _table(rows: Sequence[Mapping[Any, Any]], cols: list[str], widths: dict[str, int] | None = None) -> str:
    widths = widths or {}
    cut = {c: widths.get(c, 200) for c in cols}
    def show(v: object) -> str:
        return "-" if v is None or str(v) in ("None", "<NA>", "nan") else str(v)

    cells = [[show(r.get(c, ""))[: cut[c]] for c in cols] for r in rows]
    w = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w[i]) for i, c in enumerate(cols))
    out = [line, "  ".join("-" * x for x in w)]
    out += ["  ".join(row[i].ljust(w[i]) for i in range(len(cols))) for row in cells]
    return "\n".join(out)


def _journey(args: argparse.Namespace) -> int:
    topo = load(args.topology)
    if args.off:
        topo = topo.switch_off(*args.off)
    trace = journey(topo, os=args.os, database=args.database)
    if args.json:
        _print(trace.to_json(indent=2))
        return 0 if trace.ok else 1
    _print(trace.summary())
    _print()
    df = trace.frame()
    rows = df.to_dict("records")
    if not args.all:  # one pair is enough to read; blocked rows of every pair
        first = trace.pairs[0].name if trace.pairs else ""
        rows = [r for r in rows if r["pair"] in ("", first) or r["verdict"] not in ("allow", "stateful", "skip", "not_reached")]
    dep = ["depends_on"] if topo.assumptions else []  # an import's assumptions a verdict depends on
    pairs = trace.pairs_frame().to_dict("records")
    for r in rows + pairs if dep else []:  # the resource of each: the summary above says file, attribute and why
        r["depends_on"] = "; ".join(dict.fromkeys(w.split(": ", 1)[-1].split(" (")[0]
                                                  for w in r["depends_on"].split("; ") if w))
    _print(_table(rows, ["seed_step", "step", "pair", "leg", "component", "direction", "verdict", *dep, "rule", "reason"],
                 {"reason": 110, "pair": 26, "rule": 28, "depends_on": 60}))
    _print()
    _print(_table(pairs, ["node", "target", "ok", "status", *dep, "reason"],
                  {"reason": 110, "depends_on": 60}))
    return 0 if trace.ok else 1


def _check(args: argparse.Namespace) -> int:
    """Every file is checked and reported, whatever happened to the ones before it."""
    status = 0
    for f in args.files:
        try:
            t = load(f)
        except ValidationError as exc:
            _print(str(exc))
            status = 2
            continue
        except (TierlabError, OSError) as exc:
            text = str(exc) if isinstance(exc, TierlabError) else f"{exc.strerror or type(exc).__name__}"
            _print(f"error: {text}" if str(f) in text else f"{f}: error: {text}", err=True)
            status = 2
            continue
        _print(f"{f}: OK — topology {t.name!r}: {len(t.subnets)} subnets, {len(t.rules())} rules, "
               f"{len(t.instances)} instances")
        imp = import_any(f)
        if imp is not None:  # an imported project: what was not taken as written
            _print(f"  {imp.summary()}")
            for n in imp.notes:
                if n.status != "parsed":
                    _print(f"  - {n}")
    return status


def _rules(args: argparse.Namespace) -> int:
    topo = load(args.topology)
    rows = []
    for r in topo.rules():
        rows.append({"id": r.id, "owner": topo.owner_of(r.id), "enabled": r.enabled, "rule": r.describe(),
                     "seed_checkpoint": r.seed_checkpoint or "", "description": r.description})
    _print(_table(rows, ["id", "owner", "enabled", "seed_checkpoint", "rule", "description"], {"description": 70}))
    return 0


def _reach(args: argparse.Namespace) -> int:
    topo = load(args.topology)
    if args.zone_down:
        topo = topo.with_zone_down(*args.zone_down)
    r = can_reach(topo, args.src, args.dst, args.port, os=args.os)
    _print(r.reason)
    if args.checks:
        _print(_table(r.frame().to_dict("records"), ["leg", "kind", "component", "direction", "verdict", "code", "reason"],
                      {"reason": 90}))
    return 0 if r.ok else 1


def _audit(args: argparse.Namespace) -> int:
    from .request.audit import audit

    imp = import_any(args.topology)
    a = audit(imp if imp is not None else load(args.topology))
    if args.json:
        _print(a.frame().drop(columns=["reason"]).to_json(orient="records", indent=2))
    else:
        _print(a.summary())
        _print(_table(a.frame().to_dict("records"), ["severity", "control", "object", "finding", "evidence", "fix"],
                     {"evidence": 90, "fix": 60, "object": 30}))
    return 1 if any(f.severity in ("critical", "high") for f in a.findings) else 0


def _handout(args: argparse.Namespace) -> int:
    from .course.handout import handout, nbgitpuller_link

    link = None
    if args.hub is not None or args.repo is not None:  # checked before anything is written
        if not (args.hub and args.repo):
            raise ScenarioError("the nbgitpuller link needs both --hub and --repo",
                                "tierlab handout DIR --hub https://HUB --repo https://github.com/you/tierlab-class")
        try:
            link = nbgitpuller_link(args.hub, args.repo, branch=args.branch)
        except TierlabError as exc:
            raise ScenarioError(exc.message, "--hub and --repo take full URLs: --hub https://hub.example.org "
                                "--repo https://github.com/you/tierlab-class") from None
    _print(handout(args.dir, overwrite=args.force, wheel=not args.no_wheel).summary())
    if link:
        _print(f"nbgitpuller link: {link}")
    return 0


def _book(args: argparse.Namespace) -> int:
    from .course.book import build

    _print(build(args.dir, overwrite=args.force).summary())
    return 0


def _progress(args: argparse.Namespace) -> int:
    from .course.progress import class_progress, progress, progress_path

    p = class_progress(args.sources) if args.sources else progress()
    if args.json:
        per = p.per_exercise()
        rows = [{k: (None if v is None or v != v else int(v) if k == "attempts_to_pass" else v) for k, v in r.items()}
                for r in per.to_dict("records")]  # not passed yet: None or NaN (no JSON value), as pandas has it
        _print(json.dumps({"learners": p._learners(), "exercises": rows,
                           "unreadable": [{"file": u.file, "bad_lines": u.bad, "lines": u.lines,
                                           "first_bad_line": u.first_line} for u in p.unreadable]}, indent=2,
                          default=str))
        return 0
    _print(p.report(width=80))
    if not args.sources and not p.records:
        _print(f"a check cell you run records its verdict in\n  {printable(str(progress_path()), 120)}")
    return 0


def _hub(args: argparse.Namespace) -> int:
    from .hub import ClassHub

    if args.names is not None and args.learners is not None:
        raise ScenarioError(f"--learners {args.learners} and --names {printable(args.names, 40)!r} both say who is "
                            "in the class", "give one: --learners N (tierlab-01 ..) or --names ada,bob")
    if args.names is not None:
        learners: int | list[str] = [n for n in args.names.split(",") if n.strip()]
    else:
        learners = 30 if args.learners is None else args.learners
    hub = ClassHub(learners, data=args.data, port=args.port, db_url=args.db_url, cull_idle_s=args.cull_idle_s,
                   isolation="shared-account" if args.shared_account else "auto", keep_work=args.keep_work,
                   admin=args.admin)
    hub.check()  # the port and the class folder: a bad argument is told before anything is made or started
    print(f"tierlab hub: preparing {hub.data} (the course, accounts, one database per learner)", flush=True)
    try:
        hub.start()
    except KeyboardInterrupt:
        hub.stop()
        return 130
    print(hub.summary(), flush=True)
    print("Ctrl-C stops the hub and every learner's server" + (" (their files stay)." if args.keep_work else
          " and removes their accounts and homes (--keep-work keeps the homes)."), flush=True)
    return hub.wait()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tierlab", description="The AWS 3-tier Create Account journey, checked as AWS would.")
    sub = p.add_subparsers(dest="command", required=True)
    j = sub.add_parser("journey", help="evaluate the Create Account journey")
    j.add_argument("-t", "--topology", default="seed", help="a topology name (seed, seed-as-written) or a YAML file")
    j.add_argument("--off", action="append", default=[], metavar="RULE_ID", help="switch a rule off (repeatable)")
    j.add_argument("--os", default="linux", choices=OSES, help="the internet user's OS (its ephemeral ports)")
    j.add_argument("--database", default="primary", choices=("primary", "standby"), help="standby = after a failover")
    j.add_argument("--json", action="store_true", help="machine-readable output")
    j.add_argument("--all", action="store_true", help="every check of every pair, not just the first pair")
    j.set_defaults(func=_journey)
    c = sub.add_parser("check", help="validate topology files")
    c.add_argument("files", nargs="+")
    c.set_defaults(func=_check)
    r = sub.add_parser("rules", help="list every rule id")
    r.add_argument("-t", "--topology", default="seed")
    r.set_defaults(func=_rules)
    q = sub.add_parser("reach", help="can SRC reach DST on PORT? (DST: an endpoint, internet, or an AWS service such as ssm)")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("port", type=int, nargs="?", default=443)
    q.add_argument("-t", "--topology", default="seed")
    q.add_argument("--os", default="linux", choices=OSES)
    q.add_argument("--zone-down", action="append", default=[], metavar="AZ", help="an Availability Zone that is down")
    q.add_argument("--checks", action="store_true", help="print every check with its reason")
    q.set_defaults(func=_reach)
    a = sub.add_parser("audit", help="findings with evidence, the fix as a what-if, Security Hub controls")
    a.add_argument("topology", nargs="?", default="seed", help="a name, a YAML file, a Terraform folder or AWS JSON folder")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_audit)
    h = sub.add_parser("handout", help="write the learners' edition of the course (no solutions) into DIR")
    h.add_argument("dir")
    h.add_argument("--force", action="store_true", help="replace a previous handout in DIR")
    h.add_argument("--no-wheel", action="store_true",
                   help="leave tierlab's wheel out (a JupyterHub or Binder image that has tierlab installed)")
    h.add_argument("--hub", help="a JupyterHub URL: print the nbgitpuller link (with --repo)")
    h.add_argument("--repo", help="the git repository the handout is published to")
    h.add_argument("--branch", default="main")
    h.set_defaults(func=_handout)
    b = sub.add_parser("book", help="build the static edition of the course (HTML, offline, no answers) into DIR")
    b.add_argument("dir", nargs="?", default="build/book")
    b.add_argument("--force", action="store_true", help="replace a previous build in DIR")
    b.set_defaults(func=_book)
    g = sub.add_parser("progress", help="the class table: learner x exercise, from learners' homes or export files")
    g.add_argument("sources", nargs="*", metavar="HOME|FILE")
    g.add_argument("--json", action="store_true", help="every (learner, exercise) with its attempts, machine-readable")
    g.set_defaults(func=_progress)
    k = sub.add_parser("hub", help="a JupyterHub for a class on this machine (127.0.0.1): accounts, homes, "
                                   "one database per learner, idle servers culled")
    k.add_argument("--learners", type=int, help="accounts tierlab-01 .. tierlab-N (default 30)")
    k.add_argument("--names", help="comma-separated learner names instead (accounts tierlab-NAME)")
    k.add_argument("--port", type=int, default=8000, help="where the hub listens on 127.0.0.1 (default 8000)")
    k.add_argument("--data", help="the class folder (default: .tierlab-hub/ in the checkout)")
    k.add_argument("--db-url", help="an admin URL of the class's PostgreSQL (CREATEROLE, CREATEDB); "
                                    "default: tierlab starts one")
    k.add_argument("--admin", default="instructor",
                   help="the instructor's hub user (account tierlab-ADMIN; default instructor): a second class "
                        "running on this machine needs its own")
    k.add_argument("--cull-idle-s", type=int, default=1800, help="stop servers idle this long (default 1800)")
    k.add_argument("--shared-account", action="store_true",
                   help="run every learner's server as this account (no per-learner Unix account)")
    k.add_argument("--keep-work", action="store_true",
                   help="keep the learners' homes (and their databases on --db-url's server) when the hub stops")
    k.set_defaults(func=_hub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for bad usage, 0 for --help
        return int(exc.code or 0)
    try:
        _no_nul(args, parser)
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `tierlab journey | head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # a path the system refuses (too long, not a folder, ...) is bad input too
        return _fail(args, ScenarioError(f"{exc.strerror or type(exc).__name__}: "
                                         f"{printable(str(exc.filename or ''), 120)}",
                                         _PATH_HINTS.get(args.command, _PATH_HINTS["journey"])))
    except TierlabError as exc:
        return _fail(args, exc)


_PATH_HINTS = {
    "journey": "check the path; give a topology name, a YAML file or a Terraform folder",
    "handout": "check the path: DIR is a new or empty folder you can write to",
    "book": "check the path: DIR is a new or empty folder you can write to",
    "progress": "check the path: give learners' home folders or the progress .jsonl files they sent",
    "hub": "check the path of --data: a folder you can write to",
}


def _no_nul(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """A NUL byte cannot be part of a path or a name (the OS refuses it with a ValueError, not an OSError)."""
    options = _option_names(parser, args.command)
    for name, value in vars(args).items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and "\x00" in v:
                raise ScenarioError(f"{options.get(name, name)} {printable(repr(v), 80)} contains a NUL byte",
                                    "no path or name can hold one: check how the argument was built")


def _option_names(parser: argparse.ArgumentParser, command: str) -> dict[str, str]:
    """A sub-command's argument names as the user typed them (``db_url`` -> ``--db-url``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return {a.dest: max(a.option_strings, key=len) for a in action.choices[command]._actions
                    if a.option_strings}
    return {}


def _fail(args: argparse.Namespace, exc: TierlabError) -> int:
    if getattr(args, "json", False):
        _print(json.dumps({"error": exc.message, "hint": exc.hint}))
    else:
        _print(f"error: {exc}", err=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
