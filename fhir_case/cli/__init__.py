"""The ``fhir-case`` command line: one subcommand per module, each a thin layer over the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fhir_case import __version__
from fhir_case.cli import build
from fhir_case.cli import delete as delete_command  # issue 4: upload
from fhir_case.cli import packages as packages_cli
from fhir_case.cli import upload as upload_command  # issue 4: upload
from fhir_case.cli import validate as validate_cli
from fhir_case.cli import view as view_command  # issue 5: case view
from fhir_case.errors import FhirCaseError

# Each module adds its subcommand with ``register(subparsers)`` and sets ``func`` on its parser.
SUBCOMMANDS = (build, packages_cli, validate_cli, upload_command, delete_command, view_command)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fhir-case",
        description="Turn a published case report into a validated FHIR R4 record.",
    )
    parser.add_argument("--version", action="version", version=f"fhir-case {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except FhirCaseError as error:
        print(f"fhir-case {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"fhir-case {args.command}: interrupted", file=sys.stderr)
        return 130
    return code
