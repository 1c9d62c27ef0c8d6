"""Dates read from resources: FHIR date, dateTime and Period values as ``datetime.date``, and
whether the record marks a date as derived (R4's ``cqf-relativeDateTime`` on the primitive)."""

from __future__ import annotations

import datetime as dt

from fhir_case.extensions import RELATIVE_DATE
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


def derivation(container: object, key: str) -> list[w.JsonDict]:
    """The ``cqf-relativeDateTime`` extensions that mark ``container[key]`` as derived."""
    primitive = w.as_dict(w.as_dict(container).get("_" + key))
    return [
        extension
        for extension in map(w.as_dict, w.as_list(primitive.get("extension")))
        if extension.get("url") == RELATIVE_DATE
    ]


def dated(resource: object) -> tuple[dt.date, list[w.JsonDict]] | None:
    """When a resource happened (its effective, performed, onset… date or period start) and
    the marks that say the date is derived (none when the source states it)."""
    data = w.as_dict(resource)
    for element in DATE_ELEMENTS:
        suffix, value = w.choice(data, element)
        key = element + suffix
        if not suffix and element in data:
            key, value = element, data[element]
        if isinstance(value, dict):
            for end in ("start", "end"):
                if (found := parse_date(value.get(end))) is not None:
                    return found, derivation(value, end)
        elif (found := parse_date(value)) is not None:
            return found, derivation(data, key)
    return None


def resource_date(resource: object) -> dt.date | None:
    """When a resource happened: its effective, performed, onset… date or period start."""
    found = dated(resource)
    return found[0] if found else None
