"""Check case-file data against the case-file JSON Schema, with messages a person can act on."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from fhir_case.casefile.errors import Locator
from fhir_case.errors import CaseFileError

DOCS = "docs/case-file.md"


@cache
def case_file_schema() -> dict[str, Any]:
    text = resources.files("fhir_case.casefile").joinpath("case-file.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(case_file_schema())


def check_schema(data: Any, locator: Locator) -> None:
    """Raise a CaseFileError for the first schema violation in file order."""
    errors = [_most_specific(error) for error in _validator().iter_errors(data)]
    if not errors:
        return
    errors.sort(key=lambda e: (locator.positions.line_of(tuple(e.absolute_path)) or 0, e.message))
    raise _to_case_file_error(errors[0], locator)


def _most_specific(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the alternative that got furthest into the data explains it best."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def _to_case_file_error(error: ValidationError, locator: Locator) -> CaseFileError:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword = error.validator
    if keyword == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        instance = error.instance if isinstance(error.instance, dict) else {}
        extra = sorted(set(instance) - set(allowed))
        field = extra[0] if extra else "?"
        return locator.error(
            (*path, field),
            f"unknown field '{field}'",
            f"remove it or correct its spelling; fields allowed here: {', '.join(allowed)}",
        )
    if keyword == "required":
        missing = str(error.message).split("'")[1]
        return locator.error(
            path, f"missing required field '{missing}'", f"add '{missing}' (see {DOCS})"
        )
    if keyword == "dependentRequired":
        return locator.error(path, error.message, f"add the field it names (see {DOCS})")
    description = schema.get("description")
    hint = f"expected {description}" if description else f"see {DOCS}"
    if keyword == "enum":
        options = ", ".join(str(option) for option in schema.get("enum", ()))
        return locator.error(
            path, f"{show(error.instance)} is not allowed", f"use one of: {options}"
        )
    if keyword == "const":
        return locator.error(
            path, f"{show(error.instance)} is not allowed", f"use {show(error.validator_value)}"
        )
    if keyword == "type":
        expected = TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
        return locator.error(path, f"{show(error.instance)} is not {expected}", hint)
    if keyword == "pattern":
        return locator.error(path, f"{show(error.instance)} is not in the expected form", hint)
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bound = {
            "minimum": "at least",
            "exclusiveMinimum": "more than",
            "maximum": "at most",
            "exclusiveMaximum": "less than",
        }[keyword]
        return locator.error(
            path,
            f"{show(error.instance)} is out of range",
            f"give a value {bound} {error.validator_value}",
        )
    if keyword in ("minLength", "minItems", "minProperties"):
        return locator.error(path, f"{show(error.instance)} is empty", hint)
    problems = {
        "uniqueItems": "the list names an item twice",
        "maxItems": f"the list has more than {error.validator_value} items",
        "maxProperties": f"more than {error.validator_value} fields are given",
        "oneOf": "the value fits more than one of the allowed forms",
    }
    problem = problems.get(str(keyword), f"{show(error.instance)} does not fit here")
    return locator.error(path, problem, hint)


TYPE_NAMES = {
    "string": "a text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping (field: value)",
    "array": "a list",
}


def show(value: Any) -> str:
    """A case-file value as the user wrote it in YAML, not as Python shows it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:59] + "…"
        return f"'{text}'" if value else "an empty text"
    return str(value)
