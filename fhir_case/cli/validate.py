"""``fhir-case validate``: every validation layer over bundle or resource files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fhir_case.safeinput import read_resource
from fhir_case.validation import Validator
from fhir_case.validation.issues import Issue
from fhir_case.validation.outcome import incomplete_note, issue_line, operation_outcome, summary

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
        "layer could not run (its FHIR packages are not installed; the output says which).",
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
    documents = [(path, read_json(path)) for path in args.files]
    validator = Validator(args.package, profiles=args.profile_check)
    found = validator.validate_many([data for _, data in documents], args.jobs)
    results = list(zip((path for path, _ in documents), found, strict=True))
    if args.format == "json":
        print(json.dumps(_json_report(results), indent=2))
    else:
        for path, issues in results:
            for issue in issues:
                if not issue.layer_did_not_run:  # said once, below
                    print(issue_line(issue, path))
            print(f"{path}: {summary(issues)}")
    note = incomplete_note(issue for _, issues in results for issue in issues)
    if note:
        print(f"fhir-case validate: {note}", file=sys.stderr)
    if any(issue.is_data_error for _, issues in results for issue in issues):
        return 1
    return INCOMPLETE if note else 0


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or an InputFileError naming the file (and line and column)."""
    return read_resource(path)


def _json_report(results: list[tuple[Path, list[Issue]]]) -> dict[str, Any]:
    if len(results) == 1:
        return operation_outcome(results[0][1])
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": path.resolve().as_uri(), "resource": operation_outcome(issues)}
            for path, issues in results
        ],
    }
