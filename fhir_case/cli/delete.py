"""``fhir-case delete``: remove the resources of bundles from a FHIR server (to clean a demo)."""

from __future__ import annotations

import argparse
from typing import Any

from fhir_case.cli.server_options import (
    add_server_options,
    bundle_paths,
    load_prepared,
    notices,
    progress_printer,
    settings_from,
    show_retries,
)
from fhir_case.errors import UsageError
from fhir_case.upload.settings import Mode


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "delete",
        help="delete the resources of bundles from a FHIR server",
        description="Delete from a FHIR server every resource of the given bundles (found by id "
        "in put mode, by identifier in conditional mode) in one transaction per bundle. "
        "--server is required: a destructive command has no default server.",
    )
    add_server_options(parser, default_server=None)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fhir_case.upload.client import FhirClient
    from fhir_case.upload.uploader import Uploader

    settings = settings_from(args)
    mode = Mode(args.mode)
    if mode is Mode.CREATE:
        raise UsageError(
            "delete finds resources by id (--mode put) or by identifier (--mode conditional); "
            "resources uploaded with --mode create have ids the server chose: delete those "
            "with an identifier with --mode conditional"
        )
    notices(settings)
    show_retries()
    prepared = [load_prepared(path, mode) for path in bundle_paths(args.bundles)]
    if args.dry_run:
        for bundle in prepared:
            print(f"{bundle.source}: would delete from {settings.display_url} in one transaction:")
            for entry in bundle.entries:
                print(f"  DELETE {entry.lookup}  <- {entry.full_url}")
        print("dry run: nothing was sent")
        return 0
    with FhirClient(settings) as client:
        uploader = Uploader(client)
        for number, bundle in enumerate(prepared, 1):
            uploader.progress = progress_printer(f"[{number}/{len(prepared)}] {bundle.source}:")
            deleted, absent = uploader.delete(bundle)
            print(
                f"{bundle.source}: deleted {deleted} resources from {settings.display_url}"
                + (f" ({absent} were not there)" if absent else "")
            )
    return 0
