"""``fhir-case build``: case file -> validated bundles in a folder, written atomically."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fhir_case.build import NOT_RUN, OUTPUT_TYPES, OutputType, build_and_validate, check_issues
from fhir_case.bundle import serialize
from fhir_case.casefile import default_case_file, load_case
from fhir_case.fileio import check_output_folder, write_outputs
from fhir_case.validation import Validator


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build",
        help="build the FHIR bundles of a case file",
        description="Build, validate and write the FHIR R4 bundles of a case file. Nothing is "
        "written when the case file or the built record has an error.",
    )
    parser.add_argument(
        "case_file",
        nargs="?",
        type=Path,
        help="the case file (YAML); default: the case shipped with fhir-case (Chen et al. 2024)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bundles"), help="output folder (default: bundles)"
    )
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        choices=OUTPUT_TYPES,
        help="bundle type to build; repeat for several (default: all three; the document is a "
        "FHIR document with a Composition, made from the collection)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    case_file: Path = args.case_file or default_case_file()
    types: list[OutputType] = args.types or list(OUTPUT_TYPES)
    check_output_folder(args.out, "--out")  # before the work, not after it
    bundles, issues = build_and_validate(load_case(case_file), types, Validator())
    reports = check_issues(issues)
    files = {args.out / name: serialize(bundle) for name, bundle in bundles.items()}
    write_outputs(files)
    not_run = {i.layer: i.hint for issues in reports.values() for i in issues if i.code == NOT_RUN}
    for layer, hint in sorted(not_run.items()):
        print(f"warning: the {layer} layer did not check the bundles ({hint})", file=sys.stderr)
    for path, (name, bundle) in zip(files, bundles.items(), strict=True):
        warnings = sum(1 for issue in reports[name] if issue.severity == "warning")
        print(
            f"wrote {path} ({bundle['type']}, {len(bundle['entry'])} entries, "
            f"0 errors, {warnings} warnings)"
        )
    return 0
