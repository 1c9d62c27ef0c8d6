"""Pure: a Bundle's resources as FHIR Shorthand (FSH) for implementation-guide authors.

One ``Instance:`` per resource: ``InstanceOf:`` the first profile it claims (else its type),
``Usage: #example``, then one assignment rule per value, in the resource's own order, with
the paths an author would write: ``code.coding[1]``, ``valueQuantity``, ``birthDate.extension``
(an index only where an array holds more than one item). Codings use the code shorthand with
one alias per code system, declared once (``* code = $sct#254637007 "..."``); UCUM quantities
the unit shorthand (``* valueQuantity = 3 'cm' "cm"``); references to ``Type/id`` the
``Reference()`` shorthand. A resource inside a resource (``contained``) becomes an inline
instance. The element types (a ``code`` is written ``#x``, a ``string`` ``"x"``) come from the
``fhir.resources`` models, as for the validator's locations.

:func:`fsh_files` returns the files of a SUSHI project: ``sushi-config.yaml``,
``input/fsh/aliases.fsh`` and ``input/fsh/instances/<Type>.fsh``. docs/export.md says what
SUSHI gives back and why the round trip is exact but for the differences it lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fhir_case.errors import ExportError
from fhir_case.export.resources import Exported
from fhir_case.validation import locations

JSON = dict[str, Any]

CONFIG = "sushi-config.yaml"
ALIASES = "input/fsh/aliases.fsh"
INSTANCES = "input/fsh/instances"
UCUM = "http://unitsofmeasure.org"
FHIR_VERSION = "4.0.1"

# Aliases every FSH author knows; other code systems get one from their URL's last segment.
KNOWN_ALIASES = {
    "http://snomed.info/sct": "$sct",
    "http://loinc.org": "$loinc",
    "http://unitsofmeasure.org": "$ucum",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "$rxnorm",
    "http://hl7.org/fhir/sid/icd-10-cm": "$icd-10-cm",
    "http://hl7.org/fhir/sid/icd-o-3": "$icd-o-3",
    "http://fdasis.nlm.nih.gov": "$unii",
}
_QUANTITIES = frozenset({"Quantity", "Age", "Count", "Distance", "Duration", "SimpleQuantity"})
_PLAIN_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-._:/+]*$")
_ALIAS_TEXT = re.compile(r"[^A-Za-z0-9\-.]+")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_TYPE_ID = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True)
class SushiProject:
    """What ``sushi-config.yaml`` says: the packages to compile against, and the canonical."""

    canonical: str
    dependencies: Sequence[tuple[str, str]]  # (package name, version), without R4 core


def fsh_files(resources: Sequence[Exported], project: SushiProject) -> dict[str, bytes]:
    """Relative path -> bytes of a SUSHI project holding one instance per resource."""
    names = _instance_names(resources)
    aliases = _aliases(resources)
    by_type: dict[str, list[str]] = {}
    for item in resources:
        writer = _Writer(aliases, names[item.key])
        by_type.setdefault(item.type, []).append(writer.instance(item.resource, "example"))
    files = {CONFIG: _config(project).encode("utf-8")}
    alias_lines = [f"Alias: {alias} = {system}" for system, alias in aliases.items()]
    files[ALIASES] = ("\n".join(sorted(alias_lines)) + "\n").encode("utf-8")
    for kind, instances in sorted(by_type.items()):
        files[f"{INSTANCES}/{kind}.fsh"] = "\n".join(instances).encode("utf-8")
    return files


def _config(project: SushiProject) -> str:
    lines = [
        "# Compile with SUSHI (https://fshschool.org): `sushi build .` in this folder.",
        f"canonical: {project.canonical}",
        f"fhirVersion: {FHIR_VERSION}",
        "FSHOnly: true",
        "status: draft",
        "version: 0.1.0",
    ]
    if project.dependencies:
        lines.append("dependencies:")
        lines += [f"  {name}: {version}" for name, version in project.dependencies]
    return "\n".join(lines) + "\n"


def _instance_names(resources: Sequence[Exported]) -> dict[str, str]:
    """``Type/id`` -> instance name: the id, or ``Type-id`` where two types share an id."""
    counts: dict[str, int] = {}
    for item in resources:
        counts[item.resource["id"]] = counts.get(item.resource["id"], 0) + 1
    return {
        item.key: item.resource["id"]
        if counts[item.resource["id"]] == 1
        else f"{item.type}-{item.resource['id']}"
        for item in resources
    }


def _aliases(resources: Sequence[Exported]) -> dict[str, str]:
    """Code system URL -> alias, for every system a coding of the resources uses."""
    systems = sorted({s for item in resources for s in _systems(item.resource) if _URI.match(s)})
    taken = {KNOWN_ALIASES[s] for s in systems if s in KNOWN_ALIASES}
    aliases: dict[str, str] = {}
    for system in systems:
        alias = KNOWN_ALIASES.get(system)
        if alias is None:
            stem = "$" + (
                _ALIAS_TEXT.sub("-", system.rstrip("/").split("/")[-1]).strip("-.") or "cs"
            )
            alias, number = stem, 2
            while alias in taken:
                alias, number = f"{stem}-{number}", number + 1
            taken.add(alias)
        aliases[system] = alias
    return aliases


def _systems(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("system"), str) and isinstance(value.get("code"), str):
            yield value["system"]
        for item in value.values():
            yield from _systems(item)
    elif isinstance(value, list):
        for item in value:
            yield from _systems(item)


class _Writer:
    """The FSH of one instance (and of the inline instances it contains)."""

    def __init__(self, aliases: Mapping[str, str], name: str) -> None:
        self.aliases = aliases
        self.name = name
        self.inline: list[str] = []

    def instance(self, resource: JSON, usage: str) -> str:
        resource_type = resource["resourceType"]
        profiles = (resource.get("meta") or {}).get("profile") or []
        claimed = profiles[0] if profiles and isinstance(profiles[0], str) else None
        lines = [
            f"Instance: {self.name}",
            f"InstanceOf: {claimed or resource_type}",
            f"Usage: #{usage}",
        ]
        cls = locations.model_class(resource_type)
        if cls is None:
            raise ExportError(
                f"{resource_type}/{resource.get('id')}: '{resource_type}' is not a FHIR resource "
                "type, so its elements cannot be written as FSH rules; correct the resourceType"
            )
        if self.name != resource.get("id") and "id" in resource:
            lines.append(f"* id = {fsh_string(resource['id'])}")
        body = {k: v for k, v in resource.items() if k not in ("resourceType", "id")}
        if claimed is not None:  # SUSHI writes the profile of InstanceOf as meta.profile[0]
            body["meta"] = {k: v for k, v in body["meta"].items() if k != "profile"}
            lines += [
                f"* meta.profile[{index}] = {fsh_string(str(profile))}"
                for index, profile in enumerate(profiles[1:], 1)
            ]
            if not body["meta"]:
                del body["meta"]
        lines += self._object(body, cls, "")
        return "\n".join([*self.inline, *lines]) + "\n"

    def _object(self, data: JSON, cls: type[Any] | None, prefix: str) -> list[str]:
        lines: list[str] = []
        for key, value in data.items():
            if key.startswith("_"):
                if key[1:] not in data:  # primitives with only an id or extensions
                    lines += self._values(f"{prefix}{key[1:]}", cls, key[1:], None, value)
                continue
            lines += self._values(f"{prefix}{key}", cls, key, value, data.get("_" + key))
        return lines

    def _values(
        self, path: str, cls: type[Any] | None, key: str, value: Any, extras: Any
    ) -> list[str]:
        """The rules of one element: a value (or an array of them) and its primitives' ``_x``
        siblings (an array of the same length, ``null`` where there is none)."""
        if not isinstance(value, list) and not isinstance(extras, list):
            return self._element(path, cls, key, value, extras)
        values = value if isinstance(value, list) else []
        more = extras if isinstance(extras, list) else []
        count = max(len(values), len(more))
        lines: list[str] = []
        for index in range(count):
            item = values[index] if index < len(values) else None
            extra = more[index] if index < len(more) else None
            lines += self._element(f"{path}[{index}]" if count > 1 else path, cls, key, item, extra)
        return lines

    def _element(
        self, path: str, owner: type[Any] | None, key: str, value: Any, extras: Any
    ) -> list[str]:
        lines: list[str] = []
        if isinstance(value, dict):
            if isinstance(value.get("resourceType"), str):
                lines.append(f"* {path} = {self._inline(path, value)}")
            else:
                lines += self._complex(path, locations.step_class(owner, key, value), value)
        elif value is not None:
            lines.append(
                f"* {path} = {_literal(locations.primitive_type(owner, key), value, path)}"
            )
        if isinstance(extras, dict):  # the primitive's id and extensions
            lines += self._object(extras, locations.model_class("Element"), f"{path}.")
        return lines

    def _complex(self, path: str, cls: type[Any] | None, value: JSON) -> list[str]:
        kind = cls.__name__ if cls is not None else None
        rest = dict(value)
        head: list[str] = []
        if kind == "Coding" and (code := self._code(rest)) is not None:
            head.append(f"* {path} = {code}")
        elif kind == "CodeableConcept" and _single_coding(rest):
            coding = dict(rest["coding"][0])
            code = self._code(coding)
            if code is not None:
                del rest["coding"]
                head.append(f"* {path} = {code}")
                head += self._object(coding, locations.model_class("Coding"), f"{path}.coding.")
        elif kind in _QUANTITIES and (quantity := _ucum_quantity(rest)) is not None:
            head.append(f"* {path} = {quantity}")
        elif kind == "Reference" and _TYPE_ID.match(str(rest.get("reference"))):
            head.append(f"* {path} = Reference({rest.pop('reference')})")
        return head + self._object(rest, cls, f"{path}.")

    def _code(self, coding: JSON) -> str | None:
        """``$alias#code "display"`` for a coding (taking those keys out of it), or None."""
        system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
        if not isinstance(code, str) or (system is not None and system not in self.aliases):
            return None
        if display is not None and not isinstance(display, str):
            return None
        text = (self.aliases[system] if system is not None else "") + "#" + _code_text(code)
        for taken in ("system", "code", "display"):
            coding.pop(taken, None)
        return text + (f" {fsh_string(display)}" if display is not None else "")

    def _inline(self, path: str, resource: JSON) -> str:
        name = f"{self.name}-{re.sub(r'[^A-Za-z0-9]+', '-', path).strip('-')}"
        writer = _Writer(self.aliases, name)
        self.inline.append(writer.instance(resource, "inline"))
        return name


def _single_coding(concept: JSON) -> bool:
    codings = concept.get("coding")
    return (
        isinstance(codings, list)
        and len(codings) == 1
        and isinstance(codings[0], dict)
        and "_coding" not in concept
    )


def _ucum_quantity(quantity: JSON) -> str | None:
    """``68 'a' "years"`` for a UCUM quantity (taking those keys out of it), or None."""
    value, code, unit = quantity.get("value"), quantity.get("code"), quantity.get("unit")
    if quantity.get("system") != UCUM or not isinstance(code, str) or "'" in code or "\\" in code:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or "_value" in quantity:
        return None
    if unit is not None and not isinstance(unit, str):
        return None
    for taken in ("value", "system", "code", "unit"):
        quantity.pop(taken, None)
    return f"{json.dumps(value)} '{code}'" + (f" {fsh_string(unit)}" if unit is not None else "")


def _literal(fhir_type: str | None, value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value, allow_nan=False)
    if isinstance(value, str):
        return "#" + _code_text(value) if fhir_type == "code" else fsh_string(value)
    raise ExportError(f"{path}: {json.dumps(value)[:40]} is not a FHIR primitive value")


def _code_text(code: str) -> str:
    if _PLAIN_CODE.match(code):
        return code
    return '"' + code.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fsh_string(text: str) -> str:
    """A FSH string literal: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
