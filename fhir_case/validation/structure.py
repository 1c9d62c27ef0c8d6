"""Layer 1, structure: the ``fhir.resources`` R4B models, plus JSON rules they let by.

Scope: element names (unknown properties), data types and primitive formats (dates such as
``1955-13-45`` or ``2023-02-30``, a dateTime with a time but no timezone), required elements of
the base resource, one value per choice element, and empty content (``{}``, ``[]``, ``""``,
``null`` outside primitive arrays), which FHIR JSON forbids but the models accept, strings over
FHIR's 1 MB limit and strings with control characters other than tab, line feed and carriage
return.
The models accept some R4B/R5-only elements and coerce JSON strings to numbers: the JSON Schema
layer catches those.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from fhir_case.safeinput import CONTROL, FHIR_MAX_STRING, flawed_string
from fhir_case.validation import locations
from fhir_case.validation.issues import Issue
from fhir_case.validation.modelcheck import surely_accepted

LAYER = "structure"

# R4B redesigned these R4 resources: their R4B models reject valid R4 content, so they get
# only the JSON-level checks here and are left to the schema and profile layers.
# (tests/validation/test_r4b_models.py recomputes this list from the R4 schema.)
MODELS_DIFFER_FROM_R4 = frozenset({"Evidence", "EvidenceVariable"})

_TIME_WITHOUT_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_FORMAT_ERRORS = ("spec regex", "timezone aware", "does not parse", "outside expected range")
_JSON_TYPES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
}
_FORMAT_NAMES = {"date": "date", "dateTime": "date/time", "instant": "instant", "time": "time"}


def check_structure(resource: dict[str, Any], root: str, *, entries: bool = True) -> list[Issue]:
    """Structure issues of ``resource`` (a resource or a Bundle) located under ``root``.

    Contained resources and a Bundle's entry resources are checked one by one, each against
    its own model, so that a resource type the R4B models lack fails alone; ``entries=False``
    leaves the entry resources out (for a caller that checks them itself).
    """
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return [_issue(root, "the resource has no resourceType", 'add "resourceType"', "required")]
    model = locations.model_class(resource_type)
    if model is None:
        return [
            _issue(
                root,
                f"unknown resourceType '{resource_type}'",
                "use an R4 resource type name such as Patient or Observation",
                "structure",
                rule=f"unknown-type:{resource_type}",
            )
        ]
    own, contained, entry_resources = _split_nested(resource)
    modelled = resource_type not in MODELS_DIFFER_FROM_R4
    accepted = modelled and surely_accepted(model, own)
    # What the quick check accepts holds no empty content and no flawed string, and when no
    # resource was split off, it has seen the whole resource: the walk would find nothing.
    seen_whole = accepted and not contained and not entry_resources
    may_be_flawed = not seen_whole and _maybe_flawed(own)
    issues, empty = _content_issues(own, resource, root) if may_be_flawed else ([], set())
    try:
        if modelled and not accepted:
            model.model_validate(own)
    except ValidationError as error:
        issues.extend(i for i in _from_pydantic(error, own, root) if i.location not in empty)
    except (AttributeError, TypeError):
        # Some R4B validators (URL types) fail this way on a number or a list, not with a
        # ValidationError; the schema layer names the element.
        issues.append(
            _issue(
                root,
                "a value has a JSON type its element does not allow (e.g. a number or list "
                "where a string is expected)",
                "give each element the JSON type FHIR defines for it (see the schema issues)",
                "structure",
                rule="wrong-json-type",
            )
        )
    for suffix, item in contained + (entry_resources if entries else []):
        issues.extend(check_structure(item, root + suffix))
    return issues


def _split_nested(
    resource: dict[str, Any],
) -> tuple[dict[str, Any], list[tuple[str, Any]], list[tuple[str, Any]]]:
    """The resource without its contained and entry resources, and those with their paths."""
    own = dict(resource)
    contained: list[tuple[str, Any]] = []
    entry_resources: list[tuple[str, Any]] = []
    items = resource.get("contained")
    if isinstance(items, list) and items and all(isinstance(c, dict) for c in items):
        del own["contained"]
        contained = [(f".contained[{index}]", item) for index, item in enumerate(items)]
    entries = resource.get("entry")
    if resource.get("resourceType") == "Bundle" and isinstance(entries, list):
        own["entry"] = []
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                entry_resources.append((f".entry[{index}].resource", entry["resource"]))
                entry = {key: value for key, value in entry.items() if key != "resource"}
            own["entry"].append(entry)
    return own, contained, entry_resources


def _content_issues(
    own: dict[str, Any], resource: dict[str, Any], root: str
) -> tuple[list[Issue], set[str]]:
    """Empty content (``{}``, ``[]``, ``""``, stray ``null``: FHIR JSON never carries it) and
    flawed strings, in document order; and the locations of the empty content, where the
    model's errors would only say the same again (a flawed string hides no model error: it may
    also be of the wrong JSON type). ``own`` is the resource without the resources checked on
    their own (contained, entry resources); any other nested resource is walked with it."""
    issues: list[Issue] = []
    empty: set[str] = set()
    for path, item, in_primitive_array in _walk(own, []):
        where = locations.fhirpath(root, resource, path)
        if isinstance(item, str) and item:
            issues.append(_flawed_string_issue(where, item))
            continue
        if item == {}:
            issues.append(_issue(where, "Object must have some content", "remove the empty object"))
        elif item == []:
            issues.append(_issue(where, "Array cannot be empty", "remove the empty array"))
        elif item == "":
            issues.append(
                _issue(where, "@value cannot be empty", "remove the element or give it a value")
            )
        elif item is None and not in_primitive_array:
            issues.append(_issue(where, "null is not allowed here", "remove the element"))
        else:
            continue
        empty.add(where)
    return issues, empty


def _flawed_string_issue(where: str, text: str) -> Issue:
    """The issue of a string :func:`_walk` found too long or holding a control character."""
    control = CONTROL.search(text)
    if control is None or len(text) > FHIR_MAX_STRING:
        return _issue(
            where,
            f"a string of {len(text)} characters; FHIR strings are at most "
            f"{FHIR_MAX_STRING} characters (1 MB)",
            "shorten it, or carry the content as an Attachment",
        )
    return _issue(
        where,
        f"the string holds the control character U+{ord(control.group()):04X}; FHIR "
        "strings allow only tab, line feed and carriage return below U+0020",
        "remove it",
    )


def _maybe_flawed(value: Any) -> bool:
    """Whether :func:`_content_issues` may find anything: a quick walk that builds no paths
    (most resources have no empty content and no flawed string; a ``null`` in an array, a
    narrative or base64 data is left to the full walk, which knows where they are allowed)."""
    pending = [value]  # a loop, not recursion: it visits every object and array of a resource
    while pending:
        holder = pending.pop()
        for item in holder.values() if isinstance(holder, dict) else holder:
            if isinstance(item, dict | list):
                if not item:
                    return True
                pending.append(item)
            elif item is None or item == "" or flawed_string(item):
                return True
    return False


def _walk(value: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], Any, bool]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "div":  # narrative XHTML is a string that may hold anything
                continue
            yield from _check_item(item, [*path, key], False)
    elif isinstance(value, list):
        # In a primitive array and in its ``_name`` extension sibling, null is a placeholder.
        placeholders = str(path[-1]).startswith("_") if path else False
        placeholders = placeholders or all(not isinstance(item, dict | list) for item in value)
        for index, item in enumerate(value):
            yield from _check_item(item, [*path, index], placeholders)


def _check_item(
    item: Any, path: list[str | int], in_primitive_array: bool
) -> Iterator[tuple[list[str | int], Any, bool]]:
    if item in ({}, [], "") or item is None:
        yield path, item, in_primitive_array
    elif isinstance(item, str):
        base64 = path[-1] == "data"  # Attachment.data, Binary.data: base64Binary, not string
        if (len(item) > FHIR_MAX_STRING and not base64) or CONTROL.search(item):
            yield path, item, in_primitive_array
    else:
        yield from _walk(item, path)


def _from_pydantic(error: ValidationError, resource: dict[str, Any], root: str) -> Iterator[Issue]:
    for detail in error.errors():
        found = _json_path(resource, detail["loc"])
        path, name, holder = found.path, found.name, found.holder
        kind = detail["type"]
        if kind == "extra_forbidden" and name is not None:
            yield _issue(
                locations.fhirpath(root, resource, path[:-1]),
                f"Unrecognized property '{name}'",
                f"remove '{name}' or correct its name (R4 {holder.definition} has no such element)",
                "structure",
                rule=f"unknown:{name}",
            )
        elif kind in ("missing", "model_field_validation.missing") and name is not None:
            element = f"{holder.definition}.{name.removeprefix('_')}"
            yield _issue(
                locations.fhirpath(root, resource, path[:-1]),
                f"{element}: minimum required = 1, but only found 0",
                f"add {element}",
                "required",
                rule=f"min:{element}",
            )
        elif kind == "value_error" and "from this list" in detail["msg"]:
            yield _choice_issue(detail["msg"], resource, root, path, found.target)
        else:
            yield _value_issue(detail, resource, root, path, holder, name)


class _Located:
    """Where a pydantic ``loc`` points in the JSON.

    ``path``: the JSON keys and indices; ``name``: the last key; ``holder``: the object that
    holds (or lacks) ``name``; ``target``: the object ``path`` ends at, when it ends at one.
    """

    def __init__(self, resource: dict[str, Any]) -> None:
        resource_type = resource["resourceType"]
        self.path: list[str | int] = []
        self.name: str | None = None
        self.target = locations.Definition(locations.model_class(resource_type), resource_type)
        self.holder = self.target


def _json_path(resource: dict[str, Any], loc: tuple[int | str, ...]) -> _Located:
    """Follow a pydantic ``loc`` through the JSON; parts that are not JSON keys are skipped."""
    found = _Located(resource)
    value: Any = resource
    for part in loc:
        if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
            found.path.append(part)
            if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
                resource_type = value["resourceType"]
                found.target = locations.Definition(
                    locations.model_class(resource_type), resource_type
                )
        elif isinstance(value, dict) and isinstance(part, str):
            found.path.append(part)
            found.name = part
            found.holder = found.target
            if part not in value or not isinstance(value[part], dict | list):
                break
            item = value[part]
            found.target = found.target.child(part, _first(item))
            value = item
    return found


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _choice_issue(
    message: str,
    resource: dict[str, Any],
    root: str,
    path: list[str | int],
    parent: locations.Definition,
) -> Issue:
    names = re.findall(r"'([A-Za-z_]+)'", message)
    obj = _value_at(resource, path)
    present = [name for name in names if isinstance(obj, dict) and name in obj]
    base = locations.choice_base(locations.field_info(parent.cls, names[0])) if names else None
    element = f"{parent.definition}.{base}[x]" if base else parent.definition
    where = locations.fhirpath(root, resource, path)
    if len(present) > 1:
        return _issue(
            where,
            f"{element} holds one value, but {', '.join(present)} are all present",
            f"keep one of {', '.join(present)}",
            "structure",
        )
    return _issue(
        where,
        f"{element}: minimum required = 1, but only found 0",
        f"add one of {', '.join(names)}",
        "required",
        rule=f"min:{element}",
    )


def _value_issue(
    detail: Any,
    resource: dict[str, Any],
    root: str,
    path: list[str | int],
    holder: locations.Definition,
    name: str | None,
) -> Issue:
    where = locations.fhirpath(root, resource, path)
    value = detail.get("input")
    fhir_type = locations.primitive_type(holder.cls, name)
    message = str(detail["msg"]).removeprefix("Value error, ")
    if isinstance(value, str) and (
        detail["type"] == "string_pattern_mismatch"
        or any(text in message for text in _FORMAT_ERRORS)
    ):
        if fhir_type in ("dateTime", "instant") and _TIME_WITHOUT_ZONE.match(value):
            return _issue(
                where,
                "If a date has a time, it must have a timezone",
                f"add a timezone offset, for example '{value}Z' or '{value}+00:00'",
                "value",
            )
        described = _FORMAT_NAMES.get(fhir_type or "", fhir_type or "value")
        return _issue(
            where,
            f"Not a valid {described} format: '{value}'",
            _format_hint(fhir_type),
            "value",
        )
    if fhir_type and detail["type"] in ("datetime_from_date_parsing", "date_from_datetime_parsing"):
        described = _FORMAT_NAMES.get(fhir_type, fhir_type)
        return _issue(
            where, f"Not a valid {described} format: '{value}' ({message})", _format_hint(fhir_type)
        )
    wanted = _JSON_TYPES.get(detail["type"])
    if wanted is not None:
        kind = f" (a FHIR {fhir_type})" if fhir_type else ""
        return _issue(
            where,
            f"Wrong JSON type: {json.dumps(value)[:60]} is not {wanted}{kind}",
            f"write {wanted}",
            "structure",
        )
    expected = f" (expected {fhir_type})" if fhir_type else ""
    return _issue(where, f"{message}{expected}", None, "structure")


def _format_hint(fhir_type: str | None) -> str:
    examples = {
        "date": "a real calendar date: YYYY, YYYY-MM or YYYY-MM-DD, e.g. 1955-12-31",
        "dateTime": "a real calendar date, and with a time a timezone: 2023-02-28 or "
        "2023-02-28T10:00:00+01:00",
        "instant": "a full timestamp with timezone, e.g. 2023-02-28T10:00:00Z",
        "time": "HH:MM:SS, e.g. 14:30:00",
    }
    return examples.get(fhir_type or "", f"write a valid FHIR {fhir_type or 'value'}")


def _value_at(resource: dict[str, Any], path: list[str | int]) -> Any:
    value: Any = resource
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def _issue(
    location: str,
    message: str,
    hint: str | None,
    code: str = "value",
    *,
    rule: str | None = None,
) -> Issue:
    return Issue(location, "error", LAYER, message, hint, code, rule)
