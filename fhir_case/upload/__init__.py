"""Upload the case to FHIR servers: safe, idempotent, verified.

- :mod:`~fhir_case.upload.settings`: the one settings object (server, auth, TLS, retry policy);
- :mod:`~fhir_case.upload.client`: :class:`FhirClient`, the one HTTP choke point;
- :mod:`~fhir_case.upload.prepare` (pure): bundle -> idempotent transaction (``put`` or
  ``conditional`` mode);
- :mod:`~fhir_case.upload.compare` (pure): read-back comparison, with
  :mod:`~fhir_case.upload.references` (pure) for reference rewriting;
- :mod:`~fhir_case.upload.uploader`: capability check, upload, read-back, delete.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The pure modules are imported at once (``prepare`` is also the name of a submodule: imported
# lazily, the submodule would shadow the function).
from fhir_case.upload.prepare import PreparedBundle, prepare
from fhir_case.upload.settings import (
    BasicAuth,
    BearerAuth,
    Mode,
    RetryPolicy,
    Secret,
    ServerSettings,
)

if TYPE_CHECKING:
    from fhir_case.upload.client import FhirClient, FhirResponse
    from fhir_case.upload.uploader import Uploader, UploadReport

# The HTTP stack is imported on first use, so that the pure modules do not load it.
_HOMES = {
    "FhirClient": "client",
    "FhirResponse": "client",
    "Uploader": "uploader",
    "UploadReport": "uploader",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "BasicAuth",
    "BearerAuth",
    "FhirClient",
    "FhirResponse",
    "Mode",
    "PreparedBundle",
    "RetryPolicy",
    "Secret",
    "ServerSettings",
    "UploadReport",
    "Uploader",
    "prepare",
]
