"""A quick check that the ``fhir.resources`` R4B model of a resource surely accepts it.

Building the R4B model (pydantic, with a Python validator per element) is a large part of
the structure layer's time, and for most resources it finds nothing. :func:`surely_accepted`
answers True only for JSON the model surely accepts, so the structure layer may skip building
it; False means "build the model and let it say" (the verdict is then the model's).

It is derived from the model classes themselves, not from another layer's rules: for each
class, once, the JSON name of each field, whether it repeats, its element model or (for a
primitive) a pydantic validator of the field's own annotation, the required fields and the
choice groups (``value[x]``: at most one, exactly one when required). It says True only when

- every key is a field of the model (``resourceType`` at the top, equal to the model's), a
  primitive's extension sibling (``_name``) included;
- no value is ``null`` or empty (``{}``, ``[]``, ``""``), not even a placeholder ``null`` in a
  list of extension siblings (so a resource it accepts holds no empty content anywhere);
- a repeating field holds a list, any other field no list;
- an element is an object that passes the same check against its own model;
- a primitive is a string, number or boolean (or a list of them) that passes the validator
  of the model's own annotation for that field; a string holds no control character and at
  most 1 MB (the structure layer's own string checks, which the models do not make; base64
  data over 1 MB, which that check allows, is left to it too);
- every required field is present, and each choice group has at most one (required: one).

Fields typed as any resource (``Parameters.parameter.resource``) are not followed: their
presence answers False. Contained resources and a Bundle's entry resources are split off by
the structure layer before the check, each checked against its own model.
(tests/validation/test_modelcheck.py: never True where the model finds an error.)
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import TypeAdapter

from fhir_case.safeinput import flawed_string

# Primitive verdicts are remembered by field and value (codes, systems, units repeat), in one
# memo of at most _LEAF_MEMO_SIZE short values: its size is bounded whatever a file holds.
_LEAF_MEMO_SIZE = 65536
_LEAF_MEMO_LONGEST = 256  # characters: codes, URLs and dates are shorter; text is not remembered
_verdicts: dict[tuple[Any, ...], bool] = {}
_field_numbers = itertools.count()


@dataclass(frozen=True)
class _Field:
    repeats: bool
    model: type[Any] | None  # the element's model; None for a primitive
    leaf: Callable[[Any], bool] | None  # the primitive's validator; None for an element


@dataclass(frozen=True)
class _Shape:
    resource_type: str | None
    fields: dict[str, _Field]
    required: frozenset[str]
    choices: tuple[tuple[frozenset[str], bool], ...]  # (JSON names, required)


def surely_accepted(model: type[Any], value: Any) -> bool:
    """True only when ``model.model_validate(value)`` surely raises no error."""
    try:
        return _accepts(model, value, top=True)
    except RecursionError:
        return False


def _accepts(model: type[Any], value: Any, *, top: bool = False) -> bool:
    # Plain loops, not all()/any() over generators: this runs for every object of every resource.
    shape = _shape(model)
    if shape is None or not isinstance(value, dict) or not value:
        return False
    fields = shape.fields
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            if top and key == "resourceType" and item == shape.resource_type:
                continue
            return False
        if item is None or (not item and isinstance(item, dict | list | str)):
            return False
        if field.repeats:
            if not isinstance(item, list):
                return False
            if field.model is not None:
                for element in item:
                    if not _accepts(field.model, element):
                        return False
            else:
                for element in item:
                    if element is None or element == "" or isinstance(element, dict | list):
                        return False
        elif field.model is not None:
            if not _accepts(field.model, item):
                return False
        elif isinstance(item, dict | list):
            return False
        if field.leaf is not None and not field.leaf(item):
            return False
    if not value.keys() >= shape.required:
        return False
    for names, required in shape.choices:
        present = len(value.keys() & names)
        if present > 1 or (required and present == 0):
            return False
    return True


_SHAPES: dict[type[Any], _Shape | None] = {}


def _shape(model: type[Any]) -> _Shape | None:
    """What :func:`_accepts` needs of a model class (computed once); None when the class is
    not understood."""
    if model not in _SHAPES:
        _SHAPES[model] = _compiled_shape(model)
    return _SHAPES[model]


def _compiled_shape(model: type[Any]) -> _Shape | None:
    from fhir_core.fhirabstractmodel import FHIRAbstractModel

    if not (isinstance(model, type) and issubclass(model, FHIRAbstractModel)):
        return None
    try:
        required_primitives = model.get_required_fields(typing.cast(Any, None))
        choice_groups = model.get_one_of_many_fields(typing.cast(Any, None))
    except Exception:  # a class that needs an instance: not understood
        return None
    infos = model.model_fields
    names = {name: info.alias or name for name, info in infos.items()}
    fields: dict[str, _Field] = {}
    required: list[str] = []
    for name, info in infos.items():
        alias = names[name]
        if name == "fhir_comments":
            continue  # not FHIR JSON: its presence answers False
        field = _field(info)
        if field is not None:
            fields[alias] = field
        if info.is_required():
            required.append(alias)
    required += [names[name] for name, _ in required_primitives if name in names]
    choices = []
    for group in choice_groups.values():
        extra = infos[group[0]].json_schema_extra
        needed = isinstance(extra, dict) and extra.get("one_of_many_required") is True
        choices.append((frozenset(names[name] for name in group), needed))
    resource_type = getattr(model, "__resource_type__", None)
    return _Shape(
        resource_type if isinstance(resource_type, str) else None,
        fields,
        frozenset(required),
        tuple(choices),
    )


def _field(info: Any) -> _Field | None:
    """The check of one field; None for a field it does not follow (any-resource fields)."""
    from fhir_core.types import FhirBase, FhirElementOrResourceBase

    inner, repeats = _unwrapped(info.annotation)
    if isinstance(inner, type) and issubclass(inner, FhirBase):
        if issubclass(inner, FhirElementOrResourceBase):
            return None
        return _Field(repeats, inner.get_model_klass(), None)
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return _Field(repeats, None, _leaf(TypeAdapter(typing.cast(Any, annotation))))


def _unwrapped(annotation: Any) -> tuple[Any, bool]:
    """The element type of ``X | None``, ``List[X] | None``, and whether it is a list."""
    repeats = False
    while True:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        origin = typing.get_origin(annotation)
        if origin is list and len(args) == 1:
            repeats, annotation = True, args[0]
        elif origin in (typing.Union, _UNION_TYPE) and len(args) == 1:
            annotation = args[0]
        else:
            return annotation, repeats


_UNION_TYPE = type(int | None)


def _leaf(adapter: TypeAdapter[Any]) -> Callable[[Any], bool]:
    """Whether the field's own validator accepts a primitive value (remembered by value)."""
    field = next(_field_numbers)

    def accepts(value: Any) -> bool:
        key = _key(field, value)
        verdict = _verdicts.get(key) if key is not None else None
        if verdict is None:
            try:
                adapter.validate_python(value)
                values = value if isinstance(value, list) else [value]  # a repeating field's
                verdict = not any(map(flawed_string, values))
            except Exception:  # fhir_core raises TypeError, AttributeError on odd input:
                verdict = False  # the model, built then, raises what it raises
            if key is not None:
                if len(_verdicts) >= _LEAF_MEMO_SIZE:
                    _verdicts.clear()
                _verdicts[key] = verdict
        return verdict

    return accepts


def _key(field: int, value: Any) -> tuple[Any, ...] | None:
    """A key that tells ``1``, ``1.0`` and ``True`` apart; None: not remembered (a long string,
    a list, an object)."""
    kind = value.__class__
    if kind is str:
        return (field, value) if len(value) <= _LEAF_MEMO_LONGEST else None
    if kind is int or kind is float or kind is bool:
        return (field, kind, value)
    return None
