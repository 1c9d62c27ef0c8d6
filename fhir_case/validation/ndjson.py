"""Streaming validation of bulk NDJSON: the files (or folders of them) of one export.

An export is checked in two passes over its files, each reading one line at a time, so memory
does not grow with the files:

1. **index**: the ``Type/id`` of every resource, kept as a sorted array of 64-bit digests
   (8 bytes a resource: a million resources take 8 MB), and where each file's chunks of
   :data:`CHUNK_LINES` lines start;
2. **validate**: each line with every layer of the :class:`~fhir_case.validation.Validator`,
   and its references resolved against the index: a reference to ``Type/id`` must name a
   resource of one of the export's files (the bundle layer's rule, with the export as the
   Bundle). A resource whose ``Type/id`` occurs twice is an error.

With ``jobs > 1`` the chunks of pass 2 are shared by forked worker processes (the loaded
validator and the index are inherited, not copied); the results come back in file and line
order, the same as with one process.

Every finding is located by file, line and FHIRPath (``Observation.ndjson:12`` +
``Observation.value.ofType(Quantity).code``). A line that is not a JSON object, too long, or
not UTF-8 is reported and skipped; the next line is checked as usual.

A digest collision (two different ``Type/id`` with the same 64-bit digest: odds about n²/2⁶⁵,
one in 37 million for a million resources) could only make a dangling reference look resolved.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from fhir_case.errors import InputFileError
from fhir_case.safeinput import MAX_JSON_BYTES, open_stream, parse_json
from fhir_case.validation.bundle import check_references, relative_key
from fhir_case.validation.issues import Issue

if TYPE_CHECKING:
    from fhir_case.validation import Validator

LAYER = "export"
SUFFIX = ".ndjson"
CHUNK_LINES = 500
MAX_LINE_BYTES = MAX_JSON_BYTES  # one line holds one resource: as large as a JSON file may be
_READ = 1024 * 1024
_FLATTER = "FHIR resources are never this deep: check how the line was made"


@dataclass(frozen=True)
class Chunk:
    """Consecutive lines of one file: the unit of work of pass 2."""

    path: Path
    offset: int  # byte offset of the first line
    first_line: int  # its line number (1-based)
    lines: int


@dataclass(frozen=True)
class LineIssues:
    """The issues of one line (a resource, or what stands in its place)."""

    path: Path
    line: int
    issues: list[Issue]


@dataclass(frozen=True)
class ChunkResult:
    chunk: Chunk
    resources: int  # lines that held a resource
    found: list[LineIssues]  # only lines with issues


@dataclass(frozen=True)
class FileDone:
    """Every line of a file has been reported."""

    path: Path
    resources: int


def ndjson_paths(given: Iterable[Path]) -> list[Path]:
    """The NDJSON files named, folders replaced by their ``*.ndjson`` files (sorted)."""
    paths: list[Path] = []
    for path in given:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.endswith(SUFFIX) and p.is_file())
            if not found:
                raise InputFileError(
                    f"{path}: is a folder with no {SUFFIX} file; a folder is read as an NDJSON "
                    f"export (its *{SUFFIX} files): name a JSON file, or a folder of {SUFFIX} files"
                )
            paths += found
        else:
            paths.append(path)
    unique: dict[Path, Path] = {}
    for path in paths:  # a file named twice is one file of the export
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def is_ndjson(path: Path) -> bool:
    return path.is_dir() or path.name.endswith(SUFFIX)


class ExportIndex:
    """The ``Type/id`` of every resource of an export, as sorted 64-bit digests."""

    scope = "export"

    def __init__(self, digests: Iterable[int]) -> None:
        self._digests = array("Q", sorted(digests))

    def count(self, key: str) -> int:
        digest = _digest(key)
        return bisect_right(self._digests, digest) - bisect_left(self._digests, digest)

    def matches(self, reference: str) -> int:
        """How many resources of the export a reference means (``Type/id``, versioned or not,
        or an absolute URL ending in ``Type/id`` is not resolved here: it points outside)."""
        key = relative_key(reference)
        return self.count(key) if key is not None else 0


def index_export(paths: Sequence[Path]) -> tuple[ExportIndex, list[Chunk]]:
    """Pass 1: the index of the export, and its chunks in file and line order."""
    digests: list[int] = []
    chunks: list[Chunk] = []
    for path in paths:
        start: tuple[int, int] | None = None
        count = 0
        for number, offset, text in _lines(path):
            if start is None:
                start, count = (offset, number), 0
            count += 1
            key = _key(text, path, number)
            if key is not None:
                digests.append(_digest(key))
            if count == CHUNK_LINES:
                chunks.append(Chunk(path, start[0], start[1], count))
                start = None
        if start is not None:
            chunks.append(Chunk(path, start[0], start[1], count))
    return ExportIndex(digests), chunks


def validate_export(
    paths: Sequence[Path], validator: Validator, jobs: int = 1
) -> Iterator[LineIssues | FileDone]:
    """Pass 1, then pass 2: the issues of each line that has any, and the end of each file,
    in file and line order."""
    index, chunks = index_export(paths)
    pending = list(paths)
    resources = 0
    for result in _checked(chunks, _ChunkChecker(validator, index), jobs):
        while pending[0] != result.chunk.path:
            yield FileDone(pending.pop(0), resources)
            resources = 0
        resources += result.resources
        yield from result.found
    for path in pending:
        yield FileDone(path, resources)
        resources = 0


def _checked(chunks: list[Chunk], checker: _ChunkChecker, jobs: int) -> Iterator[ChunkResult]:
    checker.validator.load()
    gc.freeze()  # the loaded rules and models: never garbage, and shared with forked workers
    enabled = gc.isenabled()
    gc.enable()  # checking a resource leaves garbage in reference cycles
    try:
        yield from _share(chunks, checker, jobs)
    finally:
        if not enabled:
            gc.disable()


def _share(chunks: list[Chunk], checker: _ChunkChecker, jobs: int) -> Iterator[ChunkResult]:
    if jobs < 2 or len(chunks) < 2 or not hasattr(os, "fork"):
        yield from map(checker, chunks)
        return
    import multiprocessing

    _warm_up(checker, chunks)
    global _CHECKER
    _CHECKER = checker
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(chunks))) as pool:
            yield from pool.imap(_check_in_worker, chunks)
    finally:
        _CHECKER = None


_CHECKER: _ChunkChecker | None = None


def _warm_up(checker: _ChunkChecker, chunks: list[Chunk]) -> None:
    """Check the first line of each file here, before forking: the R4B model classes and the
    rules of its resource type are then built once, for every worker, instead of in each."""
    for chunk in chunks:
        if chunk.first_line == 1:
            for number, _, text in _lines(chunk.path, chunk.offset, 1, 1):
                checker.check_line(text, chunk.path, number)


def _check_in_worker(chunk: Chunk) -> ChunkResult:
    assert _CHECKER is not None
    return _CHECKER(chunk)


class _ChunkChecker:
    def __init__(self, validator: Validator, index: ExportIndex) -> None:
        self.validator = validator
        self.index = index

    def __call__(self, chunk: Chunk) -> ChunkResult:
        found: list[LineIssues] = []
        resources = 0
        for number, _, text in _lines(chunk.path, chunk.offset, chunk.first_line, chunk.lines):
            resource, issues = self.check_line(text, chunk.path, number)
            resources += resource is not None
            if issues:
                found.append(LineIssues(chunk.path, number, issues))
        return ChunkResult(chunk, resources, found)

    def check_line(
        self, text: bytes | str, path: Path, number: int
    ) -> tuple[dict[str, Any] | None, list[Issue]]:
        """The resource of a line (None when there is none) and its issues."""
        data = _parse(text, path, number)
        if isinstance(data, Issue):
            return None, [data]
        try:
            issues = self.validator.validate(data) + list(_references(data, self.index))
        except RecursionError:
            return None, [_line_issue("The resource is nested too deeply to check", _FLATTER)]
        key = _key_of(data)
        if key is not None and self.index.count(key) > 1:
            issues.append(
                Issue(
                    key.partition("/")[0],
                    "error",
                    LAYER,
                    f"{key} occurs more than once in the export",
                    "give each resource its own id (or keep one copy)",
                    "duplicate",
                )
            )
        return data, issues


def _parse(text: bytes | str, path: Path, number: int) -> dict[str, Any] | Issue:
    """The JSON object on a line, read with every check of :mod:`fhir_case.safeinput`
    (nesting, duplicate keys, long numbers, NaN), or the issue that says why there is none."""
    if isinstance(text, str):  # a problem found while reading the line
        return _line_issue(text, "fix the line, or remove it")
    if not text.strip():
        return _line_issue("Empty line: NDJSON holds one resource per line", "remove it", "warning")
    try:
        data = parse_json(text.decode("utf-8"), str(path), number)
    except UnicodeDecodeError as error:
        return _line_issue(
            f"Not UTF-8: byte 0x{text[error.start]:02x} at byte {error.start + 1} of the line",
            "save the file as UTF-8",
        )
    except InputFileError as error:
        where = re.match(rf"^{re.escape(str(path))}:\d+(?::(\d+))?: ", str(error))
        column = f"column {where[1]}: " if where and where[1] else ""
        return _line_issue(column + str(error)[where.end() if where else 0 :], None)
    if not isinstance(data, dict):
        return _line_issue(
            f"Expected a FHIR resource (a JSON object), found a JSON {type(data).__name__}",
            "write one resource per line",
        )
    return data


def _references(resource: dict[str, Any], index: ExportIndex) -> Iterator[Issue]:
    resource_type = resource.get("resourceType")
    if isinstance(resource_type, str):
        for issue in check_references(resource, resource_type, index):
            yield dataclasses.replace(issue, layer=LAYER)


def _line_issue(message: str, hint: str | None, severity: Any = "error") -> Issue:
    return Issue("", severity, LAYER, message, hint, "structure")


def _key(text: bytes | str, path: Path, number: int) -> str | None:
    """``Type/id`` of the resource on a line, when it has both."""
    data = _parse(text, path, number)
    return None if isinstance(data, Issue) else _key_of(data)


def _key_of(resource: dict[str, Any]) -> str | None:
    resource_type, resource_id = resource.get("resourceType"), resource.get("id")
    if isinstance(resource_type, str) and isinstance(resource_id, str):
        return f"{resource_type}/{resource_id}"
    return None


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def _lines(
    path: Path, offset: int = 0, first_line: int = 1, count: int | None = None
) -> Iterator[tuple[int, int, bytes | str]]:
    """``(line number, byte offset, bytes without the line end)`` from ``offset`` on; a line
    longer than :data:`MAX_LINE_BYTES` comes as a message (str) instead, and is skipped."""
    with open_stream(path, "NDJSON file") as handle:
        handle.seek(offset)
        number = first_line
        while count is None or number < first_line + count:
            start = handle.tell()
            text = handle.readline(MAX_LINE_BYTES + 1)
            if not text:
                return
            if len(text) > MAX_LINE_BYTES and not text.endswith(b"\n"):
                _skip_rest(handle)
                yield number, start, f"The line is longer than {MAX_LINE_BYTES // 1024 // 1024} MB"
            else:
                yield number, start, text.rstrip(b"\r\n")
            number += 1


def _skip_rest(handle: BinaryIO) -> None:
    while True:
        block = handle.readline(_READ)
        if not block or block.endswith(b"\n"):
            return
