"""The library's surface, exported by ``fhir_case`` (``import fhir_case``): build the case,
validate FHIR JSON, upload a bundle and take it off again, read a patient's record back, render
the case page. Examples: docs/api.md.

The command line runs the same code: ``fhir-case build`` is :func:`build_case` and
:meth:`Bundles.write`; ``fhir-case view`` is :func:`render_view`; ``fhir_case.validate`` is
:func:`fhir_case.validation.validate`, the validator of ``fhir-case validate``; ``fhir-case
upload`` and ``delete`` drive the :class:`~fhir_case.upload.Uploader` that :func:`upload_bundle`
and :func:`delete_bundle` drive, over one connection for several files. Errors are the typed
exceptions of :mod:`fhir_case.errors`.

The HTTP client and the case view are imported when first used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from fhir_case.build import (
    OUTPUT_TYPES,
    OutputType,
    build_and_validate,
    bundle_file_name,
    check_issues,
)
from fhir_case.bundle import serialize
from fhir_case.casefile import default_case_file, load_case
from fhir_case.fileio import write_outputs
from fhir_case.validation import Validator
from fhir_case.validation.issues import Issue
from fhir_case.validation.outcome import layers_not_run

if TYPE_CHECKING:
    from fhir_case.upload import Mode, ServerSettings, UploadReport
    from fhir_case.view.case import Origin

JSON = dict[str, Any]


@dataclass(frozen=True)
class Bundles(Mapping[str, JSON]):
    """The validated bundles of one case, by bundle type (``"transaction"``, ``"collection"``,
    ``"document"``): ``bundles["collection"]`` is FHIR JSON.

    The bundles share their resource objects: treat them as read-only (copy before changing).
    ``issues`` holds, per type, what validation found that is not an error (warnings,
    information, and the layers that could not run), as ``fhir-case build`` reports it.
    """

    case_id: str
    bundles: Mapping[str, JSON]
    issues: Mapping[str, list[Issue]]

    def __getitem__(self, bundle_type: str) -> JSON:
        return self.bundles[bundle_type]

    def __iter__(self) -> Iterator[str]:
        return iter(self.bundles)

    def __len__(self) -> int:
        return len(self.bundles)

    def file_name(self, bundle_type: str) -> str:
        """``<case id>.<type>.json``, the name ``fhir-case build`` writes it under."""
        return bundle_file_name(self.case_id, bundle_type)

    @property
    def layers_not_run(self) -> list[str]:
        """Validation layers that could not run (their FHIR packages are not installed); empty
        when every layer checked the bundles."""
        return layers_not_run(issue for found in self.issues.values() for issue in found)

    def write(self, folder: str | Path) -> list[Path]:
        """Write each bundle to ``folder`` as canonical JSON (byte-identical on every run), all
        or nothing (:class:`~fhir_case.errors.OutputPathError` says what is in the way); returns
        the paths, in the order of the bundles."""
        files = {Path(folder) / self.file_name(t): serialize(b) for t, b in self.bundles.items()}
        write_outputs(files)
        return list(files)


def build_case(
    case_path: str | Path | None = None,
    *,
    types: Sequence[OutputType] = OUTPUT_TYPES,
    validator: Validator | None = None,
) -> Bundles:
    """Build the bundles of a case file and validate them with every layer.

    ``case_path``: a case file (YAML, docs/case-file.md); None is the case shipped with
    fhir-case (Chen et al. 2024). ``types``: which bundles. ``validator``: to choose the FHIR
    packages (default: every package in the package cache).

    Raises :class:`~fhir_case.errors.CaseFileError` (file, line, field, fix) for a bad case
    file and :class:`~fhir_case.errors.BuildError` naming every error when the built record
    does not validate. A layer whose packages are missing does not stop the build: see
    :attr:`Bundles.layers_not_run`.
    """
    case = load_case(Path(case_path) if case_path is not None else default_case_file())
    built, found = build_and_validate(case, types, validator or Validator())
    reports = check_issues(found)
    names = {bundle_file_name(case.id, t): t for t in types}
    return Bundles(
        case.id,
        {names[name]: bundle for name, bundle in built.items()},
        {names[name]: issues for name, issues in reports.items()},
    )


def upload_bundle(
    bundle: JSON,
    server: str | ServerSettings,
    *,
    mode: Mode | str = "put",
    verify: bool = True,
    batch: bool = False,
    max_entries: int | None = None,
    name: str = "bundle",
) -> UploadReport:
    """Upload a Bundle to a FHIR R4 server in one transaction, then read every resource back
    and compare it with what was sent. ``mode``: ``"put"`` (the bundle's ids) or
    ``"conditional"`` (by identifier), both idempotent, or ``"create"`` (the server assigns
    ids). ``max_entries``: send a larger bundle as transactions of at most that many entries
    (each atomic, the whole not).

    ``server``: a base URL, a name (``"local"``, ``"hapi-r4"``) or a
    :class:`~fhir_case.upload.ServerSettings` (for credentials, TLS, timeouts). ``name`` names
    the bundle in messages. The report counts created, updated and unchanged resources, maps
    each fullUrl to the server's ``Type/id`` and lists read-back differences
    (:attr:`~fhir_case.upload.UploadReport.patient_ids` gives the Patients' ids).
    Raises :class:`~fhir_case.errors.FhirServerError` (a subclass says why) when the server
    cannot take it; a rejected transaction leaves nothing behind.
    """
    from fhir_case.upload import FhirClient, Mode, Uploader, prepare

    prepared = prepare(bundle, Mode(mode), name)
    with FhirClient(_settings(server)) as client:
        uploader = Uploader(client, verify=verify, batch=batch, max_entries=max_entries)
        return uploader.upload(prepared)


class Deleted(NamedTuple):
    """What :func:`delete_bundle` did."""

    deleted: int  # resources the server held and no longer holds
    absent: int  # resources of the bundle that were not on the server


def delete_bundle(
    bundle: JSON, server: str | ServerSettings, *, mode: Mode | str = "put", name: str = "bundle"
) -> Deleted:
    """Delete a Bundle's resources from a server in one transaction and check they are gone
    (found by id in ``"put"`` mode, by identifier in ``"conditional"`` mode)."""
    from fhir_case.upload import FhirClient, Mode, Uploader, prepare

    prepared = prepare(bundle, Mode(mode), name)
    with FhirClient(_settings(server)) as client:
        return Deleted(*Uploader(client).delete(prepared))


def fetch_record(server: str | ServerSettings, patient_id: str) -> JSON:
    """A patient's record on a server as one collection Bundle (``Patient/<id>/$everything``,
    else a search per type of the patient compartment; referenced resources read too), ready
    for :func:`render_view`."""
    from fhir_case.upload import FhirClient
    from fhir_case.view.server import fetch_patient_record

    with FhirClient(_settings(server)) as client:
        return fetch_patient_record(client, patient_id).bundle


def render_view(bundle: JSON, origin: Origin | None = None) -> str:
    """The case page of a Bundle (any type) as one self-contained HTML document: inline CSS and
    SVG, no script, nothing fetched. ``origin`` (:class:`fhir_case.view.case.Origin`) says where
    the record came from, for the page's header and footer. Pure; never raises on odd content."""
    from fhir_case.view import render_case_view

    return render_case_view(bundle, origin)


def _settings(server: str | ServerSettings) -> ServerSettings:
    from fhir_case.upload.settings import ServerSettings, resolve_server

    return server if isinstance(server, ServerSettings) else ServerSettings(resolve_server(server))
