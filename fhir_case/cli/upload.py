"""``fhir-case upload``: bundles -> a FHIR server, idempotently, then read back and compared."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fhir_case.cli.server_options import (
    add_server_options,
    bundle_paths,
    load_prepared,
    notices,
    progress_printer,
    server_arguments,
    settings_from,
    show_retries,
)
from fhir_case.errors import (
    AuthenticationError,
    FhirCaseError,
    ServerCapabilityError,
    ServerUnreachableError,
)
from fhir_case.upload.prepare import PreparedBundle, is_idempotent, split
from fhir_case.upload.settings import Mode, ServerSettings

if TYPE_CHECKING:
    from fhir_case.upload.uploader import Uploader, UploadReport

# Errors after which the next bundle cannot fare better: stop instead of waiting again.
FATAL = (ServerUnreachableError, AuthenticationError, ServerCapabilityError)
COLUMNS = ("entries", "created", "updated", "unchanged", "failed")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "upload",
        help="upload bundles to a FHIR server (idempotent, verified)",
        description="Upload transaction bundles to a FHIR R4 server in one transaction each, "
        "then read every resource back and compare it with what was sent.",
    )
    add_server_options(parser)
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="skip reading the resources back after the upload",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="send a batch instead of a transaction (for servers without transactions; not atomic)",
    )
    parser.add_argument(
        "--max-entries",
        type=_at_least_one,
        metavar="N",
        help="send a larger bundle as several transactions of at most N entries (for servers "
        "that limit a transaction's size), entries that refer to each other kept together "
        "where they fit; each transaction is atomic, the bundle as a whole is not",
    )
    parser.set_defaults(func=run)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of entries >= 1, not {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from fhir_case.upload.client import FhirClient
    from fhir_case.upload.uploader import Uploader

    settings = settings_from(args)
    mode = Mode(args.mode)
    paths = bundle_paths(args.bundles)
    notices(settings)
    show_retries()
    if args.dry_run:
        return dry_run(
            settings,
            paths,
            mode,
            batch=args.batch,
            verify=args.verify,
            max_entries=args.max_entries,
        )
    started = time.perf_counter()
    with FhirClient(settings) as client:
        uploader = Uploader(
            client, verify=args.verify, batch=args.batch, max_entries=args.max_entries
        )
        reports = upload_all(uploader, paths, mode)
        requests_sent = client.request_count
    elapsed = time.perf_counter() - started
    print(summary_table(reports))
    print(
        f"{settings.display_url}: {sum(r.entries for r in reports)} entries in "
        f"{len(reports)} bundle(s), {requests_sent} requests, {elapsed:.2f} s"
    )
    for report in reports:
        _print_problems(report)
    patients = [pid for report in reports if report.ok for pid in report.patient_ids]
    if patients:
        print(next_steps(args, settings, patients))
    return 0 if all(r.ok for r in reports) else 1


def next_steps(args: argparse.Namespace, settings: ServerSettings, patient_ids: list[str]) -> str:
    """Where the uploaded patients are and the exact command that shows each one's record."""
    lines = []
    for patient_id in dict.fromkeys(patient_ids):
        view = ["fhir-case", "view", *server_arguments(args), "--patient", patient_id]
        lines += [
            f"Patient/{patient_id} is on {settings.display_url}",
            f"  its record: {settings.display_url}/Patient/{patient_id}/$everything",
            f"  view it:    {shlex.join([*view, '-o', 'case.html'])}",
        ]
    return "\n".join(lines)


def upload_all(uploader: Uploader, paths: list[Path], mode: Mode) -> list[UploadReport]:
    """Upload each bundle, going on past failures unless the server itself failed."""
    from fhir_case.upload.uploader import UploadReport

    reports: list[UploadReport] = []
    stop: str | None = None
    for number, path in enumerate(paths, 1):
        if stop is not None:
            reports.append(UploadReport(str(path), 0, error=f"not attempted: {stop}"))
            continue
        uploader.progress = progress_printer(f"[{number}/{len(paths)}] {path.name}:")
        prepared: PreparedBundle | None = None
        try:
            prepared = load_prepared(path, mode)
            reports.append(uploader.upload(prepared))
        except FhirCaseError as error:
            entries = len(prepared.entries) if prepared else 0
            reports.append(UploadReport(str(path), entries, failed=entries, error=str(error)))
            if isinstance(error, FATAL):
                stop = f"{path.name} failed on the server itself (see its error)"
    return reports


def dry_run(
    settings: ServerSettings,
    paths: list[Path],
    mode: Mode,
    *,
    batch: bool,
    verify: bool,
    max_entries: int | None = None,
) -> int:
    """Show what would be sent; send nothing."""
    kind = "batch" if batch else "transaction"
    for path in paths:
        prepared = load_prepared(path, mode)
        bundle = prepared.batch() if batch else prepared.transaction()
        safe = "retried if need be" if is_idempotent(bundle) else "not retried"
        print(
            f"{path}: would POST {settings.display_url} a {kind} of {len(prepared.entries)} "
            f"entries ({mode.value} mode, {safe})"
        )
        if max_entries is not None and len(prepared.entries) > max_entries:
            sizes = [len(part) for part in split(prepared, max_entries)]
            print(
                f"  in {len(sizes)} transactions of {', '.join(map(str, sizes))} entries "
                "(--max-entries): each is atomic, the bundle as a whole is not"
            )
        for entry in prepared.entries:
            request = entry.request
            condition = (
                f" if none exist: {request['ifNoneExist']}" if "ifNoneExist" in request else ""
            )
            print(f"  {request['method']} {request['url']}{condition}  <- {entry.full_url}")
        if verify:
            print(f"  then read back {len(prepared.entries)} resources and compare")
    print("dry run: nothing was sent")
    return 0


def summary_table(reports: list[UploadReport]) -> str:
    names = [Path(r.source).name for r in reports]
    width = max([len("bundle"), *map(len, names)])
    header = "bundle".ljust(width) + "".join(f"  {c:>9}" for c in COLUMNS) + "  verified"
    lines = [header, "-" * len(header)]
    for name, report in zip(names, reports, strict=True):
        counts = (report.entries, report.created, report.updated, report.unchanged, report.failed)
        verified = "yes" if report.verified and report.ok else ("no" if report.verified else "-")
        lines.append(name.ljust(width) + "".join(f"  {n:>9}" for n in counts) + f"  {verified}")
    return "\n".join(lines)


def _print_problems(report: UploadReport) -> None:
    for note in report.notes:
        print(f"fhir-case upload: {report.source}: note: {note}", file=sys.stderr)
    if report.error:
        error = report.error.removeprefix(f"{report.source}: ")
        print(f"fhir-case upload: {report.source}: {error}", file=sys.stderr)
    for label, problems in report.mismatches.items():
        print(f"fhir-case upload: {report.source}: {label}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
