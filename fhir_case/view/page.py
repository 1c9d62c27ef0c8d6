"""One self-contained HTML page for a Bundle: inline CSS and SVG, no script, no network.

A Content-Security-Policy in the page forbids every fetch, so even a browser that tried could
load nothing. Every text comes from the resources and is escaped by the builder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

from fhir_case.narrative.xhtml import Markup, el
from fhir_case.view.case import CaseView, Problem, read_case
from fhir_case.view.index import ResourceIndex
from fhir_case.view.timeline import render_timeline, treatment_lanes

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
GROUP_TITLES = {
    "primary": "Primary cancer",
    "metastasis": "Metastases",
    "other": "Other conditions",
}


def render_case_view(bundle: object) -> str:
    """The case view of a Bundle (any type) as a complete HTML document."""
    case = read_case(ResourceIndex.from_bundle(bundle))
    title = _primary_name(case) or "Case view"
    head = el(
        "head",
        el("meta", attrs=[("charset", "utf-8")]),
        el("meta", attrs=[("http-equiv", "Content-Security-Policy"), ("content", CSP)]),
        el(
            "meta", attrs=[("name", "viewport"), ("content", "width=device-width, initial-scale=1")]
        ),
        el("title", f"{title} — FHIR case view"),
        el("style", Markup(_stylesheet())),
    )
    body = el(
        "body",
        _header(case, title),
        el(
            "main",
            _problems(case),
            _timeline(case),
            _tumor(case),
            _medications(case),
            _plan(case),
            _flags(case),
        ),
        _footer(case),
    )
    return "<!DOCTYPE html>\n" + el("html", head, body, attrs=[("lang", "en")]) + "\n"


@cache
def _stylesheet() -> str:
    return resources.files("fhir_case.view").joinpath("case.css").read_text(encoding="utf-8")


def anchor(key: str) -> str:
    return "r-" + key.replace("/", "-")


def _primary_name(case: CaseView) -> str:
    primary = [p for p in case.problems if p.group == "primary" and not p.refuted]
    return primary[0].name if primary else ""


def _flag_marks(case: CaseView, key: str) -> list[Markup]:
    return [
        el(
            "a",
            f"⚠ data quality #{case.flags.index(flag) + 1}",
            attrs=[
                ("class", "flag"),
                ("href", f"#flag-{case.flags.index(flag) + 1}"),
                ("title", f"{flag.title}: {flag.detail}"),
            ],
        )
        for flag in case.flags_for(key)
    ]


def _row_attrs(case: CaseView, key: str, css: str = "") -> list[tuple[str, object]]:
    classes = " ".join(c for c in (css, "flagged" if case.flags_for(key) else "") if c)
    return [("id", anchor(key)), ("class", classes or None)]


def _section(
    section_id: str, heading: str, *content: Markup | None, note: str | None = None
) -> Markup:
    return el(
        "section",
        el("h2", heading),
        el("p", note, attrs=[("class", "section-note")]) if note else None,
        *content,
        attrs=[("id", section_id)],
    )


def _table(headings: Sequence[str], rows: Iterable[Markup], css: str = "") -> Markup:
    return el(
        "table",
        el("thead", el("tr", (el("th", h, attrs=[("scope", "col")]) for h in headings))),
        el("tbody", list(rows)),
        attrs=[("class", css or None)],
    )


def _notes(notes: Sequence[str]) -> Markup | None:
    """The notes, folded under a count (a native ``details`` element: no script needed)."""
    if not notes:
        return None
    return el(
        "details",
        el("summary", f"{len(notes)} note{'s' if len(notes) != 1 else ''}"),
        el("ul", (el("li", n) for n in notes)),
        attrs=[("class", "notes")],
    )


def _header(case: CaseView, title: str) -> Markup:
    h = case.header
    facts = [
        ("Sex", h.sex),
        ("Age at presentation", h.age),
        ("Presented", h.presented or "not recorded"),
        ("Organization", h.organization or "not recorded"),
        ("Vital status", h.vital_status),
    ]
    source: list[Markup | str | None] = [el("span", "Source", attrs=[("class", "label")])]
    if h.citation or h.doi:
        source.append(el("cite", h.citation or "citation not recorded"))
        source.append(el("span", f"doi:{h.doi}", attrs=[("class", "doi")]) if h.doi else None)
    else:
        source.append(el("span", "no source citation in the record", attrs=[("class", "muted")]))
    return el(
        "header",
        el("p", "FHIR R4 case view", attrs=[("class", "kicker")]),
        el("h1", title),
        el(
            "dl",
            (el("div", el("dt", label), el("dd", value)) for label, value in facts),
            attrs=[("class", "patient"), ("id", "patient")],
        ),
        el("p", source, attrs=[("class", "source"), ("id", "source")]),
    )


def _problem_row(case: CaseView, problem: Problem) -> Markup:
    verification = el(
        "span",
        problem.verification,
        attrs=[("class", f"badge ver-{problem.verification.lower().replace(' ', '-')}")],
    )
    return el(
        "tr",
        el(
            "td",
            el("span", problem.name, attrs=[("class", "name")]),
            _flag_marks(case, problem.key),
        ),
        el("td", problem.site),
        el("td", verification),
        el("td", problem.clinical or "—"),
        el("td", problem.since or "—"),
        el("td", _notes(problem.notes)),
        attrs=_row_attrs(case, problem.key, "problem refuted" if problem.refuted else "problem"),
    )


def _problems(case: CaseView) -> Markup:
    if not case.problems:
        return _section("problems", "Problem list", el("p", "No Condition in the record."))
    parts: list[Markup] = []
    for group, heading in GROUP_TITLES.items():
        members = [p for p in case.problems if p.group == group]
        if members:
            parts.append(el("h3", heading))
            parts.append(
                _table(
                    ("Condition", "Body site", "Verification", "Clinical status", "Since", "Notes"),
                    (_problem_row(case, p) for p in members),
                    "problems",
                )
            )
    return _section("problems", "Problem list", *parts)


def _timeline(case: CaseView) -> Markup:
    svg = render_timeline(case)
    undated = sorted((e for e in case.events if e.date is None), key=lambda e: (e.lane, e.label))
    undated_list = (
        el(
            "div",
            el("h3", "Not on the timeline (no date in the record)"),
            el(
                "ul",
                (
                    el(
                        "li",
                        el("b", e.label),
                        f" ({e.lane.lower()}): {e.when}",
                        _flag_marks(case, e.key),
                    )
                    for e in undated
                ),
            ),
            attrs=[("class", "undated")],
        )
        if undated
        else None
    )
    legend = el(
        "p",
        el("span", attrs=[("class", "key key-event")]),
        " event  ",
        el("span", attrs=[("class", "key key-cycle")]),
        " treatment cycle (darker: dosing days)  ",
        el("span", attrs=[("class", "key key-status")]),
        " disease-status assessment  ",
        el("span", attrs=[("class", "key key-flag")]),
        " data-quality flag",
        attrs=[("class", "legend")],
    )
    lanes = treatment_lanes(case.medications)
    basis = el(
        "ul",
        (el("li", el("b", lane.label), ": ", lane.basis) for lane in lanes),
        attrs=[("class", "basis")],
    )
    return _section(
        "timeline",
        "Timeline",
        el("figure", svg, legend) if svg is not None else el("p", "No dated resource."),
        basis if lanes else None,
        undated_list,
        note="Cycle dates are computed from each MedicationRequest's dosage timing "
        "(period, count, duration, bounds); hover a mark for details.",
    )


def _tumor(case: CaseView) -> Markup:
    parts: list[Markup] = []
    if case.measurements:
        parts.append(el("h3", "Tumor sizes"))
        parts.append(
            _table(
                ("Lesion", "Date", "Longest dimension", "Dimensions", "Method", "Notes"),
                (
                    el(
                        "tr",
                        el("td", m.lesion, _flag_marks(case, m.key)),
                        el("td", m.when),
                        el("td", el("b", m.longest)),
                        el("td", m.dimensions or "—"),
                        el("td", m.method or "—"),
                        el("td", _notes(m.notes)),
                        attrs=_row_attrs(case, m.key),
                    )
                    for m in case.measurements
                ),
                "measurements",
            )
        )
    if case.assessments:
        parts.append(el("h3", "Disease status"))
        parts.append(
            _table(
                ("Date", "Status", "Condition", "Notes"),
                (
                    el(
                        "tr",
                        el("td", a.when),
                        el("td", el("b", a.status), _flag_marks(case, a.key)),
                        el("td", a.focus or "—"),
                        el("td", _notes(a.notes)),
                        attrs=_row_attrs(case, a.key, "assessment"),
                    )
                    for a in case.assessments
                ),
                "assessments",
            )
        )
    if case.findings:
        parts.append(el("h3", "Imaging findings"))
        parts.append(
            _table(
                ("Date", "Finding"),
                (
                    el(
                        "tr",
                        el("td", f.when),
                        el("td", f.label, _flag_marks(case, f.key)),
                        attrs=_row_attrs(case, f.key),
                    )
                    for f in case.findings
                ),
                "findings",
            )
        )
    if not parts:
        parts.append(el("p", "No tumor size or disease-status observation in the record."))
    return _section("tumor", "Tumor sizes and disease status", *parts)


def _medications(case: CaseView) -> Markup:
    if not case.medications:
        return _section("medications", "Medications", el("p", "No MedicationRequest."))
    rows = []
    for m in case.medications:
        cycles = m.schedule.cycles
        if m.schedule.ongoing and cycles:
            course = f"from {cycles[0].start.isoformat()}, ongoing"
        elif len(cycles) > 1:
            course = f"{len(cycles)} cycles, {cycles[0].start} → {cycles[-1].end}"
        else:
            course = m.schedule.basis
        rows.append(
            el(
                "tr",
                el("td", el("b", m.name), _flag_marks(case, m.key)),
                el("td", m.dose),
                el("td", m.route),
                el("td", m.timing),
                el("td", course),
                el("td", el("span", m.status, attrs=[("class", f"badge st-{m.status}")])),
                el("td", _notes(m.notes)),
                attrs=_row_attrs(case, m.key),
            )
        )
    return _section(
        "medications",
        "Medications",
        _table(
            ("Medication", "Dose", "Route", "Schedule", "Course (derived)", "Status", "Notes"),
            rows,
            "medications",
        ),
    )


def _links(case: CaseView, keys: Sequence[str]) -> list[Markup | str]:
    """Links to the items, separated by "; "."""
    links: list[Markup | str] = []
    for key in keys:
        if links:
            links.append("; ")
        links.append(el("a", _item_name(case, key), attrs=[("href", f"#{anchor(key)}")]))
    return links


def _plan(case: CaseView) -> Markup | None:
    if not case.plan:
        return None
    return _section(
        "plan",
        "Plan and follow-up",
        _table(
            ("Planned", "When", "Status", "Notes"),
            (
                el(
                    "tr",
                    el("td", el("b", item.what), _flag_marks(case, item.key)),
                    el("td", item.when),
                    el("td", el("span", item.status, attrs=[("class", f"badge st-{item.status}")])),
                    el("td", _notes(item.notes)),
                    attrs=_row_attrs(case, item.key),
                )
                for item in case.plan
            ),
            "plan",
        ),
    )


def _item_name(case: CaseView, key: str) -> str:
    """How the page names the item a resource is shown as."""
    names = {p.key: p.name for p in case.problems}
    names |= {m.key: m.name for m in case.medications}
    names |= {e.key: e.label for e in [*case.events, *case.findings]}
    names |= {m.key: f"{m.lesion} size ({m.when})" for m in case.measurements}
    names |= {p.key: p.what for p in case.plan}
    return names.get(key, key)


def _flags(case: CaseView) -> Markup:
    if not case.flags:
        return _section("flags", "Data-quality flags", el("p", "No data-quality flag."))
    items = [
        el(
            "li",
            el("b", flag.title),
            " — ",
            _links(case, flag.targets),
            el("br"),
            flag.detail,
            el("span", f" ({flag.origin})", attrs=[("class", "muted")]),
            attrs=[("id", f"flag-{number}")],
        )
        for number, flag in enumerate(case.flags, start=1)
    ]
    return _section(
        "flags",
        "Data-quality flags",
        el("ol", items, attrs=[("class", "flags")]),
        note="Values the source states but that are doubtful; kept as stated and marked ⚠ "
        "where they appear.",
    )


def _footer(case: CaseView) -> Markup:
    return el(
        "footer",
        f"Rendered by fhir-case from a FHIR R4 Bundle of type {case.bundle_type or 'unknown'} "
        f"with {case.resource_count} resources. Everything shown is read from the resources; "
        "the page loads nothing from the network and needs no script.",
    )
