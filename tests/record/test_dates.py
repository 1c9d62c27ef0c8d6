"""Stated, derived, absent: every date of every resource in every bundle is one of the three.

- stated: a plain value that a quote of its fact gives (in the article's own words, "28 May
  2023", "February 2024");
- derived: a value whose primitive carries ``cqf-relativeDateTime``; the test recomputes it from
  the stated date it names;
- absent: no value, and ``data-absent-reason`` on the primitive.

The record's own dates (Provenance.recorded, Composition.date, Bundle.timestamp) date the record,
not the care: they must be the case file's ``recorded`` date.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from calendar import month_name
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fhir_case.build import build_case_file
from fhir_case.casefile import default_case_file
from fhir_case.casefile.yamlpos import load_positioned
from tests.helpers import ROOT, quotes_in

JSON = dict[str, Any]
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
RELATIVE_DATE = "http://hl7.org/fhir/StructureDefinition/cqf-relativeDateTime"
SIMPLE_CASE = ROOT / "tests" / "fixtures" / "cases" / "simple-case.yaml"
# Elements that hold codes, identifiers or text, whatever they look like ("2555" is RxNorm's).
NOT_DATES = frozenset({"code", "value", "display", "id", "version", "reference", "system"})
# Elements that date the record itself (the case file's ``recorded``), not the patient's care.
RECORD_DATES = {("Provenance", "recorded"), ("Composition", "date"), ("Bundle", "timestamp")}


@dataclass(frozen=True)
class DateElement:
    resource: JSON
    container: JSON
    key: str
    path: str

    @property
    def value(self) -> str | None:
        value = self.container.get(self.key)
        return value if isinstance(value, str) else None

    def marks(self, url: str) -> list[JSON]:
        primitive = self.container.get("_" + self.key) or {}
        return [e for e in primitive.get("extension", ()) if e["url"] == url]


def date_elements(resource: JSON) -> Iterator[DateElement]:
    """Every element of ``resource`` whose value is a FHIR date, dateTime or instant, and every
    primitive with extensions but no value (an absent date); the narrative is not data."""

    def walk(node: object, path: str) -> Iterator[DateElement]:
        if isinstance(node, dict):
            for key, value in node.items():
                if path == "" and key == "text":
                    continue
                if key in NOT_DATES:
                    continue
                if isinstance(value, str) and DATE.match(value):
                    yield DateElement(resource, node, key, f"{path}.{key}")
                elif key.startswith("_") and key[1:] not in node:
                    yield DateElement(resource, node, key[1:], f"{path}.{key[1:]}")
                else:
                    yield from walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                yield from walk(item, f"{path}[{index}]")

    yield from walk(resource, "")


def article_forms(value: str) -> list[str]:
    """How the article writes a date: "28 May 2023", "May 2023", "2023"."""
    parts = [int(part) for part in value[:10].split("-")]
    if len(parts) == 3:
        return [f"{parts[2]} {month_name[parts[1]]} {parts[0]}"]
    if len(parts) == 2:
        return [f"{month_name[parts[1]]} {parts[0]}"]
    return [str(parts[0])]


@dataclass(frozen=True)
class Case:
    data: JSON
    bundles: dict[str, JSON]

    def facts(self) -> dict[str, JSON]:
        found = {self.data["patient"]["id"]: self.data["patient"]}
        for value in self.data.values():
            if isinstance(value, list):
                found |= {item["id"]: item for item in value if isinstance(item, dict)}
        return found


def shipped_case() -> Case:
    data = load_positioned(default_case_file().read_text(encoding="utf-8")).data
    bundles = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "bundles").glob("mpnst-chen-2024.*.json"))
    }
    return Case(data, bundles)


def simple_case() -> Case:
    data = load_positioned(SIMPLE_CASE.read_text(encoding="utf-8")).data
    return Case(data, build_case_file(SIMPLE_CASE, ["transaction", "collection", "document"]))


CASES = {"shipped": shipped_case, "simple": simple_case}


def resolve(resource: JSON, fhir_path: str) -> tuple[JSON, str]:
    """The container and key of a FHIRPath such as ``performed.end`` in ``resource``."""
    node: Any = resource
    parts = fhir_path.split(".")
    for index, part in enumerate(parts):
        if isinstance(node, list):
            node = node[0]
        keys = [part] if part in node else [k for k in node if re.match(part + "[A-Z]", k)]
        assert len(keys) == 1, f"{fhir_path}: no single element {part!r} in {sorted(node)}"
        if index == len(parts) - 1:
            return node, keys[0]
        node = node[keys[0]]
    raise AssertionError(fhir_path)


def shifted(value: str, relationship: str, offset: JSON) -> str:
    date = dt.date.fromisoformat(value)
    amount = offset["value"] * (-1 if relationship.startswith("before") else 1)
    if relationship.startswith("concurrent"):
        assert offset["value"] == 0
    unit = offset["code"]
    if unit in ("d", "wk"):
        return (date + dt.timedelta(days=amount * (7 if unit == "wk" else 1))).isoformat()
    months = date.month - 1 + amount * (12 if unit == "a" else 1)
    return date.replace(year=date.year + months // 12, month=months % 12 + 1).isoformat()


def check_relation(mark: JSON, by_url: dict[str, JSON]) -> tuple[str, str, JSON]:
    """The stated date a ``cqf-relativeDateTime`` counts from, its relationship and offset."""
    parts = {part["url"]: part for part in mark["extension"]}
    assert set(parts) == {"target", "targetPath", "relationship", "offset"}
    target = by_url[parts["target"]["valueReference"]["reference"]]
    container, key = resolve(target, parts["targetPath"]["valueString"])
    base = DateElement(target, container, key, "")
    assert base.value is not None and not base.marks(RELATIVE_DATE), "count from stated dates"
    return base.value, parts["relationship"]["valueCode"], parts["offset"]


def check(case: Case, bundle: JSON, element: DateElement, by_url: dict[str, JSON]) -> None:
    resource = element.resource
    kind = resource["resourceType"]
    if (kind, element.key) in RECORD_DATES and element.container is resource:
        assert element.value is not None and element.value.startswith(case.data["recorded"])
        return
    relations = element.marks(RELATIVE_DATE)
    if element.value is None:  # absent: say so, and only so
        assert element.marks(DAR) == [{"url": DAR, "valueCode": "unknown"}]
        for mark in relations:
            check_relation(mark, by_url)
        return
    assert not element.marks(DAR), "a date with a value is not absent"
    if relations:  # derived: recompute it
        (mark,) = relations
        base, relationship, offset = check_relation(mark, by_url)
        assert "valueDuration" in offset, "a derived date has an exact offset"
        assert shifted(base, relationship, offset["valueDuration"]) == element.value
        if "note" in resource:
            assert any(n["text"].startswith("Approximate date") for n in resource["note"])
        return
    # stated: a quote of its fact writes it (the Composition's period: a quote of the case)
    facts = case.facts()
    if kind == "Composition":
        quotes = quotes_in(case.data)
    else:
        (identifier,) = resource["identifier"]
        quotes = quotes_in(facts[identifier["value"].split("/")[0]])
    text = re.sub(r"\s+", " ", " ".join(quotes))
    assert any(form in text for form in article_forms(element.value)), (
        f"{element.value} is not in a quote of its fact"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_date_is_stated_derived_or_absent(name: str) -> None:
    case = CASES[name]()
    assert len(case.bundles) == 3
    checked = {"stated": 0, "derived": 0, "absent": 0}
    for file_name, bundle in case.bundles.items():
        by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
        for element in date_elements({k: v for k, v in bundle.items() if k != "entry"}):
            check(case, bundle, DateElement(bundle, bundle, element.key, element.path), by_url)
        for entry in bundle["entry"]:
            for element in date_elements(entry["resource"]):
                where = f"{file_name}: {entry['resource']['resourceType']}{element.path}"
                try:
                    check(case, bundle, element, by_url)
                except (AssertionError, KeyError) as error:
                    raise AssertionError(f"{where}: {error}") from error
                state = (
                    "absent"
                    if element.value is None
                    else "derived"
                    if element.marks(RELATIVE_DATE)
                    else "stated"
                )
                checked[state] += 1
    assert all(checked.values()), checked  # each kind occurs, so each branch was tested


def test_the_derived_and_absent_dates_the_issue_names_are_marked() -> None:
    (bundle,) = [b for n, b in shipped_case().bundles.items() if n.endswith("collection.json")]
    by_key = {
        r["identifier"][0]["value"]: r
        for r in (e["resource"] for e in bundle["entry"])
        if r.get("identifier")
    }
    derived = [
        (by_key["low-back-pain"], "onsetDateTime"),
        (by_key["left-limb-pain"], "onsetDateTime"),
        (by_key["ct-lumbar-end-of-chemo"], "performedDateTime"),
        (by_key["ct-chest-end-of-chemo"], "performedDateTime"),
        (by_key["chest-ct-end-of-chemo-finding"], "effectiveDateTime"),
        (by_key["disease-status-2023-10-18"], "effectiveDateTime"),
    ]
    for resource, key in derived:
        assert DateElement(resource, resource, key, "").marks(RELATIVE_DATE), key
    # anlotinib's order is one cycle's dosing; the course's absent start is on the cycle
    # that repeats it (review 10, E2), not lost
    (cycle,) = by_key["anlotinib/cycles"]["action"]
    anlotinib = cycle["timingTiming"]["repeat"]["boundsPeriod"]
    assert "start" not in anlotinib and DateElement({}, anlotinib, "start", "").marks(DAR)
    assert DateElement({}, anlotinib, "start", "").marks(RELATIVE_DATE)
    denosumab = by_key["denosumab"]["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]
    # no start, stop or restart is invented: the start is absent, and there is no end
    assert denosumab == {"_start": {"extension": [{"url": DAR, "valueCode": "unknown"}]}}
    # the lung CT's date is derived, so the refuted lung metastasis claims no asserted date
    assert "extension" not in by_key["lung-metastasis"]


def test_every_absent_period_start_carries_a_data_absent_reason() -> None:
    """A Period whose start is not given says so on the element (review 9, K5)."""
    (bundle,) = [b for n, b in shipped_case().bundles.items() if n.endswith("collection.json")]
    periods = []

    def walk(data: object) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if key in {"period", "performedPeriod", "boundsPeriod"} and isinstance(value, dict):
                    periods.append(value)
                walk(value)
        elif isinstance(data, list):
            for item in data:
                walk(item)

    walk([e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] != "Composition"])
    assert len(periods) >= 8
    for period in periods:
        assert "start" in period or DateElement({}, period, "start", "").marks(DAR), period


def test_absent_and_derived_dates_are_found_by_the_walk() -> None:
    resource = {
        "resourceType": "Observation",
        "effectiveDateTime": "2023-05-14",
        "_effectiveDateTime": {"extension": [{"url": RELATIVE_DATE, "extension": []}]},
        "component": [{"_valueDateTime": {"extension": [{"url": DAR, "valueCode": "unknown"}]}}],
        "text": {"div": "2023-05-14"},
    }
    found = [(e.path, e.value) for e in date_elements(resource)]
    assert found == [(".effectiveDateTime", "2023-05-14"), (".component[0].valueDateTime", None)]


def test_dates_are_written_as_the_article_writes_them() -> None:
    assert article_forms("2023-06-06") == ["6 June 2023"]
    assert article_forms("2024-02") == ["February 2024"]
    assert shifted("2023-05-28", "before-start", {"value": 2, "code": "wk"}) == "2023-05-14"
    assert shifted("2022-03-03", "before-start", {"value": 1, "code": "mo"}) == "2022-02-03"


def test_the_walk_covers_every_bundle_file() -> None:
    files = sorted(p.name for p in Path(ROOT / "bundles").glob("*.json"))
    assert files == sorted(shipped_case().bundles)


def test_the_anlotinib_course_start_stays_marked_in_every_layer() -> None:
    """The order is one cycle's 14 days; the course's absent start lives on the cycle that
    repeats it, and the narratives and the case page still say it (review 10, E2)."""
    from fhir_case.view.page import render_case_view

    (bundle,) = [b for n, b in shipped_case().bundles.items() if n.endswith("collection.json")]
    by_key = {
        r["identifier"][0]["value"]: r
        for r in (e["resource"] for e in bundle["entry"])
        if r.get("identifier")
    }
    words = "on days 1–14 of each 21-day cycle, start not stated; after 2023-10-18"
    assert words in by_key["anlotinib/cycles"]["text"]["div"]
    order = by_key["anlotinib"]
    assert "boundsPeriod" not in order["dosageInstruction"][0]["timing"]["repeat"]
    assert "Date not stated: prescribed after the six cycles" in order["text"]["div"]
    page = html.unescape(re.sub(r"<[^>]+>", "", render_case_view(bundle)))
    assert "once daily " + words in re.sub(r"\s+", " ", page)
