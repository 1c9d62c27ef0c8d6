"""The one place that reads input files: bounded, and every bad input a clear InputFileError.

Every command reads its files through here: bundles and resources (JSON, and NDJSON lines with
:func:`parse_json` and ``first_line``), case files (YAML, checked by :func:`check_yaml` before it
is composed) and their source texts. A file is refused, quickly and with the limit named, when it
is not a regular file (a folder, a FIFO, a device such as ``/dev/zero``), when it is larger than
its limit, not UTF-8 (the line and column of the first bad byte), UTF-16, empty, XML, nested
deeper than :data:`MAX_NESTING`, has a number longer than :data:`MAX_NUMBER_CHARS`, a NaN or an
infinite number, a duplicate key, or (YAML) aliases that expand beyond :data:`MAX_YAML_VALUES`
or refer to themselves. The limits are documented in docs/limits.md.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import stat
from collections.abc import Callable
from json.decoder import WHITESPACE, JSONObject, scanstring  # type: ignore[attr-defined]
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from fhir_case.errors import InputFileError

MAX_JSON_BYTES = 64 * 1024 * 1024  # a bundle, resource or NDJSON file
MAX_TEXT_BYTES = 8 * 1024 * 1024  # a case file (YAML) or the source text it quotes
MAX_NESTING = 1000  # JSON objects and arrays inside each other (deep extensions need ~2 a level)
MAX_YAML_NESTING = 64  # YAML mappings and sequences inside each other, aliases expanded
MAX_YAML_VALUES = 200_000  # values in a YAML file once its aliases are expanded
MAX_NUMBER_CHARS = 100  # characters in one number (FHIR's largest, integer64, has 19 digits)
FHIR_MAX_STRING = 1024 * 1024  # FHIR: a string SHALL NOT exceed 1 MB (1024 * 1024 characters)
# FHIR strings may hold tab, line feed and carriage return, and no other control character.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

XML_FIX = (
    "fhir-case reads FHIR JSON only; convert the file first, e.g. with the HL7 FHIR validator: "
    "java -jar validator_cli.jar FILE.xml -version 4.0.1 -convert -output FILE.json"
)
_UTF16_32_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
# Strings (skipped whole) and the brackets that nest; used only to measure nesting.
_NESTING_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_NUMBER_TOKENS = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|-?Infinity',
    re.DOTALL,
)


def flawed_string(value: Any) -> bool:
    """A string FHIR does not allow: longer than 1 MB, or holding a control character."""
    return isinstance(value, str) and (len(value) > FHIR_MAX_STRING or bool(CONTROL.search(value)))


def mb(size: int) -> str:
    """A byte count for messages: ``64 MB``, ``1.5 MB``."""
    return f"{size / 1024 / 1024:.3g} MB"


def where(source: str, line: int | None = None, column: int | None = None) -> str:
    """``file``, ``file:line`` or ``file:line:column``."""
    text = source
    if line is not None:
        text += f":{line}"
        if column is not None:
            text += f":{column}"
    return text


# ---------------- files ----------------


def read_bytes(path: Path, what: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or an InputFileError saying why
    not. Special files are refused before they are opened: opening a FIFO waits for a writer,
    and reading ``/dev/zero`` never ends."""
    size = regular_file_size(path, what)
    if size > limit:
        raise InputFileError(_too_large(path, what, size, limit))
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise InputFileError(f"{path}: cannot read the {what}: {_reason(error)}") from None
    if len(data) > limit:  # it grew while it was read
        raise InputFileError(_too_large(path, what, len(data), limit))
    return data


def open_stream(path: Path, what: str) -> BinaryIO:
    """A regular file opened for reading in pieces (NDJSON, read line by line and never whole,
    has no size limit), with the checks of :func:`read_bytes` before it is opened."""
    regular_file_size(path, what)
    try:
        return path.open("rb")
    except OSError as error:
        raise InputFileError(f"{path}: cannot read the {what}: {_reason(error)}") from None


def regular_file_size(path: Path, what: str) -> int:
    """The size of ``path``, or an InputFileError when it is missing or not a regular file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; check the path of the {what}") from None
    except OSError as error:
        raise InputFileError(f"{path}: cannot read the {what}: {_reason(error)}") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise InputFileError(f"{path}: is a folder, not a file; name the {what} itself")
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise InputFileError(
            f"{path}: is {kind}, not a regular file; fhir-case reads the {what} only from a "
            "regular file (save it to one first)"
        )
    return info.st_size


def read_text(path: Path, what: str, limit: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file (a case file, a source text), bounded and decoded."""
    return decode(read_bytes(path, what, limit), str(path), what)


def read_json(path: Path, what: str = "JSON file", limit: int = MAX_JSON_BYTES) -> Any:
    """The JSON value in a file, read with every check of this module."""
    text = decode(read_bytes(path, what, limit), str(path), what)
    return parse_json(text, str(path))


def _too_large(path: Path, what: str, size: int, limit: int) -> str:
    return (
        f"{path}: the {what} is {mb(size)} or more; fhir-case reads at most {mb(limit)} "
        "(limit MAX_JSON_BYTES / MAX_TEXT_BYTES, see docs/limits.md); split it into smaller files"
    )


def _reason(error: OSError) -> str:
    return (error.strerror or "input/output error").lower()


# ---------------- text ----------------


def decode(data: bytes, source: str, what: str = "file") -> str:
    """UTF-8 text (a UTF-8 byte order mark is dropped). UTF-16/32, empty files and bytes that
    are not UTF-8 are refused; the message gives the line and column of the first bad byte."""
    for bom, name in _UTF16_32_BOMS:
        if data.startswith(bom):
            raise InputFileError(_utf16(source, name))
    if len(data) >= 4 and ((data[1] == 0 and data[3] == 0) or (data[0] == 0 and data[2] == 0)):
        raise InputFileError(_utf16(source, "UTF-16"))  # ASCII in UTF-16, without a BOM
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        raise InputFileError(
            f"{where(source, line, column)}: the {what} is not UTF-8 text: byte "
            f"0x{data[error.start]:02x} cannot be decoded there. Save the file as UTF-8"
        ) from None
    if not text.strip():
        raise InputFileError(f"{source}: the {what} is empty")
    return text


def _utf16(source: str, encoding: str) -> str:
    return (
        f"{source}: the file is {encoding} text; fhir-case reads UTF-8. Convert it, e.g. "
        f"iconv -f {encoding} -t UTF-8 FILE > FILE.utf8"
    )


def line_and_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


# ---------------- JSON ----------------


class _Refused(ValueError):
    def __init__(self, problem: str, index: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.index = index


def parse_json(text: str, source: str, first_line: int = 1) -> Any:
    """The JSON value of ``text`` (one file, or one NDJSON line: ``first_line`` is its line
    number), or an InputFileError located by line and column (``first_line`` counted in)."""

    def error(problem: str, index: int | None, fix: str) -> InputFileError:
        if index is None:
            return InputFileError(f"{source}: {problem}. {fix}")
        line, column = line_and_column(text, index)
        return InputFileError(f"{where(source, line + first_line - 1, column)}: {problem}. {fix}")

    start = len(text) - len(text.lstrip())
    if text[start : start + 1] == "<":
        raise error("this looks like XML, not JSON", start, XML_FIX)
    deep = _too_deep(text)
    if deep is not None:
        raise error(
            f"nested more than {MAX_NESTING} levels deep (limit MAX_NESTING, see docs/limits.md)",
            deep,
            "Flatten the structure; no FHIR resource needs that depth",
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_int=_integer,
            parse_float=_decimal,
            parse_constant=_constant,
        )
    except _Refused as refused:
        if refused.problem.startswith("duplicate key"):
            index = _duplicate_position(text)
            fix = "Keep one of them: otherwise the last one silently wins"
        elif refused.problem.startswith("a number of"):
            index = _number_position(text)
            fix = "No FHIR number needs that many digits"
        else:
            index = _number_position(text)
            fix = "Write a finite JSON number (FHIR decimals and integers are finite)"
        raise error(refused.problem, index, fix) from None
    except json.JSONDecodeError as bad:
        problem = f"not valid JSON: {_json_problem(bad)}"
        raise error(problem, bad.pos, "Fix the JSON syntax there") from None
    except RecursionError:
        raise error(
            f"nested too deeply to read (limit MAX_NESTING {MAX_NESTING})", None, "Flatten it"
        ) from None


def _too_deep(text: str) -> int | None:
    """The index where the nesting first exceeds MAX_NESTING, else None."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return None
    depth = 0
    for match in _NESTING_TOKENS.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f'duplicate key "{_short(key)}" in one object')
            seen.add(key)
    return result


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Refused(_long_number(literal))
    return int(literal)


def _decimal(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Refused(_long_number(literal))
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(f"the number {literal} is too large to represent")
    return value


def _constant(literal: str) -> Any:
    raise _Refused(f"{literal} is not a JSON number")


def _long_number(literal: str) -> str:
    return (
        f"a number of {len(literal)} characters; at most {MAX_NUMBER_CHARS} are read "
        "(limit MAX_NUMBER_CHARS, see docs/limits.md)"
    )


def _number_position(text: str) -> int | None:
    for match in _NUMBER_TOKENS.finditer(text):
        token = match.group()
        if token.startswith('"'):
            continue
        if len(token) > MAX_NUMBER_CHARS or "N" in token or "I" in token:
            return match.start()
        if any(c in token for c in ".eE") and not math.isfinite(float(token)):
            return match.start()
    return None


def _duplicate_position(text: str) -> int | None:
    """Where the first repeated key of an object is (a slower, position-aware parse)."""

    def object_at(
        state: tuple[str, int], strict: bool, scan_once: Any, hook: Any, pairs_hook: Any, memo: Any
    ) -> tuple[Any, int]:
        try:
            return JSONObject(state, strict, scan_once, hook, _unique_keys, memo)  # type: ignore[no-any-return]
        except _Refused as refused:
            if refused.index is None:  # this object, not one inside it, repeats a key
                refused.index = _repeated_key(text, state[1], scan_once)
            raise

    decoder: Any = json.JSONDecoder()
    decoder.parse_object = object_at
    decoder.parse_int = int
    decoder.parse_float = float
    decoder.scan_once = py_make_scanner(decoder)
    try:
        decoder.decode(text)
    except _Refused as refused:
        return refused.index
    except (ValueError, RecursionError):
        return None
    return None


def _repeated_key(text: str, position: int, scan_once: Any) -> int:
    """Where the second occurrence of a key begins, in the object whose first key (or
    whitespace before it) is at ``position``; the object is valid JSON but for the repetition."""
    seen: set[str] = set()
    while True:
        position = WHITESPACE.match(text, position).end()
        key, after = scanstring(text, position + 1)
        if key in seen:
            return position
        seen.add(key)
        colon = WHITESPACE.match(text, after).end()
        _, position = scan_once(text, WHITESPACE.match(text, colon + 1).end())
        position = WHITESPACE.match(text, position).end() + 1  # past ","


def _json_problem(error: json.JSONDecodeError) -> str:
    if error.msg.startswith("Invalid control character"):
        return "a control character inside a string (write it escaped, e.g. \\n, or remove it)"
    if error.msg == "Extra data":
        return "more than one JSON value (for NDJSON, one resource per line, use a .ndjson file)"
    return error.msg


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------- YAML ----------------

_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def check_yaml(text: str, source: str, loader: Callable[[str], Any]) -> None:
    """Refuse YAML whose aliases expand beyond MAX_YAML_VALUES values or refer to themselves
    ("billion laughs", recursive anchors), or that nests deeper than MAX_YAML_NESTING, before
    anything is composed. ``loader`` makes the YAML loader; only its events are read.

    Each anchor's expanded size and depth are counted once, so the check is linear in the text."""
    parser = loader(text)
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, depth) once expanded
    open_anchors: set[str] = set()
    stack: list[list[Any]] = [[0, 0, None]]  # per open collection: values, depth below, anchor
    try:
        while parser.check_event():
            event = parser.get_event()
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent):
                anchor = str(event.anchor)
                if anchor in open_anchors:
                    raise _yaml_error(
                        source,
                        line,
                        f"the alias *{anchor} refers to the collection it is inside (a "
                        "recursive alias)",
                        "replace the alias by the values it should stand for",
                    )
                values, depth = sizes.get(anchor, (1, 0))
                _add(stack, values, depth, source, line)
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor:
                    sizes[str(event.anchor)] = (1, 0)
                _add(stack, 1, 0, source, line)
            elif isinstance(event, _OPENS):
                opened = str(event.anchor) if event.anchor else None
                if opened:
                    open_anchors.add(opened)
                stack.append([0, 0, opened])
                if len(stack) - 1 > MAX_YAML_NESTING:
                    raise _yaml_error(
                        source,
                        line,
                        f"nested more than {MAX_YAML_NESTING} levels deep (limit "
                        "MAX_YAML_NESTING, see docs/limits.md)",
                        "flatten the structure; a case file needs a few levels",
                    )
            elif isinstance(event, _CLOSES):
                values, depth, anchor = stack.pop()
                if anchor:
                    open_anchors.discard(anchor)
                    sizes[anchor] = (values + 1, depth + 1)
                _add(stack, values + 1, depth + 1, source, line)
    except yaml.YAMLError:
        return  # a syntax error: composing the text reports it with its position
    finally:
        parser.dispose()


def _add(stack: list[list[Any]], values: int, depth: int, source: str, line: int | None) -> None:
    frame = stack[-1]
    frame[0] += values
    frame[1] = max(frame[1], depth)
    total = sum(f[0] for f in stack)
    if total > MAX_YAML_VALUES:
        raise _yaml_error(
            source,
            line,
            f"the YAML expands to more than {MAX_YAML_VALUES} values (limit MAX_YAML_VALUES, "
            "see docs/limits.md); its aliases multiply it (a 'billion laughs')",
            "write the values out, or use fewer aliases",
        )
    if len(stack) - 1 + depth > MAX_YAML_NESTING:
        raise _yaml_error(
            source,
            line,
            f"an alias here nests the data more than {MAX_YAML_NESTING} levels deep (limit "
            "MAX_YAML_NESTING, see docs/limits.md)",
            "write the values out instead of the alias",
        )


def _yaml_error(source: str, line: int | None, problem: str, fix: str) -> InputFileError:
    return InputFileError(f"{where(source, line)}: {problem}. Fix: {fix}")


def read_resource(path: Path, what: str = "JSON file") -> dict[str, Any]:
    """A JSON object (a FHIR resource or Bundle) from a file, with every check of this module."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise InputFileError(
            f"{path}: expected a FHIR resource (a JSON object with resourceType), found "
            f"{_json_kind(data)}"
        )
    return data


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return f"the JSON value {'true' if value else 'false'}"
    if value is None:
        return "the JSON value null"
    return "a JSON number"
