"""The ``fhir-case`` command line: one subcommand per module, each a thin layer over the library.

A command starts with only what it needs: subcommand modules import their heavy parts (the HTTP
client, the case view) inside ``run``.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from fhir_case import __version__
from fhir_case.cli import build
from fhir_case.cli import delete as delete_command  # issue 4: upload
from fhir_case.cli import export as export_command  # issue 13: export
from fhir_case.cli import packages as packages_cli
from fhir_case.cli import upload as upload_command  # issue 4: upload
from fhir_case.cli import validate as validate_cli
from fhir_case.cli import view as view_command  # issue 5: case view
from fhir_case.errors import FhirCaseError

# Each module adds its subcommand with ``register(subparsers)`` and sets ``func`` on its parser.
SUBCOMMANDS = (
    build,
    packages_cli,
    validate_cli,
    export_command,
    upload_command,
    delete_command,
    view_command,
)


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
    with _no_cyclic_collection():
        try:
            code: int = args.func(args)
        except FhirCaseError as error:
            print(f"fhir-case {args.command}: error: {error}", file=sys.stderr)
            return error.exit_code
        except KeyboardInterrupt:
            print(f"fhir-case {args.command}: interrupted", file=sys.stderr)
            return 130
    return code


def console() -> NoReturn:
    """The ``fhir-case`` program: :func:`main`, then exit.

    The objects still alive are frozen first: the interpreter's exit would otherwise walk every
    one of them (the R4B model classes, the compiled rules) in a final collection that frees
    nothing the exit does not free anyway.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """No cyclic garbage collection while a command runs.

    A command builds long-lived objects (the R4B model classes, the compiled rules) and drops
    little in cycles: the collector's repeated passes over them free nothing and took about a
    tenth of a build. The garbage a long command leaves in cycles is small (``fhir-case
    validate`` of the 154 R4 examples peaks at 76 MB). The collector is back on (as it was)
    when the command ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
