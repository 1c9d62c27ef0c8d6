"""The core vital-signs profiles the HL7 validator applies to R4 Observations by their code.

Like the HL7 validator (R4 and later), an Observation whose code has one of these LOINC codes
is also checked against the core profile for that vital sign, whether or not it claims it.
"""

from __future__ import annotations

from typing import Any

_CORE = "http://hl7.org/fhir/StructureDefinition/"


def _codes(*groups: str) -> frozenset[str]:
    return frozenset(code for group in groups for code in group.split())


# LOINC code -> core profile id, as the HL7 validator maps them (first match wins).
_LOINC_PROFILES: tuple[tuple[str, frozenset[str]], ...] = (
    ("vitalspanel", frozenset({"85353-1"})),
    (
        "resprate",
        _codes("9279-1 76170-0 76172-6 76171-8 19840-8 33438-3 76270-8 11291-2"),
    ),
    (
        "heartrate",
        _codes(
            "60978-4 73795-7 73799-9 76476-1 76477-9 8867-4 8889-8 8890-6",
            "8891-4 8892-2 8893-0 40443-4 55425-3 68999-2 11328-2 69000-8",
            "8886-4",
        ),
    ),
    (
        "oxygensat",
        _codes(
            "2708-6 19224-5 20564-1 2709-4 2710-2 2711-0 2713-6 51733-4",
            "59408-5 59417-6 89276-0 97549-0",
        ),
    ),
    (
        "bodytemp",
        _codes(
            "8310-5 60834-9 60835-6 60836-4 60838-0 60955-2 61009-7 75539-7",
            "75987-8 76010-8 76011-6 76278-1 8309-7 8328-7 8329-5 8330-3",
            "8331-1 8332-9 8333-7 8334-5 91371-5 98657-0 98663-8",
        ),
    ),
    ("bodyheight", _codes("8302-2 3137-7 3138-5 8306-3 8308-9")),
    ("headcircum", _codes("9843-4 8287-5")),
    (
        "bodyweight",
        _codes("29463-7 3141-9 3142-7 75292-3 79348-9 8350-1 8351-9"),
    ),
    ("bmi", _codes("39156-5 59574-4 89270-3")),
    ("bp", _codes("85354-9 35094-2 8459-0 76534-7 55284-4 8480-6")),
)


def vital_signs_profile(observation: dict[str, Any]) -> str | None:
    """The core vital-signs profile for an Observation's LOINC code, or None."""
    code = observation.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list):
        return None
    loinc = {
        c["code"]
        for c in codings
        if isinstance(c, dict)
        and c.get("system") == "http://loinc.org"
        and isinstance(c.get("code"), str)
    }
    for profile, codes in _LOINC_PROFILES:
        if loinc & codes:
            return _CORE + profile
    return None
