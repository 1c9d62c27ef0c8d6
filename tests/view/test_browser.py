"""The case page in real headless Chromium: no console error, no request, the items in the DOM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fhir_case.fileio import write_atomic
from fhir_case.view import render_case_view

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


def open_page(context: Any, html_file: Path) -> tuple[Any, list[str], list[str]]:
    """The loaded page, its console and page errors, and every request beyond the page itself."""
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = html_file.resolve().as_uri()
    page.on("request", lambda r: requests.append(r.url) if r.url != url else None)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)
    return page, errors, requests


def page_items(page: Any) -> dict[str, Any]:
    """What the page shows, read from the DOM: also used to compare two renderings."""
    return {
        "patient": page.inner_text("#patient"),
        "source": page.inner_text("#source"),
        "problems": page.eval_on_selector_all(
            "tr.problem", "rows => rows.map(r => [r.className, r.innerText])"
        ),
        "lanes": page.eval_on_selector_all(
            "svg.timeline g.lane",
            "gs => gs.map(g => [g.dataset.lane, g.querySelectorAll('rect.cycle').length,"
            " g.querySelectorAll('circle, polygon').length])",
        ),
        "undated": page.eval_on_selector_all(".undated li", "items => items.map(i => i.innerText)"),
        "medications": page.eval_on_selector_all(
            "table.medications tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "measurements": page.eval_on_selector_all(
            "table.measurements tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "assessments": page.eval_on_selector_all(
            "table.assessments tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "plan": page.eval_on_selector_all(
            "table.plan tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "flags": page.eval_on_selector_all("ol.flags li", "items => items.map(i => i.innerText)"),
        "flag_marks": page.locator("a.flag").count(),
    }


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def expected(bundle: dict[str, Any]) -> dict[str, Any]:
    """What the page must show, read straight from the bundle's JSON."""
    cisplatin = next(
        r
        for r in resources(bundle, "MedicationRequest")
        if "cisplatin" in str(r["medicationCodeableConcept"])
    )
    age = next(
        r["valueQuantity"]["value"]
        for r in resources(bundle, "Observation")
        if r["code"]["coding"][0]["code"] == "30525-0"
    )
    doi = next(
        e["what"]["identifier"]["value"]
        for p in resources(bundle, "Provenance")
        for e in p["entity"]
        if "identifier" in e["what"]
    )
    return {
        "gender": resources(bundle, "Patient")[0]["gender"],
        "age": f"{age} years",
        "doi": doi,
        "conditions": len(resources(bundle, "Condition")),
        "refuted": sum(
            r.get("verificationStatus", {}).get("coding", [{}])[0].get("code") == "refuted"
            for r in resources(bundle, "Condition")
        ),
        "medications": len(resources(bundle, "MedicationRequest")),
        "plan": len(resources(bundle, "ServiceRequest")) + len(resources(bundle, "CarePlan")),
        # cycles are drawn only where the data dates them (a count and a stated bound)
        "chemotherapy_cycles": cisplatin["dosageInstruction"][0]["timing"]["repeat"].get(
            "count", 0
        ),
        "dated_lanes": {
            drug: "start" in repeat.get("boundsPeriod", {})
            for drug in ("anlotinib", "denosumab")
            for repeat in [medication_repeat(bundle, drug)]
        },
        "issues": [r["detail"] for r in resources(bundle, "DetectedIssue")],
    }


def medication_repeat(bundle: dict[str, Any], drug: str) -> dict[str, Any]:
    (request,) = [
        r
        for r in resources(bundle, "MedicationRequest")
        if r["medicationCodeableConcept"]["text"].startswith(drug)
    ]
    repeat: dict[str, Any] = request["dosageInstruction"][0]["timing"]["repeat"]
    return repeat


@pytest.mark.parametrize("bundle_name", ["oncology_bundle", "case_bundle"])
def test_the_case_view_in_headless_chromium(
    browser_context: Any, bundle_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    bundle: dict[str, Any] = request.getfixturevalue(bundle_name)
    want = expected(bundle)
    html_file = tmp_path / "case.html"
    write_atomic(html_file, render_case_view(bundle).encode("utf-8"))
    page, errors, requests = open_page(browser_context, html_file)
    try:
        assert errors == []
        assert requests == []
        items = page_items(page)
        assert want["gender"] in items["patient"] and want["age"] in items["patient"]
        assert len(items["plan"]) == want["plan"]
        assert f"doi:{want['doi']}" in items["source"]
        assert len(items["problems"]) == want["conditions"]
        refuted = [text for css, text in items["problems"] if "refuted" in css.split()]
        assert len(refuted) == want["refuted"] > 0
        assert all("Refuted" in text for text in refuted)
        lanes = {lane: cycles for lane, cycles, _ in items["lanes"]}
        cisplatin_lanes = [n for lane, n in lanes.items() if "cisplatin" in lane]
        if want["chemotherapy_cycles"]:
            assert cisplatin_lanes == [want["chemotherapy_cycles"]]
        else:
            assert sum(cisplatin_lanes) == 0  # cycles the data does not date are not drawn
        assert [lane for lane in lanes if "doxorubicin" in lane] == [
            lane for lane in lanes if "cisplatin" in lane
        ]  # one combined regimen lane
        assert lanes["Disease status"] == 0
        for drug, dated in want["dated_lanes"].items():
            assert (lanes.get(drug, 0) > 1) == dated, drug
        assert page.locator("svg.timeline rect.cycle").count() == sum(lanes.values())
        assert page.locator("svg.timeline g[data-lane='Disease status'] polygon").count() >= 1
        assert len(items["medications"]) == want["medications"]
        assert any("Stable disease" in row for row in items["assessments"])
        flags_text = "\n".join(items["flags"])
        assert all(detail in flags_text for detail in want["issues"])
        assert items["flag_marks"] >= len(want["issues"])
        # The layout comes from inline CSS and SVG alone: the timeline has its full size.
        box = page.locator("svg.timeline").bounding_box()
        assert box is not None and box["width"] > 900 and box["height"] > 150
        ARTIFACTS.mkdir(exist_ok=True)
        name = "case-view.png" if bundle_name == "case_bundle" else "case-view-fixture.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    finally:
        page.close()
