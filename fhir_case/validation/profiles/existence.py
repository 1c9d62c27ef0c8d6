"""A fast evaluator for the FHIRPath subset most invariants are written in.

Most FHIR invariants only test whether elements are there, combined with boolean operators:
``duration.empty() or durationUnit.exists()``, ``(component.empty() and hasMember.empty())
implies (dataAbsentReason.exists() or value.exists())``. Such an expression is compiled here to
a Python function over the JSON; anything else (functions, comparisons of values, ``where``)
is left to fhirpathpy.

Grammar::

    implies := or ("implies" or)*
    or      := and (("or" | "xor") and)*
    and     := eq ("and" eq)*
    eq      := unary (("=" | "!=") unary)?
    unary   := ("(" implies ")" | path "." ("exists" | "empty" | "hasValue") "()") [".not()"]
    path    := name ("." name)*
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, NamedTuple

Test = Callable[[Any], bool]

_TOKEN = re.compile(
    r"\s*(\(\)|\.not\(\)|[()]|!=|=|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
)
# Suffixes of choice elements in JSON (valueQuantity): ``value.exists()`` finds them.
_TYPE_SUFFIXES = frozenset(
    [
        "Address",
        "Age",
        "Annotation",
        "Attachment",
        "Base64Binary",
        "Boolean",
        "Canonical",
        "Code",
        "CodeableConcept",
        "Coding",
        "ContactDetail",
        "ContactPoint",
        "Contributor",
        "Count",
        "DataRequirement",
        "Date",
        "DateTime",
        "Decimal",
        "Distance",
        "Dosage",
        "Duration",
        "Expression",
        "HumanName",
        "Id",
        "Identifier",
        "Instant",
        "Integer",
        "Markdown",
        "Meta",
        "Money",
        "Oid",
        "ParameterDefinition",
        "Period",
        "PositiveInt",
        "Quantity",
        "Range",
        "Ratio",
        "Reference",
        "RelatedArtifact",
        "SampledData",
        "Signature",
        "String",
        "Time",
        "Timing",
        "TriggerDefinition",
        "UnsignedInt",
        "Uri",
        "Url",
        "UsageContext",
        "Uuid",
    ]
)
_FUNCTIONS = ("exists", "empty", "hasValue")


class _Unsupported(Exception):
    pass


@cache
def compile_existence(expression: str) -> Test | None:
    """A function equivalent to the expression, or None when it is outside the subset."""
    tokens = _tokenize(expression)
    if tokens is None:
        return None
    parser = _Parser(tokens)
    try:
        test = parser.implies()
    except _Unsupported:
        return None
    return test if parser.done() else None


def _tokenize(expression: str) -> list[str] | None:
    tokens = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def done(self) -> bool:
        return self.at == len(self.tokens)

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        if self.at >= len(self.tokens):
            raise _Unsupported
        self.at += 1
        return self.tokens[self.at - 1]

    def implies(self) -> Test:
        left = self.or_()
        while self.peek() == "implies":
            self.take()
            right = self.or_()
            left = (lambda a, b: lambda v: (not a(v)) or b(v))(left, right)
        return left

    def or_(self) -> Test:
        left = self.and_()
        while self.peek() in ("or", "xor"):
            operator = self.take()
            right = self.and_()
            if operator == "or":
                left = (lambda a, b: lambda v: a(v) or b(v))(left, right)
            else:
                left = (lambda a, b: lambda v: a(v) != b(v))(left, right)
        return left

    def and_(self) -> Test:
        left = self.eq()
        while self.peek() == "and":
            self.take()
            right = self.eq()
            left = (lambda a, b: lambda v: a(v) and b(v))(left, right)
        return left

    def eq(self) -> Test:
        left = self.unary()
        if self.peek() in ("=", "!="):
            operator = self.take()
            right = self.unary()
            if operator == "=":
                return lambda v: left(v) == right(v)
            return lambda v: left(v) != right(v)
        return left

    def unary(self) -> Test:
        token = self.take()
        if token == "(":
            test = self.implies()
            if self.take() != ")":
                raise _Unsupported
        else:
            test = self.function(token)
        if self.peek() == ".not()":
            self.take()
            return (lambda t: lambda v: not t(v))(test)
        return test

    def function(self, token: str) -> Test:
        path, _, function = token.rpartition(".")
        if not path or function not in _FUNCTIONS or self.take() != "()":
            raise _Unsupported
        names = path.split(".")
        if any(name in ("and", "or", "xor", "implies", "not") for name in names):
            raise _Unsupported
        steps = tuple(_Step(name, _choice_keys_of(name)) for name in names)
        if function == "exists":
            return lambda v: _exists(v, steps, with_extensions=True)
        if function == "empty":
            return lambda v: not _exists(v, steps, with_extensions=True)
        return lambda v: _exists(v, steps, with_extensions=False)


class _Step(NamedTuple):
    name: str  # value
    choice_keys: frozenset[str]  # valueQuantity, _valueString, ...: the JSON keys of value[x]


def _choice_keys_of(name: str) -> frozenset[str]:
    keys = [name + suffix for suffix in _TYPE_SUFFIXES]
    return frozenset(keys + ["_" + key for key in keys])


def _exists(value: Any, steps: tuple[_Step, ...], *, with_extensions: bool) -> bool:
    current = [value]
    for step in steps[:-1]:
        current = [
            child
            for item in current
            if isinstance(item, dict)
            for child in _children(item, step, with_extensions=False)
        ]
    for item in current:
        if isinstance(item, dict):
            for _ in _children(item, steps[-1], with_extensions=with_extensions):
                return True
    return False


def _children(item: dict[str, Any], step: _Step, *, with_extensions: bool) -> Iterator[Any]:
    """The non-empty values of a step in an object, the element's own or a choice type's
    (``valueQuantity`` for ``value``), and the extensions of primitives (``_value``) if asked."""
    for key in _keys(item, step):
        child = item.get(key)
        for found in child if isinstance(child, list) else (child,):
            if found is not None and found != {} and found != []:
                yield found
        if with_extensions and f"_{key}" in item:
            extended = item[f"_{key}"]
            if extended != {} and extended != []:
                yield extended


def _keys(item: dict[str, Any], step: _Step) -> tuple[str, ...]:
    """The step's name, and its choice types in the object (valueQuantity, valueString for
    ``value``, also when only ``_valueString`` is there)."""
    choices = step.choice_keys.intersection(item)
    if not choices:
        return (step.name,)
    return (step.name, *{key.removeprefix("_") for key in choices})
