"""Upload and delete a prepared bundle: check the server, look, write, map, read back.

The flow for one bundle (:meth:`Uploader.upload`):

1. ``GET [base]/metadata`` once per client: FHIR 4.0.x and transaction support (or batch, when
   the caller asked for it) or a :class:`~fhir_case.errors.ServerCapabilityError`;
2. look up what the server already holds for each entry (one batch of reads), which tells
   created / updated / unchanged apart;
3. POST the transaction (retried after a failure only because every entry is idempotent);
4. map each entry's fullUrl to the server's ``Type/id`` from the transaction-response;
5. read every resource back (one batch) and compare it with what was sent
   (:mod:`fhir_case.upload.compare`).

A rejected transaction becomes a :class:`~fhir_case.errors.TransactionRejectedError` naming the
failing entries (fullUrl and resource type) with the server's OperationOutcome.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir_case.errors import (
    FhirServerError,
    RequestRejectedError,
    ResourceNotFoundError,
    ServerCapabilityError,
    ServerFaultError,
    TransactionRejectedError,
)
from fhir_case.upload.client import FhirClient
from fhir_case.upload.compare import differences
from fhir_case.upload.outcome import (
    OutcomeIssue,
    errors_of,
    mentions,
    parse_outcome,
    summarize,
)
from fhir_case.upload.prepare import PreparedBundle, PreparedEntry, is_idempotent
from fhir_case.upload.references import relative

BATCH_CHUNK = 200  # reads per batch request
VALIDATE_LIMIT = 25  # candidates checked by $validate to find a rejected entry
ENTRY_INDEX = re.compile(r"\bentry\s*(?:\[|#|\s)\s*(\d+)", re.IGNORECASE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Capability:
    fhir_version: str
    software: str
    transaction: bool
    batch: bool


@dataclass
class UploadReport:
    """What happened to one bundle."""

    source: str
    entries: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    error: str | None = None  # why the bundle failed as a whole
    server_ids: dict[str, str] = field(default_factory=dict)  # fullUrl -> Type/id on the server
    mismatches: dict[str, list[str]] = field(default_factory=dict)  # entry label -> differences
    verified: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.failed == 0

    @property
    def patient_ids(self) -> list[str]:
        """The server's ids of the bundle's Patients, in bundle order."""
        return [
            server_id.removeprefix("Patient/")
            for server_id in self.server_ids.values()
            if server_id.startswith("Patient/")
        ]


def check_capability(statement: dict[str, Any], *, batch: bool = False) -> Capability:
    """Pure: the server's fitness from its CapabilityStatement, or ServerCapabilityError."""
    version = str(statement.get("fhirVersion") or "")
    software = str((statement.get("software") or {}).get("name") or "unknown software")
    codes: set[str] = set()
    for rest in statement.get("rest") or ():
        if rest.get("mode", "server") == "server":
            codes |= {str(i.get("code")) for i in rest.get("interaction") or ()}
    capability = Capability(version, software, "transaction" in codes, "batch" in codes)
    if not version.startswith("4.0."):
        raise ServerCapabilityError(
            f"the server ({software}) speaks FHIR {version or '(version not stated)'}; "
            "fhir-case uploads FHIR R4 (4.0.x). Choose an R4 base URL (e.g. .../baseR4)"
        )
    if batch and not capability.batch:
        raise ServerCapabilityError(f"the server ({software}) does not support batch")
    if not batch and not capability.transaction:
        offer = (
            "; it supports batch: rerun with --batch (not atomic: entries that fail do not "
            "stop the others)"
            if capability.batch
            else ", nor batch"
        )
        raise ServerCapabilityError(f"the server ({software}) does not support transactions{offer}")
    return capability


class Uploader:
    """Uploads and deletes prepared bundles through one client."""

    def __init__(
        self,
        client: FhirClient,
        *,
        verify: bool = True,
        batch: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.verify = verify
        self.batch = batch
        self.progress: Progress | None = progress  # told each step, e.g. to show it on a terminal
        self._capability: Capability | None = None

    def _progress(self, step: str) -> None:
        if self.progress is not None:
            self.progress(step)

    def capability(self) -> Capability:
        if self._capability is None:
            self._progress("checking the server")
            self._capability = check_capability(self.client.metadata(), batch=self.batch)
        return self._capability

    # ---------------- upload ----------------

    def upload(self, prepared: PreparedBundle) -> UploadReport:
        """Upload one bundle; raises FhirServerError when the server rejects it as a whole."""
        self.capability()
        report = UploadReport(prepared.source, len(prepared.entries))
        self._progress("looking up what the server holds")
        before = self._lookup(prepared.entries)
        known, base = self._known_refs(prepared, before), self.client.base_url
        same_before = [
            stored is not None and not differences(e.resource, stored, known, base)
            for e, stored in zip(prepared.entries, before, strict=True)
        ]
        bundle = prepared.batch() if self.batch else prepared.transaction()
        self._progress(f"sending {len(prepared.entries)} entries")
        try:
            answer = self.client.transaction(bundle, idempotent=is_idempotent(bundle))
        except (RequestRejectedError, ServerFaultError) as error:
            raise self._rejected(prepared, error, before) from None
        responses = answer.get("entry") or []
        if len(responses) != len(prepared.entries):
            raise FhirServerError(
                f"the server answered {len(responses)} entries for {len(prepared.entries)} sent"
            )
        for entry, response, unchanged in zip(
            prepared.entries, responses, same_before, strict=True
        ):
            status, server_id, issues = self._entry_result(entry, response)
            if status >= 400:
                report.failed += 1
                report.mismatches[entry.label] = [str(i) for i in issues] or [f"status {status}"]
                continue
            report.server_ids[entry.full_url] = server_id
            if status == 201:
                report.created += 1
            elif unchanged:
                report.unchanged += 1
            else:
                report.updated += 1
        if self.verify:
            self._verify(prepared, report)
        return report

    def _known_refs(
        self, prepared: PreparedBundle, before: Sequence[dict[str, Any] | None]
    ) -> dict[str, str]:
        """fullUrl -> Type/id as far as known before sending (all of them in put mode)."""
        return {
            e.full_url: f"{e.resource_type}/{stored['id']}"
            for e, stored in zip(prepared.entries, before, strict=True)
            if stored is not None
        } | {e.full_url: e.lookup for e in prepared.entries if "?" not in e.lookup}

    def _entry_result(
        self, entry: PreparedEntry, response: Any
    ) -> tuple[int, str, tuple[OutcomeIssue, ...]]:
        answer = response.get("response") if isinstance(response, dict) else None
        if not isinstance(answer, dict):
            raise FhirServerError(f"the server's answer for {entry.label} has no response")
        status = _status_code(answer.get("status"))
        issues = parse_outcome(answer.get("outcome"))
        location = str(answer.get("location") or "")
        resource = response.get("resource") if isinstance(response, dict) else None
        if location:
            server_id = _location_id(location, self.client.base_url)
        elif isinstance(resource, dict) and resource.get("id"):
            server_id = f"{resource.get('resourceType')}/{resource['id']}"
        elif "?" not in entry.lookup:
            server_id = entry.lookup
        else:
            server_id = ""
        if status < 400 and not server_id:
            raise FhirServerError(f"the server did not say where it stored {entry.label}")
        return status, server_id, issues

    def _verify(self, prepared: PreparedBundle, report: UploadReport) -> None:
        stored_entries = [e for e in prepared.entries if e.full_url in report.server_ids]
        self._progress(f"reading back {len(stored_entries)} resources")
        stored = self._fetch([report.server_ids[e.full_url] for e in stored_entries])
        for entry, resource in zip(stored_entries, stored, strict=True):
            if resource is None:
                found = [f"{report.server_ids[entry.full_url]} is not on the server"]
            else:
                found = differences(
                    entry.resource, resource, report.server_ids, self.client.base_url
                )
            if found:
                report.failed += 1
                report.mismatches[entry.label] = found
        report.verified = True

    def _rejected(
        self,
        prepared: PreparedBundle,
        error: RequestRejectedError | ServerFaultError,
        before: Sequence[dict[str, Any] | None],
    ) -> FhirServerError:
        issues = tuple(i for i in error.issues if isinstance(i, OutcomeIssue))
        culprits = self._locate(prepared, issues)
        lines = [f"the server rejected {prepared.source} (status {error.status})"]
        if culprits:
            lines.append(
                "failing "
                + ("entry: " if len(culprits) == 1 else "entries: ")
                + "; ".join(e.label for e in culprits)
            )
        else:
            lines.append("the server's answer does not say which entry failed")
        if issues:
            lines.append(summarize(issues))
        if not self.batch:
            lines.append(self._stored_despite_rejection(prepared, before))
        return TransactionRejectedError("\n".join(lines), status=error.status, issues=issues)

    def _stored_despite_rejection(
        self, prepared: PreparedBundle, before: Sequence[dict[str, Any] | None]
    ) -> str:
        """Look again: a rejected transaction must have left the server as it was."""
        try:
            after = self._lookup(prepared.entries)
        except FhirServerError:
            return "whether anything was stored could not be checked"
        changed = [
            e.label
            for e, old, new in zip(prepared.entries, before, after, strict=True)
            if new is not None and (old is None or new.get("meta") != old.get("meta"))
        ]
        if not changed:
            return "nothing of the bundle was stored (checked)"
        return (
            f"WARNING: the server stored {len(changed)} entries despite the rejection: "
            + "; ".join(changed[:5])
        )

    def _locate(
        self, prepared: PreparedBundle, issues: tuple[OutcomeIssue, ...]
    ) -> list[PreparedEntry]:
        """The entries a rejection is about: named by index, fullUrl or Type/id in the
        OperationOutcome, else by the resource type of its expressions, narrowed by $validate."""
        text = " ".join(f"{i.diagnostics} {' '.join(i.expression)}" for i in issues)
        named = {int(m.group(1)) for m in ENTRY_INDEX.finditer(text)}
        found = [
            e
            for e in prepared.entries
            if e.index in named
            or mentions(text, e.full_url)
            or ("?" not in e.lookup and mentions(text, e.lookup))
        ]
        if found:
            return found
        types = {x.split(".", 1)[0] for i in errors_of(issues) for x in i.expression}
        candidates = [e for e in prepared.entries if e.resource_type in types]
        if len(candidates) <= 1 or len(candidates) > VALIDATE_LIMIT:
            return candidates
        invalid = []
        for entry in candidates:
            try:
                verdict = self.client.validate(entry.resource)
            except FhirServerError:
                return candidates  # no $validate here: name every candidate
            if errors_of(verdict):
                invalid.append(entry)
        return invalid or candidates

    # ---------------- delete ----------------

    def delete(self, prepared: PreparedBundle) -> tuple[int, int]:
        """Delete the bundle's resources from the server: (deleted, not there)."""
        self.capability()
        self._progress("looking up what the server holds")
        present = [
            e for e, s in zip(prepared.entries, self._lookup(prepared.entries), strict=True) if s
        ]
        if present:
            gone = PreparedBundle(prepared.source, prepared.mode, tuple(present))
            self._progress(f"deleting {len(present)} resources")
            try:
                self.client.transaction(gone.deletion(), idempotent=True)
            except (RequestRejectedError, ServerFaultError) as error:
                issues = tuple(i for i in error.issues if isinstance(i, OutcomeIssue))
                raise TransactionRejectedError(
                    f"the server refused to delete the resources of {prepared.source} "
                    f"(status {error.status}); a transaction deletes all or nothing\n"
                    + summarize(issues),
                    status=error.status,
                    issues=issues,
                ) from None
            left = [e.label for e, s in zip(present, self._lookup(present), strict=True) if s]
            if left:
                raise FhirServerError(
                    f"after the delete the server still holds {len(left)} resources: "
                    + "; ".join(left[:5])
                )
        return len(present), len(prepared.entries) - len(present)

    # ---------------- reads ----------------

    def _lookup(self, entries: Sequence[PreparedEntry]) -> list[dict[str, Any] | None]:
        """What the server holds for each entry (by id, or by its identifier condition)."""
        found = self._fetch([e.lookup for e in entries])
        result: list[dict[str, Any] | None] = []
        for entry, body in zip(entries, found, strict=True):
            if body is not None and body.get("resourceType") == "Bundle":
                matches = [
                    x.get("resource")
                    for x in body.get("entry") or ()
                    if (x.get("search") or {}).get("mode", "match") == "match"
                ]
                if len(matches) > 1:
                    raise FhirServerError(
                        f"{entry.label}: {len(matches)} resources on the server match "
                        f"{entry.lookup}; conditional create cannot choose. Delete the duplicates"
                    )
                body = matches[0] if matches else None
            result.append(body)
        return result

    def _fetch(self, urls: Sequence[str]) -> list[dict[str, Any] | None]:
        """GET each URL, batched when the server supports it; None where there is nothing."""
        if not urls:
            return []
        if not self.capability().batch:
            return [self._get(url) for url in urls]
        result: list[dict[str, Any] | None] = []
        for start in range(0, len(urls), BATCH_CHUNK):
            chunk = urls[start : start + BATCH_CHUNK]
            bundle = {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [{"request": {"method": "GET", "url": url}} for url in chunk],
            }
            answer = self.client.transaction(bundle, idempotent=True)
            entries = answer.get("entry") or []
            if len(entries) != len(chunk):
                raise FhirServerError(
                    f"a batch of {len(chunk)} reads was answered with {len(entries)} entries"
                )
            for url, entry in zip(chunk, entries, strict=True):
                response = entry.get("response") or {}
                status = _status_code(response.get("status"))
                if status in (404, 410):
                    result.append(None)
                elif status >= 400:
                    raise FhirServerError(
                        f"GET {url} (in a batch): status {status}\n"
                        + summarize(parse_outcome(response.get("outcome")))
                    )
                else:
                    result.append(entry.get("resource"))
        return result

    def _get(self, url: str) -> dict[str, Any] | None:
        try:
            body = self.client.request("GET", url).body
        except ResourceNotFoundError:
            return None
        return body if isinstance(body, dict) else None


def _status_code(status: Any) -> int:
    match = re.match(r"\s*(\d{3})", str(status or ""))
    if not match:
        raise FhirServerError(f"a response entry has no HTTP status ({status!r})")
    return int(match.group(1))


def _location_id(location: str, base_url: str) -> str:
    """``Type/id`` of a response location. Servers behind proxies may name themselves with
    another host than the one we call, so the last two path segments count, not the host."""
    parts = [p for p in relative(location, base_url).split("/") if p]
    return "/".join(parts[-2:]) if len(parts) >= 2 else ""
