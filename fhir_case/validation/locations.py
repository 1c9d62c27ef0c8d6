"""FHIRPath locations in the HL7 validator's style, built from JSON keys.

``fhirpath("Bundle.entry[2].resource", resource, ["valueQuantity", "code"])`` gives
``Bundle.entry[2].resource.value.ofType(Quantity).code``. Which JSON names are choice elements
is read from the ``fhir.resources`` R4B models (their fields carry ``one_of_many``), walking
the model classes alongside the JSON so that ``Immunization.doseQuantity`` (not a choice) and
``Dosage.doseAndRate.doseQuantity`` (a choice) are told apart.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

PRIMITIVE_TYPES = frozenset(
    {
        "base64Binary",
        "boolean",
        "canonical",
        "code",
        "date",
        "dateTime",
        "decimal",
        "id",
        "instant",
        "integer",
        "markdown",
        "oid",
        "positiveInt",
        "string",
        "time",
        "unsignedInt",
        "uri",
        "url",
        "uuid",
        "xhtml",
    }
)

JsonPath = Sequence[str | int]


def model_class(type_name: str) -> type[Any] | None:
    """The R4B model class of a resource or data type name, or None for an unknown name."""
    found = _MODEL_CLASSES.get(type_name)
    if found is None:
        from fhir.resources.R4B import get_fhir_model_class

        try:
            found = _MODEL_CLASSES[type_name] = get_fhir_model_class(type_name)
        except (ValueError, ImportError):
            return None
    return found


# Only names that have a class are remembered: finitely many, whatever names a file holds.
_MODEL_CLASSES: dict[str, type[Any]] = {}


@cache
def _fields_by_json_name(cls: type[Any]) -> dict[str, FieldInfo]:
    fields: dict[str, FieldInfo] = cls.model_fields
    return {(info.alias or name): info for name, info in fields.items()}


def field_info(cls: type[Any] | None, json_name: str) -> FieldInfo | None:
    """The model field behind a JSON property (``_x`` extension siblings map to ``x``)."""
    if cls is None:
        return None
    fields: dict[str, FieldInfo] = _fields_by_json_name(cls)  # type: ignore[arg-type]
    return fields.get(json_name.removeprefix("_"))


@cache
def _nested_class(annotation: Any) -> type[Any] | None:
    """The model class a field holds (through Optional/List), None for primitives."""
    get_model_klass = getattr(annotation, "get_model_klass", None)
    if get_model_klass is not None:
        nested: type[Any] = get_model_klass()
        return nested
    for arg in typing.get_args(annotation):
        found = _nested_class(arg)
        if found is not None:
            return found
    return None


def nested_class(info: FieldInfo | None) -> type[Any] | None:
    if info is None:
        return None
    found: type[Any] | None = _nested_class(info.annotation)  # type: ignore[arg-type]
    return found


def choice_base(info: FieldInfo | None) -> str | None:
    """``effective`` for the field of ``effectiveDateTime``; None when not a choice element."""
    extra = info.json_schema_extra if info is not None else None
    if isinstance(extra, dict):
        base = extra.get("one_of_many")
        if isinstance(base, str):
            return base
    return None


def fhir_type_name(suffix: str) -> str:
    """``DateTime`` -> ``dateTime``; ``Quantity`` stays ``Quantity``."""
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if lowered in PRIMITIVE_TYPES else suffix


def segment(cls: type[Any] | None, json_name: str) -> str:
    """One path step for a JSON property of an object of model class ``cls``."""
    known = _step(cls, json_name)
    return known[0] if known is not None else json_name.removeprefix("_")


def step_class(cls: type[Any] | None, json_name: str, value: Any) -> type[Any] | None:
    """The model class of ``value`` found under ``json_name`` (resources: by resourceType)."""
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return model_class(value["resourceType"])
    known = _step(cls, json_name)
    return known[1] if known is not None else None


def _step(cls: type[Any] | None, json_name: str) -> tuple[str, type[Any] | None] | None:
    if cls is None:
        return None
    steps: dict[str, tuple[str, type[Any] | None]] = _steps(cls)  # type: ignore[arg-type]
    return steps.get(json_name)


@cache
def _steps(cls: type[Any]) -> dict[str, tuple[str, type[Any] | None]]:
    """The path step and the class held for each JSON name that reaches a field of ``cls``:
    its fields' names and their ``_name`` extension siblings (computed once per class). Any
    other name is its own step, without a leading ``_``, and holds no class."""
    return {
        key: (_segment(cls, key), nested_class(field_info(cls, key)))
        for name in _fields_by_json_name(cls)  # type: ignore[arg-type]
        for key in (name, f"_{name}")
    }


def _segment(cls: type[Any], json_name: str) -> str:
    name = json_name.removeprefix("_")
    base = choice_base(field_info(cls, name))
    if base is not None and name.startswith(base) and len(name) > len(base):
        return f"{base}.ofType({fhir_type_name(name[len(base) :])})"
    return name


def fhirpath(root: str, resource: Any, path: JsonPath) -> str:
    """The location of ``resource`` + ``path`` written below ``root``.

    ``root`` is where ``resource`` sits (``Patient`` or ``Bundle.entry[2].resource``); ``path``
    is the list of JSON keys and indices from ``resource`` down to the element.
    """
    parts = [root]
    value: Any = resource
    cls = model_class(resource["resourceType"]) if _resource_type(resource) else None
    for key in path:
        if isinstance(key, int):
            parts.append(f"[{key}]")
            value = value[key] if isinstance(value, list) and 0 <= key < len(value) else None
            if _resource_type(value):
                cls = model_class(value["resourceType"])
            continue
        parts.append("." + segment(cls, key))
        value = value.get(key) if isinstance(value, dict) else None
        cls = step_class(cls, key, _first(value))
    return "".join(parts)


class Definition:
    """The model class and definition path (``Observation.component``) of a JSON object."""

    def __init__(self, cls: type[Any] | None, definition: str) -> None:
        self.cls = cls
        self.definition = definition

    def child(self, key: str, value: Any) -> Definition:
        """The definition of ``value``, found under ``key`` (backbone elements extend the path)."""
        cls = step_class(self.cls, key, value)
        if cls is None:
            return Definition(None, f"{self.definition}.{key}")
        root_type = self.definition.split(".")[0]
        if cls.__name__ != root_type and cls.__name__.startswith(root_type):
            base = choice_base(field_info(self.cls, key)) or key
            return Definition(cls, f"{self.definition}.{base.removeprefix('_')}")
        return Definition(cls, cls.__name__)


def definition_of(resource: dict[str, Any], path: JsonPath) -> Definition:
    """The definition of the object at ``path`` (the path must end at an object)."""
    resource_type = str(resource.get("resourceType"))
    found = Definition(model_class(resource_type), resource_type)
    value: Any = resource
    for key in path:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and 0 <= key < len(value) else None
            if _resource_type(value):
                found = Definition(model_class(value["resourceType"]), value["resourceType"])
            continue
        value = value.get(key) if isinstance(value, dict) else None
        found = found.child(key, _first(value))
    return found


def primitive_type(cls: type[Any] | None, key: str | int | None) -> str | None:
    """The FHIR primitive type of field ``key`` of ``cls`` (``dateTime``), if it is one."""
    if not isinstance(key, str):
        return None
    info = field_info(cls, key)
    if info is None:
        return None
    for arg in _annotated_metadata(info.annotation):
        name = fhir_type_name(type(arg).__name__)
        if name in PRIMITIVE_TYPES:
            return name
    return None


def _annotated_metadata(annotation: Any) -> Iterator[Any]:
    yield from getattr(annotation, "__metadata__", ())
    for arg in typing.get_args(annotation):
        yield from _annotated_metadata(arg)


def _resource_type(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def _first(value: Any) -> Any:
    """For a list, a representative item (the class is the same for every item)."""
    if isinstance(value, list):
        return next((item for item in value if item is not None), None)
    return value
