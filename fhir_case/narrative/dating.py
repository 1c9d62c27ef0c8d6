"""How a resource's date is known: stated, derived from another date, or not stated at all.

The record keeps these apart and so must everything that shows it: a derived date reads
"about 2023-05-14", a period without a start "start not stated; until 2023-10-18", a missing
date "date not stated", never a bare date. What the resource says about each date is read
here, in one place, for the narratives, the document and the case view alike:

- a ``data-absent-reason`` extension on the date (or on its primitive, ``_onsetDateTime``):
  not stated, with the reason;
- a date given as text (``onsetString``, ``performedString``): that text, no date;
- an annotation that says how the date was found ("Approximate date: …", "Derived date: …"):
  the resource's clinical date is derived, and the note says how;
- otherwise the date is stated as recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from fhir_case.narrative import words as w

DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
# The elements that date what happened to the patient (not when something was recorded).
CLINICAL_DATES = ("effective", "performed", "onset", "occurrence", "period")
_DERIVED_NOTE = re.compile(r"^(?:approximate|derived|estimated|computed) date\b\W*", re.IGNORECASE)
_ABSENT_NOTE = re.compile(r"^date not stated\b\W*", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

Certainty = Literal["stated", "derived", "absent"]


@dataclass(frozen=True)
class Dating:
    """One date of a resource: the words to show, whether it is stated, and how it is known."""

    words: str  # "2023-05-28", "about 2023-05-14", "start not stated; until 2023-10-18"
    certainty: Certainty
    how: str  # how a derived date was found, or why there is none ("" when stated)
    start: dt.date | None  # where it falls (a partial date: its first day); None: nowhere
    brief: str = ""  # a shorter form where one exists ("from 2023-05-28")

    @property
    def stated(self) -> bool:
        return self.certainty == "stated"

    @property
    def short(self) -> str:
        """The words for a tight place (a timeline label): a period by its known bound."""
        return self.brief or self.words


NOT_RECORDED = Dating("date not recorded", "absent", "", None)


def parse_date(value: object) -> dt.date | None:
    """The calendar date of a FHIR date/dateTime; a partial date means its first day."""
    match = _DATE.match(w.scalar(value))
    if match is None:
        return None
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def absent_reason(element: object) -> str:
    """The data-absent-reason code on an element (a complex value or a primitive's ``_x``)."""
    for extension in map(w.as_dict, w.as_list(w.as_dict(element).get("extension"))):
        if w.scalar(extension.get("url")) == DATA_ABSENT_REASON:
            return w.scalar(extension.get("valueCode")) or "unknown"
    return ""


ABSENT_WORDS = {
    "unknown": "not stated",
    "asked-unknown": "not known",
    "temp-unknown": "not yet known",
    "not-asked": "not asked",
    "asked-declined": "declined",
    "masked": "withheld",
    "not-applicable": "not applicable",
    "unsupported": "not supported",
    "as-text": "given as text",
    "error": "in error",
    "not-performed": "not performed",
}


def _derivation(resource: w.JsonDict) -> str:
    """How the resource's clinical date was derived, from an annotation that says so."""
    for note in w.as_list(resource.get("note")):
        text = w.scalar(w.as_dict(note).get("text"))
        if _DERIVED_NOTE.match(text):
            return _DERIVED_NOTE.sub("", text).rstrip(".")
    return ""


def _absence(resource: w.JsonDict) -> str | None:
    """Why the resource has no date, from an annotation that says so ("" when the note gives
    no reason); ``None`` when no note says so."""
    for note in w.as_list(resource.get("note")):
        text = w.scalar(w.as_dict(note).get("text"))
        if _ABSENT_NOTE.match(text):
            reason = _ABSENT_NOTE.sub("", text).rstrip(".")
            return "" if reason.lower() == "date not stated" else reason
    return None


def _period_words(value: w.JsonDict, about: str) -> str:
    start, end = w.date(value.get("start")), w.date(value.get("end"))
    if start and end:
        return f"{about}{start} to {end}" if start != end else f"{about}{start}"
    if start:
        return f"from {about}{start}; end not stated"
    return f"start not stated; until {about}{end}" if end else ""


def _find(data: w.JsonDict, name: str) -> tuple[str, object, object] | None:
    """Element ``name`` or ``name[x]``: (type suffix, value, the primitive's ``_`` part)."""
    if name in data or f"_{name}" in data:
        suffix = "Period" if isinstance(data.get(name), dict) else ""
        return suffix, data.get(name), data.get(f"_{name}")
    for key in sorted(data):
        bare = key.lstrip("_")
        suffix = bare[len(name) :]
        if bare.startswith(name) and suffix[:1].isupper():
            return suffix, data.get(bare), data.get(f"_{bare}")
    return None


def dating(resource: object, prefix: str | None = None) -> Dating:
    """How the resource's date ``prefix[x]`` (by default its clinical date) is known."""
    data = w.as_dict(resource)
    for name in (prefix,) if prefix else CLINICAL_DATES:
        found = _find(data, name)
        if found is not None:
            return _read(data, name, *found)
    absence = _absence(data)
    return NOT_RECORDED if absence is None else Dating("date not stated", "absent", absence, None)


def _read(data: w.JsonDict, name: str, suffix: str, value: object, primitive: object) -> Dating:
    reason = absent_reason(value) or absent_reason(primitive)
    if reason:
        words = "date " + ABSENT_WORDS.get(reason, reason.replace("-", " "))
        return Dating(words, "absent", _absence(data) or "", None)
    derived = _derivation(data) if name in CLINICAL_DATES else ""
    about = "about " if derived else ""
    certainty: Certainty = "derived" if derived else "stated"
    if suffix == "Period":
        bounds = w.as_dict(value)
        words = _period_words(bounds, about)
        start = parse_date(bounds.get("start")) or parse_date(bounds.get("end"))
        brief = words.split(";")[0] if words.startswith("from") else words.split("; ")[-1]
        return Dating(words, certainty, derived, start, brief) if words else NOT_RECORDED
    if suffix in ("DateTime", "Date", "Instant", ""):
        day = parse_date(value)
        return Dating(about + w.date(value), certainty, derived, day) if day else NOT_RECORDED
    if suffix == "String":  # a date in words: nothing to place on a calendar
        return Dating(w.scalar(value) or "date not stated", "absent", derived, None)
    words = w.typed_value(suffix, value)
    return Dating(words, certainty, derived, None) if words else NOT_RECORDED
