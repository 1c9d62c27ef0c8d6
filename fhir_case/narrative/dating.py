"""How a resource's date is known: stated, derived from another date, or not stated at all.

The record keeps these apart and so must everything that shows it: a derived date reads
"about 2023-05-14", a period without a start "start not stated; until 2023-10-18", a start
known only to follow another date "start not stated; after 2023-10-18", a missing date "date
not stated", never a bare date. What the resource says about each date is read here, in one
place, for the narratives, the document and the case view alike:

- a ``data-absent-reason`` extension on the date (or on its primitive, ``_onsetDateTime``,
  ``boundsPeriod._start``): not stated, with the reason;
- a ``cqf-relativeDateTime`` extension (R4's "a date determined by an offset from a target
  event") on a date that has a value: the date is derived; on an absent date: how it relates to
  the target ("after 2023-10-18"), the target's date found through ``resolve``;
- a date given as text (``onsetString``, ``performedString``): that text, no date;
- an annotation that says how the date was found ("Approximate date: …", "Derived date: …"):
  the resource's clinical date is derived, and the note says how;
- otherwise the date is stated as recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fhir_case.extensions import DATA_ABSENT_REASON, RELATIVE_DATE
from fhir_case.narrative import words as w

__all__ = ["DATA_ABSENT_REASON", "RELATIVE_DATE", "Dating", "dating", "period_words"]
# The elements that date what happened to the patient (not when something was recorded).
CLINICAL_DATES = ("effective", "performed", "onset", "occurrence", "period")
# The lead-in and its separator only: an opening quotation mark after it belongs to the reason.
_SEPARATOR = r"[\s:;,.\-–—]*"
_DERIVED_NOTE = re.compile(
    r"^(?:approximate|derived|estimated|computed) date\b" + _SEPARATOR, re.IGNORECASE
)
_ABSENT_NOTE = re.compile(r"^date not stated\b" + _SEPARATOR, re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

Certainty = Literal["stated", "derived", "absent"]
# A reference string to the resource it points to (None: not in the record).
Resolve = Callable[[str], w.JsonDict | None]

# action-relationship-type (the value set of cqf-relativeDateTime's relationship).
RELATIONSHIPS = {
    "before-start": ("before", "the start of"),
    "before": ("before", ""),
    "before-end": ("before", "the end of"),
    "concurrent-with-start": ("at", "the start of"),
    "concurrent": ("at", ""),
    "concurrent-with-end": ("at", "the end of"),
    "after-start": ("after", "the start of"),
    "after": ("after", ""),
    "after-end": ("after", "the end of"),
}


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


def _extensions(element: object, url: str) -> list[w.JsonDict]:
    found = map(w.as_dict, w.as_list(w.as_dict(element).get("extension")))
    return [e for e in found if w.scalar(e.get("url")) == url]


def absent_reason(element: object) -> str:
    """The data-absent-reason code on an element (a complex value or a primitive's ``_x``)."""
    for extension in _extensions(element, DATA_ABSENT_REASON):
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


@dataclass(frozen=True)
class Relation:
    """What a ``cqf-relativeDateTime`` says: "2 weeks before the start of <target>"."""

    direction: str  # "before", "at", "after"
    part: str  # "the start of", "the end of", or ""
    offset: str  # "2 weeks", or ""
    target: str  # the target's name
    anchor: dt.date | None  # the target's date at targetPath, when it can be found

    @property
    def words(self) -> str:
        """``after 2023-10-18``: the direction and the anchor date (or the target's name)."""
        lead = f"{self.offset} {self.direction}" if self.offset else self.direction
        if self.anchor is not None:
            return f"{lead} {self.anchor.isoformat()}"
        return f"{lead} {w.joined((self.part, self.target), ' ')}".strip()

    @property
    def explained(self) -> str:
        """``2 weeks before the start of Presentation (2023-05-28)``."""
        lead = f"{self.offset} {self.direction}" if self.offset else self.direction
        anchor = f" ({self.anchor.isoformat()})" if self.anchor else ""
        return f"{lead} {w.joined((self.part, self.target or 'another event'), ' ')}{anchor}"


def relation(element: object, resolve: Resolve | None = None) -> Relation | None:
    """The ``cqf-relativeDateTime`` on an element, its target found through ``resolve``."""
    for extension in _extensions(element, RELATIVE_DATE):
        parts = {
            w.scalar(p.get("url")): p for p in map(w.as_dict, w.as_list(extension.get("extension")))
        }
        direction, part = RELATIONSHIPS.get(
            w.scalar(parts.get("relationship", {}).get("valueCode")), ("related to", "")
        )
        offset = w.as_dict(parts.get("offset"))
        duration = w.as_dict(offset.get("valueDuration"))
        offset_words = w.quantity(duration) if duration.get("value") not in (None, 0) else ""
        reference = w.as_dict(parts.get("target", {}).get("valueReference"))
        target = resolve(w.scalar(reference.get("reference"))) if resolve else None
        path = w.scalar(parts.get("targetPath", {}).get("valueString"))
        name = w.reference_name(reference) or _name_of(target)
        return Relation(direction, part, offset_words, name, _at_path(target, path))
    return None


def _name_of(resource: w.JsonDict | None) -> str:
    data = w.as_dict(resource)
    return (
        w.concept(data.get("code")) or w.scalar(data.get("title")) or w.concepts(data.get("type"))
    )


def _at_path(resource: w.JsonDict | None, path: str) -> dt.date | None:
    """The date at a simple FHIRPath (``performed.end``, ``period.start``) of a resource."""
    value: object = resource
    for step in [s for s in path.split(".") if s and s[:1].islower()]:
        data = w.as_dict(value)
        found = _find(data, step)
        value = found[1] if found is not None else None
    if isinstance(value, dict):  # a Period named without its part: its start, else its end
        value = value.get("start") or value.get("end")
    return parse_date(value)


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


@dataclass(frozen=True)
class _Bound:
    """One end of a Period: its words, its date, and whether it is derived."""

    words: str
    day: dt.date | None  # where it falls: its date, or the date it is relative to
    derived: bool
    stated: bool
    dated: bool  # it has a date of its own


def _bound(bounds: w.JsonDict, key: str, about: str, resolve: Resolve | None) -> _Bound | None:
    value, primitive = bounds.get(key), bounds.get(f"_{key}")
    near = relation(primitive, resolve)
    day = parse_date(value)
    if day is not None:
        derived = bool(about) or near is not None
        words = ("about " if derived else "") + w.date(value)
        return _Bound(words, day, derived, not derived, True)
    if absent_reason(primitive) or near is not None:
        words = f"{key} not stated" + (f"; {near.words}" if near else "")
        return _Bound(words, near.anchor if near else None, False, False, False)
    return None


def period_words(
    value: object, resolve: Resolve | None = None, about: str = "", open_end: str = "end not stated"
) -> tuple[str, str, dt.date | None, bool]:
    """A Period in words, each bound as the record knows it: (words, brief words, where it
    falls, whether the date it falls at is stated). ``open_end`` is said of a period with no
    end (an order open by design says nothing)."""
    bounds = w.as_dict(value)
    start, end = _bound(bounds, "start", about, resolve), _bound(bounds, "end", "", resolve)
    if start and start.dated and end and end.dated:
        stated = start.stated and end.stated
        if start.words == end.words:
            return start.words, start.words, start.day, stated
        return f"from {start.words} to {end.words}", "", start.day, stated
    if start and start.dated:  # placed at its start, which is stated or derived
        tail = end.words if end else open_end
        words = w.joined((f"from {start.words}", tail), "; ")
        return words, f"from {start.words}", start.day, start.stated
    if end and end.dated:  # placed at its end, which is stated or derived
        head = start.words if start else "start not stated"
        return f"{head}; until {end.words}", f"until {end.words}", end.day, end.stated
    if start:  # no date at all, only how the start relates to another event
        return start.words, start.words.split("; ")[-1], start.day, False
    return "", "", None, True


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


def dating(resource: object, prefix: str | None = None, resolve: Resolve | None = None) -> Dating:
    """How the resource's date ``prefix[x]`` (by default its clinical date) is known."""
    data = w.as_dict(resource)
    for name in (prefix,) if prefix else CLINICAL_DATES:
        found = _find(data, name)
        if found is not None:
            return _read(data, name, *found, resolve)
    absence = _absence(data)
    return NOT_RECORDED if absence is None else Dating("date not stated", "absent", absence, None)


def _read(
    data: w.JsonDict,
    name: str,
    suffix: str,
    value: object,
    primitive: object,
    resolve: Resolve | None,
) -> Dating:
    near = relation(primitive, resolve) or relation(value, resolve)
    reason = absent_reason(value) or absent_reason(primitive)
    if reason:
        words = "date " + ABSENT_WORDS.get(reason, reason.replace("-", " "))
        why = _absence(data) or ""
        if near is not None:
            return Dating(f"{words}; {near.words}", "absent", why or near.explained, None)
        return Dating(words, "absent", why, None)
    derived = _derivation(data) if name in CLINICAL_DATES else ""
    if near is not None and not derived:
        derived = near.explained
    about = "about " if derived else ""
    certainty: Certainty = "derived" if derived else "stated"
    if suffix == "Period":
        words, brief, start, stated = period_words(value, resolve, about)
        if not words:
            return NOT_RECORDED
        return Dating(words, certainty if stated else "derived", derived, start, brief)
    if suffix in ("DateTime", "Date", "Instant", ""):
        day = parse_date(value)
        return Dating(about + w.date(value), certainty, derived, day) if day else NOT_RECORDED
    if suffix == "String":  # a date in words: nothing to place on a calendar
        return Dating(w.scalar(value) or "date not stated", "absent", derived, None)
    words = w.typed_value(suffix, value)
    return Dating(words, certainty, derived, None) if words else NOT_RECORDED


def action_when(action: object, timing: object, resolve: Resolve | None = None) -> str:
    """When a RequestGroup action happens, with the bounds of the cycle it follows as the
    record knows them: ``on days 1–14 of each 21-day cycle, start not stated; after …``."""
    bounds = w.as_dict(w.as_dict(timing).get("repeat")).get("boundsPeriod")
    return w.joined(
        (w.action_timing(action, timing), period_words(bounds, resolve, open_end="")[0])
    )
