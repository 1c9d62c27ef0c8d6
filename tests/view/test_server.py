"""The case view from a real FHIR server after an upload: the same page as from the file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fhir_case.upload.client import FhirClient
from fhir_case.upload.settings import ServerSettings
from fhir_case.view.server import COMPARTMENT_SEARCHES, fetch_patient_record
from tests.helpers import ROOT, run_cli
from tests.upload.fault_proxy import Fault, FaultProxy
from tests.view.test_browser import open_page, page_items

TRANSACTION = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"
COLLECTION = ROOT / "bundles" / "mpnst-chen-2024.collection.json"


def upload_case(base_url: str) -> str:
    """PUT the case's transaction bundle; the Patient id."""
    bundle = json.loads(TRANSACTION.read_text(encoding="utf-8"))
    with FhirClient(ServerSettings(base_url)) as client:
        client.transaction(bundle, idempotent=True)
    return next(
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )


def resource_keys(bundle: dict[str, Any]) -> set[str]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}


def test_the_page_from_the_server_shows_the_same_items_as_from_the_file(
    fhir_server_url: str, browser_context: Any, tmp_path: Path
) -> None:
    patient_id = upload_case(fhir_server_url)
    from_file, from_server = tmp_path / "file.html", tmp_path / "server.html"
    done = run_cli("view", str(COLLECTION), "-o", str(from_file))
    assert done.returncode == 0, done.stderr
    done = run_cli(
        "view", "--server", fhir_server_url, "--patient", patient_id, "-o", str(from_server)
    )
    assert done.returncode == 0, done.stderr
    count = len(json.loads(COLLECTION.read_text(encoding="utf-8"))["entry"])
    assert f"{count} resources from Patient/" in done.stdout and "$everything" in done.stdout
    seen = []
    for html_file in (from_file, from_server):
        page, errors, requests = open_page(browser_context, html_file)
        try:
            assert errors == [] and requests == []
            seen.append(page_items(page))
        finally:
            page.close()
    # the same items in the same order, although the server returns them in another order
    assert seen[0] == seen[1]
    assert seen[0]["problems"] and seen[0]["lanes"] and seen[0]["flags"] and seen[0]["undated"]
    with FhirClient(ServerSettings(fhir_server_url)) as client:
        fetched = fetch_patient_record(client, patient_id).bundle
    assert [e["resource"]["id"] for e in fetched["entry"]] != [
        e["resource"]["id"] for e in json.loads(COLLECTION.read_text(encoding="utf-8"))["entry"]
    ]
    # and the page says where each came from
    file_html = re.sub(r"<[^>]+>", "", from_file.read_text(encoding="utf-8"))
    server_html = re.sub(r"<[^>]+>", "", from_server.read_text(encoding="utf-8"))
    assert "Rendered from the file mpnst-chen-2024.collection.json" in file_html
    assert f"Rendered from the FHIR server {fhir_server_url}: Patient/{patient_id}" in server_html
    assert f"Patient/{patient_id} on {fhir_server_url}" in server_html


def test_without_everything_the_record_comes_from_searches_page_by_page(
    fhir_server_url: str,
) -> None:
    patient_id = upload_case(fhir_server_url)
    with FhirClient(ServerSettings(fhir_server_url)) as client:
        everything = fetch_patient_record(client, patient_id)
    with FaultProxy(fhir_server_url) as proxy:
        # a server without $everything: a real server cannot be made to lack it, the proxy can
        proxy.inject(Fault("status", lambda r: "$everything" in r.path, times=1, status=404))
        with FhirClient(ServerSettings(proxy.base_url)) as client:
            searched = fetch_patient_record(client, patient_id)
    assert everything.method == "$everything" and searched.method == "searches"
    assert resource_keys(searched.bundle) == resource_keys(everything.bundle)
    assert resource_keys(everything.bundle) == resource_keys(json.loads(COLLECTION.read_text()))
    # the Patient read, the refused $everything, one search per type, and at least one next page
    assert searched.requests > 2 + len(COMPARTMENT_SEARCHES)


def test_an_unknown_patient_is_a_clear_error(fhir_server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "case.html"
    done = run_cli(
        "view", "--server", fhir_server_url, "--patient", "no-such-patient", "-o", str(out)
    )
    assert done.returncode == 1
    assert "Patient/no-such-patient is not on" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
