"""The case timeline as inline SVG: one lane per kind of event and per treatment schedule.

Point events (presentation, biopsies, imaging, assessments) are dots or diamonds; each treatment
cycle is one ``rect.cycle`` (with its dosing days darker), so a six-cycle regimen draws six
rectangles. Requests with the same cycles (a combination regimen) share a lane. Every mark has a
``<title>`` with its full label and date, shown as a tooltip without any script.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from fhir_case.narrative.xhtml import Markup, el
from fhir_case.view.case import CaseView, Event, Medication
from fhir_case.view.schedule import Cycle

WIDTH = 1000
LABEL_WIDTH = 250
RIGHT_MARGIN = 72
TOP = 46
LANE_HEIGHT = 30
EVENT_LANES = ("Presentation", "Biopsies", "Imaging", "Procedures")
STATUS_LANE = "Disease status"
SIZE_LANE = "Tumor size"
# Lanes after the treatments, whose marks are labelled with what was found, not the date.
OUTCOME_LANES = (SIZE_LANE, STATUS_LANE)
CHAR_WIDTH = 6.2  # average width of an 11px sans-serif character, for label collision checks


@dataclass(frozen=True)
class TreatmentLane:
    label: str
    cycles: tuple[Cycle, ...]
    ongoing: bool
    keys: tuple[str, ...]
    basis: str


def treatment_lanes(medications: Sequence[Medication]) -> list[TreatmentLane]:
    """One lane per distinct schedule; requests with identical cycles are combined."""
    lanes: dict[tuple[Cycle, ...], list[Medication]] = {}
    for medication in medications:
        if medication.schedule.cycles:
            lanes.setdefault(medication.schedule.cycles, []).append(medication)
    return [
        TreatmentLane(
            label=" + ".join(m.name.split(" (")[0] for m in group),
            cycles=cycles,
            ongoing=any(m.schedule.ongoing for m in group),
            keys=tuple(m.key for m in group),
            basis=group[0].schedule.basis,
        )
        for cycles, group in sorted(lanes.items(), key=lambda item: item[0][0].start)
    ]


class Scale:
    """Dates to x positions in the plot area, with ten days of margin on either side."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first = first - dt.timedelta(days=10)
        self.last = last + dt.timedelta(days=10)
        self.span = max((self.last - self.first).days, 1)

    def x(self, day: dt.date) -> float:
        plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN
        return round(LABEL_WIDTH + plot * (day - self.first).days / self.span, 1)


def _month_starts(scale: Scale) -> list[dt.date]:
    day = dt.date(scale.first.year, scale.first.month, 1)
    months = []
    while day <= scale.last:
        if day >= scale.first:
            months.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _axis(scale: Scale, bottom: int) -> list[Markup]:
    """A gridline and label per month, with the year above January and the first month."""
    marks: list[Markup] = []
    for month in _month_starts(scale):
        x = scale.x(month)
        year = (
            el("text", str(month.year), attrs=[("x", x + 3), ("y", TOP - 24), ("class", "year")])
            if month.month == 1 or not marks
            else None
        )
        marks.append(
            el(
                "g",
                el("line", attrs=[("x1", x), ("x2", x), ("y1", TOP - 8), ("y2", bottom)]),
                year,
                el("text", month.strftime("%b"), attrs=[("x", x + 3), ("y", TOP - 10)]),
                attrs=[("class", "tick")],
            )
        )
    return marks


def _lane_label(y: float, label: str, css: str) -> Markup:
    """The lane's name; a combination (``a + b``) is written on two lines."""
    limit = 38
    lines = [p.strip() for p in label.split(" + ")] if " + " in label else [label]
    if len(lines) > 2:
        lines = [lines[0], " + ".join(lines[1:])]
    lines = [line if len(line) <= limit else line[: limit - 1] + "…" for line in lines]
    if len(lines) == 2:
        lines[0] += " +"
    spans = [
        el("tspan", line, attrs=[("x", 8), ("y", round(y + 4 + (i - (len(lines) - 1) / 2) * 12))])
        for i, line in enumerate(lines)
    ]
    return el(
        "text",
        el("title", label),
        spans,
        attrs=[("class", f"lane-label {css}")],
    )


Dated = tuple[dt.date, Event]


def _point_lane(
    scale: Scale, y: float, lane: str, events: list[Event], flagged: set[str]
) -> Markup:
    dated = sorted(((e.date, e) for e in events if e.date is not None), key=lambda d: d[0])
    marks: list[Markup] = []
    for cluster in _clusters(scale, dated):
        marks.extend(_point_marks(scale, y, lane, cluster, flagged))
    return el("g", marks, attrs=[("class", "lane"), ("data-lane", lane)])


def _clusters(scale: Scale, dated: list[Dated]) -> list[list[Dated]]:
    """Runs of events too close to label one by one (within 70 px of the previous)."""
    clusters: list[list[Dated]] = []
    for day, event in dated:
        if clusters and scale.x(day) - scale.x(clusters[-1][-1][0]) < 70:
            clusters[-1].append((day, event))
        else:
            clusters.append([(day, event)])
    return clusters


def _point_marks(
    scale: Scale, y: float, lane: str, cluster: list[Dated], flagged: set[str]
) -> list[Markup]:
    """A dot (or a diamond for an assessment) per event, and one label for the cluster."""
    marks: list[Markup] = []
    for day, event in cluster:
        x = scale.x(day)
        tooltip = el("title", f"{event.label} — {event.when}")
        css = "event flagged" if event.key in flagged else "event"
        if lane == STATUS_LANE:
            points = f"{x},{y - 7} {x + 7},{y} {x},{y + 7} {x - 7},{y}"
            marks.append(
                el("polygon", tooltip, attrs=[("points", points), ("class", css + " status")])
            )
        else:
            marks.append(
                el("circle", tooltip, attrs=[("cx", x), ("cy", y), ("r", 5.5), ("class", css)])
            )
    labels = [event.label if lane in OUTCOME_LANES else event.when for _, event in cluster]
    text = ", ".join(dict.fromkeys(labels))
    x = scale.x(cluster[-1][0]) + 10
    if x + len(text) * CHAR_WIDTH > WIDTH:
        x = scale.x(cluster[0][0]) - 10 - len(text) * CHAR_WIDTH
    marks.append(el("text", text, attrs=[("x", round(x, 1)), ("y", y + 4), ("class", "mark")]))
    return marks


def _treatment_lane(scale: Scale, y: float, lane: TreatmentLane, flagged: set[str]) -> Markup:
    marks: list[Markup] = []
    numbered = len(lane.cycles) <= 12 and not lane.ongoing and len(lane.cycles) > 1
    for number, cycle in enumerate(lane.cycles, start=1):
        x0, x1, xa = scale.x(cycle.start), scale.x(cycle.end), scale.x(cycle.active_end)
        tooltip = el(
            "title",
            f"{lane.label}: cycle {number}, {cycle.start.isoformat()} to "
            f"{(cycle.end - dt.timedelta(days=1)).isoformat()} ({lane.basis})",
        )
        marks.append(
            el(
                "rect",
                tooltip,
                attrs=[
                    ("x", x0),
                    ("y", y - 8),
                    ("width", max(round(x1 - x0 - 1.5, 1), 1)),
                    ("height", 16),
                    ("rx", 3),
                    ("class", "cycle"),
                    ("data-cycle", number),
                ],
            )
        )
        marks.append(
            el(
                "rect",
                attrs=[
                    ("x", x0),
                    ("y", y - 8),
                    ("width", max(round(min(xa, x1) - x0 - 1.5, 1), 2.5)),
                    ("height", 16),
                    ("rx", 3),
                    ("class", "dose"),
                ],
            )
        )
        if numbered and x1 - x0 > 26:
            marks.append(
                el("text", f"C{number}", attrs=[("x", x0 + 6), ("y", y + 4), ("class", "cycle-no")])
            )
    if lane.ongoing:
        x = scale.x(lane.cycles[-1].end)
        marks.append(
            el(
                "text",
                el("title", "continues beyond the last date in the record"),
                "▸ ongoing",
                attrs=[("x", x + 4), ("y", y + 4), ("class", "mark ongoing")],
            )
        )
    css = "lane treatment" + (" flagged" if flagged & set(lane.keys) else "")
    return el(
        "g",
        marks,
        attrs=[("class", css), ("data-lane", lane.label), ("data-cycles", len(lane.cycles))],
    )


def render_timeline(case: CaseView) -> Markup | None:
    """The SVG, or ``None`` when no resource in the record carries a date."""
    lanes = treatment_lanes(case.medications)
    dated = [e for e in case.events if e.date is not None]
    days = [e.date for e in dated if e.date is not None]
    days += [c.start for lane in lanes for c in lane.cycles]
    days += [c.end for lane in lanes for c in lane.cycles]
    if not days:
        return None
    scale = Scale(min(days), max(days))
    flagged = {target for flag in case.flags for target in flag.targets}
    rows: list[tuple[str, str, Markup]] = []
    y = TOP + LANE_HEIGHT / 2
    for lane in EVENT_LANES:
        events = [e for e in dated if e.lane == lane]
        if events:
            rows.append((lane, "events", _point_lane(scale, y, lane, events, flagged)))
            y += LANE_HEIGHT
    for treatment in lanes:
        rows.append((treatment.label, "treatment", _treatment_lane(scale, y, treatment, flagged)))
        y += LANE_HEIGHT
    for lane in OUTCOME_LANES:
        events = [e for e in dated if e.lane == lane]
        if events:
            rows.append((lane, "events", _point_lane(scale, y, lane, events, flagged)))
            y += LANE_HEIGHT
    height = int(y - LANE_HEIGHT / 2 + 16)
    body: list[Markup] = []
    for index, (label, css, _) in enumerate(rows):
        row_y = TOP + LANE_HEIGHT * index
        if index % 2 == 0:
            body.append(
                el(
                    "rect",
                    attrs=[
                        ("x", 0),
                        ("y", row_y),
                        ("width", WIDTH),
                        ("height", LANE_HEIGHT),
                        ("class", "band"),
                    ],
                )
            )
        body.append(_lane_label(row_y + LANE_HEIGHT / 2, label, css))
    body.extend(_axis(scale, height - 8))
    body.extend(lane for _, _, lane in rows)
    return el(
        "svg",
        el("title", "Timeline of the case, drawn from the dates in the FHIR resources"),
        body,
        attrs=[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("viewBox", f"0 0 {WIDTH} {height}"),
            ("class", "timeline"),
            ("role", "img"),
            ("aria-label", "Case timeline"),
        ],
    )
