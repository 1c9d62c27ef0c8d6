"""Fixtures for the upload tests: small real bundles, a client, the fault-injecting proxy.

Bundles are derived from the validation corpus' valid transaction (base/good.json: a Patient,
a Condition and an Observation) and rewritten the way the case builder writes its own: each
entry ``PUT Type/<uuid>`` with fullUrl ``urn:uuid:<uuid>``. Every call makes fresh ids and
identifiers, so tests sharing one server never see each other's resources.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fhir_case.upload.client import FhirClient
from tests.upload.fault_proxy import FaultProxy
from tests.upload.upload_helpers import TEST_IDENTIFIER_SYSTEM, MakeBundle, quick_settings


@pytest.fixture(scope="session")
def good_bundle(shared_dir: Path) -> dict[str, Any]:
    path = shared_dir / "fhir" / "validation-corpus" / "base" / "good.json"
    bundle: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return bundle


@pytest.fixture
def make_bundle(good_bundle: dict[str, Any]) -> MakeBundle:
    """make_bundle(observations=1, invalid_observation=None) -> a fresh PUT transaction bundle.

    ``invalid_observation=k`` gives the k-th Observation a value no FHIR server accepts
    (a string as valueQuantity.value)."""

    def make(observations: int = 1, invalid_observation: int | None = None) -> dict[str, Any]:
        by_type = {e["resource"]["resourceType"]: e for e in good_bundle["entry"]}
        templates = [by_type["Patient"], by_type["Condition"]] + [by_type["Observation"]] * (
            observations
        )
        renamed = {e["fullUrl"]: f"urn:uuid:{uuid.uuid4()}" for e in good_bundle["entry"]}
        entries = []
        observation = 0
        for template in templates:
            entry = copy.deepcopy(template)
            resource = entry["resource"]
            rtype = resource["resourceType"]
            rid = str(uuid.uuid4())
            full_url = f"urn:uuid:{rid}"
            if rtype in ("Patient", "Condition"):
                full_url = renamed[template["fullUrl"]]
                rid = full_url.removeprefix("urn:uuid:")
            resource["id"] = rid
            resource["identifier"] = [
                {"system": TEST_IDENTIFIER_SYSTEM, "value": str(uuid.uuid4())}
            ]
            for field in ("subject",):
                if field in resource:
                    resource[field]["reference"] = renamed[resource[field]["reference"]]
            if rtype == "Observation":
                if observation == invalid_observation:
                    resource["valueQuantity"]["value"] = "heavy"
                observation += 1
            entries.append(
                {
                    "fullUrl": full_url,
                    "resource": resource,
                    "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
                }
            )
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}

    return make


@pytest.fixture
def write_bundle(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    def write(bundle: dict[str, Any], name: str = "bundle.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
        return path

    return write


@pytest.fixture
def client(fhir_server_url: str) -> Iterator[FhirClient]:
    with FhirClient(quick_settings(fhir_server_url)) as fhir:
        yield fhir


@pytest.fixture
def proxy(fhir_server_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(fhir_server_url) as running:
        yield running
