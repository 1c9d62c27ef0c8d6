"""FHIR's narrative rules: what they accept and what they reject, and where."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.narrative import check_narrative

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


def test_every_official_example_narrative_passes(
    official_examples: list[tuple[str, dict[str, Any]]],
) -> None:
    checked = 0
    for name, resource in official_examples:
        div = resource.get("text", {}).get("div")
        if div is None:
            continue
        errors = [i for i in check_narrative(div) if i.is_error]
        assert errors == [], name
        checked += 1
    assert checked == 154


def test_a_minimal_narrative_is_valid() -> None:
    assert check_narrative(f"<div {NS}><p>Cisplatin <b>120 mg/m2</b></p></div>") == []


@pytest.mark.parametrize(
    ("div", "location", "message"),
    [
        ("<div>text</div>", "text.div", "must be a div in the XHTML namespace"),
        (f"<p {NS}>text</p>", "text.div", "must be a div in the XHTML namespace"),
        (f"<div {NS}><script>alert(1)</script></div>", "text.div/div/script[0]", "scripts"),
        (
            f"<div {NS}><iframe>x</iframe></div>",
            "text.div/div/iframe[0]",
            "<iframe> is not allowed",
        ),
        (f"<div {NS}><form>x</form></div>", "text.div/div/form[0]", "<form> is not allowed"),
        (
            f'<div {NS}><p onclick="x()">a</p></div>',
            "text.div/div/p[0]/@onclick",
            "event attribute",
        ),
        (f'<div {NS}><b data-x="1">a</b></div>', "text.div/div/b[0]/@data-x", "not allowed on <b>"),
        (
            f'<div {NS}><a href="javascript:x()">a</a></div>',
            "text.div/div/a[0]/@href",
            "script URL",
        ),
        (
            f'<div {NS}><span style="background:url(x.png)">a</span></div>',
            "text.div/div/span[0]/@style",
            "must not load",
        ),
        (
            f"<div {NS}><p>a<table><tr><td>b</td></tr></table></p></div>",
            "text.div/div/p[0]/table[0]",
            "inside a paragraph",
        ),
        (f"<div {NS}><li>a</li></div>", "text.div/div/li[0]", "must be inside <ol> or <ul>"),
        (f"<div {NS}>   </div>", "text.div", "no content (txt-2)"),
        (f"<div {NS}>a &nbsp; b</div>", "text.div", "not well-formed XML"),
        (f"<div {NS}><p>a</div>", "text.div", "not well-formed XML"),
        (
            f"<div {NS}><?xml-stylesheet href='x'?>a</div>",
            "text.div/div/?[0]",
            "processing instruction",
        ),
        (
            f'<div {NS}><svg xmlns="http://www.w3.org/2000/svg"/>a</div>',
            "text.div/div/svg[0]",
            "not in the XHTML namespace",
        ),
        (f"<!DOCTYPE html><div {NS}>a</div>", "text.div", "DOCTYPE"),
        (42, "text.div", "not a string"),
    ],
)
def test_each_breach_is_an_error_at_its_location(div: object, location: str, message: str) -> None:
    issues = check_narrative(div)
    assert any(
        i.is_error and i.location == location and message in i.message and i.layer == "narrative"
        for i in issues
    ), issues


def test_an_external_link_is_a_warning_not_an_error() -> None:
    issues = check_narrative(
        f'<div {NS}><a href="https://example.org/x">x</a><img src="#local" alt="y"/></div>'
    )
    assert [(i.severity, i.location) for i in issues] == [("warning", "text.div/div/a[0]/@href")]
    assert "external reference" in issues[0].message


def test_the_location_prefix_is_the_callers() -> None:
    issues = check_narrative("<div>x</div>", "Bundle.entry[3].resource.text.div")
    assert issues[0].location == "Bundle.entry[3].resource.text.div"
