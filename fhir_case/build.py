"""Case file -> bundles, as one pure pipeline: load, build the resources, assemble each bundle,
validate each bundle.

:mod:`fhir_case.record.models` (the R4B models) is imported where it is used: a build starts
its validation worker before the models are loaded, so that the worker does not load them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from fhir_case.bundle import make_bundle
from fhir_case.casefile import load_case
from fhir_case.casefile.model import Case
from fhir_case.document import make_document
from fhir_case.errors import BuildError
from fhir_case.record import build_resource_dicts
from fhir_case.validation import PackageFindings, Validator
from fhir_case.validation.batch import Worker
from fhir_case.validation.issues import Issue

SHOWN_ERRORS = 10

OutputType = Literal["transaction", "collection", "document"]
OUTPUT_TYPES: tuple[OutputType, ...] = ("transaction", "collection", "document")
JSON = dict[str, Any]


def bundle_file_name(case_id: str, bundle_type: str) -> str:
    return f"{case_id}.{bundle_type}.json"


def build_bundles(case: Case, output_types: Sequence[OutputType]) -> dict[str, JSON]:
    """The bundles of a case by file name, as FHIR JSON (the bundles share their resource
    objects: treat them as read-only)."""
    from fhir_case.record.models import through_models

    return assemble(case.id, through_models(build_resource_dicts(case)), output_types)


def assemble(
    case_id: str, resources: list[JSON], output_types: Sequence[OutputType]
) -> dict[str, JSON]:
    """Bundles of the resources by file name; the document is made from the collection."""
    bundles: dict[str, JSON] = {}
    for output_type in output_types:
        bundle_type = "collection" if output_type == "document" else output_type
        bundle = make_bundle(case_id, resources, bundle_type)
        if output_type == "document":
            bundle = make_document(bundle)
        bundles[bundle_file_name(case_id, output_type)] = bundle
    return bundles


def build_case_file(path: Path, output_types: Sequence[OutputType]) -> dict[str, JSON]:
    return build_bundles(load_case(path), output_types)


def build_and_validate(
    case: Case, output_types: Sequence[OutputType], validator: Validator
) -> tuple[dict[str, JSON], dict[str, list[Issue]]]:
    """The bundles of a case (as :func:`build_bundles`) and every issue of each, on two CPUs.

    Passing the resources through the R4B models, the first time each model class is built,
    is most of a cold build; the layers driven by FHIR packages (schema, profile) need no
    models. So a worker process runs them on the bundles assembled from the builder's JSON,
    while this process passes the resources through the models and runs the other layers.
    The builder writes its elements in FHIR's order, so the models give back the same JSON,
    byte for byte, and the bundles the worker checked are the bundles built; otherwise the
    bundles are assembled again from what the models gave, and (as when the worker failed)
    those layers run here.

    The worker loads the validator's packages and fills its memory of checked resources; both
    stay in the worker (a validator reused for several builds loads its packages each time).
    """
    from fhir_case.record.models import through_models

    def package_findings(bundles: dict[str, JSON]) -> dict[str, PackageFindings]:
        return {name: validator.package_findings(bundle) for name, bundle in bundles.items()}

    resources = build_resource_dicts(case)
    drafts = assemble(case.id, resources, output_types)
    with Worker(lambda: package_findings(drafts)) as worker:
        modelled = through_models(resources)
        confirmed = _same_json(resources, modelled)
        bundles = drafts if confirmed else assemble(case.id, modelled, output_types)
        core = {name: validator.core_issues(bundle) for name, bundle in bundles.items()}
        package = worker.result() if confirmed else None
    if package is None:
        package = package_findings(bundles)
    issues = {name: validator.combine(core[name], package[name]) for name in bundles}
    return bundles, issues


def _same_json(first: list[JSON], second: list[JSON]) -> bool:
    """The same JSON, keys in the same order (findings can depend on order: which of two
    issues at one place is kept)."""
    return json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)


def check_issues(issues: dict[str, list[Issue]]) -> dict[str, list[Issue]]:
    """Raise BuildError, naming every error, when a bundle has any.

    Returns what remains to report: warnings, and layers that could not run for want of
    packages (these do not stop a build: the build says which layers did not check it).
    """
    reports: dict[str, list[Issue]] = {}
    errors: list[str] = []
    for name, found in issues.items():
        for issue in found:
            if issue.is_data_error:
                errors.append(f"{name}: {issue.location}: {issue.message}")
        reports[name] = [issue for issue in found if not issue.is_data_error]
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
