"""The record through the ``fhir.resources`` R4B models: each resource is checked by its model
(types, required elements) and comes back as FHIR JSON with its elements in the
specification's order."""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from fhir_case.record.common import JSON


def through_models(resources: list[JSON]) -> list[JSON]:
    """Each resource validated by its R4B model and given back as the model's JSON."""
    return [to_json(to_model(resource)) for resource in resources]


def to_model(resource: JSON) -> Resource:
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert isinstance(model, Resource)
    return model


def to_json(model: Resource) -> JSON:
    """FHIR JSON of a model, elements in the specification's order."""
    data: JSON = json.loads(model.model_dump_json(exclude_none=True))
    return data
