"""Case file -> bundles, as one pure pipeline: load, build the resources, assemble each bundle,
validate each bundle."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fhir_case.bundle import BundleType, make_bundle, to_json
from fhir_case.casefile import load_case
from fhir_case.casefile.model import Case
from fhir_case.errors import BuildError
from fhir_case.record import build_resources
from fhir_case.validation import Validator
from fhir_case.validation.issues import Issue

# A layer that cannot run (its FHIR packages are not installed) says so with this issue code.
NOT_RUN = "not-supported"
SHOWN_ERRORS = 10


def bundle_file_name(case_id: str, bundle_type: str) -> str:
    return f"{case_id}.{bundle_type}.json"


def build_bundles(case: Case, bundle_types: Sequence[BundleType]) -> dict[str, dict[str, Any]]:
    """The bundles of a case by file name, as FHIR JSON."""
    resources = build_resources(case)
    return {
        bundle_file_name(case.id, bundle_type): to_json(
            make_bundle(case.id, resources, bundle_type)
        )
        for bundle_type in bundle_types
    }


def build_case_file(path: Path, bundle_types: Sequence[BundleType]) -> dict[str, dict[str, Any]]:
    return build_bundles(load_case(path), bundle_types)


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
