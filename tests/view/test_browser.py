"""The case page in real headless Chromium: no console error, no request, the items in the DOM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fhir_case.fileio import write_atomic
from fhir_case.view import render_case_view

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


def open_page(context: Any, html_file: Path) -> tuple[Any, list[str], list[str]]:
    """The loaded page, the console errors and page errors, and every request beyond the page."""
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
    """What the page shows, read from the DOM: used to compare two renderings."""
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
        "medications": page.eval_on_selector_all(
            "table.medications tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "measurements": page.eval_on_selector_all(
            "table.measurements tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "assessments": page.eval_on_selector_all(
            "table.assessments tbody tr", "rows => rows.map(r => r.innerText)"
        ),
        "flags": page.eval_on_selector_all("ol.flags li", "items => items.map(i => i.innerText)"),
        "flag_marks": page.locator("a.flag").count(),
    }


def chemotherapy_cycles(bundle: dict[str, Any]) -> int:
    """The cycle count the data states for the cisplatin request (count or repeats)."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationRequest" and "cisplatin" in str(
            resource.get("medicationCodeableConcept")
        ):
            repeat = resource["dosageInstruction"][0]["timing"]["repeat"]
            return int(repeat["count"])
    raise AssertionError("no cisplatin MedicationRequest in the bundle")


def test_the_case_view_in_headless_chromium(
    browser_context: Any, oncology_bundle: dict[str, Any], tmp_path: Path
) -> None:
    html_file = tmp_path / "case.html"
    write_atomic(html_file, render_case_view(oncology_bundle).encode("utf-8"))
    page, errors, requests = open_page(browser_context, html_file)
    try:
        assert errors == []
        assert requests == []
        items = page_items(page)
        assert "female" in items["patient"] and "68 years" in items["patient"]
        assert "doi:10.3389/fonc.2024.1399021" in items["source"]
        refuted = [text for css, text in items["problems"] if "refuted" in css]
        assert len(refuted) == 1 and "Lung metastasis" in refuted[0] and "Refuted" in refuted[0]
        assert any("T4 vertebra" in text and "Provisional" in text for _, text in items["problems"])
        lanes = {lane: cycles for lane, cycles, _ in items["lanes"]}
        chemo = [cycles for lane, cycles in lanes.items() if "cisplatin" in lane]
        assert chemo == [chemotherapy_cycles(oncology_bundle)]
        assert lanes["anlotinib"] >= 1 and lanes["denosumab"] >= 1
        assert page.locator("svg.timeline rect.cycle").count() == sum(lanes.values())
        assert len(items["medications"]) == 5
        assert any("Stable disease" in row for row in items["assessments"])
        assert len(items["flags"]) == 5 and items["flag_marks"] == 5
        assert page.locator("tr.flagged").count() == 4
        # The layout comes from inline CSS and SVG alone: the timeline has its full size.
        box = page.locator("svg.timeline").bounding_box()
        assert box is not None and box["width"] > 900 and box["height"] > 150
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "case-view-fixture.png"), full_page=True)
    finally:
        page.close()
