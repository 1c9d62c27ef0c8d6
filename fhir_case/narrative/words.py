"""FHIR R4 data types in plain words, for narratives and the case view.

Every function accepts whatever JSON it is given: a value of an unexpected shape yields the
words that can still be read from it (often ``""``), never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fhir_case.extensions import DAYS_OF_CYCLE

JsonDict = Mapping[str, Any]

UCUM = "http://unitsofmeasure.org"

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
    """A number as written in FHIR JSON: JSON's ``3.0`` stays ``3.0`` (a decimal keeps its
    precision, so a size the source gives as 3.0 cm is not shown as 3 cm)."""
    return str(value)


def joined(parts: Iterable[str], separator: str = ", ") -> str:
    return separator.join(part for part in parts if part)


def system_name(system: object) -> str:
    uri = scalar(system)
    return SYSTEM_NAMES.get(uri) or uri.rstrip("/").rsplit("/", 1)[-1]


def coding(value: object, with_code: bool = False) -> str:
    data = as_dict(value)
    label, code = display(data), scalar(data.get("code"))
    if not with_code or not code:
        return label or code
    codes = f"{system_name(data.get('system'))} {code}".strip()
    return f"{label} ({codes})" if label else codes


# SNOMED CT's semantic tags, which a fully specified name carries and people leave out.
_SEMANTIC_TAG = re.compile(
    r"\s+\((?:procedure|qualifier value|body structure|finding|disorder|observable entity"
    r"|morphologic abnormality|regime/therapy|substance|product|situation|attribute)\)$"
)


def display(value: object) -> str:
    """A Coding's display as people say it: without SNOMED CT's semantic tag."""
    return _SEMANTIC_TAG.sub("", scalar(as_dict(value).get("display")))


def concept(value: object, with_codes: bool = False) -> str:
    """A CodeableConcept: its text, else its codings' displays; with codes when asked."""
    data = as_dict(value)
    codings = [as_dict(c) for c in as_list(data.get("coding"))]
    label = scalar(data.get("text")) or next((display(c) for c in codings if display(c)), "")
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
    """``[comparator] value unit``, the unit as people write it (``600 µg``, ``68 years``)."""
    data = as_dict(value)
    return joined(
        (scalar(data.get("comparator")), scalar(data.get("value")), quantity_unit(data)), " "
    )


def quantity_unit(value: object) -> str:
    """The unit of a Quantity for people: its ``unit`` when that is written for people, else
    the UCUM code in words (``ug`` → µg, ``mg/m2`` → mg/m², ``a`` → years)."""
    data = as_dict(value)
    unit, code = scalar(data.get("unit")), scalar(data.get("code"))
    if unit and unit != code:
        return unit_words(unit)
    amount = data.get("value")
    names = TIME_UNITS.get(code or unit)
    if names is not None:
        return names[0] if amount == 1 else names[1]
    return unit_words(code or unit)


# UCUM atoms that people write differently, and time units after a slash ("mg/d" is mg/day).
UNIT_ATOMS = {
    "ug": "µg",
    "uL": "µL",
    "umol": "µmol",
    "um": "µm",
    "mcg": "µg",
    "[iU]": "IU",
    "[IU]": "IU",
    "Cel": "°C",
    "[degF]": "°F",
    "mm[Hg]": "mmHg",
    "[in_i]": "in",
    "[lb_av]": "lb",
}
PER_TIME = {"d": "day", "wk": "week", "mo": "month", "a": "year", "h": "hour"}
BY = "\N{MULTIPLICATION SIGN}"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_POWER = re.compile(r"(?P<atom>[A-Za-z]+)(?P<power>-?[0-9])")
_TEN_POWER = re.compile(r"10\*(?P<power>-?[0-9]+)")


def unit_words(unit: str) -> str:
    """A UCUM unit as people write it: ``mg/m2`` mg/m², ``ug`` µg, ``mg/d`` mg/day; any
    other text is returned as it is."""
    if not unit or " " in unit:  # words, not a UCUM expression
        return unit
    out: list[str] = []
    previous = ""
    for part in re.split(r"([/.])", unit):
        atom = re.sub(r"\{([^}]*)\}", r"\1", part)  # an annotation {tablets} reads as its words
        if part in ("/", "."):
            out.append("·" if part == "." else "/")
        elif atom in UNIT_ATOMS:
            out.append(UNIT_ATOMS[atom])
        elif previous == "/" and atom in PER_TIME:
            out.append(PER_TIME[atom])
        elif (ten := _TEN_POWER.fullmatch(atom)) is not None:
            out.append(BY + "10" + ten["power"].translate(_SUPERSCRIPT))
        elif (power := _POWER.fullmatch(atom)) is not None:
            base = UNIT_ATOMS.get(power["atom"], power["atom"])
            out.append(base + power["power"].translate(_SUPERSCRIPT))
        else:
            out.append(atom)
        previous = part
    return "".join(out)


def dimensions(quantities: Iterable[object]) -> str:
    """Sizes as a radiologist writes them, one unit for all (3.0 by 2.0 by 2.2 cm, with the
    multiplication sign), or each with its own unit when the units differ."""
    present = [as_dict(q) for q in quantities if quantity(q)]
    units = {quantity_unit(q) for q in present}
    if len(present) > 1 and len(units) == 1 and all(scalar(q.get("value")) for q in present):
        return f" {BY} ".join(scalar(q.get("value")) for q in present) + " " + units.pop()
    return f" {BY} ".join(quantity(q) for q in present)


def duration(value: object, unit: object) -> str:
    """``21 days`` from a number and a UCUM time unit."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    names = TIME_UNITS.get(scalar(unit))
    if names is None:
        return joined((number(value), scalar(unit)), " ")
    return f"{number(value)} {names[0] if value == 1 else names[1]}"


def period(value: object) -> str:
    data = as_dict(value)
    start, end = date(data.get("start")), date(data.get("end"))
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


# Text that names nothing for a reader: a UUID, or a machine key such as a case-file id
# (``pathology-ilium-result``). A display like that is not shown; the target's type is.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_MACHINE_KEY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)+$")


def is_machine_key(text: str) -> bool:
    return bool(_MACHINE_KEY.match(text) or UUID.search(text) or text.startswith("urn:"))


def reference_type(value: object) -> str:
    """The resource type a Reference points to: its ``type``, else read from ``Type/id``."""
    data = as_dict(value)
    declared = scalar(data.get("type"))
    if declared:
        return declared
    parts = scalar(data.get("reference")).split("/_history/")[0].rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2][:1].isupper() else ""


def reference_name(value: object) -> str:
    """A Reference's display when it names something for people, else "". A display that is a
    machine key (``pathology-ilium-result``) is shown only when nothing else identifies the
    target."""
    data = as_dict(value)
    display = scalar(data.get("display"))
    if is_machine_key(display) and (data.get("reference") or data.get("identifier")):
        return ""
    return display


def reference(value: object) -> str:
    """How a Reference names its target: its display, else "an Observation", else nothing
    (never a raw id or UUID)."""
    kind = reference_type(value)
    return reference_name(value) or (_indefinite(kind) if kind else "")


def _indefinite(kind: str) -> str:
    return ("an " if kind[:1] in ("A", "E", "I", "O", "U") else "a ") + kind


def references(values: object, name: Callable[[object], str] = reference_name) -> str:
    """Named targets one by one; unnamed ones counted by type ("3 Observations")."""
    named = [words for value in as_list(values) if (words := name(value))]
    unnamed = count_types(v for v in as_list(values) if not name(v))
    counted = [
        (_indefinite(kind) if count == 1 else f"{count} {kind}s")
        if kind
        else (f"{count} other resource" + ("s" if count > 1 else ""))
        for kind, count in sorted(unnamed.items(), key=lambda item: (not item[0], item[0]))
    ]
    return joined([*named, *counted], "; ")


def count_types(values: Iterable[object]) -> dict[str, int]:
    """How many References point to each resource type ("" for an unknown type), by type."""
    counts: dict[str, int] = {}
    for value in values:
        kind = reference_type(value)
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


# "Date not stated: date not stated." says one thing twice.
_DOUBLED = re.compile(r"^(?P<said>[^:]+): (?P=said)(?P<end>\.?)$", re.IGNORECASE)


def annotation(value: object) -> str:
    data = as_dict(value)
    note = _DOUBLED.sub(r"\g<said>\g<end>", scalar(data.get("text")))
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
    """A business identifier for people: ``value (system)``, or ``type: value``. A machine key
    (a UUID, a slug such as a case-file id) or a value under a UUID system is the record's own
    key, not for people, and is left out."""
    data = as_dict(value)
    number_ = scalar(data.get("value"))
    if not number_ or is_machine_key(number_) or UUID.search(scalar(data.get("system"))):
        return ""
    kind = concept(data.get("type"))
    if kind:
        return f"{kind}: {number_}"
    system = scalar(data.get("system"))
    return f"{number_} ({system})" if system else number_


def address(value: object) -> str:
    data = as_dict(value)
    return scalar(data.get("text")) or joined(
        [scalar(line) for line in as_list(data.get("line"))]
        + [scalar(data.get(key)) for key in ("city", "district", "state", "postalCode", "country")]
    )


def contact_point(value: object) -> str:
    data = as_dict(value)
    return joined((scalar(data.get("value")), scalar(data.get("use"))), " ")


TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times"}
EVERY = {"d": "daily", "wk": "weekly", "mo": "monthly", "a": "yearly"}
# How a prescription says the route (SNOMED CT route codes, then the route's words).
ROUTE_CODES = {
    "26643006": "orally",
    "34206005": "subcutaneously",
    "47625008": "intravenously",
    "78421000": "intramuscularly",
}
ROUTE_WORDS = {
    "oral": "orally",
    "by mouth": "orally",
    "intravenous": "intravenously",
    "subcutaneous": "subcutaneously",
    "intramuscular": "intramuscularly",
    "topical": "topically",
    "nasal": "nasally",
    "sublingual": "sublingually",
    "buccal": "buccally",
    "rectal": "rectally",
    "per rectum": "rectally",
    "intrathecal": "intrathecally",
    "transdermal": "transdermally",
    "vaginal": "vaginally",
    "inhalation": "by inhalation",
    "respiratory tract": "by inhalation",
}


def _number_or_none(value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _frequency(repeat: JsonDict) -> str:
    """``once daily``, ``twice daily``, ``every 4 weeks``, ``every 4 to 6 hours``."""
    period_ = _number_or_none(repeat.get("period"))
    if period_ is None:
        return ""
    unit = scalar(repeat.get("periodUnit"))
    frequency = _number_or_none(repeat.get("frequency")) or 1
    frequency_max = _number_or_none(repeat.get("frequencyMax"))
    period_max = _number_or_none(repeat.get("periodMax"))
    times = TIMES.get(int(frequency), f"{number(frequency)} times")
    if frequency_max is not None:
        times = f"{number(frequency)} to {number(frequency_max)} times"
    if period_ == 1 and period_max is None and unit in EVERY:
        return f"{times} {EVERY[unit]}"
    span = duration(period_, unit)
    if period_max is not None:
        span = f"{number(period_)} to {duration(period_max, unit)}"
    if period_ == 1 and period_max is None:
        span = TIME_UNITS.get(unit, (unit, unit))[0]  # "every hour"
    return f"every {span}" if times == "once" else f"{times} every {span}"


def _days(value: object, unit: object) -> float | None:
    amount = _number_or_none(value)
    per_unit = {"d": 1.0, "wk": 7.0}.get(scalar(unit))
    return None if amount is None or per_unit is None else amount * per_unit


def _cycle(repeat: JsonDict) -> str:
    """``for 14 days of each 21-day cycle``: one course of ``duration`` per ``period``."""
    on = _days(repeat.get("duration"), repeat.get("durationUnit"))
    cycle = _days(repeat.get("period"), repeat.get("periodUnit"))
    frequency = _number_or_none(repeat.get("frequency")) or 1
    if on is None or cycle is None or frequency != 1 or not 0 < on < cycle:
        return ""
    length = number(repeat["period"])
    unit = TIME_UNITS.get(scalar(repeat.get("periodUnit")), ("day", "days"))[0]
    on_words = duration(repeat.get("duration"), repeat.get("durationUnit"))
    return f"for {on_words} of each {length}-{unit} cycle"


def _is_cyclic(repeat: JsonDict) -> bool:
    """Once per period of at least two days: each repetition is a treatment cycle."""
    cycle = _days(repeat.get("period"), repeat.get("periodUnit"))
    frequency = _number_or_none(repeat.get("frequency")) or 1
    return cycle is not None and cycle >= 2 and frequency == 1


def timing(value: object, bounds: Callable[[object], str] | None = None) -> str:
    """A Timing as a prescription says it: ``every 21 days for 6 cycles, until 2023-10-18``;
    ``bounds`` writes the bounds period (by default as :func:`period`)."""
    data = as_dict(value)
    repeat = as_dict(data.get("repeat"))
    rhythm = [concept(data.get("code"))]
    events = [date(e) for e in as_list(data.get("event"))]
    if events:
        rhythm.append("on " + joined(events))
    cycle = _cycle(repeat)
    rhythm.append(cycle or _frequency(repeat))
    if "duration" in repeat and not cycle:
        rhythm.append("each over " + duration(repeat.get("duration"), repeat.get("durationUnit")))
    days = [DAYS_OF_WEEK.get(scalar(d), scalar(d)) for d in as_list(repeat.get("dayOfWeek"))]
    if any(days):
        rhythm.append("on " + joined(days))
    times = [scalar(t)[:5] for t in as_list(repeat.get("timeOfDay"))]
    if any(times):
        rhythm.append("at " + joined(times))
    whens = [EVENT_TIMING.get(scalar(w), scalar(w)) for w in as_list(repeat.get("when"))]
    if any(whens):
        offset = repeat.get("offset")
        lead = f"{scalar(offset)} minutes " if scalar(offset) else ""
        rhythm.append(lead + joined(whens, " or "))
    count, count_max = scalar(repeat.get("count")), scalar(repeat.get("countMax"))
    if count:
        how_many = f"{count} to {count_max}" if count_max else count
        rhythm.append(f"for {how_many} cycles" if _is_cyclic(repeat) else f"{how_many} times")
    limits = []
    bounds_duration = as_dict(repeat.get("boundsDuration"))
    if bounds_duration:
        limits.append(
            "for "
            + (
                duration(bounds_duration.get("value"), bounds_duration.get("code"))
                or quantity(bounds_duration)
            )
        )
    if repeat.get("boundsRange") is not None:
        limits.append("for " + value_range(repeat.get("boundsRange")))
    limits.append((bounds or period)(repeat.get("boundsPeriod")))
    return joined((joined(rhythm, " "), *limits))


def days_of_cycle(element: object) -> list[int]:
    """The days of R4's ``timing-daysOfCycle`` extension on an element (a RequestGroup action)."""
    days: list[int] = []
    for extension in map(as_dict, as_list(as_dict(element).get("extension"))):
        if scalar(extension.get("url")) == DAYS_OF_CYCLE:
            for day in map(as_dict, as_list(extension.get("extension"))):
                value = day.get("valueInteger")
                if isinstance(value, int) and not isinstance(value, bool):
                    days.append(value)
    return sorted(set(days))


def day_ranges(days: list[int]) -> str:
    """``days 1–14``, ``days 1, 8, 15``, ``day 1``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    words = ", ".join(parts)
    return ("day " if len(days) == 1 else "days ") + words if days else ""


def flat_actions(actions: object, timing_: object = None) -> list[tuple[JsonDict, object]]:
    """A RequestGroup's actions, nested ones included, each with the Timing it follows (its
    own, else its parent's: a cycle's timing holds for the actions inside it)."""
    found: list[tuple[JsonDict, object]] = []
    for action in map(as_dict, as_list(actions)):
        own = action.get("timingTiming") or timing_
        found.append((action, own))
        found += flat_actions(action.get("action"), own)
    return found


def action_timing(action: object, timing_: object = None) -> str:
    """When a RequestGroup action happens: ``on days 1–14 of each 21-day cycle`` (``timing_``
    is the Timing it follows when it has none of its own)."""
    data = as_dict(action)
    days = day_ranges(days_of_cycle(data))
    timing_data = as_dict(data.get("timingTiming") or timing_)
    repeat = as_dict(timing_data.get("repeat"))
    cycle = _days(repeat.get("period"), repeat.get("periodUnit"))
    if days and cycle is not None and _number_or_none(repeat.get("frequency")) in (None, 1):
        unit = TIME_UNITS.get(scalar(repeat.get("periodUnit")), ("day", "days"))[0]
        return f"on {days} of each {number(repeat['period'])}-{unit} cycle"
    return joined((f"on {days}" if days else "", timing(timing_data)))


def route(value: object) -> str:
    """A route as a prescription says it: ``orally``, ``subcutaneously``."""
    data = as_dict(value)
    for code in map(as_dict, as_list(data.get("coding"))):
        if scalar(code.get("code")) in ROUTE_CODES:
            return ROUTE_CODES[scalar(code.get("code"))]
    label = concept(data)
    key = re.sub(r"\s*(route|\(qualifier value\))$", "", label.lower()).strip()
    if key in ROUTE_WORDS:
        return ROUTE_WORDS[key]
    return f"by the {key} route" if key else ""


def dose_and_rate(value: object) -> str:
    data = as_dict(value)
    dose = quantity(data.get("doseQuantity")) or value_range(data.get("doseRange"))
    rate = (
        quantity(data.get("rateQuantity"))
        or value_range(data.get("rateRange"))
        or ratio(data.get("rateRatio"))
    )
    return f"{dose} at {rate}" if dose and rate else dose or rate


def dosage(value: object, bounds: Callable[[object], str] | None = None) -> str:
    """A Dosage as a prescription line (``12 mg orally once daily, from 2023-10-18``), then the
    dosage text, labelled as such and not quoted: it is the recorder's wording, and quotation
    marks are kept for the source's words."""
    data = as_dict(value)
    dose = joined((dose_and_rate(d) for d in as_list(data.get("doseAndRate"))), " or ")
    as_needed = ""
    if data.get("asNeededBoolean") is True:
        as_needed = "as needed"
    elif data.get("asNeededCodeableConcept") is not None:
        as_needed = "as needed for " + concept(data.get("asNeededCodeableConcept"))
    maximum = ratio(data.get("maxDosePerPeriod"))
    sentence = joined((dose, route(data.get("route")), timing(data.get("timing"), bounds)), " ")
    structured = joined(
        (
            sentence,
            concept(data.get("method")),
            ("at " + concept(data.get("site"))) if data.get("site") is not None else "",
            as_needed,
            concepts(data.get("additionalInstruction")),
            f"at most {maximum}" if maximum else "",
        )
    )
    written = scalar(data.get("text"))
    if written and structured:
        return f"{structured} (dosage text: {written})"
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
    return typed_value(suffix, value) if suffix else ""


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
    if "repeat" in value or "event" in value:
        return timing(value)
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
