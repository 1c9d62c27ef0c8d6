"""docs/fact-inventory.md and the shipped case file are in step: every fact of the case file is
in the inventory, the inventory names only facts of the case file (or resources the record
derives from them), every quote in it is in the article, and its counts are its rows."""

from __future__ import annotations

import re
from functools import cache

from fhir_case.casefile import default_case_file, load_case
from fhir_case.casefile.parse import normalise_whitespace
from fhir_case.casefile.yamlpos import load_positioned
from fhir_case.record import build_resource_dicts
from tests.helpers import ROOT

INVENTORY = ROOT / "docs" / "fact-inventory.md"
IDS_COLUMN = "Case-file ids"
QUOTE = re.compile(r"«([^»]+)»")
BACKTICKED = re.compile(r"`([^`]+)`")


@cache
def inventory() -> str:
    return INVENTORY.read_text(encoding="utf-8")


def case_ids() -> set[str]:
    data = load_positioned(default_case_file().read_text(encoding="utf-8")).data
    ids = {data["patient"]["id"]}
    for value in data.values():
        if isinstance(value, list):
            ids |= {item["id"] for item in value if isinstance(item, dict) and "id" in item}
    return ids


def record_keys() -> set[str]:
    """The keys of every resource of the record (fact ids and derived ``fact/part`` keys)."""
    resources = build_resource_dicts(load_case(default_case_file()))
    return {r["identifier"][0]["value"] for r in resources if r.get("identifier")}


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table as (header cells, rows of cells)."""
    found: list[tuple[list[str], list[list[str]]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines) - 1:
        if lines[index].startswith("|") and re.match(r"^\|[\s\-|]+\|$", lines[index + 1]):
            header = _cells(lines[index])
            rows = []
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(_cells(lines[index]))
                index += 1
            found.append((header, rows))
        else:
            index += 1
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]


def section(title: str) -> str:
    text = inventory()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def named_ids() -> list[str]:
    """The ids in every "Case-file ids" column."""
    ids = []
    for header, rows in tables(inventory()):
        if IDS_COLUMN in header:
            column = header.index(IDS_COLUMN)
            for row in rows:
                assert len(row) == len(header), row
                ids += BACKTICKED.findall(row[column])
    return ids


def test_every_quote_of_the_inventory_is_in_the_article() -> None:
    article = normalise_whitespace(
        default_case_file().with_name("mpnst-chen-2024.source.txt").read_text(encoding="utf-8")
    )
    quotes = QUOTE.findall(inventory())
    assert len(quotes) > 80
    missing = [quote for quote in quotes if normalise_whitespace(quote) not in article]
    assert missing == []


def test_every_fact_of_the_case_file_is_in_the_inventory() -> None:
    missing = case_ids() - set(named_ids())
    assert missing == set(), "facts of the case file missing from docs/fact-inventory.md"


def test_the_inventory_names_only_facts_and_resources_of_the_record() -> None:
    known = case_ids() | record_keys()
    unknown = set(named_ids()) - known
    assert unknown == set(), "ids in docs/fact-inventory.md that the case file does not have"


def test_every_row_of_the_fact_tables_has_a_quote() -> None:
    for header, rows in tables(section("A. The article's patient-specific facts")):
        quote_column = header.index("Quote")
        for row in rows:
            assert QUOTE.search(row[quote_column]), row[0]


def test_the_counts_are_the_rows() -> None:
    facts, not_encoded = (rows for _, rows in tables(section("A. The article")))
    inferred = next(rows for _, rows in tables(section("B. Values the record holds")))
    flags = next(rows for _, rows in tables(section("C. Doubts in the source")))
    counts = section("Counts")
    assert (
        f"Patient-specific facts: {len(facts) + len(not_encoded)} ({len(facts)} in section A, "
        f"{len(not_encoded)} in the table of facts not encoded)" in normalise_whitespace(counts)
    )
    assert f"does not state: {len(inferred)} (section B)" in normalise_whitespace(counts)
    assert f"Flags: {len(flags)}" in counts
    flag_ids = {i for i in case_ids() if i.startswith("flag-")}
    assert {i for row in flags for i in BACKTICKED.findall(row[-1])} == flag_ids
