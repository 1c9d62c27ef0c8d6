"""The exception tree. Every error fhir-case raises on purpose derives from FhirCaseError.

``str(error)`` is the message shown to the user: it names what is wrong, where (file and line,
or FHIRPath), and what would fix it. The command line prints it without a traceback and exits
with ``error.exit_code``.

FhirCaseError
  UsageError                 bad input from the user (exit 2)
    CaseFileError            a case file that cannot be built: file, line, field path, fix
    InputFileError           a bundle or resource file that cannot be read or parsed
    DocumentError            a FHIR document cannot be assembled from the given bundle
    ExportError              a bundle cannot be exported as FSH or NDJSON (names the entry)
    OutputPathError          an output file or folder cannot be written where it was asked for
  BuildError                 the built record does not validate (nothing is written)
  PackageError               a FHIR package cannot be found, read or installed
    PackageNotFoundError     a needed package is not installed (says how to install it)
    PackageFormatError       a .tgz or folder that is not a readable FHIR package
    PackageDownloadError     a package registry did not deliver a package
  FhirServerError            a FHIR server could not be used (fhir_case.upload)
    ServerUnreachableError     no usable answer within the bounded retry time
      ServerUnavailableError     the server stayed busy (429/502/503/504) or asked to wait too long
    RedirectError              the server redirects in a loop, elsewhere, or so as to change a POST
    ServerCapabilityError      the server is not FHIR 4.0.x or lacks what the upload needs
    AuthenticationError        the server refused the credentials (401/403)
    ResourceNotFoundError      the resource is not on the server (404/410)
    RequestRejectedError       the server rejected a request (other 4xx), with its OperationOutcome
      TransactionRejectedError   a transaction was rejected as a whole; names the failing entries
    ServerFaultError           the server failed (5xx) and retrying did not help
  LocalServerError           the local demo server cannot be installed, started or stopped
"""

from __future__ import annotations

from pathlib import Path


class FhirCaseError(Exception):
    """Base of all fhir-case errors."""

    exit_code = 1


class UsageError(FhirCaseError):
    """The user gave input that cannot be used as it is."""

    exit_code = 2


class CaseFileError(UsageError):
    """A problem in a case file, located by file, line and field path."""

    def __init__(
        self, file: Path | str, line: int | None, field_path: str, problem: str, fix: str
    ) -> None:
        self.file = str(file)
        self.line = line
        self.field_path = field_path
        self.problem = problem
        self.fix = fix
        where = f"{self.file}:{line}" if line is not None else self.file
        field = f" {field_path}:" if field_path else ""
        super().__init__(f"{where}:{field} {problem}. Fix: {fix}")


class InputFileError(UsageError):
    """A bundle or resource file that cannot be read or parsed."""


class DocumentError(UsageError):
    """A FHIR document cannot be assembled from the given bundle (the message says why)."""


class ExportError(UsageError):
    """A bundle that cannot be exported as FSH or NDJSON; the message names the entry and why."""


class OutputPathError(UsageError):
    """An output file or folder cannot be written there (a folder, a file in the way, a full
    disk); nothing was written."""


class BuildError(FhirCaseError):
    """The record built from a case file does not validate; nothing was written."""


class PackageError(FhirCaseError):
    """A FHIR package cannot be found, read or installed."""


class PackageNotFoundError(PackageError):
    """A needed FHIR package is not in the package cache."""

    def __init__(self, ref: object, cache_root: Path | str, needed_by: object = None) -> None:
        self.ref = str(ref)
        self.cache_root = str(cache_root)
        self.needed_by = None if needed_by is None else str(needed_by)
        why = f" (needed by {needed_by})" if needed_by is not None else ""
        super().__init__(
            f"FHIR package {self.ref}{why} is not installed in {self.cache_root}. "
            f"Fix: run `fhir-case packages install {self.ref}` (downloads it from the registry), "
            "or `fhir-case packages install PATH/TO/package.tgz`, "
            "or set FHIR_PACKAGE_CACHE to a cache that has it"
        )


class PackageFormatError(PackageError):
    """A file or folder that is not a readable FHIR package."""

    exit_code = 2


class PackageDownloadError(PackageError):
    """A package registry did not deliver a package."""

    def __init__(self, ref: object, url: str, problem: str) -> None:
        self.ref = str(ref)
        self.url = url
        super().__init__(
            f"cannot download FHIR package {self.ref} from {url}: {problem}. "
            "Fix: check the registry URL (--registry) and the network, or install the "
            "package from a file: `fhir-case packages install PATH/TO/package.tgz`"
        )


class FhirServerError(FhirCaseError):
    """A FHIR server could not be used. Never carries credentials in its text.

    ``status`` is the HTTP status when the server answered; ``issues`` the parsed
    OperationOutcome issues (``fhir_case.upload.outcome.OutcomeIssue``) it sent.
    """

    def __init__(
        self, message: str, *, status: int | None = None, issues: tuple[object, ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.issues = issues


class ServerUnreachableError(FhirServerError):
    """No usable answer from the server within the bounded retry time."""


class ServerUnavailableError(ServerUnreachableError):
    """The server answered 429/502/503/504 until the retry time ran out, or asked (Retry-After,
    ``retry_after`` seconds) to wait longer than the time left. Nothing was applied."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        issues: tuple[object, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, issues=issues)
        self.retry_after = retry_after


class RedirectError(FhirServerError):
    """The server redirects in a loop, to another origin, or so that a POST would become a GET."""


class ServerCapabilityError(FhirServerError):
    """The server's CapabilityStatement rules the upload out (FHIR version, transaction support)."""


class AuthenticationError(FhirServerError):
    """The server refused the credentials (401 or 403)."""


class ResourceNotFoundError(FhirServerError):
    """The resource is not on the server (404, or 410 when it was deleted)."""


class RequestRejectedError(FhirServerError):
    """The server rejected a request (a 4xx other than 401/403/404/410)."""


class TransactionRejectedError(RequestRejectedError):
    """A transaction was rejected as a whole; the message names the failing entries."""


class ServerFaultError(FhirServerError):
    """The server failed (5xx) and retrying, where it was safe, did not help."""


class LocalServerError(FhirCaseError):
    """The local demo server (``fhir-case server``) cannot be installed, started or stopped."""
