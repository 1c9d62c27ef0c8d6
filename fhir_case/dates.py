"""Dates read from resources: FHIR date, dateTime and Period values as ``datetime.date``."""

from __future__ import annotations

import datetime as dt

from fhir_case.narrative import words as w
from fhir_case.narrative.dating import parse_date

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
