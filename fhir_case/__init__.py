"""fhir-case: a published oncology case report as a faithful, validated FHIR R4 record.

The flow is pure from end to end: case file -> case model -> FHIR resources -> Bundle ->
validation issues. Writing files, HTTP and the command line are thin layers around it.

The library (docs/api.md)::

    import fhir_case

    bundles = fhir_case.build_case()                     # the shipped case, validated
    issues = fhir_case.validate(bundles["collection"])   # list[Issue]
    html = fhir_case.render_view(bundles["collection"])  # the case page
    report = fhir_case.upload_bundle(bundles["transaction"], "local")
    record = fhir_case.fetch_record("local", report.patient_ids[0])

Its names are loaded on first use, so that ``import fhir_case`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from fhir_case.api import (
        Bundles,
        Deleted,
        build_case,
        delete_bundle,
        fetch_record,
        render_view,
        upload_bundle,
    )
    from fhir_case.errors import FhirCaseError
    from fhir_case.upload import ServerSettings, UploadReport
    from fhir_case.validation import validate
    from fhir_case.validation.issues import Issue

# Where each name lives; imported on first use (the functions from fhir_case.api).
_HOMES = {
    "FhirCaseError": "fhir_case.errors",
    "Issue": "fhir_case.validation.issues",
    "ServerSettings": "fhir_case.upload.settings",
    "UploadReport": "fhir_case.upload.uploader",
    "validate": "fhir_case.validation",
}

__all__ = [
    "Bundles",
    "Deleted",
    "FhirCaseError",
    "Issue",
    "ServerSettings",
    "UploadReport",
    "__version__",
    "build_case",
    "delete_bundle",
    "fetch_record",
    "render_view",
    "upload_bundle",
    "validate",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name, "fhir_case.api" if name in __all__ else None)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
