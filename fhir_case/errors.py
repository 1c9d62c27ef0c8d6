"""The exception tree. Every error fhir-case raises on purpose derives from FhirCaseError.

``str(error)`` is the message shown to the user: it names what is wrong, where (file and line,
or FHIRPath), and what would fix it. The command line prints it without a traceback and exits
with ``error.exit_code``.

FhirCaseError
  UsageError                 bad input from the user (exit 2)
    CaseFileError            a case file that cannot be built: file, line, field path, fix
    InputFileError           a bundle or resource file that cannot be read or parsed
    DocumentError            a FHIR document cannot be assembled from the given bundle
  BuildError                 the built record does not validate (nothing is written)
  PackageError               a FHIR package cannot be found, read or installed
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


class BuildError(FhirCaseError):
    """The record built from a case file does not validate; nothing was written."""


class PackageError(FhirCaseError):
    """A FHIR package cannot be found, read or installed."""
