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
    PackageNotFoundError     a needed package is not installed (says how to install it)
    PackageFormatError       a .tgz or folder that is not a readable FHIR package
    PackageDownloadError     a package registry did not deliver a package
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


class PackageNotFoundError(PackageError):
    """A needed FHIR package is not in the package cache."""

    def __init__(self, ref: object, cache_root: Path | str, needed_by: object = None) -> None:
        self.ref = str(ref)
        self.cache_root = str(cache_root)
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
