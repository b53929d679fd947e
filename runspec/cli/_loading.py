"""Loading a SPEC: a JSON file, ``-`` (standard input), or ``module:attribute`` naming a run."""

from __future__ import annotations

import difflib
import errno
import importlib
import inspect
import os
import re
import stat
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import runspec
from runspec._text import article
from runspec.build import Run
from runspec.cli._output import CliError
from runspec.errors import SpecError
from runspec.spec import RunSpec

_MODULE_REF = re.compile(r"(?P<module>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*):(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
_PACKAGE_DIR = str(Path(runspec.__file__).resolve().parent)


@dataclass
class Stdin:
    """Standard input may be read once per command; a second ``-`` is a mistake."""

    stream: TextIO | None
    used: bool = False
    #: What was read, once it was (a picture of an invalid body draws it again).
    text: str | None = None

    def read(self) -> str:
        if self.used:
            raise CliError("'-' (standard input) can be given only once")
        self.used = True
        if self.stream is None:  # started with standard input closed (``<&-``)
            raise CliError("standard input is closed; pipe the JSON body in, or give a file name")
        try:
            buffer = getattr(self.stream, "buffer", None)
            data: str | bytes = buffer.read() if buffer is not None else self.stream.read()
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CliError(f"cannot read standard input: {reason}") from None
        self.text = decode(data) if isinstance(data, bytes) else data
        return self.text


def decode(data: bytes) -> str:
    """The text of a JSON document read as bytes (a UTF-8 byte order mark is allowed), or ``CliError``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); is it a JSON file?") from None


def _short_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return relative if not relative.startswith("..") else path


def _where(tb: TracebackType | None) -> str:
    """``file:line`` of the innermost frame outside runspec and importlib: where the user's code failed."""
    place = ""
    for frame, line in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith(("<", _PACKAGE_DIR)):
            continue
        place = f"{_short_path(name)}:{line}"
    return place


def _describe_exception(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    where = _where(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{_short_path(exc.filename)}:{exc.lineno}"
    return f"{text} (at {where})" if where else text


def _import_module(name: str) -> Any:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            raise CliError(
                f"no module named {missing!r} (looked in {cwd} and the installed packages; "
                "run runspec from the directory that holds it, or set PYTHONPATH)"
            ) from None
        raise CliError(f"importing {name} failed: {_describe_exception(exc)}") from None
    except (SpecError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit and other BaseExceptions of the user's module included
        raise CliError(f"importing {name} failed: {_describe_exception(exc)}") from None


def _spec_names(module: Any) -> list[str]:
    names = []
    for key, value in vars(module).items():
        if not key.startswith("_") and isinstance(value, (Run, RunSpec)):
            names.append(key)
    return names


def _resolve_attribute(module: Any, module_name: str, attr: str) -> Any:
    value = module
    walked = module_name
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            hint = ""
            if value is module:
                known = [n for n in dir(module) if not n.startswith("_")]
                close = difflib.get_close_matches(part, known, n=1)
                specs = _spec_names(module)
                if close:
                    hint = f"; did you mean {close[0]!r}?"
                elif specs:
                    hint = f"; runs defined there: {', '.join(specs)}"
            raise CliError(f"{walked} has no attribute {part!r}{hint}") from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            raise CliError(f"reading {walked}.{part} failed: {_describe_exception(exc)}") from None
        walked = f"{walked}.{part}"
    return value


def _as_spec_and_builder(value: Any, label: str, *, strict: bool, call: bool = True) -> tuple[RunSpec, Run | None]:
    """The ``RunSpec`` a SPEC's object gives, and the builder it came from when it is a ``Run``."""
    if isinstance(value, RunSpec):
        return value, None
    if isinstance(value, Run):
        return value.compile(), value
    if isinstance(value, Mapping):
        return RunSpec.from_dict(value, strict=strict), None
    if call and callable(value) and not isinstance(value, type):
        try:
            inspect.signature(value).bind()
        except TypeError:
            raise CliError("it needs arguments; name a Run, a RunSpec or a function without arguments") from None
        except ValueError:
            pass  # no signature to read (a builtin): just call it
        try:
            produced = value()
        except (SpecError, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise CliError(f"calling {label}() failed: {_describe_exception(exc)}") from None
        return _as_spec_and_builder(produced, f"{label}()", strict=strict, call=False)
    kind = type(value).__name__
    what = "it is" if call else "the function returned"
    raise CliError(f"{what} {article(kind)}, not a Run, a RunSpec or a function returning one")


def load_spec(source: str, stdin: TextIO | None = None, *, strict: bool = True) -> RunSpec:
    """
    Load the ``RunSpec`` a SPEC argument names: a JSON file, ``-`` (standard input) or ``module:attribute``.

    Raises ``SpecError`` when the run is invalid (bad JSON included, as problem ``invalid-json``) and
    ``CliError`` (one line) when it cannot be read: no such file, unknown module or attribute, an
    exception while importing the module. ``strict=False`` (``--lenient``) passes fields newer than
    runspec through, with a warning each, as ``RunSpec.from_json(..., strict=False)`` does.
    """
    return load(source, Stdin(stdin if stdin is not None else sys.stdin), strict=strict)


def _kind_of(path: Path) -> str:
    """``"file"``, ``"dir"`` or ``""`` (nothing there); ``CliError`` for a device or a name the OS refuses."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return ""
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return ""
        if exc.errno == errno.ENAMETOOLONG:
            raise CliError("the file name is too long for this system") from None
        raise CliError(f"cannot look it up: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL byte
        raise CliError(f"not a usable file name ({exc})") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):  # a FIFO: ``runspec validate <(make-body)``
        return "file"
    raise CliError("not a regular file; give a JSON file, '-' or module:attribute")


def load(source: str, stdin: Stdin, *, strict: bool = True) -> RunSpec:
    return load_with_builder(source, stdin, strict=strict)[0]


def load_with_builder(source: str, stdin: Stdin, *, strict: bool = True) -> tuple[RunSpec, Run | None]:
    """
    ``load``, and the builder the run came from when the SPEC names a ``Run`` (or a function returning
    one): it knows the names of the run's clusters (``Run.cluster()``), which the body does not.
    """
    if source == "-":
        return RunSpec.from_json(stdin.read(), strict=strict), None
    path = Path(source)
    kind = _kind_of(path)
    if kind == "file":
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read it: {exc.strerror or exc}") from None
        return RunSpec.from_json(decode(data), strict=strict), None
    if kind == "dir":
        raise CliError("a directory; give a JSON file, '-' or module:attribute")
    match = _MODULE_REF.fullmatch(source)
    if match is None:
        if ":" in source and os.sep not in source:
            raise CliError("no such file, and not module:attribute (for example pipelines.nightly:run)")
        raise CliError("no such file")
    module_name, attr = match.group("module"), match.group("attr")
    module = _import_module(module_name)
    value = _resolve_attribute(module, module_name, attr)
    return _as_spec_and_builder(value, source, strict=strict)


class InvalidSpec(Exception):
    """A SPEC (or a job, ``lenient=False``: its command takes no ``--lenient``) that is not a valid run."""

    def __init__(self, source: str, error: SpecError, *, lenient: bool = True) -> None:
        super().__init__(str(error))
        self.source = source
        self.error = error
        self.lenient = lenient


def load_or_exit(source: str, *, strict: bool = True) -> RunSpec:
    """``load_spec``, with errors that name the SPEC (``InvalidSpec``, or ``CliError`` exiting 2)."""
    return load_builder_or_exit(source, strict=strict)[0]


def load_builder_or_exit(source: str, *, strict: bool = True, stdin: Stdin | None = None) -> tuple[RunSpec, Run | None]:
    """``load_or_exit``, and the builder the run came from (``None`` for a body)."""
    try:
        return load_with_builder(source, stdin if stdin is not None else Stdin(sys.stdin), strict=strict)
    except SpecError as exc:
        raise InvalidSpec(source, exc) from None
    except CliError as exc:
        raise CliError(f"{source}: {exc.message}", exc.code) from None
