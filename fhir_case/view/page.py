"""One self-contained HTML page for a Bundle: inline CSS and SVG, no script, no network.

A Content-Security-Policy in the page forbids every fetch, so even a browser that tried could
load nothing. Every text comes from the resources and is escaped by the builder. The header
says whose record it is and where it came from, the footer how the page was made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache
from importlib import resources

from fhir_case.narrative.dating import Dating
from fhir_case.narrative.xhtml import Markup, el, join
from fhir_case.view.case import (
    FINDING_GROUPS,
    CaseView,
    Medication,
    Notes,
    Origin,
    Problem,
    read_case,
)
from fhir_case.view.index import ResourceIndex
from fhir_case.view.timeline import COMPUTED, drawn_courses, render_timeline, treatment_lanes

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
GROUP_TITLES = {
    "primary": "Primary cancer",
    "metastasis": "Metastases",
    "other": "Other conditions",
}
# The legend's entries, in order: (mark kind, CSS class of the swatch, words).
LEGEND = (
    ("event", "key-event", "dated event"),
    ("derived", "key-derived", "derived date (about)"),
    ("status", "key-status", "disease-status assessment"),
    ("computed", "key-computed", "computed cycle (hatched: dosing days)"),
    ("course", "key-course", "treatment plan"),
    ("faded", "key-faded", "start or end not stated"),
    ("ongoing", "key-ongoing", "open-ended course (active)"),
    ("end-unknown", "key-end-unknown", "end not stated"),
    ("flag", "key-flag", "data-quality flag"),
)


def render_case_view(bundle: object, origin: Origin | None = None) -> str:
    """The case view of a Bundle (any type) as a complete HTML document; ``origin`` says where
    the Bundle came from (a file, a server), for the header and the footer."""
    index = ResourceIndex.from_bundle(bundle)
    case = read_case(index)
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
        _header(case, title, origin),
        el(
            "main",
            _problems(case),
            _timeline(case),
            _findings(case),
            _tumor(case),
            _medications(case),
            _plan(case),
            _flags(case),
        ),
        _footer(case, origin, index.identifier),
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
            f"⚠ data quality #{case.flag_number(flag)}",
            attrs=[
                ("class", "flag"),
                ("href", f"#flag-{case.flag_number(flag)}"),
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


def _notes(notes: Notes) -> Markup | None:
    """Clinical notes in full; the source quotations folded under their count (a native
    ``details`` element, opened for print by the style sheet)."""
    if not notes:
        return None
    quotes = (
        el(
            "details",
            el(
                "summary", f"{len(notes.quotes)} source quote{'s' if len(notes.quotes) > 1 else ''}"
            ),
            el("ul", (el("li", quote) for quote in notes.quotes)),
            attrs=[("class", "quotes")],
        )
        if notes.quotes
        else None
    )
    clinical = (
        el("ul", (el("li", n) for n in notes.clinical), attrs=[("class", "notes")])
        if notes.clinical
        else None
    )
    return join([clinical, quotes])


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|days? \d+–\d+")


def _dates_kept_whole(text: str) -> Markup:
    """Text whose ISO dates do not break at their hyphens."""
    parts: list[Markup | str] = []
    last = 0
    for match in _ISO_DATE.finditer(text):
        parts += [text[last : match.start()], el("span", match[0], attrs=[("class", "date")])]
        last = match.end()
    return join([*parts, text[last:]])


def _when(when: Dating) -> Markup:
    """A date as the record knows it: derived dates marked, missing ones said so."""
    if when.certainty == "derived":
        return el(
            "span",
            when.words,
            attrs=[
                ("class", "date derived"),
                ("title", f"derived: {when.how}" if when.how else None),
            ],
        )
    if when.certainty == "absent":
        return el("span", _dates_kept_whole(when.words), attrs=[("class", "date absent")])
    return el("span", when.words, attrs=[("class", "date")])


def _header(case: CaseView, title: str, origin: Origin | None) -> Markup:
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
    if origin is None:
        where = ""
    else:
        where = f" on {origin.source}" if origin.from_server else f" in {origin.source}"
    record = [
        (
            "Patient on the source",
            [
                el("span", h.patient_key or "no Patient in the record", attrs=[("class", "id")]),
                where,
            ],
        ),
        (
            "Record identifier",
            [el("span", "; ".join(h.identifiers), attrs=[("class", "id")])]
            if h.identifiers
            else ["none in the record"],
        ),
    ]
    return el(
        "header",
        el("p", "FHIR R4 case view", attrs=[("class", "kicker")]),
        el("h1", title),
        el(
            "dl",
            (el("div", el("dt", label), el("dd", value)) for label, value in facts),
            attrs=[("class", "patient"), ("id", "patient")],
        ),
        el(
            "dl",
            (el("div", el("dt", label), el("dd", value)) for label, value in record),
            attrs=[("class", "record"), ("id", "record")],
        ),
        el("p", source, attrs=[("class", "source"), ("id", "source")]),
    )


def _rows(cells: Sequence[Markup], notes: Notes, attrs: list[tuple[str, object]]) -> list[Markup]:
    """An item's row, then (when it has notes) a row under it with the notes in full width."""
    if not notes:
        return [el("tr", cells, attrs=attrs)]
    classes = " ".join(str(v) for k, v in attrs if k == "class" and v)
    main = [(k, v) for k, v in attrs if k != "class"] + [("class", f"{classes} has-notes".strip())]
    below = el(
        "tr",
        el(
            "td",
            el("div", _notes(notes), attrs=[("class", "item-notes")]),
            attrs=[("colspan", len(cells))],
        ),
        attrs=[("class", "notes-row flagged" if "flagged" in classes.split() else "notes-row")],
    )
    return [el("tr", cells, attrs=main), below]


def _problem_rows(case: CaseView, problem: Problem) -> list[Markup]:
    verification = el(
        "span",
        problem.verification,
        attrs=[("class", f"badge ver-{problem.verification.lower().replace(' ', '-')}")],
    )
    since = _when(problem.since) if problem.since.words != "date not recorded" else "—"
    return _rows(
        [
            el(
                "td",
                el("span", problem.name, attrs=[("class", "name")]),
                _flag_marks(case, problem.key),
            ),
            el("td", problem.site),
            el("td", verification),
            el("td", problem.clinical or "—"),
            el("td", since),
        ],
        problem.notes,
        _row_attrs(case, problem.key, "problem refuted" if problem.refuted else "problem"),
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
                    ("Condition", "Body site", "Diagnosis", "Clinical status", "Since"),
                    (row for p in members for row in _problem_rows(case, p)),
                    "problems",
                )
            )
    return _section("problems", "Problem list", *parts)


def _not_on_timeline(case: CaseView) -> list[Markup]:
    """Every item the timeline cannot place, with the reason."""
    items: list[tuple[str, Markup]] = []
    for event in case.events:
        if event.date is None:
            items.append(
                (
                    event.lane,
                    el(
                        "li",
                        el("b", event.label),
                        f" ({event.lane[:1].lower()}{event.lane[1:]}): ",
                        _when(event.when),
                        _flag_marks(case, event.key),
                        attrs=[("id", f"undated-{anchor(event.key)}")],
                    ),
                )
            )
    in_plans = {key for course in drawn_courses(case) for key in course.members}
    for medication in case.medications:
        if not medication.schedule.cycles and medication.key not in in_plans:
            items.append(
                (
                    "Medication",
                    el(
                        "li",
                        el("b", medication.name),
                        _dates_kept_whole(
                            f" (medication, {medication.dose} {medication.timing}): "
                            f"{medication.schedule.basis}"
                        ),
                        _flag_marks(case, medication.key),
                        attrs=[("id", f"undated-{anchor(medication.key)}")],
                    ),
                )
            )
    return [item for _, item in items]


def _legend(marks: set[str]) -> Markup:
    entries: list[Markup | str] = []
    for kind, css, words in LEGEND:
        if kind in marks:
            entries.append(
                el(
                    "span",
                    el("span", attrs=[("class", f"key {css}")]),
                    words,
                    attrs=[("class", "entry")],
                )
            )
    return el("p", entries, attrs=[("class", "legend")])


def _timeline(case: CaseView) -> Markup:
    drawn = render_timeline(case)
    undated = _not_on_timeline(case)
    undated_list = (
        el(
            "div",
            el("h3", "Not on the timeline (no date in the record)"),
            el("ul", undated),
            attrs=[("class", "undated")],
        )
        if undated
        else None
    )
    lanes = treatment_lanes(case.medications)
    basis = el(
        "ul",
        (
            el("li", el("b", lane.label), f": {COMPUTED.split(';')[0]}, {lane.basis}")
            for lane in lanes
        ),
        attrs=[("class", "basis")],
    )
    return _section(
        "timeline",
        "Timeline",
        el("figure", drawn.svg, _legend(drawn.marks))
        if drawn is not None
        else el("p", "No dated resource."),
        basis if lanes else None,
        undated_list,
        note=_timeline_note(drawn.marks if drawn is not None else set()),
    )


def _timeline_note(marks: set[str]) -> str:
    """What the reader needs to know to read the marks the timeline shows."""
    notes = []
    if "computed" in marks:
        notes.append(
            "Treatment cycles are computed from each medication order's schedule (period, count, "
            "duration, bounds): the record gives no cycle dates."
        )
    if "course" in marks:
        notes.append(
            "Treatment plans span their periods as the record gives them; a faded start or end is "
            "one the record does not state."
        )
    if "derived" in marks:
        notes.append(
            "A hollow mark, and the word about before a date, mean a date derived from another one."
        )
    notes.append("Hover a mark for details.")
    return " ".join(notes)


def _tumor(case: CaseView) -> Markup:
    parts: list[Markup] = []
    if case.measurements:
        parts.append(el("h3", "Tumor sizes"))
        methods = sorted({m.method_kind for m in case.measurements})
        if len(methods) > 1:
            parts.append(
                el(
                    "p",
                    f"Measured by {', '.join(methods)}: sizes by different methods are not "
                    "comparable and are not drawn as one series.",
                    attrs=[("class", "section-note")],
                )
            )
        parts.append(
            _table(
                ("Lesion", "Date", "Method", "Size", "Longest"),
                (
                    row
                    for m in case.measurements
                    for row in _rows(
                        [
                            el("td", m.lesion, _flag_marks(case, m.key)),
                            el("td", _when(m.when)),
                            el(
                                "td", el("span", m.method_kind, attrs=[("title", m.method or None)])
                            ),
                            el("td", el("b", m.dimensions), attrs=[("class", "size")]),
                            el("td", m.longest),
                        ],
                        m.notes,
                        _row_attrs(case, m.key),
                    )
                ),
                "measurements",
            )
        )
    if case.assessments:
        parts.append(el("h3", "Disease status"))
        parts.append(
            _table(
                ("Date", "Status", "Condition"),
                (
                    row
                    for a in case.assessments
                    for row in _rows(
                        [
                            el("td", _when(a.when)),
                            el("td", el("b", a.status), _flag_marks(case, a.key)),
                            el("td", a.focus or "—"),
                        ],
                        a.notes,
                        _row_attrs(case, a.key, "assessment"),
                    )
                ),
                "assessments",
            )
        )
    if not parts:
        parts.append(el("p", "No tumor size or disease-status observation in the record."))
    return _section("tumor", "Tumor sizes and disease status", *parts)


def _findings(case: CaseView) -> Markup | None:
    """The other observations, by group (examination, imaging, pathology, other)."""
    if not case.findings:
        return None
    parts: list[Markup] = []
    for group in FINDING_GROUPS:
        members = [f for f in case.findings if f.lane == group[1]]
        if not members:
            continue
        parts.append(el("h3", group[1]))
        # a note every finding of the group carries is said once, above them
        shared = [
            n for n in members[0].notes.clinical if all(n in m.notes.clinical for m in members)
        ]
        if len(members) > 1 and shared:
            parts.append(
                el("ul", (el("li", f"All: {n}") for n in shared), attrs=[("class", "notes shared")])
            )
            members = [
                replace(
                    m,
                    notes=replace(
                        m.notes, clinical=tuple(n for n in m.notes.clinical if n not in shared)
                    ),
                )
                for m in members
            ]
        parts.append(
            _table(
                ("Date", "Finding"),
                (
                    row
                    for f in members
                    for row in _rows(
                        [el("td", _when(f.when)), el("td", f.label, _flag_marks(case, f.key))],
                        f.notes,
                        _row_attrs(case, f.key),
                    )
                ),
                "findings",
            )
        )
    return _section("findings", "Findings", *parts)


def _course(case: CaseView, medication: Medication) -> Markup:
    """Where the order is on the timeline: its computed cycles, the plans that hold it (with
    the plan's period, said to be the plan's and not the drug's own), or why it is not there.
    A plan's title is the record's label, set apart from the article's quoted words."""
    cycles = medication.schedule.cycles
    if medication.schedule.ongoing and cycles:
        return _dates_kept_whole(f"from {cycles[0].start.isoformat()}, open-ended (computed)")
    if len(cycles) > 1:
        return _dates_kept_whole(
            f"{len(cycles)} cycles, {cycles[0].start} to {cycles[-1].end} (computed)"
        )
    plans = [c for c in drawn_courses(case) if medication.key in c.members]
    if plans:
        return join(
            part
            for index, c in enumerate(plans)
            for part in (
                "; " if index else None,
                "part of the plan ",
                el("span", c.title, attrs=[("class", "record-label")]),
                " (the plan's period, not this drug's own: ",
                _dates_kept_whole(c.when.words),
                ")",
            )
        )
    return _dates_kept_whole(f"not on the timeline: {medication.schedule.basis}")


def _medications(case: CaseView) -> Markup:
    if not case.medications:
        return _section("medications", "Medications", el("p", "No MedicationRequest."))
    rows = [
        row
        for m in case.medications
        for row in _rows(
            [
                el("td", el("b", m.name), _flag_marks(case, m.key)),
                el("td", m.dose),
                el("td", m.route),
                el("td", _dates_kept_whole(m.timing)),
                el("td", _course(case, m)),
                el("td", el("span", m.status, attrs=[("class", f"badge st-{m.status}")])),
            ],
            m.notes,
            _row_attrs(case, m.key),
        )
    ]
    return _section(
        "medications",
        "Medications",
        _table(
            ("Medication", "Dose", "Route", "Schedule", "Course", "Status"),
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
        links.append(el("a", case.name_of(key), attrs=[("href", f"#{anchor(key)}")]))
    return links


def _plan(case: CaseView) -> Markup | None:
    if not case.plan:
        return None
    return _section(
        "plan",
        "Plan and follow-up",
        _table(
            ("Planned", "When", "Status"),
            (
                row
                for item in case.plan
                for row in _rows(
                    [
                        el("td", el("b", item.what), _flag_marks(case, item.key)),
                        el("td", item.when),
                        el(
                            "td",
                            el("span", item.status, attrs=[("class", f"badge st-{item.status}")]),
                        ),
                    ],
                    item.notes,
                    _row_attrs(case, item.key),
                )
            ),
            "plan",
        ),
    )


def _flags(case: CaseView) -> Markup:
    if not case.flags:
        return _section("flags", "Data-quality flags", el("p", "No data-quality flag."))
    items = [
        el(
            "li",
            el("b", flag.title),
            f" ({flag.severity})" if flag.severity else None,
            " — ",
            _links(case, flag.targets),
            el("br"),
            flag.detail,
            attrs=[("id", f"flag-{case.flag_number(flag)}")],
        )
        for flag in case.flags
    ]
    return _section(
        "flags",
        "Data-quality flags",
        el("ol", items, attrs=[("class", "flags")]),
        note="Values the source states but that are doubtful; kept as stated and marked ⚠ "
        "where they appear.",
    )


def _footer(case: CaseView, origin: Origin | None, identifier: str) -> Markup:
    kind = case.bundle_type or "unknown"
    count = f"{case.resource_count} resource{'' if case.resource_count == 1 else 's'}"
    if origin is not None and origin.from_server:
        made = (
            f"Rendered from the FHIR server {origin.source}: {origin.fetched}, "
            f"read {origin.at} ({count})."
        )
    elif origin is not None:
        made = f"Rendered from the file {origin.source}: a FHIR R4 Bundle of type {kind} ({count})."
    else:
        made = f"Rendered from a FHIR R4 Bundle of type {kind} ({count})."
    return el(
        "footer",
        el("p", made, attrs=[("id", "origin")]),
        el("p", f"Bundle identifier: {identifier}.", attrs=[("id", "bundle-identifier")])
        if identifier
        else None,
        el(
            "p",
            "Everything shown is read from the FHIR resources; the page loads nothing from the "
            "network and needs no script. Rendered by fhir-case.",
        ),
    )
