"""The case page in real headless Chromium: no console error, no request, the items in the DOM."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fhir_case.fileio import write_atomic
from fhir_case.view import render_case_view
from fhir_case.view.case import Origin
from tests.derived import with_derived_dates
from tests.plain_words import findings
from tests.view.conftest import CHROMIUM, CHROMIUM_FLAGS

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
            "table.medications tbody tr:not(.notes-row)", "rows => rows.map(r => r.innerText)"
        ),
        "measurements": page.eval_on_selector_all(
            "table.measurements tbody tr:not(.notes-row)", "rows => rows.map(r => r.innerText)"
        ),
        "assessments": page.eval_on_selector_all(
            "table.assessments tbody tr:not(.notes-row)", "rows => rows.map(r => r.innerText)"
        ),
        "plan": page.eval_on_selector_all(
            "table.plan tbody tr:not(.notes-row)", "rows => rows.map(r => r.innerText)"
        ),
        "flags": page.eval_on_selector_all("ol.flags li", "items => items.map(i => i.innerText)"),
        "flag_marks": page.locator("a.flag").count(),
        "findings": page.eval_on_selector_all(
            "table.findings tbody tr:not(.notes-row)", "rows => rows.map(r => r.innerText)"
        ),
        "timeline_labels": page.eval_on_selector_all(
            "svg.timeline g.lane text", "texts => texts.map(t => t.textContent)"
        ),
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


# The layout as a reader meets it: what overflows or collides, and the smallest timeline text.
LAYOUT = """() => {
  const problems = [];
  const overlap = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5
    && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  for (const cell of document.querySelectorAll('th, td, header dd, header dt, header h1')) {
    if (cell.scrollWidth > cell.clientWidth + 1) problems.push('overflows: ' + cell.innerText);
  }
  for (const th of document.querySelectorAll('th')) {
    const range = document.createRange();
    range.selectNodeContents(th);
    const text = range.getBoundingClientRect(), box = th.getBoundingClientRect();
    if (text.left < box.left - 0.5 || text.right > box.right + 0.5) {
      problems.push('heading out of its cell: ' + th.innerText);
    }
  }
  const header = [...document.querySelectorAll(
    'header .kicker, header h1, header dl > div, header p.source')];
  for (let i = 0; i < header.length; i++) {
    for (let j = i + 1; j < header.length; j++) {
      if (overlap(header[i].getBoundingClientRect(), header[j].getBoundingClientRect())) {
        problems.push('header collision: ' + header[i].innerText + ' / ' + header[j].innerText);
      }
    }
  }
  const svg = document.querySelector('svg.timeline');
  const labels = [...svg.querySelectorAll('g.lane text')];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      if (overlap(labels[i].getBoundingClientRect(), labels[j].getBoundingClientRect())) {
        problems.push('timeline labels overlap: ' + labels[i].textContent + ' / '
          + labels[j].textContent);
      }
    }
  }
  const frame = svg.getBoundingClientRect();
  for (const text of svg.querySelectorAll('text')) {
    const box = text.getBoundingClientRect();
    if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
      problems.push('clipped: ' + text.textContent);
    }
  }
  const sizes = [...svg.querySelectorAll('text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  return {
    problems,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    smallestTimelineText: Math.min(...sizes),
  };
}"""


def render_case_page(bundle: dict[str, Any], tmp_path: Path) -> Path:
    html_file = tmp_path / "case.html"
    origin = Origin("mpnst-chen-2024.collection.json")
    write_atomic(html_file, render_case_view(bundle, origin).encode("utf-8"))
    return html_file


@contextmanager
def case_page(context: Any, bundle: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """The case page open in Chromium, checked to load with no error and no request."""
    page, errors, requests = open_page(context, render_case_page(bundle, tmp_path))
    try:
        assert errors == [] and requests == []
        yield page
    finally:
        page.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_the_page_reads_well_at_1400_and_800_px(
    browser_context: Any, case_bundle: dict[str, Any], tmp_path: Path, width: int
) -> None:
    """No heading, header fact or timeline label collides; nothing overflows; the timeline
    text stays at least 10 px; a full-page screenshot is kept to look at."""
    with case_page(browser_context, case_bundle, tmp_path) as page:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        layout = page.evaluate(LAYOUT)
        assert layout["problems"] == []
        assert layout["overflow"] <= 0
        assert layout["smallestTimelineText"] >= 10
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"case-view-{width}.png"), full_page=True)


def test_in_the_browser_no_derived_date_is_unmarked_and_every_order_is_shown(
    browser_context: Any, case_bundle: dict[str, Any], tmp_path: Path
) -> None:
    with case_page(browser_context, case_bundle, tmp_path) as page:
        for resource, dates in with_derived_dates(case_bundle):
            key = f"{resource['resourceType']}-{resource['id']}"
            row = page.locator(f"#r-{key}")
            if row.count():
                cell = row.locator("span.date").first
                assert "derived" in (cell.get_attribute("class") or "")
                assert cell.inner_text() == f"about {dates[0]}"
        hollow = page.eval_on_selector_all(
            "svg.timeline .event.derived", "marks => marks.map(m => m.textContent)"
        )
        assert hollow and all("about " in text for text in hollow)
        solid = page.eval_on_selector_all(
            "svg.timeline .event:not(.derived)", "marks => marks.map(m => m.textContent)"
        )
        assert solid and not [text for text in solid if "about " in text]
        for request in resources(case_bundle, "MedicationRequest"):
            on_timeline = page.locator(f"svg.timeline g[data-keys*='{request['id']}']").count()
            listed = page.locator(f"#undated-r-MedicationRequest-{request['id']}").count()
            assert (on_timeline > 0) != (listed > 0), request["id"]  # one or the other
            assert page.locator(f"#r-MedicationRequest-{request['id']}").is_visible()
        shown = page.inner_text("main")
        assert [f for line in shown.splitlines() for f in findings(line)] == []


def test_printed_everything_is_expanded_and_nothing_clipped(
    browser_context: Any, case_bundle: dict[str, Any], tmp_path: Path
) -> None:
    with case_page(browser_context, case_bundle, tmp_path) as page:
        quote = page.locator("details.quotes li").first
        assert not quote.is_visible()  # folded on screen
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 700, "height": 1000})  # about an A4 page's width
        page.wait_for_timeout(100)
        assert quote.is_visible()  # expanded in print
        assert page.locator("details.quotes li").count() == page.eval_on_selector_all(
            "details.quotes li", "items => items.filter(i => i.offsetHeight > 0).length"
        )
        layout = page.evaluate(LAYOUT)
        assert [p for p in layout["problems"] if p.startswith("clipped")] == []
        box = page.locator("svg.timeline").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 700


def test_chromium_prints_the_page_to_pdf_with_every_section(
    case_bundle: dict[str, Any], tmp_path: Path
) -> None:
    """Chromium's own --print-to-pdf (as a user would print), read back with pypdf."""
    from pypdf import PdfReader

    html_file = render_case_page(case_bundle, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "case-view.pdf"
    pdf.unlink(missing_ok=True)
    done = subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html_file.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0 and pdf.exists(), done.stderr[-2000:]
    reader = PdfReader(pdf)
    # NFKC undoes the typesetter's ligatures ("ﬂ" for "fl")
    printed = unicodedata.normalize(
        "NFKC", " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    )
    headings = re.findall(r"<h2>([^<]+)</h2>", html_file.read_text(encoding="utf-8"))
    assert len(headings) >= 6
    for heading in headings:
        assert heading in printed, heading
    for request in resources(case_bundle, "MedicationRequest"):
        name = request["medicationCodeableConcept"]["text"].split(" (")[0]
        assert name in printed, name
    captions = re.findall(r'<text [^>]*class="caption">([^<]+)</text>', html_file.read_text())
    assert captions and all(caption in printed for caption in captions)
    assert "source quote" in printed and "Rendered from the file" in printed
    assert 2 <= len(reader.pages) <= 20
    if shutil.which("pdftoppm"):  # page images, to look at (scripts/test installs poppler)
        for old in ARTIFACTS.glob("case-view-pdf-*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "case-view-pdf")],
            check=True,
            timeout=120,
        )
