"""Layer 2, the official R4 JSON Schema: each resource against its own ``definitions/<Type>``.

Scope: what ``fhir.schema.json`` (from the ``hl7.fhir.r4.core`` package) states: element
names (this is what catches R4B/R5-only elements the R4B models accept), JSON types (a number
written as a string), primitive patterns, required elements and the enums of required code
bindings. Value sets beyond those enums, invariants and profiles are not in the schema.

Speed: the full schema is parsed once per package; for each resource type the definitions it
reaches are sliced out (descriptions dropped, resources inside resources cut off: they are
validated on their own against their own type), written to the rule cache, and linked into
one object graph, so that ``jsonschema`` follows no ``$ref`` at validation time. A warm cache
loads only the slices of the types it meets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fhir_case.fileio import write_atomic
from fhir_case.validation import locations
from fhir_case.validation.issues import Issue

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError
    from jsonschema.protocols import Validator

LAYER = "schema"
# Part of the rule-cache key: bump it whenever the slices change shape or content.
SLICE_VERSION = 2
_REF_PREFIX = "#/definitions/"
_RESOURCE_LIST = "ResourceList"
_REQUIRED = re.compile(r"^'(.+)' is a required property")
_JSON_TYPES = {
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
}


class SchemaValidators:
    """Per-type ``jsonschema`` validators for the R4 schema at ``schema_path``."""

    def __init__(self, schema_path: Path, cache_dir: Path | None = None) -> None:
        self.schema_path = schema_path
        self.cache_dir = cache_dir
        self._definitions: dict[str, Any] | None = None
        self._validators: dict[str, Validator | None] = {}
        self._names: dict[int, str] = {}
        # Its leaf cache is keyed by id(): it must not outlive the schema objects of this
        # instance, or a new schema at a dead one's address would get the dead one's rules.
        self._validator_class: type[Validator] | None = None
        self._quick: dict[int, Callable[[Any], bool]] = {}

    def for_type(self, resource_type: str) -> Validator | None:
        """The validator of one resource type; None when the schema has no such type."""
        if resource_type not in self._validators:
            sliced = self._slice(resource_type)
            self._validators[resource_type] = None if sliced is None else self._compile(sliced)
        return self._validators[resource_type]

    def surely_valid(self, value: Any, schema: Any) -> bool:
        """True only when ``jsonschema`` would find no error in ``value`` (most resources): a
        quick check without error objects. False means: let ``jsonschema`` look."""
        return _quick_check(schema, self._quick)(value)

    def definition_name(self, schema: Any) -> str | None:
        """The name of a linked definition (``dateTime``), for messages."""
        return self._names.get(id(schema))

    def _slice(self, resource_type: str) -> dict[str, Any] | None:
        cached = self.cache_dir / f"{resource_type}.json" if self.cache_dir else None
        if cached is not None and cached.is_file():
            sliced: dict[str, Any] = json.loads(cached.read_bytes())
            return sliced
        definitions = self._all_definitions()
        if resource_type not in definitions or resource_type == _RESOURCE_LIST:
            return None
        sliced = {"root": resource_type, "definitions": _reachable(definitions, resource_type)}
        if cached is not None:
            write_atomic(cached, json.dumps(sliced, separators=(",", ":")).encode())
        return sliced

    def _all_definitions(self) -> dict[str, Any]:
        if self._definitions is None:
            with self.schema_path.open("rb") as handle:
                self._definitions = json.load(handle)["definitions"]
        return self._definitions

    def _compile(self, sliced: dict[str, Any]) -> Validator:
        definitions: dict[str, Any] = sliced["definitions"]
        for name, definition in definitions.items():
            self._names[id(definition)] = name
        for definition in definitions.values():
            _link(definition, definitions)
        if self._validator_class is None:
            self._validator_class = _fast_draft6()
        validator: Validator = self._validator_class(definitions[sliced["root"]])
        return validator


def _fast_draft6() -> type[Validator]:
    """Draft 6 with ``properties`` and ``items`` checking primitive leaves in place.

    Most nodes of a resource are primitives whose schema is only ``type``/``pattern``/``enum``
    /``const``; plain ``jsonschema`` builds a validator object for each (``descend``), which
    is most of its time. Leaves are checked here with the same rules and messages; everything
    else descends as usual.
    """
    from jsonschema import Draft6Validator, validators

    leaves: dict[int, _Leaf | None] = {}

    def leaf_of(schema: Any) -> _Leaf | None:
        key = id(schema)
        if key not in leaves:
            leaves[key] = _Leaf.of(schema)
        return leaves[key]

    def check(validator: Any, value: Any, schema: Any, path: str | int) -> Iterator[SchemaError]:
        leaf = leaf_of(schema)
        if leaf is None:
            yield from validator.descend(value, schema, path=path)
            return
        for error in leaf.errors(value, schema):
            error.path.appendleft(path)
            yield error

    def properties(validator: Any, properties: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if name in instance:
                    yield from check(validator, instance[name], subschema, name)

    def items(validator: Any, items: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, list) and isinstance(items, dict):
            for index, item in enumerate(instance):
                yield from check(validator, item, items, index)

    extended: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft6Validator, {"properties": properties, "items": items}
    )
    return extended


_LEAF_KEYS = frozenset({"type", "pattern", "enum", "const"})
_JSON_CHECKS = {
    "string": lambda value: isinstance(value, str),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
}


@dataclass(frozen=True)
class _Leaf:
    """A primitive's schema: JSON type, pattern, enum, const."""

    type: str | None
    pattern: re.Pattern[str] | None
    enum: tuple[Any, ...] | None
    const: Any

    @classmethod
    def of(cls, schema: Any) -> _Leaf | None:
        if not isinstance(schema, dict) or not schema.keys() <= _LEAF_KEYS:
            return None
        kind = schema.get("type")
        if kind is not None and kind not in _JSON_CHECKS:
            return None
        pattern = schema.get("pattern")
        enum = schema.get("enum")
        return cls(
            kind,
            re.compile(pattern) if isinstance(pattern, str) else None,
            tuple(enum) if isinstance(enum, list) else None,
            schema.get("const", _NO_CONST),
        )

    @cached_property
    def valid(self) -> Callable[[Any], bool]:
        """Whether a value has no error: one test without error objects, specialised for the
        leaves the FHIR schema has (a typed pattern, a JSON type, an enum or const of strings)."""
        search = self.pattern.search if self.pattern is not None else None
        if self.enum is None and self.const is _NO_CONST and self.type is not None:
            if self.type == "string" and search is not None:
                return lambda value: isinstance(value, str) and search(value) is not None
            return _JSON_CHECKS[self.type]  # a pattern applies to strings only
        one_of = (self.enum is None) != (self.const is _NO_CONST)  # an enum or a const, not both
        if self.type is None and search is None and one_of:
            options = (self.const,) if self.enum is None else self.enum
            if all(isinstance(option, str) for option in options):
                strings = frozenset(options)  # JSON equality with a string: the same string
                return lambda value: isinstance(value, str) and value in strings
        return self._matches

    def _matches(self, value: Any) -> bool:
        pattern = self.pattern
        return (
            (self.type is None or _JSON_CHECKS[self.type](value))
            and (pattern is None or not isinstance(value, str) or pattern.search(value) is not None)
            and (self.enum is None or any(_same(value, option) for option in self.enum))
            and (self.const is _NO_CONST or _same(value, self.const))
        )

    def errors(self, value: Any, schema: Any) -> list[SchemaError]:
        """The errors of ``value`` (an empty list, fast, when it is valid)."""
        if self.valid(value):
            return []
        from jsonschema.exceptions import ValidationError

        def error(message: str, keyword: str, expected: Any) -> SchemaError:
            return ValidationError(
                message, validator=keyword, validator_value=expected, instance=value, schema=schema
            )

        if self.type is not None and not _JSON_CHECKS[self.type](value):
            return [error(f"{value!r} is not of type {self.type!r}", "type", self.type)]
        found = []
        if self.pattern is not None and isinstance(value, str) and not self.pattern.search(value):
            pattern = self.pattern.pattern
            found.append(error(f"{value!r} does not match {pattern!r}", "pattern", pattern))
        if self.enum is not None and not any(_same(value, option) for option in self.enum):
            options = list(self.enum)
            found.append(error(f"{value!r} is not one of {options!r}", "enum", options))
        if self.const is not _NO_CONST and not _same(value, self.const):
            found.append(error(f"{self.const!r} was expected", "const", self.const))
        return found


_NO_CONST = object()
_CONTAINER_TYPES = frozenset({"object", "array"})
_ANNOTATIONS = frozenset({"description"})
_OBJECT_KEYS = frozenset({"type", "properties", "additionalProperties", "required", "items"})


def _quick_check(schema: Any, compiled: dict[int, Callable[[Any], bool]]) -> Callable[[Any], bool]:
    """A predicate that is true only for values the schema surely accepts, compiled once per
    schema object (the linked schema graph has cycles: a schema is registered before its parts
    are compiled). Keywords it does not know make it answer False, leaving the verdict to
    ``jsonschema``; so do objects with properties the schema does not list."""
    key = id(schema)
    if key in compiled:
        return compiled[key]
    leaf = _Leaf.of(schema)
    if leaf is not None:
        compiled[key] = leaf.valid
        return compiled[key]
    if not isinstance(schema, dict) or not set(schema) - _ANNOTATIONS <= _OBJECT_KEYS:
        compiled[key] = lambda value: False
        return compiled[key]
    kind = schema.get("type")
    closed = schema.get("additionalProperties") is False
    if (
        (kind is not None and kind not in _CONTAINER_TYPES)
        or ("additionalProperties" in schema and not closed)
        or ("items" in schema and not isinstance(schema["items"], dict))
    ):
        compiled[key] = lambda value: False
        return compiled[key]
    required = frozenset(schema.get("required") or ())
    properties: dict[str, Callable[[Any], bool]] = {}
    items: list[Callable[[Any], bool]] = []

    def check(value: Any) -> bool:
        # Plain loops, not all()/any() over generators: this runs for every object of every
        # resource.
        if isinstance(value, dict):
            if kind not in (None, "object"):
                return False
            for name, item in value.items():
                part = properties.get(name)
                if part is None:
                    if closed:
                        return False
                elif not part(item):
                    return False
            return value.keys() >= required
        if isinstance(value, list):
            return kind in (None, "array") and (not items or all(map(items[0], value)))
        return kind is None

    compiled[key] = check
    for name, part in (schema.get("properties") or {}).items():
        properties[name] = _quick_check(part, compiled)
    if "items" in schema:
        items.append(_quick_check(schema["items"], compiled))
    return check


def _same(value: Any, expected: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    return bool(value == expected)


def _reachable(definitions: dict[str, Any], root: str) -> dict[str, Any]:
    """The definitions ``root`` reaches, without descriptions; resources inside are not followed."""
    found: dict[str, Any] = {}
    pending = [root]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found[name] = _strip(definitions[name], pending)
    return found


def _strip(node: Any, pending: list[str]) -> Any:
    """A schema without its ``description`` annotations (an element may be *named*
    ``description``, as ``BodyStructure.description`` is: property names are kept)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = ref.removeprefix(_REF_PREFIX)
            if target == _RESOURCE_LIST:
                return {"type": "object"}  # validated on its own, against its own type
            pending.append(target)
            return {"$ref": ref}
        return {
            key: _strip_properties(value, pending)
            if key == "properties"
            else _strip(value, pending)
            for key, value in node.items()
            if key != "description"
        }
    if isinstance(node, list):
        return [_strip(item, pending) for item in node]
    return node


def _strip_properties(properties: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    return {name: _strip(schema, pending) for name, schema in properties.items()}


def _link(node: Any, definitions: dict[str, Any]) -> None:
    """Replace ``{"$ref": ...}`` by the definition object itself (a graph with cycles)."""
    items: Iterator[tuple[Any, Any]]
    if isinstance(node, dict):
        items = iter(list(node.items()))
    elif isinstance(node, list):
        items = iter(list(enumerate(node)))
    else:
        return
    for key, value in items:
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            node[key] = definitions[value["$ref"].removeprefix(_REF_PREFIX)]
        else:
            _link(value, definitions)


def check_schema(resource: dict[str, Any], root: str, validators: SchemaValidators) -> list[Issue]:
    """Schema issues of one resource (nested resources are left to their own call)."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return []  # the structure layer reports it
    validator = validators.for_type(resource_type)
    if validator is None:
        return [
            Issue(
                root,
                "error",
                LAYER,
                f"'{resource_type}' is not an R4 resource type",
                "use a resource type of FHIR R4 (4.0.1)",
                "structure",
                f"unknown-type:{resource_type}",
            )
        ]
    issues: list[Issue] = []
    if not validators.surely_valid(resource, validator.schema):
        for error in validator.iter_errors(resource):
            issues.extend(_to_issues(error, resource, root, validators))
    for index, contained in enumerate(resource.get("contained") or []):
        if isinstance(contained, dict):
            issues.extend(check_schema(contained, f"{root}.contained[{index}]", validators))
    return issues


def _to_issues(
    error: SchemaError, resource: dict[str, Any], root: str, validators: SchemaValidators
) -> Iterator[Issue]:
    path = list(error.absolute_path)
    where = locations.fhirpath(root, resource, path)
    keyword = error.validator
    instance = error.instance
    schema: Any = error.schema
    expected: Any = error.validator_value
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        definition = locations.definition_of(resource, path).definition
        for name in sorted(set(instance) - set(known)):
            yield _issue(
                where,
                f"Unrecognized property '{name}'",
                f"R4 {definition} has no element '{name}' (an R4B/R5 element, or a misspelling): "
                "remove or rename it",
                "structure",
                f"unknown:{name}",
            )
    elif keyword == "required":
        missing = _REQUIRED.match(error.message)
        definition = locations.definition_of(resource, path).definition
        element = f"{definition}.{missing[1] if missing else '?'}"
        yield _issue(
            where,
            f"{element}: minimum required = 1, but only found 0",
            f"add {element}",
            "required",
            f"min:{element}",
        )
    elif keyword == "enum":
        element = _element_definition(resource, path)
        allowed = " | ".join(str(value) for value in expected)
        yield _issue(
            where,
            f"The value provided ('{instance}') is not in the value set required for {element}",
            f"use one of: {allowed}",
            "code-invalid",
            f"binding:{element}",
        )
    elif keyword == "type":
        wanted = _JSON_TYPES.get(str(expected), str(expected))
        hint = f"write {wanted}"
        if expected == "number" and isinstance(instance, str):
            hint = f"write the number without quotes: {instance}"
        elif expected == "boolean" and isinstance(instance, str):
            hint = f"write {instance.lower()} without quotes"
        yield _issue(
            where,
            f"Wrong JSON type: {json.dumps(instance)[:60]} is not {wanted}",
            hint,
            "structure",
        )
    elif keyword == "pattern":
        type_name = validators.definition_name(error.schema) or _primitive_of(resource, path)
        yield _issue(
            where,
            f"Not a valid {type_name}: '{instance}' does not match the R4 format",
            f"write a valid FHIR {type_name}",
            "value",
        )
    elif keyword == "const":
        yield _issue(
            where,
            f"Value {json.dumps(instance)} where the R4 schema requires {json.dumps(expected)}",
            f"write {json.dumps(expected)}",
            "value",
        )
    else:
        yield _issue(where, error.message, None, "structure")


def _element_definition(resource: dict[str, Any], path: list[str | int]) -> str:
    """``Patient.gender`` for the path of a primitive (its holder's definition + its name)."""
    while path and isinstance(path[-1], int):
        path = path[:-1]
    if not path:
        return str(resource.get("resourceType"))
    holder = locations.definition_of(resource, path[:-1]).definition
    return f"{holder}.{str(path[-1]).removeprefix('_')}"


def _primitive_of(resource: dict[str, Any], path: list[str | int]) -> str:
    while path and isinstance(path[-1], int):
        path = path[:-1]
    if not path or not isinstance(path[-1], str):
        return "value"
    holder = locations.definition_of(resource, path[:-1])
    return locations.primitive_type(holder.cls, path[-1]) or "value"


def _issue(
    location: str, message: str, hint: str | None, code: str, rule: str | None = None
) -> Issue:
    return Issue(location, "error", LAYER, message, hint, code, rule)
