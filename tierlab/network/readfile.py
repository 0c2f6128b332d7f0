"""Reading a YAML data file safely: every way it can fail becomes a ScenarioError naming the file and the fix.

Nothing here trusts the file: its type is checked before it is opened (a FIFO or a device would
block or never end), it is opened without blocking and read up to a size limit, its bytes must be
UTF-8 text without NUL bytes, and its YAML events are counted before anything is built, so an
alias bomb, a 1,000-deep nesting or a million-item list is refused in milliseconds instead of
eating memory. The fast C safe loader is used where PyYAML has it.

:func:`read_bounded` is that first half on its own (a regular file, not blocking, within a size limit, a link
followed or refused), for every file tierlab reads that someone else wrote: learners' progress files too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import ScenarioError, TierlabError, TopologyError
from .limits import printable

__all__ = ["read_yaml", "read_yaml_text", "read_bounded", "read_import_text", "Fail", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES",
           "IMPORT_MAX_BYTES"]

#: Largest data file read (the seed is about 10 KB).
MAX_BYTES = 5 * 1024 * 1024
#: Deepest nesting of mappings and lists (the seed nests 5 deep).
MAX_DEPTH = 64
#: Most values once every alias is expanded (the seed has about 1,500; 200 subnets with full NACLs ~15,000).
MAX_NODES = 50_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader where PyYAML was built with libyaml


def _fail(file: str, message: str, hint: str) -> ScenarioError:
    return ScenarioError(message, hint, file=file)


Fail = Callable[[str, str], TierlabError]
"""Turns (what is wrong with the file, how to fix it) into the caller's error, which names the file its way."""


def _open_regular(path: Path, fail: Fail, *, max_bytes: int, follow: bool, noun: str, size_hint: str,
                  link_hint: str) -> int:
    """An fd of ``path`` opened without blocking, after checking that it is a regular file of sane size."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise fail("is a symbolic link, which is not followed", link_hint)
        if stat.S_ISDIR(st.st_mode):
            raise fail("is a folder, not a file", f"give the path of {noun} inside it")
        if not stat.S_ISREG(st.st_mode):
            raise fail("is not a regular file (a pipe, a device or a socket)",
                       f"copy the content into {noun} and give that file's path")
        if st.st_size > max_bytes:
            raise fail(f"is {st.st_size:,} bytes, over the limit of {max_bytes:,}", size_hint)
        nofollow = 0 if follow else getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | nofollow)
    except TierlabError:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise fail("file not found", "check the path (it is read relative to the current folder)") from None
    except PermissionError:
        raise fail("cannot be read: permission denied", "check the file's permissions (chmod u+r)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:  # swapped for a link since the check above
            raise fail("is a symbolic link, which is not followed", link_hint) from None
        if exc.errno == errno.ELOOP:
            raise fail("is a symbolic link that loops back on itself", "point the link at a real file") from None
        raise fail(f"cannot be opened ({printable(exc.strerror or str(exc))})", "check the path") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the check above
        os.close(fd)
        raise fail("is not a regular file", f"give the path of {noun}")
    return fd


def read_bounded(path: Path | str, fail: Fail, *, max_bytes: int, follow: bool = True, noun: str = "a file",
                 size_hint: str = "check that this is the right file",
                 link_hint: str = "give the path of the file itself, not of a link to it") -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``: every way that fails is
    ``fail(message, hint)`` (the caller's error, naming the file its way). Never blocks on a FIFO, never reads a
    device; with ``follow=False`` a symbolic link is refused, not followed (a file in someone else's folder).
    ``noun`` names a right file in the hints ("a .yaml file"), ``size_hint`` says what size a right one has."""
    fd = _open_regular(Path(path), fail, max_bytes=max_bytes, follow=follow, noun=noun, size_hint=size_hint,
                       link_hint=link_hint)
    try:
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise fail(f"cannot be read ({printable(exc.strerror or str(exc))})", "check the file") from None
    finally:
        os.close(fd)
    if size > max_bytes:  # it grew since it was measured
        raise fail(f"is over the limit of {max_bytes:,} bytes", size_hint)
    return b"".join(chunks)


def _read_bytes(path: Path, file: str) -> bytes:
    return read_bounded(path, lambda message, hint: _fail(file, message, hint), max_bytes=MAX_BYTES,
                        noun="a .yaml file", size_hint="a topology file is a few KB: check that this is the right file")


def _decode(data: bytes, file: str) -> str:
    if b"\x00" in data:
        raise _fail(file, f"contains a NUL byte at offset {data.index(0)}: it is not a text file",
                    "give the path of a YAML text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(file, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})",
                    "save the file as UTF-8 (most editors offer it under 'Save as' / 'Encoding')") from None


def _check_shape(text: str, file: str) -> None:
    """Count nesting depth and alias-expanded size from the event stream, before building anything."""
    sizes: dict[str, int] = {}  # anchor -> expanded size of the node it names
    stack: list[tuple[int, str | None]] = [(0, None)]  # (size so far, anchor) of each open collection
    total = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append((1, event.anchor))
            if len(stack) - 1 > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                raise _fail(file, f"nests more than {MAX_DEPTH} levels deep (line {line})",
                            "a topology nests a few levels: check the indentation and brackets")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            size, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            stack[-1] = (stack[-1][0] + size, stack[-1][1])
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            size = sizes.get(event.anchor or "", 1) if isinstance(event, yaml.AliasEvent) else 1
            if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
                sizes[event.anchor] = 1
            stack[-1] = (stack[-1][0] + size, stack[-1][1])
        else:
            continue
        total = sum(s for s, _ in stack)
        if total > MAX_NODES:
            raise _fail(file, f"expands to more than {MAX_NODES:,} values (aliases count once per use)",
                        "a topology has a few thousand values at most: remove the repeated aliases (*name)")


def _yaml_error(exc: yaml.YAMLError, file: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = printable(str(getattr(exc, "problem", None) or exc), 200)
    return _fail(file, f"is not valid YAML{where}: {problem}", "check indentation and that lists start with '- '")


def read_yaml_text(text: str, file: str = "<text>") -> Any:
    """Parse YAML text within the limits above (see :func:`read_yaml`)."""
    try:
        _check_shape(text, file)
        return yaml.load(text, Loader=_Loader)
    except ScenarioError:
        raise
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file) from None
    except (ValueError, OverflowError, TypeError) as exc:  # a value YAML recognises but Python cannot build
        why = printable(str(exc), 200)
        if "digits" in why:
            raise _fail(file, "holds a number of more than 4,300 digits",
                        "no setting needs such a number: shorten it, or quote it if it is text") from None
        raise _fail(file, f"holds a value that cannot be read ({why})",
                    "check dates and numbers; quote a value that is meant as text") from None
    except RecursionError:
        raise _fail(file, "nests too deeply to read", "check the indentation and brackets") from None


def read_yaml(path: Path | str) -> Any:
    """Read one YAML data file. Any failure is a ScenarioError naming the file and the fix."""
    if not isinstance(path, (str, Path)):
        raise ScenarioError(f"{printable(repr(path), 60)} is not a file path", "give the path of a YAML file")
    file = printable(str(path), 300)
    if str(path).strip() == "":
        raise _fail("''", "an empty file name", "give the path of a YAML file, or a topology name such as seed")
    if "\x00" in str(path):
        raise _fail(file, "the file name contains a NUL byte", "give the path of a YAML file")
    return read_yaml_text(_decode(_read_bytes(Path(path), file), file), file)


#: The largest file an importer reads (a .tf, a .tfvars, ``terraform show -json``, an AWS describe output): a
#: whole account's state is a few MB. Beyond it, or a device such as /dev/zero, a FIFO, a folder: refused.
IMPORT_MAX_BYTES = 64 * 1024 * 1024


def read_import_text(path: Path, name: str) -> str:
    """The text of an importer's input file ``path`` (``name``: how the notes name it), bounded like every file
    tierlab reads: a TopologyError names the file instead of reading /dev/zero until memory runs out."""
    def fail(message: str, hint: str) -> TierlabError:
        return TopologyError(f"{printable(name, 160)} {message}", hint)

    data = read_bounded(path, fail, max_bytes=IMPORT_MAX_BYTES, noun="a .tf, .tfvars or .json file",
                        size_hint=f"an import reads files of at most {IMPORT_MAX_BYTES // 2**20} MB: "
                        "check that this is the right file")
    return data.decode("utf-8")  # UnicodeDecodeError: each caller reports "not valid HCL/JSON" for its file
