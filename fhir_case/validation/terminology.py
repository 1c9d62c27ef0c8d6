"""Layer 5, terminology: codes checked offline, against the project's code register and UCUM.

Scope:

- Codings in SNOMED CT, LOINC, RxNorm, ICD-10-CM and ICD-O-3: a code whose form cannot exist
  (a SNOMED CT identifier with a wrong Verhoeff check digit, a LOINC code with a wrong mod-10
  check digit, an ICD-10-CM code of the wrong shape) is an error; a code that is not in the
  register (:func:`fhir_case.terminology.register.load_register`), or whose display differs
  from the register's, is a warning naming the code; a code the register holds as not yet
  verified is information. Without a terminology server nothing more can be known.
- ``Coding.system`` must be an absolute URI: ``snomed`` is an error here, because a server
  cannot tell what it means. (The HL7 validator only warns that it cannot find the code system.)
- UCUM: a Quantity (or Coding) with system ``http://unitsofmeasure.org`` must have a code that
  the UCUM grammar accepts (:mod:`fhir_case.validation.ucum`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from fhir_case.terminology.register import CodeRegister, load_register
from fhir_case.validation import locations, ucum
from fhir_case.validation.issues import Issue, finding
from fhir_case.validation.jsontree import objects
from fhir_case.validation.locations import JsonPath

LAYER = "terminology"
_issue = partial(finding, LAYER)

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"

SYSTEM_NAMES = {
    SNOMED: "SNOMED CT",
    LOINC: "LOINC",
    RXNORM: "RxNorm",
    ICD10CM: "ICD-10-CM",
    ICDO3: "ICD-O-3",
}
# Informal names people write for a system, and the URI they mean.
SYSTEM_ALIASES = {
    "snomed": SNOMED,
    "snomedct": SNOMED,
    "snomed-ct": SNOMED,
    "sct": SNOMED,
    "loinc": LOINC,
    "rxnorm": RXNORM,
    "icd-10-cm": ICD10CM,
    "icd10cm": ICD10CM,
    "icd10": ICD10CM,
    "icd-o-3": ICDO3,
    "icdo3": ICDO3,
    "ucum": UCUM,
}
_SHAPES = {
    SNOMED: re.compile(r"^[1-9][0-9]{5,17}$"),
    LOINC: re.compile(r"^(L[AP])?[0-9]{1,8}-[0-9]$"),  # LA: answers, LP: parts
    RXNORM: re.compile(r"^[0-9]{1,9}$"),
    ICD10CM: re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"),
    ICDO3: re.compile(r"^([0-9]{4}/[0-9]|C[0-9]{2}(\.[0-9])?)$"),
}
_ABSOLUTE_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")
_CODING_KEYS = frozenset(
    {"id", "extension", "system", "version", "code", "display", "userSelected"}
)
_QUANTITY_KEYS = frozenset({"id", "extension", "value", "comparator", "unit", "system", "code"})
# ContactPoint.system codes: {"system": "phone"} alone is a ContactPoint, not a Coding.
_CONTACT_SYSTEMS = frozenset({None, "phone", "fax", "email", "pager", "url", "sms", "other"})
_SNOMED_EXPRESSION = re.compile(r"[:=+{]")
_SCTID = re.compile(r"[0-9]{6,18}")
_SEMANTIC_TAG = re.compile(r"\s+\([^()]*\)$")


def check_terminology(
    resource: dict[str, Any], root: str, register: CodeRegister | None = None
) -> list[Issue]:
    """Terminology issues of one resource (a Bundle's entries are checked one by one)."""
    register = register or load_register()
    issues: list[Issue] = []
    for path, item in objects(resource, skip="resource"):
        keys = item.keys()
        if not keys <= _QUANTITY_KEYS and not keys <= _CODING_KEYS:
            continue
        system = item.get("system")
        if keys <= _CODING_KEYS and ("code" in item or system not in _CONTACT_SYSTEMS):
            issues.extend(_coding(item, resource, root, path, register))
        elif isinstance(system, str) and system == UCUM and isinstance(item.get("code"), str):
            issues.extend(_ucum(item["code"], resource, root, [*path, "code"]))
    return issues


def _coding(
    coding: dict[str, Any],
    resource: dict[str, Any],
    root: str,
    path: JsonPath,
    register: CodeRegister,
) -> Iterator[Issue]:
    system, code = coding.get("system"), coding.get("code")
    if isinstance(system, str) and not _ABSOLUTE_URI.match(system):
        meant = SYSTEM_ALIASES.get(system.strip().lower().replace(" ", ""))
        yield _issue(
            locations.fhirpath(root, resource, [*path, "system"]),
            f"Coding.system '{system}' is not an absolute URI, so no server can tell which code "
            "system it is",
            f"write the system's canonical URI{f', {meant}' if meant else ''}",
        )
        return
    if not isinstance(system, str) or not isinstance(code, str):
        return
    if system == UCUM:
        yield from _ucum(code, resource, root, [*path, "code"])
        return
    name = SYSTEM_NAMES.get(system)
    if name is None:
        return
    where = locations.fhirpath(root, resource, [*path, "code"])
    problem = _malformed(system, code)
    if problem:
        yield _issue(where, f"'{code}' is not a valid {name} code: {problem}", "correct the code")
        return
    entry = register.get(system, code)
    if entry is None:
        yield _issue(
            where,
            f"{name} code {code} is not in the fhir-case code register, so it was not verified",
            "check the code in the code system's browser and add it to the register",
            "warning",
            "code-invalid",
        )
        return
    display = coding.get("display")
    if isinstance(display, str) and not _same_display(display, entry.display):
        yield _issue(
            locations.fhirpath(root, resource, [*path, "display"]),
            f"Display '{display}' for {name} code {code} does not match the register's "
            f"'{entry.display}'",
            f"use the display '{entry.display}'",
            "warning",
        )
    if not entry.verified:
        yield _issue(
            where,
            f"{name} code {code} ('{entry.display}') is in the register as "
            f"'{entry.confidence}', not verified",
            None,
            "information",
            "informational",
        )


def _ucum(code: str, resource: dict[str, Any], root: str, path: JsonPath) -> Iterator[Issue]:
    problem = ucum.check_unit(code)
    if problem is None:
        return
    meant = ucum.suggest(code)
    hint = (
        f"the UCUM code is probably '{meant}'" if meant else "write a UCUM code, e.g. mg, mL, /min"
    )
    # A warning, not an error: R4 does not require units to be UCUM codes unless a profile binds
    # them (the profile layer reports those), and the official examples use 'ea' and 'mEq'.
    # Strict servers reject such units, and `fhir-case build` refuses them in case files.
    yield _issue(
        locations.fhirpath(root, resource, path),
        f"'{code}' is not a valid UCUM unit: {problem}",
        hint,
        "warning",
        "code-invalid",
    )


def _malformed(system: str, code: str) -> str | None:
    if system == SNOMED and _SNOMED_EXPRESSION.search(code):
        # A post-coordinated expression (71341001:272741003=7771000): check its concept ids.
        wrong = [sctid for sctid in _SCTID.findall(code) if not _verhoeff_ok(sctid)]
        return f"the check digit of {', '.join(wrong)} is wrong" if wrong else None
    shape = _SHAPES.get(system)
    if shape is not None and not shape.match(code):
        return "it does not have the form of one"
    if system == SNOMED and not _verhoeff_ok(code):
        return "its check digit is wrong"
    if system == LOINC and code[0].isdigit() and not _loinc_check_ok(code):
        return "its check digit is wrong"
    return None


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def _verhoeff_ok(digits: str) -> bool:
    """SNOMED CT identifiers end in a Verhoeff check digit."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


def _loinc_check_ok(code: str) -> bool:
    """LOINC's mod-10 check digit (Luhn over the digits before the hyphen)."""
    body, check = code.split("-")
    total = 0
    for position, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(check)


def _same_display(given: str, registered: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(_SEMANTIC_TAG.sub("", text).split()).casefold()

    return norm(given) == norm(registered)
