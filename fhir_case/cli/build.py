"""``fhir-case build``: case file -> validated bundles in a folder, written atomically."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from fhir_case.api import Bundles, build_case
from fhir_case.build import OUTPUT_TYPES
from fhir_case.fileio import check_output_folder
from fhir_case.validation.outcome import incomplete_note, issue_line, summary


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
    check_output_folder(args.out, "--out")  # before the work, not after it
    bundles = build_case(args.case_file, types=args.types or OUTPUT_TYPES)
    paths = bundles.write(args.out)
    for path, (bundle_type, bundle) in zip(paths, bundles.items(), strict=True):
        issues = bundles.issues[bundle_type]
        print(f"wrote {path} ({bundle_type}, {len(bundle['entry'])} entries, {summary(issues)})")
        for issue in issues:
            if issue.severity == "warning":
                print(issue_line(issue, path))
    note = incomplete_note(issue for found in bundles.issues.values() for issue in found)
    if note:
        print(f"fhir-case build: {note}", file=sys.stderr)
    print(next_steps(bundles, args.out))
    return 0


def next_steps(bundles: Bundles, out: Path) -> str:
    """The commands to try next on what was just written."""
    folder = shlex.quote(str(out))
    steps = [f"fhir-case validate {folder}/*.json"]
    for bundle_type in ("collection", "document"):
        if bundle_type in bundles:
            page = shlex.quote(str(out / bundles.file_name(bundle_type)))
            steps.append(f"fhir-case view {page} -o case.html")
            break
    if "transaction" in bundles:
        upload = "fhir-case upload --server local"
        if out != Path("bundles"):  # upload takes bundles/*.transaction.json by default
            upload += f" {shlex.quote(str(out / bundles.file_name('transaction')))}"
        steps += ["fhir-case server start", upload]
    return "next:\n" + "\n".join(f"  {step}" for step in steps)
