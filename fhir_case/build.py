"""Case file -> bundles, as one pure pipeline: load, build the resources, assemble each bundle."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fhir_case.bundle import BundleType, make_bundle, to_json
from fhir_case.casefile import load_case
from fhir_case.casefile.model import Case
from fhir_case.record import build_resources


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
