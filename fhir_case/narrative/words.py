"""FHIR R4 data types in plain words, for narratives and the case view.

Every function accepts whatever JSON it is given: a value of an unexpected shape yields the
words that can still be read from it (often ``""``), never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fhir_case.extensions import DATA_ABSENT_REASON, RELATIVE_DATE

JsonDict = Mapping[str, Any]

UCUM = "http://unitsofmeasure.org"
RELATIONSHIPS = {
    "before": "before",
    "concurrent": "at the time of",
    "after": "after",
    "before-start": "before the start of",
    "before-end": "before the end of",
    "concurrent-with-start": "at the start of",
    "concurrent-with-end": "at the end of",
    "after-start": "after the start of",
    "after-end": "after the end of",
}

SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://terminology.hl7.org/CodeSystem/icd-o-3": "ICD-O-3",
    "http://fdasis.nlm.nih.gov": "UNII",
    "http://www.whocc.no/atc": "ATC",
    UCUM: "UCUM",
}

# UCUM time units used by Timing and Duration, as (singular, plural).
TIME_UNITS = {
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "wk": ("week", "weeks"),
    "mo": ("month", "months"),
    "a": ("year", "years"),
}
DAYS_OF_WEEK = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
EVENT_TIMING = {
    "MORN": "in the morning",
    "AFT": "in the afternoon",
    "EVE": "in the evening",
    "NIGHT": "at night",
    "HS": "at bedtime",
    "WAKE": "on waking",
    "C": "with a meal",
    "CM": "with breakfast",
    "CD": "with lunch",
    "CV": "with dinner",
    "AC": "before a meal",
    "ACM": "before breakfast",
    "ACD": "before lunch",
    "ACV": "before dinner",
    "PC": "after a meal",
    "PCM": "after breakfast",
    "PCD": "after lunch",
    "PCV": "after dinner",
}


def as_dict(value: object) -> JsonDict:
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    """A JSON array as a list; a single value stands for a one-item array."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def scalar(value: object) -> str:
    """A primitive as text ("" for anything else); booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number(value)
    return value.strip() if isinstance(value, str) else ""


def number(value: int | float) -> str:
    """A number as written in FHIR JSON, without a trailing ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def joined(parts: Iterable[str], separator: str = ", ") -> str:
    return separator.join(part for part in parts if part)


def system_name(system: object) -> str:
    uri = scalar(system)
    return SYSTEM_NAMES.get(uri) or uri.rstrip("/").rsplit("/", 1)[-1]


def coding(value: object, with_code: bool = False) -> str:
    data = as_dict(value)
    display, code = scalar(data.get("display")), scalar(data.get("code"))
    if not with_code or not code:
        return display or code
    label = f"{system_name(data.get('system'))} {code}".strip()
    return f"{display} ({label})" if display else label


def concept(value: object, with_codes: bool = False) -> str:
    """A CodeableConcept: its text, else its codings' displays; with codes when asked."""
    data = as_dict(value)
    codings = [as_dict(c) for c in as_list(data.get("coding"))]
    label = scalar(data.get("text")) or next(
        (scalar(c.get("display")) for c in codings if scalar(c.get("display"))), ""
    )
    if not with_codes:
        return label or next((scalar(c.get("code")) for c in codings if c.get("code")), "")
    codes = joined(
        (f"{system_name(c.get('system'))} {scalar(c.get('code'))}".strip() for c in codings),
        "; ",
    )
    if label and codes:
        return f"{label} ({codes})"
    return label or codes


def concepts(values: object, with_codes: bool = False) -> str:
    return joined((concept(v, with_codes) for v in as_list(values)), "; ")


def date(value: object) -> str:
    """A FHIR date or dateTime as written, with a space instead of the ``T``."""
    return scalar(value).replace("T", " ")


def quantity(value: object) -> str:
    """``[comparator] value unit``; the UCUM code is added when it differs from the unit."""
    data = as_dict(value)
    amount = scalar(data.get("value"))
    unit, code = scalar(data.get("unit")), scalar(data.get("code"))
    shown_unit = unit or code
    words = joined((scalar(data.get("comparator")), amount, shown_unit), " ")
    if code and unit and code != unit and scalar(data.get("system")) == UCUM:
        words += f" (UCUM {code})"
    return words


def duration(value: object, unit: object) -> str:
    """``21 days`` from a number and a UCUM time unit."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    names = TIME_UNITS.get(scalar(unit))
    if names is None:
        return joined((number(value), scalar(unit)), " ")
    return f"{number(value)} {names[0] if value == 1 else names[1]}"


def _extensions(container: JsonDict, key: str, url: str) -> list[JsonDict]:
    primitive = as_dict(container.get("_" + key))
    return [e for e in map(as_dict, as_list(primitive.get("extension"))) if e.get("url") == url]


def relative_date(extension: object) -> str:
    """A ``cqf-relativeDateTime`` in words: ``2 weeks before the start of <target>``."""
    parts = {
        scalar(part.get("url")): part
        for part in map(as_dict, as_list(as_dict(extension).get("extension")))
    }
    offset = as_dict(parts.get("offset"))
    duration_ = as_dict(offset.get("valueDuration"))
    amount = duration(duration_.get("value"), duration_.get("code"))
    if amount.startswith("0 "):
        amount = ""
    relationship = scalar(as_dict(parts.get("relationship")).get("valueCode"))
    target = reference(as_dict(parts.get("target")).get("valueReference"))
    return joined((amount, RELATIONSHIPS.get(relationship, relationship), target), " ")


def dated(container: object, key: str) -> str:
    """The date ``container[key]`` as the record marks it: stated (the date), derived (the
    date and how it was derived) or absent ("not stated", and what places it)."""
    data = as_dict(container)
    value = date(data.get(key))
    derived = [relative_date(e) for e in _extensions(data, key, RELATIVE_DATE)]
    if value:
        return f"{value} (derived: {joined(derived, '; ')})" if derived else value
    if _extensions(data, key, DATA_ABSENT_REASON):
        return joined(("not stated", *derived), ", ")
    return ""


def period(value: object) -> str:
    data = as_dict(value)
    start, end = dated(data, "start"), dated(data, "end")
    if start.startswith("not stated"):
        start = f"a date {start}"
    if end.startswith("not stated"):
        end = f"a date {end}"
    if start and end:
        return f"from {start} to {end}" if start != end else f"on {start}"
    if start:
        return f"from {start}"
    return f"until {end}" if end else ""


def value_range(value: object) -> str:
    data = as_dict(value)
    low, high = quantity(data.get("low")), quantity(data.get("high"))
    if low and high:
        return f"{low} to {high}"
    return f"at least {low}" if low else (f"at most {high}" if high else "")


def ratio(value: object) -> str:
    data = as_dict(value)
    return joined((quantity(data.get("numerator")), quantity(data.get("denominator"))), " per ")


def reference(value: object) -> str:
    data = as_dict(value)
    return scalar(data.get("display")) or scalar(data.get("reference"))


def references(values: object) -> str:
    return joined((reference(v) for v in as_list(values)), "; ")


def annotation(value: object) -> str:
    data = as_dict(value)
    note = scalar(data.get("text"))
    author = reference(data.get("authorReference")) or scalar(data.get("authorString"))
    when = date(data.get("time"))
    source = joined((author, when))
    return f"{note} ({source})" if note and source else note


def human_name(value: object) -> str:
    data = as_dict(value)
    given = " ".join(scalar(g) for g in as_list(data.get("given")))
    return scalar(data.get("text")) or joined(
        (
            " ".join(scalar(p) for p in as_list(data.get("prefix"))),
            given,
            scalar(data.get("family")),
        ),
        " ",
    )


def identifier(value: object) -> str:
    data = as_dict(value)
    number_ = scalar(data.get("value"))
    system = scalar(data.get("system"))
    return f"{number_} ({system})" if number_ and system else number_


def address(value: object) -> str:
    data = as_dict(value)
    return scalar(data.get("text")) or joined(
        [scalar(line) for line in as_list(data.get("line"))]
        + [scalar(data.get(key)) for key in ("city", "district", "state", "postalCode", "country")]
    )


def contact_point(value: object) -> str:
    data = as_dict(value)
    return joined((scalar(data.get("value")), scalar(data.get("use"))), " ")


def _frequency(repeat: JsonDict) -> str:
    frequency, frequency_max = repeat.get("frequency"), repeat.get("frequencyMax")
    period_, period_max = repeat.get("period"), repeat.get("periodMax")
    unit = scalar(repeat.get("periodUnit"))
    if not isinstance(period_, int | float) or isinstance(period_, bool):
        return ""
    times = scalar(frequency) or "1"
    if scalar(frequency_max):
        times = f"{times} to {scalar(frequency_max)}"
    count = "once" if times == "1" else ("twice" if times == "2" else f"{times} times")
    names = TIME_UNITS.get(unit, (unit, unit))
    if scalar(period_max):
        return f"{count} every {number(period_)} to {scalar(period_max)} {names[1]}"
    if period_ == 1:
        return f"{count} a {names[0]}" if names[0] != "hour" else f"{count} an hour"
    return f"{count} every {duration(period_, unit)}"


def timing(value: object) -> str:
    """A Timing in words: ``once every 21 days, 6 times, from 2023-05-30``."""
    data = as_dict(value)
    repeat = as_dict(data.get("repeat"))
    parts = [concept(data.get("code"))]
    events = [date(e) for e in as_list(data.get("event"))]
    if events:
        parts.append("on " + joined(events))
    parts.append(_frequency(repeat))
    if "duration" in repeat:
        parts.append("each lasting " + duration(repeat.get("duration"), repeat.get("durationUnit")))
    days = [DAYS_OF_WEEK.get(scalar(d), scalar(d)) for d in as_list(repeat.get("dayOfWeek"))]
    if any(days):
        parts.append("on " + joined(days))
    times = [scalar(t)[:5] for t in as_list(repeat.get("timeOfDay"))]
    if any(times):
        parts.append("at " + joined(times))
    whens = [EVENT_TIMING.get(scalar(w), scalar(w)) for w in as_list(repeat.get("when"))]
    if any(whens):
        offset = repeat.get("offset")
        lead = f"{scalar(offset)} minutes " if scalar(offset) else ""
        parts.append(lead + joined(whens, " or "))
    count, count_max = scalar(repeat.get("count")), scalar(repeat.get("countMax"))
    if count:
        parts.append(f"{count} to {count_max} times" if count_max else f"{count} times")
    bounds_duration = as_dict(repeat.get("boundsDuration"))
    if bounds_duration:
        parts.append(
            "for "
            + (
                duration(bounds_duration.get("value"), bounds_duration.get("code"))
                or quantity(bounds_duration)
            )
        )
    if repeat.get("boundsRange") is not None:
        parts.append("for " + value_range(repeat.get("boundsRange")))
    parts.append(period(repeat.get("boundsPeriod")))
    return joined(parts)


def dose_and_rate(value: object) -> str:
    data = as_dict(value)
    dose = quantity(data.get("doseQuantity")) or value_range(data.get("doseRange"))
    rate = (
        quantity(data.get("rateQuantity"))
        or value_range(data.get("rateRange"))
        or ratio(data.get("rateRatio"))
    )
    return f"{dose} at {rate}" if dose and rate else dose or rate


def dosage(value: object) -> str:
    """A Dosage as a prescription line: dose, route, method, site, schedule, and its text."""
    data = as_dict(value)
    dose = joined((dose_and_rate(d) for d in as_list(data.get("doseAndRate"))), " or ")
    as_needed = ""
    if data.get("asNeededBoolean") is True:
        as_needed = "as needed"
    elif data.get("asNeededCodeableConcept") is not None:
        as_needed = "as needed for " + concept(data.get("asNeededCodeableConcept"))
    maximum = ratio(data.get("maxDosePerPeriod"))
    structured = joined(
        (
            dose,
            concept(data.get("route")),
            concept(data.get("method")),
            ("at " + concept(data.get("site"))) if data.get("site") is not None else "",
            timing(data.get("timing")),
            as_needed,
            concepts(data.get("additionalInstruction")),
            f"at most {maximum}" if maximum else "",
        )
    )
    written = scalar(data.get("text"))
    if written and structured:
        return f"{structured} (as written: “{written}”)"
    return structured or written


def choice(resource: object, prefix: str) -> tuple[str, object]:
    """The ``prefix[x]`` element of a resource as (type suffix, value), or ("", None)."""
    data = as_dict(resource)
    for key in sorted(data):
        suffix = key[len(prefix) :]
        if key.startswith(prefix) and suffix[:1].isupper():
            return suffix, data[key]
    return "", None


def typed_value(type_name: str, value: object) -> str:
    """A value of a FHIR data type in words, dispatched on the type name."""
    renderer = _RENDERERS.get(type_name)
    if renderer is not None:
        return renderer(value)
    if isinstance(value, Mapping):
        return generic(value)
    return scalar(value)


def choice_words(resource: object, prefix: str) -> str:
    suffix, value = choice(resource, prefix)
    if suffix in ("DateTime", "Date", "Instant"):
        return dated(resource, prefix + suffix)
    if suffix:
        return typed_value(suffix, value)
    absent = [key[1:] for key in sorted(as_dict(resource)) if key.startswith("_" + prefix)]
    return dated(resource, absent[0]) if absent else ""


def generic(value: object, depth: int = 0) -> str:
    """Any JSON value in words, recognising common data types by their shape."""
    if isinstance(value, list):
        return joined((generic(v, depth) for v in value), "; ")
    if not isinstance(value, Mapping):
        return scalar(value)
    if "coding" in value or ("text" in value and len(value) == 1):
        return concept(value, with_codes=True)
    if "code" in value and "system" in value and "value" not in value:
        return coding(value, with_code=True)
    if "value" in value and ("unit" in value or "code" in value):
        return quantity(value)
    if "reference" in value or ("display" in value and "code" not in value):
        return reference(value)
    if set(value) <= {"start", "end", "id", "extension"}:
        return period(value)
    if depth >= 2:
        return ""
    return joined(
        (
            f"{key}: {words}"
            for key, item in value.items()
            if key not in ("id", "extension", "modifierExtension")
            if (words := generic(item, depth + 1))
        ),
        "; ",
    )


_RENDERERS = {
    "CodeableConcept": concept,
    "Coding": coding,
    "Quantity": quantity,
    "Age": quantity,
    "Duration": quantity,
    "Distance": quantity,
    "Count": quantity,
    "SimpleQuantity": quantity,
    "Range": value_range,
    "Ratio": ratio,
    "Period": period,
    "DateTime": date,
    "Date": date,
    "Instant": date,
    "Reference": reference,
    "Timing": timing,
    "Annotation": annotation,
    "HumanName": human_name,
    "Identifier": identifier,
    "Address": address,
    "ContactPoint": contact_point,
}
