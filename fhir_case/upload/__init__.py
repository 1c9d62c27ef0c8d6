"""Upload the case to FHIR servers: safe, idempotent, verified.

- :mod:`~fhir_case.upload.settings`: the one settings object (server, auth, TLS, retry policy);
- :mod:`~fhir_case.upload.client`: :class:`FhirClient`, the one HTTP choke point;
- :mod:`~fhir_case.upload.prepare` (pure): bundle -> idempotent transaction (``put`` or
  ``conditional`` mode);
- :mod:`~fhir_case.upload.compare` (pure): read-back comparison, with
  :mod:`~fhir_case.upload.references` (pure) for reference rewriting;
- :mod:`~fhir_case.upload.uploader`: capability check, upload, read-back, delete.
"""

from fhir_case.upload.client import FhirClient, FhirResponse
from fhir_case.upload.prepare import PreparedBundle, prepare
from fhir_case.upload.settings import (
    BasicAuth,
    BearerAuth,
    Mode,
    RetryPolicy,
    Secret,
    ServerSettings,
)
from fhir_case.upload.uploader import Uploader, UploadReport

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
