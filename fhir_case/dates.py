"""Dates read from resources: FHIR date, dateTime and Period values as ``datetime.date``."""

from __future__ import annotations

import datetime as dt
import re

from fhir_case.narrative import words as w

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

# The element that dates each resource type, in order of preference.
DATE_ELEMENTS = (
    "effective",
    "performed",
    "onset",
    "occurrence",
    "identified",
    "period",
    "authoredOn",
    "recordedDate",
    "issued",
    "date",
    "recorded",
)


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


def period_bounds(value: object) -> tuple[dt.date | None, dt.date | None]:
    data = w.as_dict(value)
    return parse_date(data.get("start")), parse_date(data.get("end"))


def resource_date(resource: object) -> dt.date | None:
    """When a resource happened: its effective, performed, onset… date or period start."""
    data = w.as_dict(resource)
    for element in DATE_ELEMENTS:
        suffix, value = w.choice(data, element)
        if not suffix and element in data:
            suffix, value = "", data[element]
        if isinstance(value, dict):
            start, end = period_bounds(value)
            if start or end:
                return start or end
        elif (found := parse_date(value)) is not None:
            return found
    return None
