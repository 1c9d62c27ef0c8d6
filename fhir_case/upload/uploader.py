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
from fhir_case.upload.prepare import (
    PreparedBundle,
    PreparedEntry,
    has_identifier,
    is_idempotent,
    split,
)
from fhir_case.upload.references import map_references, relative
from fhir_case.upload.settings import Mode

BATCH_CHUNK = 200  # reads per batch request
VALIDATE_LIMIT = 25  # candidates checked by $validate to find a rejected entry
ENTRY_INDEX = re.compile(r"\bentry\s*(?:\[|#|\s)\s*(\d+)", re.IGNORECASE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ResourceSupport:
    """What a CapabilityStatement says about one resource type (None: it does not say)."""

    interactions: frozenset[str] = frozenset()
    update_create: bool | None = None
    conditional_create: bool | None = None


@dataclass(frozen=True)
class Capability:
    fhir_version: str
    software: str
    transaction: bool
    batch: bool
    resources: dict[str, ResourceSupport] = field(default_factory=dict)  # empty: not stated


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
    notes: list[str] = field(default_factory=list)  # what the user should know (not errors)

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
    resources: dict[str, ResourceSupport] = {}
    for rest in _dicts(statement.get("rest")):
        if rest.get("mode", "server") == "server":
            codes |= {str(i.get("code")) for i in _dicts(rest.get("interaction"))}
            for item in _dicts(rest.get("resource")):
                resources[str(item.get("type"))] = ResourceSupport(
                    frozenset(str(i.get("code")) for i in _dicts(item.get("interaction"))),
                    _flag(item.get("updateCreate")),
                    _flag(item.get("conditionalCreate")),
                )
    capability = Capability(version, software, "transaction" in codes, "batch" in codes, resources)
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


def check_fit(capability: Capability, prepared: PreparedBundle) -> None:
    """Pure: ServerCapabilityError, before anything is sent, when the server's
    CapabilityStatement says it cannot take the bundle as prepared, with what to do instead."""
    software = capability.software
    types = sorted({e.resource_type for e in prepared.entries})
    # Types the statement does not list are not judged: servers often take more than they list.
    support = {t: capability.resources[t] for t in types if t in capability.resources}
    mode = prepared.mode
    needed = "update" if mode is Mode.PUT else "create"
    lacking = [t for t, s in support.items() if s.interactions and needed not in s.interactions]
    if lacking:
        raise ServerCapabilityError(
            f"the server ({software}) does not allow '{needed}' for {', '.join(lacking)}, which "
            f"{mode.value} mode needs" + ("; try --mode create (POST)" if mode is Mode.PUT else "")
        )
    if mode is Mode.PUT:
        no_put_create = [t for t, s in support.items() if s.update_create is False]
        if no_put_create:
            without = sum(1 for e in prepared.entries if not has_identifier(e.resource))
            raise ServerCapabilityError(
                f"the server ({software}) cannot create resources with PUT (updateCreate: false "
                f"for {', '.join(no_put_create)}): put mode would fail for every resource it "
                "does not hold yet. Use --mode create (POST: the server assigns the ids and "
                "rewrites the references between entries; resources without an identifier are "
                "created again by every upload), or --mode conditional (POST only when no "
                "resource has the same identifier; every resource needs one, and "
                f"{without} of the {len(prepared.entries)} entries here have none)"
            )
    if mode is Mode.CONDITIONAL:
        no_conditional = [t for t, s in support.items() if s.conditional_create is False]
        if no_conditional:
            raise ServerCapabilityError(
                f"the server ({software}) does not support conditional create (ifNoneExist) for "
                f"{', '.join(no_conditional)}; use --mode put, or --mode create"
            )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class ServerState:
    """What the server holds for a bundle after a transaction whose outcome was not known."""

    stored: int  # entries the server holds exactly as sent
    untouched: int  # entries the server holds as before (or still lacks)
    total: int
    unknown: int = 0  # entries that cannot be looked up (create mode, no identifier)
    problem: str | None = None  # why the server could not be asked

    def describe(self) -> str:
        if self.problem is not None:
            return f"whether anything was stored could not be checked ({self.problem})"
        if self.unknown:
            return (
                f"{self.unknown} of the {self.total} entries cannot be looked up (they have no "
                "identifier): whether they were stored is not known"
            )
        if self.stored == self.total:
            return "the server holds the whole bundle as sent (checked): stored completely"
        if self.untouched == self.total:
            return "nothing of the bundle was stored (checked)"
        changed = self.total - self.untouched
        return (
            f"WARNING: the server holds {changed} of the {self.total} entries changed: the "
            "bundle was stored in part"
        )


class Uploader:
    """Uploads and deletes prepared bundles through one client."""

    def __init__(
        self,
        client: FhirClient,
        *,
        verify: bool = True,
        batch: bool = False,
        progress: Progress | None = None,
        max_entries: int | None = None,
    ) -> None:
        self.client = client
        self.verify = verify
        self.batch = batch
        self.max_entries = max_entries  # split larger bundles into transactions of this size
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
        """Upload one bundle; raises FhirServerError when the server rejects it as a whole.

        Created, updated and unchanged are decided from what the server held before (looked up
        first), not from status codes. When the transaction fails, or its answer is lost, the
        server is asked what it now holds, and the error or the report says so."""
        check_fit(self.capability(), prepared)
        report = UploadReport(prepared.source, len(prepared.entries))
        self._progress("looking up what the server holds")
        before = self._lookup(prepared.entries)
        if self.max_entries is not None and len(prepared.entries) > self.max_entries:
            self._upload_parts(prepared, before, report, self.max_entries)
        else:
            self._send(prepared, before, report)
        if self.verify and report.server_ids:
            self._verify(prepared, report)
        return report

    def _send(
        self,
        prepared: PreparedBundle,
        before: Sequence[dict[str, Any] | None],
        report: UploadReport,
        elsewhere: dict[str, str] | None = None,
    ) -> None:
        """One transaction (or batch) of ``prepared``; its results are added to ``report``.
        References to entries sent in other transactions (``elsewhere``: their known ids) are
        rewritten to their ``Type/id`` on the server."""
        bundle = prepared.batch() if self.batch else prepared.transaction()
        if elsewhere is not None:
            outside = {**elsewhere, **report.server_ids}
            bundle = map_references(bundle, lambda ref: outside.get(ref, ref))
        self._progress(f"sending {len(prepared.entries)} entries")
        try:
            answer = self.client.transaction(bundle, idempotent=is_idempotent(bundle))
        except FhirServerError as error:
            self._after_failure(prepared, before, report, error)
            return
        entries = answer.get("entry")
        responses: list[Any] = entries if isinstance(entries, list) else []
        if len(responses) != len(prepared.entries):
            raise FhirServerError(
                f"the server answered {len(responses)} entries for {len(prepared.entries)} sent"
            )
        failed_here = 0
        for entry, response, old in zip(prepared.entries, responses, before, strict=True):
            status, server_id, issues = self._entry_result(entry, response)
            if status >= 400:
                failed_here += 1
                report.failed += 1
                report.mismatches[entry.label] = [str(i) for i in issues] or [f"status {status}"]
                continue
            report.server_ids[entry.full_url] = server_id
            self._count(
                report, entry, old, {**self._known_refs(prepared, before), **report.server_ids}
            )
        if failed_here and not self.batch:
            stored = len(prepared.entries) - failed_here
            report.notes.append(
                f"the server answered the transaction like a batch: {failed_here} entries "
                f"failed and {stored} were stored anyway. It did not apply the bundle all or "
                "nothing (not atomic); fix the failed entries and upload again"
            )

    def _count(
        self,
        report: UploadReport,
        entry: PreparedEntry,
        old: dict[str, Any] | None,
        references: dict[str, str],
    ) -> None:
        """Created, updated or unchanged: from what the server held before the upload."""
        if old is None:
            report.created += 1
        elif differences(entry.resource, old, references, self.client.base_url):
            report.updated += 1
        else:
            report.unchanged += 1

    def _after_failure(
        self,
        prepared: PreparedBundle,
        before: Sequence[dict[str, Any] | None],
        report: UploadReport,
        error: FhirServerError,
    ) -> None:
        """The transaction failed or its answer was lost: ask the server what it holds now.
        Stored completely: the upload happened, and the report says how it was found out;
        otherwise the error, with what the server holds."""
        rejected = isinstance(error, RequestRejectedError | ServerFaultError) and not isinstance(
            error, ResourceNotFoundError
        )
        if self.batch:
            if rejected:
                raise self._rejected(prepared, error, None) from None
            raise error
        self._progress("checking what the server holds after the failure")
        state, after = self._state(prepared, before)
        if state.problem is None and state.unknown == 0 and state.stored == state.total:
            for entry, old, new in zip(prepared.entries, before, after, strict=True):
                assert new is not None
                report.server_ids[entry.full_url] = f"{entry.resource_type}/{new.get('id')}"
                self._count(report, entry, old, self._known_refs(prepared, after))
            report.notes.append(
                f"{_first_line(error)}; so the outcome was unknown: {state.describe()}"
            )
            return
        if rejected:
            raise self._rejected(prepared, error, state) from None
        lost = error.status is None
        head = (
            f"{_first_line(error)}; the outcome of the transaction was unknown"
            if lost
            else str(error)
        )
        raise type(error)(
            f"{head}\n{state.describe()}", status=error.status, issues=error.issues
        ) from None

    def _state(
        self, prepared: PreparedBundle, before: Sequence[dict[str, Any] | None]
    ) -> tuple[ServerState, list[dict[str, Any] | None]]:
        total = len(prepared.entries)
        try:
            after = self._lookup(prepared.entries)
        except FhirServerError as error:
            return ServerState(0, 0, total, problem=_first_line(error)), []
        unknown = sum(1 for e in prepared.entries if not e.lookup)
        references = self._known_refs(prepared, after)
        stored = untouched = 0
        for entry, old, new in zip(prepared.entries, before, after, strict=True):
            if new is not None and not differences(
                entry.resource, new, references, self.client.base_url
            ):
                stored += 1
            if (old is None and new is None) or (
                old is not None and new is not None and old.get("meta") == new.get("meta")
            ):
                untouched += 1
        return ServerState(stored, untouched, total, unknown), after

    def _upload_parts(
        self,
        prepared: PreparedBundle,
        before: Sequence[dict[str, Any] | None],
        report: UploadReport,
        size: int,
    ) -> None:
        """The bundle as several transactions of at most ``size`` entries (not atomic as a
        whole); references to entries of earlier parts point to what the server stored."""
        parts = split(prepared, size)
        ids = {e.full_url: e.lookup for e in prepared.entries if e.lookup and "?" not in e.lookup}
        report.notes.append(
            f"sent as {len(parts)} transactions of at most {size} entries (--max-entries): each "
            "is all or nothing, the bundle as a whole is not"
        )
        for number, positions in enumerate(parts, 1):
            part = PreparedBundle(
                prepared.source, prepared.mode, tuple(prepared.entries[i] for i in positions)
            )
            own = {e.full_url for e in part.entries}
            elsewhere = {url: ref for url, ref in ids.items() if url not in own}
            try:
                self._send(part, [before[i] for i in positions], report, elsewhere)
            except FhirServerError as error:
                done = sum(len(p) for p in parts[: number - 1])
                left = len(prepared.entries) - done
                report.failed += left
                report.error = (
                    f"part {number} of {len(parts)} failed: {error}\nthe {done} entries of the "
                    f"parts before it were stored; the {left} entries of this part and those "
                    "after it were not (or see above)"
                )
                return

    def _known_refs(
        self, prepared: PreparedBundle, held: Sequence[dict[str, Any] | None]
    ) -> dict[str, str]:
        """fullUrl -> Type/id as far as known (from ids, or from what the server holds)."""
        return {
            e.full_url: f"{e.resource_type}/{stored['id']}"
            for e, stored in zip(prepared.entries, held, strict=False)
            if stored is not None
        } | {e.full_url: e.lookup for e in prepared.entries if e.lookup and "?" not in e.lookup}

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
        elif entry.lookup and "?" not in entry.lookup:
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
        # A reference to an entry that failed is compared only when its id is known anyway.
        references: dict[str, str | None] = {
            e.full_url: e.lookup if e.lookup and "?" not in e.lookup else None
            for e in prepared.entries
        }
        references |= report.server_ids
        for entry, resource in zip(stored_entries, stored, strict=True):
            if resource is None:
                found = [f"{report.server_ids[entry.full_url]} is not on the server"]
            else:
                found = differences(entry.resource, resource, references, self.client.base_url)
            if found:
                report.failed += 1
                report.mismatches[entry.label] = found
        report.verified = True

    def _rejected(
        self,
        prepared: PreparedBundle,
        error: FhirServerError,
        state: ServerState | None,
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
        if state is not None:
            lines.append(state.describe())
        return TransactionRejectedError("\n".join(lines), status=error.status, issues=issues)

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
        """What the server holds for each entry (by id, or by its identifier condition); None
        also for an entry that cannot be looked up (create mode, no identifier)."""
        fetched = iter(self._fetch([e.lookup for e in entries if e.lookup]))
        found = [next(fetched) if e.lookup else None for e in entries]
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


def _first_line(error: BaseException) -> str:
    return str(error).split("\n", 1)[0].rstrip(".")


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
