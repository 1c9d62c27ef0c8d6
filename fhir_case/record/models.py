"""The record through the ``fhir.resources`` R4B models: each resource is checked by its model
(types, required elements) and comes back as FHIR JSON with its elements in the
specification's order."""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from fhir_case.casefile.model import Case
from fhir_case.record import build_resource_dicts
from fhir_case.record.common import JSON


def build_resources(case: Case) -> list[Resource]:
    """The record as R4B models."""
    return [to_model(resource) for resource in build_resource_dicts(case)]


def build_resource_json(case: Case) -> list[JSON]:
    """The record as FHIR JSON, each resource validated and ordered by its R4B model."""
    return [to_json(model) for model in build_resources(case)]


def to_model(resource: JSON) -> Resource:
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert isinstance(model, Resource)
    return model


def to_json(model: Resource) -> JSON:
    """FHIR JSON of a model, elements in the specification's order."""
    data: JSON = json.loads(model.model_dump_json(exclude_none=True))
    return data
