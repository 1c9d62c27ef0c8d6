"""Where the R4B models differ from R4, and how the structure layer copes.

The structure layer uses the ``fhir.resources`` R4B models for R4 resources. This test
recomputes, from the official R4 schema, which R4 elements the models lack: apart from
``modifierExtension`` on a few data-type parts (left to the schema layer, which knows R4), only
the resources in ``MODELS_DIFFER_FROM_R4`` may lack R4 elements.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir_case.validation import Validator, locations
from fhir_case.validation.structure import MODELS_DIFFER_FROM_R4, check_structure


def r4_elements_the_models_lack(definitions: dict[str, Any]) -> dict[str, set[str]]:
    resource_types = [item["$ref"].split("/")[-1] for item in definitions["ResourceList"]["oneOf"]]
    lacking: dict[str, set[str]] = {}

    def compare(name: str, cls: type[Any], resource_type: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        properties = definitions[name].get("properties", {})
        for json_name, schema in properties.items():
            element = json_name.removeprefix("_")
            info = locations.field_info(cls, element)
            if element in ("resourceType", "modifierExtension") and info is None:
                continue
            if info is None:
                lacking.setdefault(resource_type, set()).add(f"{name}.{element}")
                continue
            target = (schema.get("$ref") or schema.get("items", {}).get("$ref") or "").split("/")[
                -1
            ]
            nested = locations.nested_class(info)
            if "_" in target and nested is not None:
                compare(target, nested, resource_type, seen)

    for resource_type in resource_types:
        cls = locations.model_class(resource_type)
        if cls is not None:
            compare(resource_type, cls, resource_type, set())
    return lacking


def test_only_the_listed_resources_lack_r4_elements(shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "fhir" / "fhir.schema.json").read_text())
    assert set(r4_elements_the_models_lack(schema["definitions"])) == MODELS_DIFFER_FROM_R4


def test_r4_content_the_models_do_not_know_is_no_error(validator: Validator) -> None:
    evidence = {
        "resourceType": "Evidence",
        "status": "draft",
        "copyright": "CC0",
        "exposureBackground": {"reference": "EvidenceVariable/1"},
    }
    synthesis = {
        "resourceType": "EffectEvidenceSynthesis",
        "status": "draft",
        "population": {"reference": "Group/1"},
        "exposure": {"reference": "EvidenceVariable/1"},
        "exposureAlternative": {"reference": "EvidenceVariable/2"},
        "outcome": {"reference": "EvidenceVariable/3"},
    }
    timing = {
        "repeat": {
            "frequency": 1,
            "modifierExtension": [{"url": "http://example.org/x", "valueString": "y"}],
        }
    }
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
        "medicationCodeableConcept": {"text": "cisplatin"},
        "dosageInstruction": [{"timing": timing}],
    }
    for resource in (evidence, synthesis, request):
        assert [i for i in validator.validate(resource) if i.is_error] == []


def test_without_the_schema_an_unknown_type_is_still_reported() -> None:
    issues = check_structure({"resourceType": "EffectEvidenceSynthesis"}, "EffectEvidenceSynthesis")
    assert [issue.rule for issue in issues] == ["unknown-type:EffectEvidenceSynthesis"]
