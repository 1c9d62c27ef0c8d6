"""``fhir-case server``: a local FHIR R4 server for demos and offline use (start, stop, status)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fhir_case import localserver

NOT_RUNNING = 3  # the exit status of ``server status`` when no server runs (as systemctl's)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "server",
        help="start, stop or check a local FHIR server for the demo (--server local)",
        description="A local FHIR R4 server for demos and offline use: "
        f"{localserver.SEKMET_PACKAGE} {localserver.SEKMET_VERSION}, the server the tests use, "
        f"on {localserver.HOST}. The "
        "first start installs it from PyPI into its own environment under "
        f"{localserver.server_home()}; after that no network is needed. While it runs, "
        "--server local names it.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser(
        "start",
        help="start the server (installing it on first use) and print its base URL",
    )
    start.add_argument(
        "--port",
        type=_port,
        metavar="N",
        help=f"the port (default: ${localserver.PORT_ENV}, else {localserver.DEFAULT_PORT}, "
        "else a free one)",
    )
    start.set_defaults(func=run_start)
    actions.add_parser("stop", help="stop the server").set_defaults(func=run_stop)
    actions.add_parser(
        "status", help=f"say whether the server runs (exit status {NOT_RUNNING} when not)"
    ).set_defaults(func=run_status)
    actions.add_parser(
        "install", help="install the server now (from PyPI), so that start needs no network"
    ).set_defaults(func=run_install)


def run_start(args: argparse.Namespace) -> int:
    server, started = localserver.start(args.port, progress=_say)
    print(server.base_url)
    _say(
        f"{'started' if started else 'already running:'} {localserver.SEKMET_PACKAGE} at "
        f"{server.base_url} (data kept in {server.data_dir}; log {server.log_path}). "
        "--server local names it; stop it with: fhir-case server stop"
    )
    return 0


def run_stop(args: argparse.Namespace) -> int:
    server = localserver.stop()
    if server is None:
        print("no local FHIR server is running")
    else:
        print(f"stopped the local FHIR server at {server.base_url}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    server = localserver.running()
    if server is None:
        print("no local FHIR server is running; start one with: fhir-case server start")
        return NOT_RUNNING
    print(f"running: {server.base_url} (process {server.pid}, data in {server.data_dir})")
    return 0


def run_install(args: argparse.Namespace) -> int:
    program = localserver.install(progress=_say)
    print(f"{localserver.SEKMET_PACKAGE} {localserver.SEKMET_VERSION} is installed: {program}")
    return 0


def _say(message: str) -> None:
    print(f"fhir-case server: {message}", file=sys.stderr, flush=True)


def _port(text: str) -> int:
    try:
        return localserver.parse_port(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
