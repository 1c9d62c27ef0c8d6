"""Case file -> bundles, as one pure pipeline: load, build the resources, assemble each bundle,
validate each bundle."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from fhir_case.bundle import make_bundle
from fhir_case.casefile import load_case
from fhir_case.casefile.model import Case
from fhir_case.document import make_document
from fhir_case.errors import BuildError
from fhir_case.record.models import build_resource_json
from fhir_case.validation import Validator
from fhir_case.validation.issues import Issue

# A layer that cannot run (its FHIR packages are not installed) says so with this issue code.
NOT_RUN = "not-supported"
SHOWN_ERRORS = 10

OutputType = Literal["transaction", "collection", "document"]
OUTPUT_TYPES: tuple[OutputType, ...] = ("transaction", "collection", "document")


def bundle_file_name(case_id: str, bundle_type: str) -> str:
    return f"{case_id}.{bundle_type}.json"


def build_bundles(case: Case, output_types: Sequence[OutputType]) -> dict[str, dict[str, Any]]:
    """The bundles of a case by file name, as FHIR JSON; the document is made from the
    collection."""
    resources = build_resource_json(case)
    bundles: dict[str, dict[str, Any]] = {}
    for output_type in output_types:
        bundle_type = "collection" if output_type == "document" else output_type
        bundle = make_bundle(case.id, resources, bundle_type)
        if output_type == "document":
            bundle = make_document(bundle)
        bundles[bundle_file_name(case.id, output_type)] = bundle
    return bundles


def build_case_file(path: Path, output_types: Sequence[OutputType]) -> dict[str, dict[str, Any]]:
    return build_bundles(load_case(path), output_types)


def check_bundles(
    bundles: dict[str, dict[str, Any]], validator: Validator
) -> dict[str, list[Issue]]:
    """Validate each bundle; raise BuildError, naming every error, when one has any.

    Returns what remains to report: warnings, and layers that could not run for want of
    packages (these do not stop a build: the build says which layers did not check it).
    """
    reports: dict[str, list[Issue]] = {}
    errors: list[str] = []
    for name, bundle in bundles.items():
        issues = validator.validate(bundle)
        for issue in issues:
            if issue.is_error and issue.code != NOT_RUN:
                errors.append(f"{name}: {issue.location}: {issue.message}")
        reports[name] = [issue for issue in issues if issue.code == NOT_RUN or not issue.is_error]
    if errors:
        shown = "\n  ".join(errors[:SHOWN_ERRORS])
        more = (
            f"\n  ... and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
        )
        raise BuildError(
            f"the built record does not validate ({len(errors)} errors), nothing was written:\n"
            f"  {shown}{more}\n"
            "Fix: correct the case file (or the builder); `fhir-case validate` shows every issue"
        )
    return reports
