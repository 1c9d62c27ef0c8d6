"""Options and helpers shared by the commands that talk to a FHIR server (upload, delete,
view)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from fhir_case.errors import UsageError
from fhir_case.safeinput import read_resource
from fhir_case.upload.prepare import PreparedBundle, prepare
from fhir_case.upload.settings import (
    DEFAULT_SERVER,
    LOCAL,
    NAMED_SERVERS,
    PASSWORD_ENV,
    TOKEN_ENV,
    Mode,
    RetryPolicy,
    ServerSettings,
    auth_from_options,
    resolve_server,
)

DEFAULT_BUNDLES = "bundles/*.transaction.json"
SERVER_NAMES = (
    f"hapi-r4 = {NAMED_SERVERS['hapi-r4']}, local = the server of `fhir-case server start` "
    f"while it runs, else {NAMED_SERVERS['local']}"
)


def add_server_options(
    parser: argparse.ArgumentParser, default_server: str | None = DEFAULT_SERVER
) -> None:
    """The options of upload and delete; ``default_server`` None makes ``--server`` required
    (checked by :func:`settings_from`, which says why)."""
    parser.add_argument(
        "bundles",
        nargs="*",
        type=Path,
        metavar="BUNDLE",
        help=f"bundle files (default: {DEFAULT_BUNDLES}, the committed transaction bundles)",
    )
    default = f"default {default_server}" if default_server else "required"
    parser.add_argument(
        "--server",
        default=default_server,
        metavar="URL|NAME",
        help=f"FHIR R4 base URL or a named server ({SERVER_NAMES}; {default})",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.PUT.value,
        help="put: PUT Type/<id> with the bundle's ids (default); conditional: POST with "
        "ifNoneExist on each resource's identifier; create: POST, the server assigns the ids "
        "(for servers where PUT cannot create; resources without an identifier are created "
        "again by each upload)",
    )
    add_connection_options(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be sent, send nothing",
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """How to reach a server: authentication, TLS, timeouts (every command that talks to one)."""
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help=f"file whose first line is a bearer token (default: ${TOKEN_ENV} when set)",
    )
    parser.add_argument(
        "--basic-user",
        metavar="USER",
        help=f"HTTP basic auth user; the password comes from ${PASSWORD_ENV}",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate (only for a server you trust)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=120.0,
        metavar="SECONDS",
        help="read timeout of one request (default 120)",
    )
    parser.add_argument(
        "--retry-time",
        type=_positive,
        default=60.0,
        metavar="SECONDS",
        help="longest time spent on one request, retries and waits included (default 60)",
    )


def settings_from(args: argparse.Namespace) -> ServerSettings:
    if args.server is None:
        raise UsageError(
            "--server URL|NAME is required: deleting has no default server, so that nothing is "
            "deleted from a server you did not name. Name the server the case was uploaded to, "
            "e.g. --server local"
        )
    base_url = resolve_server(args.server)
    if args.server == LOCAL and base_url == NAMED_SERVERS[LOCAL]:
        print(
            f"notice: no `fhir-case server start` server is running; --server local is {base_url}"
            " (start one with: fhir-case server start)",
            file=sys.stderr,
        )
    return ServerSettings(
        base_url=base_url,
        auth=auth_from_options(args.token_file, args.basic_user),
        verify_tls=not args.insecure,
        read_timeout=args.timeout,
        retry=RetryPolicy(total_seconds=args.retry_time),
    )


def server_arguments(args: argparse.Namespace) -> list[str]:
    """The options that reach the server as the user gave them (``--server`` as typed, so that
    ``local`` stays ``local``), for a command printed for the user to run next."""
    arguments = ["--server", args.server]
    if args.token_file is not None:
        arguments += ["--token-file", str(args.token_file)]
    if args.basic_user is not None:
        arguments += ["--basic-user", args.basic_user]
    if args.insecure:
        arguments.append("--insecure")
    return arguments


def bundle_paths(given: list[Path]) -> list[Path]:
    if given:
        return given
    found = sorted(Path.cwd().glob(DEFAULT_BUNDLES))
    if not found:
        raise UsageError(
            f"no bundle given and none found at {DEFAULT_BUNDLES} in {Path.cwd()}; "
            "name a bundle file, or run `fhir-case build` first"
        )
    return found


def load_prepared(path: Path, mode: Mode) -> PreparedBundle:
    """Read and prepare one bundle file; InputFileError names the file (and line) on failure."""
    content = read_resource(path, "bundle")
    return prepare(content, mode, str(path))


def notices(settings: ServerSettings) -> None:
    """One-line notices about where the data go and how safely."""
    if not settings.verify_tls:
        print(
            f"notice: --insecure: the TLS certificate of {settings.display_url} is not verified",
            file=sys.stderr,
        )
    if settings.is_public_test_server:
        print(
            f"notice: {settings.display_url} is a public test server: anything uploaded there "
            "can be read by anyone",
            file=sys.stderr,
        )


class _Stderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"fhir-case: {record.getMessage()}", file=sys.stderr)


def show_retries() -> None:
    """Let the user see retries and waits (the client logs them at INFO; never any secret)."""
    logger = logging.getLogger("fhir_case.upload")
    logger.setLevel(logging.INFO)
    if not any(isinstance(handler, _Stderr) for handler in logger.handlers):
        logger.addHandler(_Stderr(logging.INFO))


def progress_printer(position: str) -> Any:
    """A progress callback that prints steps on a terminal and stays silent otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(step: str) -> None:
        print(f"{position} {step}...", file=sys.stderr, flush=True)

    return show


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value
