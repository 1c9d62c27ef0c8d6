"""``fhir-case view``: one self-contained HTML page of a case, from a bundle file or a server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fhir_case.cli.server_options import SERVER_NAMES, add_connection_options, settings_from
from fhir_case.cli.validate import read_json
from fhir_case.errors import InputFileError, UsageError
from fhir_case.fileio import check_output_file, write_outputs


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "view",
        help="render a case as one self-contained HTML page",
        description="Render a FHIR Bundle (any type), or a patient's record read back from a FHIR "
        "server, as one HTML page: inline CSS and SVG, no script, nothing loaded from the network.",
        epilog="examples:\n  fhir-case view bundles/mpnst-chen-2024.collection.json -o case.html\n"
        "  fhir-case view --server http://localhost:8080/fhir --patient <id> -o case.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", nargs="?", type=Path, metavar="BUNDLE", help="a Bundle file")
    parser.add_argument(
        "-o", "--out", type=Path, required=True, metavar="HTML", help="the page to write"
    )
    parser.add_argument(
        "--server",
        metavar="URL|NAME",
        help=f"read the record from this FHIR R4 server instead of a file (a URL, or "
        f"{SERVER_NAMES})",
    )
    parser.add_argument("--patient", metavar="ID", help="the Patient id on the server")
    add_connection_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fhir_case.api import render_view
    from fhir_case.upload.client import FhirClient
    from fhir_case.upload.prepare import is_id
    from fhir_case.view.case import Origin
    from fhir_case.view.server import fetch_patient_record

    check_output_file(args.out)  # before reading or fetching anything
    if (args.bundle is None) == (args.server is None):
        raise UsageError("give either a BUNDLE file or --server URL --patient ID (not both)")
    if args.server is not None:
        if not args.patient:
            raise UsageError("--server needs --patient ID: the id of the Patient on that server")
        if not is_id(args.patient):
            raise UsageError(
                f"--patient {args.patient!r} is not a FHIR id (1-64 of A-Z a-z 0-9 - .); it "
                "would change the request's URL, so nothing was sent"
            )
        settings = settings_from(args)
        with FhirClient(settings) as client:
            fetched = fetch_patient_record(client, args.patient)
        bundle = fetched.bundle
        origin = Origin(settings.display_url, fetched.how(args.patient), fetched.at)
        source = (
            f"Patient/{args.patient} on {settings.display_url} "
            f"({fetched.method}, {fetched.requests} requests)"
        )
    else:
        if args.patient:
            raise UsageError("--patient is only used with --server")
        bundle = read_json(args.bundle)
        if bundle.get("resourceType") != "Bundle":
            raise InputFileError(
                f"{args.bundle}: a {bundle.get('resourceType') or 'JSON object'} is not a Bundle; "
                "give a Bundle file (transaction, collection, document or searchset)"
            )
        origin = Origin(args.bundle.name)
        source = str(args.bundle)
    page = render_view(bundle, origin).encode("utf-8")
    write_outputs({args.out: page})
    resources = len(bundle.get("entry") or [])
    print(f"wrote {args.out} ({len(page) / 1024:.0f} KB, {resources} resources from {source})")
    if resources == 0:
        print("warning: the record is empty; the page shows no clinical item", file=sys.stderr)
    return 0
