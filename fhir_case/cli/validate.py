"""``fhir-case validate``: every validation layer over bundle or resource files."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from fhir_case.safeinput import read_resource
from fhir_case.validation import Validator
from fhir_case.validation.issues import Issue
from fhir_case.validation.outcome import (
    NO_ISSUES,
    counted,
    incomplete_note,
    issue_line,
    operation_outcome,
    outcome_issue,
    severity,
    summary,
)

# Exit status when no error was found but a layer could not run (its FHIR packages are missing).
INCOMPLETE = 3


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="validate FHIR R4 resources or bundles (JSON)",
        description="Validate FHIR R4 JSON files with every layer: structure (R4B models), "
        "the official R4 JSON Schema, bundle rules, StructureDefinition rules of the base types "
        "and claimed profiles, and terminology (code register, UCUM). Exit status: 0 without "
        "errors, 1 with errors, 2 when a file cannot be read, 3 when no error was found but a "
        "layer could not run (its FHIR packages are not installed; the output says which). "
        "NDJSON files (or folders of them, as `fhir-case export --format ndjson` writes) are "
        "read streaming, with references resolved across the files.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="JSON file(s)")
    parser.add_argument(
        "--profile-check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check the profiles resources claim in meta.profile (default: on; the base "
        "definitions are checked either way)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one line per issue; json: a FHIR OperationOutcome (a Bundle of them for "
        "several files)",
    )
    parser.add_argument(
        "--package",
        action="append",
        default=None,
        metavar="PATH",
        help="a FHIR package (.tgz, folder, or NAME#VERSION from the package cache); repeat "
        "for several. Default: every package in the package cache",
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="validate the files with up to N processes (default: one per CPU)",
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes >= 1, not {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from fhir_case.validation.ndjson import is_ndjson, ndjson_paths

    exported = ndjson_paths(path for path in args.files if is_ndjson(path))
    documents = [(path, read_json(path)) for path in args.files if not is_ndjson(path)]
    validator = Validator(args.package, profiles=args.profile_check)
    issue_lists = validator.validate_many([data for _, data in documents], args.jobs)
    results = list(zip((path for path, _ in documents), issue_lists, strict=True))
    if args.format == "json" and len(results) == 1 and not exported:
        print(json.dumps(operation_outcome(results[0][1]), indent=2))
        found = Found()
        found.add(results[0][1])
        return found.exit_status()
    report = JsonReport() if args.format == "json" else TextReport()
    for path, issues in results:
        report.file(path, issues)
    if exported:
        from fhir_case.validation.ndjson import FileDone, validate_export

        jobs = args.jobs or os.cpu_count() or 1
        for item in validate_export(exported, validator, jobs):
            if isinstance(item, FileDone):
                report.file_done(item.path, item.resources)
            else:
                report.line(item.path, item.line, item.issues)
    report.close()
    return report.found.exit_status()


class Found:
    """What decides the exit status, kept small for NDJSON of any length: whether the data
    has an error, and the (few, distinct) issues of layers that could not run."""

    def __init__(self) -> None:
        self.data_error = False
        self.not_run: list[Issue] = []

    def add(self, issues: list[Issue]) -> None:
        for issue in issues:
            self.data_error |= issue.is_data_error
            if issue.layer_did_not_run and issue not in self.not_run:
                self.not_run.append(issue)

    def exit_status(self) -> int:
        """1 with data errors; else 3 when a layer could not run (said once, on stderr)."""
        note = incomplete_note(self.not_run)
        if note:
            print(f"fhir-case validate: {note}", file=sys.stderr)
        if self.data_error:
            return 1
        return INCOMPLETE if note else 0


class TextReport:
    """One line per issue (``file:line:`` first for NDJSON), then a summary per file."""

    def __init__(self) -> None:
        self.found = Found()
        self._counts: Counter[str] = Counter()
        self._not_run: set[str] = set()  # layers that could not run on the file's lines

    def file(self, path: Path, issues: list[Issue]) -> None:
        for issue in issues:
            if not issue.layer_did_not_run:  # said once, at the end
                print(issue_line(issue, path))
        self.found.add(issues)
        print(f"{path}: {summary(issues)}")

    def line(self, path: Path, line: int, issues: list[Issue]) -> None:
        for issue in issues:
            if issue.layer_did_not_run:
                self._not_run.add(issue.layer)
            else:
                print(issue_line(issue, f"{path}:{line}"))
                self._counts[severity(issue)] += 1
        self.found.add(issues)

    def file_done(self, path: Path, resources: int) -> None:
        noun = "resource" if resources == 1 else "resources"
        print(f"{path}: {resources} {noun}, {counted(self._counts, self._not_run)}")
        self._counts = Counter()
        self._not_run = set()

    def close(self) -> None:
        pass


class JsonReport:
    """A Bundle of OperationOutcomes, one per file, written as it goes (NDJSON issues carry
    their line in the core extension ``operationoutcome-issue-line``)."""

    def __init__(self) -> None:
        self.found = Found()
        self._entries = 0
        self._issues = 0
        self._open_file = False
        print('{"resourceType": "Bundle", "type": "collection", "entry": [')

    def file(self, path: Path, issues: list[Issue]) -> None:
        self._open(path)
        for issue in issues:
            self._issue(outcome_issue(issue))
        self.found.add(issues)
        self._close_file()

    def line(self, path: Path, line: int, issues: list[Issue]) -> None:
        if not self._open_file:
            self._open(path)
        for issue in issues:
            self._issue(outcome_issue(issue, line))
        self.found.add(issues)

    def file_done(self, path: Path, resources: int) -> None:
        if not self._open_file:
            self._open(path)
        self._close_file()

    def close(self) -> None:
        print("]}")

    def _open(self, path: Path) -> None:
        separator = "," if self._entries else ""
        uri = json.dumps(path.resolve().as_uri())
        print(
            f'{separator}{{"fullUrl": {uri}, "resource": {{"resourceType": "OperationOutcome", '
            '"issue": ['
        )
        self._entries += 1
        self._issues = 0
        self._open_file = True

    def _issue(self, issue: dict[str, Any]) -> None:
        print(("," if self._issues else "") + json.dumps(issue, ensure_ascii=False))
        self._issues += 1

    def _close_file(self) -> None:
        if self._issues == 0:
            self._issue(NO_ISSUES)
        print("]}}")
        self._open_file = False


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or an InputFileError naming the file (and line and column)."""
    return read_resource(path)
