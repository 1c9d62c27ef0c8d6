"""The ``fhir-case`` command line: one subcommand per module, each a thin layer over the library.

A command starts with only what it needs: subcommand modules import their heavy parts (the HTTP
client, the case view) inside ``run``.

:func:`main` is the one guard around every command: an error fhir-case raises on purpose
(:class:`~fhir_case.errors.FhirCaseError`) is printed as its one message; anything else is a bug,
shown as a short message that asks for a report (the traceback only with ``--debug``); a closed
standard output (``| head``) ends the output quietly. Commands run on a thread with a deep
stack, so that valid but deeply nested FHIR (extensions hundreds of levels deep, up to
:data:`fhir_case.safeinput.MAX_NESTING`) is checked instead of crashing the interpreter.
"""

from __future__ import annotations

import argparse
import errno
import gc
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

from fhir_case import __version__
from fhir_case.cli import build
from fhir_case.cli import delete as delete_command  # issue 4: upload
from fhir_case.cli import export as export_command  # issue 13: export
from fhir_case.cli import packages as packages_cli
from fhir_case.cli import server as server_command
from fhir_case.cli import upload as upload_command  # issue 4: upload
from fhir_case.cli import validate as validate_cli
from fhir_case.cli import view as view_command  # issue 5: case view
from fhir_case.errors import FhirCaseError

DEBUG_ENV = "FHIR_CASE_DEBUG"
# The stack and recursion room of a command: deep enough for MAX_NESTING levels of JSON through
# every layer (the R4B models take about ten frames a level), far from the 8 MB of the main
# thread, where such input crashes the interpreter. Memory is committed only as it is used.
STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 60_000

# Each module adds its subcommand with ``register(subparsers)`` and sets ``func`` on its parser.
# In the order of the README's tour, so that ``fhir-case --help`` reads as the way through.
SUBCOMMANDS = (
    build,
    validate_cli,
    view_command,
    server_command,
    upload_command,
    delete_command,
    export_command,
    packages_cli,
)

TOUR = """\
a first tour (README.md, "Ten-minute tour"):
  fhir-case build                           the shipped case -> bundles/, validated
  fhir-case validate bundles/*.json         every validation layer, one line per issue
  fhir-case view bundles/mpnst-chen-2024.collection.json -o case.html
  fhir-case server start                    a local FHIR server (--server local)
  fhir-case upload --server local           prints the Patient id and what to try next
  fhir-case view --server local --patient ID -o case.html
  fhir-case delete --server local           removes the case's resources again
  fhir-case server stop
  fhir-case export bundles/mpnst-chen-2024.collection.json --format fsh --out fsh

fhir-case COMMAND --help tells more about each command."""


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fhir-case",
        description="Turn a published case report into a validated FHIR R4 record:\n"
        "build it, validate it, view it, upload it to a FHIR server, export it.",
        epilog=TOUR,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fhir-case {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    for command in subparsers.choices.values():  # also after the command: fhir-case build --debug
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


DEBUG_HELP = f"on an internal error, show the Python traceback (also: ${DEBUG_ENV}=1)"


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    debug = args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    name = f"fhir-case {args.command}"
    with _no_cyclic_collection():
        try:
            code: int = run_deep(args.func, args)
        except FhirCaseError as error:
            print(f"{name}: error: {error}", file=sys.stderr)
            return error.exit_code
        except KeyboardInterrupt:
            print(f"{name}: interrupted", file=sys.stderr)
            return 130
        except MemoryError:
            print(
                f"{name}: error: out of memory; the input is too large for this machine "
                "(see docs/limits.md for the sizes fhir-case reads)",
                file=sys.stderr,
            )
            return 1
        except Exception as error:
            if _closed_output(error):
                return 0
            if debug:
                traceback.print_exc()
            print(
                f"{name}: internal error: fhir-case failed where it should not have; this is a "
                "bug in fhir-case, not in what you gave it. Please report it with the command "
                "you ran"
                + (
                    ""
                    if debug
                    else f", and the details `fhir-case --debug {args.command} ...` shows"
                ),
                file=sys.stderr,
            )
            return 1
    return code


def run_deep(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``func(args)`` on a thread with a deep stack (see STACK_BYTES); its exception, if any, is
    raised here."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["code"] = func(args)
        except BaseException as error:  # handed to the calling thread
            outcome["error"] = error

    old_stack = threading.stack_size(STACK_BYTES)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    try:
        worker = threading.Thread(target=target, name="fhir-case", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_stack)
    try:
        worker.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    code: int = outcome["code"]
    return code


def console() -> NoReturn:
    """The ``fhir-case`` program: :func:`main`, then exit.

    Standard output is wrapped so that a reader that stops early (``fhir-case ... | head``)
    ends the output quietly: the command finishes with the status it would have had.
    The objects still alive are frozen first: the interpreter's exit would otherwise walk every
    one of them (the R4B model classes, the compiled rules) in a final collection that frees
    nothing the exit does not free anyway.
    """
    sys.stdout = QuietWhenClosed(sys.stdout)
    code = main()
    gc.freeze()
    sys.exit(code)


class QuietWhenClosed:
    """A text stream that drops its output once the reader has gone (EPIPE), instead of
    raising on every later write and at exit."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._closed = False

    def write(self, text: str) -> int:
        if not self._closed:
            try:
                self._stream.write(text)
            except OSError as error:
                self._drop(error)
        return len(text)

    def flush(self) -> None:
        if not self._closed:
            try:
                self._stream.flush()
            except OSError as error:
                self._drop(error)

    def _drop(self, error: OSError) -> None:
        if not _closed_output(error):
            raise error
        self._closed = True
        # Later writes at the file descriptor level (and the flush at exit) go nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _closed_output(error: BaseException) -> bool:
    return isinstance(error, BrokenPipeError) or (
        isinstance(error, OSError) and error.errno == errno.EPIPE
    )


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
