"""The case timeline as inline SVG: one lane per kind of event and per treatment schedule.

Point events (presentation, biopsies, imaging, sizes, assessments) are dots or diamonds, each
named beside it (on a line of its own when the lane is crowded); an event whose date is derived
is drawn hollow and its label says "about". Each computed treatment cycle is one
``rect.cycle``, outlined and hatched (dosing days), with "computed from the schedule; the
record gives no cycle dates" under the lane, so a six-cycle regimen draws six rectangles that
no reader takes for dated events. Requests with the same cycles (a combination regimen) share
a lane; tumor sizes get one lane per method (palpation, ultrasound, CT are not one series).

The SVG is laid out in user units of about one CSS pixel at 960 px wide; every text is 13
units, so it stays at least 10 px where the page is 800 px wide.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from fhir_case.narrative.xhtml import Markup, el
from fhir_case.view.case import CaseView, Course, Event, Medication, clinical_order
from fhir_case.view.schedule import Cycle

WIDTH = 960
LABEL_WIDTH = 228
PLOT_RIGHT = WIDTH - 120  # room for "▸ end not stated" after a course without an end
TOP = 46
LINE = 20  # one line of text in a lane
PAD = 6  # above and below a lane's content
BELOW = 16  # from a mark to a label written under it
ROW_GAP = 8  # between a row whose label is under its mark and the next row
FONT = 13
CHAR_WIDTH = 7.4  # average width of a 13-unit sans-serif character, for placing labels
BOLD_WIDTH = 8.0
EVENT_LANES = ("Presentation", "Imaging", "Biopsies", "Procedures")
STATUS_LANE = "Disease status"
SIZE_LANE = "Tumor size"
COMPUTED = "computed from the schedule; the record gives no cycle dates"
OPEN_ENDED = "computed from the schedule, open-ended; the record gives no cycle dates"


@dataclass(frozen=True)
class TreatmentLane:
    label: str
    cycles: tuple[Cycle, ...]
    ongoing: bool
    active: bool  # every request of the lane says it is active (so "ongoing" is stated)
    keys: tuple[str, ...]
    basis: str


@dataclass
class Drawn:
    """The rendered timeline, and which kinds of mark it shows (for the legend)."""

    svg: Markup
    marks: set[str] = field(default_factory=set)


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
            active=all(m.status == "active" for m in group),
            keys=tuple(m.key for m in group),
            basis=group[0].schedule.basis,
        )
        for cycles, group in sorted(lanes.items(), key=_lane_order)
    ]


def _lane_order(item: tuple[tuple[Cycle, ...], list[Medication]]) -> tuple[object, ...]:
    cycles, group = item
    return (cycles[0].start, cycles[-1].end, len(cycles), [m.name for m in group])


class Scale:
    """Dates to x positions in the plot area, with ten days of margin on either side."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first = first - dt.timedelta(days=10)
        self.last = last + dt.timedelta(days=10)
        self.span = max((self.last - self.first).days, 1)

    def x(self, day: dt.date) -> float:
        plot = PLOT_RIGHT - LABEL_WIDTH
        return round(LABEL_WIDTH + plot * (day - self.first).days / self.span, 1)


def _month_starts(scale: Scale) -> list[dt.date]:
    day = dt.date(scale.first.year, scale.first.month, 1)
    months = []
    while day <= scale.last:
        if day >= scale.first:
            months.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _axis(scale: Scale, bottom: float) -> list[Markup]:
    """A gridline and label per month, with the year above January and the first month."""
    marks: list[Markup] = []
    for month in _month_starts(scale):
        x = scale.x(month)
        year = (
            el("text", str(month.year), attrs=[("x", x + 3), ("y", TOP - 26), ("class", "year")])
            if month.month == 1 or not marks
            else None
        )
        marks.append(
            el(
                "g",
                el("line", attrs=[("x1", x), ("x2", x), ("y1", TOP - 6), ("y2", bottom)]),
                year,
                el("text", month.strftime("%b"), attrs=[("x", x + 3), ("y", TOP - 9)]),
                attrs=[("class", "tick")],
            )
        )
    return marks


def _fit(text: str, width: float, char_width: float = CHAR_WIDTH) -> str:
    """The text, cut with an ellipsis to fit ``width`` units."""
    room = max(int(width / char_width), 4)
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


LABEL_LINES = 3  # a longer lane name is cut, its whole in the tooltip


def _label_lines(label: str) -> list[str]:
    lines = textwrap.wrap(label, int((LABEL_WIDTH - 16) / BOLD_WIDTH)) or [""]
    if len(lines) > LABEL_LINES:
        rest = " ".join(lines[LABEL_LINES - 1 :])
        lines = [*lines[: LABEL_LINES - 1], _fit(rest, LABEL_WIDTH - 16, BOLD_WIDTH)]
    return lines


def _label_height(label: str) -> float:
    """The height a lane needs for its name."""
    return len(_label_lines(label)) * (LINE - 4) + 2 * PAD + 4


def _lane_label(height: float, label: str, css: str) -> Markup:
    """The lane's name, wrapped to the label column and centred on the lane."""
    lines = _label_lines(label)
    first = height / 2 - (len(lines) - 1) * (LINE - 4) / 2 + FONT / 2 - 2
    spans = [
        el("tspan", line, attrs=[("x", 8), ("y", round(first + i * (LINE - 4), 1))])
        for i, line in enumerate(lines)
    ]
    return el("text", el("title", label), spans, attrs=[("class", f"lane-label {css}")])


@dataclass
class _Placed:
    event: Event
    x: float
    row: int
    text: str
    text_x: float
    below: bool  # the label has a line of its own under the mark

    @property
    def span(self) -> tuple[float, float]:
        width = len(self.text) * CHAR_WIDTH
        return (min(self.text_x, self.x - 8), max(self.text_x + width, self.x + 8))


def _label_text(event: Event) -> str:
    """What a mark is, and when (marked "about" when the date is derived)."""
    return f"{event.label} ({event.when.short})"


def _place(scale: Scale, events: list[Event]) -> list[_Placed]:
    """Each event on the first row where it and its label collide with nothing: the label
    right of the mark, else left of it, else on its own line under it."""
    rows: list[list[_Placed]] = []
    for event in sorted(events, key=clinical_order):
        if event.date is None:
            continue
        x = scale.x(event.date)
        text = _label_text(event)
        width = len(text) * CHAR_WIDTH
        options = []
        if x + 10 + width <= WIDTH - 6:
            options.append((text, x + 10, False))
        if x - 10 - width >= LABEL_WIDTH + 4:
            options.append((text, x - 10 - width, False))
        if not options:
            fitted = _fit(text, WIDTH - 10 - LABEL_WIDTH)
            start = min(max(x - 8, LABEL_WIDTH + 4), WIDTH - 6 - len(fitted) * CHAR_WIDTH)
            options.append((fitted, start, True))
        for row in range(len(rows) + 1):
            if row == len(rows):
                rows.append([])
            candidates = [_Placed(event, x, row, *option) for option in options]
            free = [c for c in candidates if not any(_overlap(c.span, o.span) for o in rows[row])]
            if free:
                rows[row].append(free[0])
                break
    return [item for row in rows for item in row]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] + 12 and b[0] < a[1] + 12


def _row_tops(placed: list[_Placed]) -> list[float]:
    """The top of each row: a row with a label under its mark is higher, and set apart from
    the next row so that each label reads with its own mark."""
    tops: list[float] = []
    y = PAD
    for row in range(max((p.row for p in placed), default=-1) + 1):
        tops.append(y)
        y += LINE + (BELOW + ROW_GAP if any(p.below for p in placed if p.row == row) else 0)
    return [*tops, y]


def _point_lane(
    scale: Scale, lane: str, events: list[Event], flagged: set[str], marks: set[str]
) -> tuple[list[Markup], float]:
    placed = _place(scale, events)
    tops = _row_tops(placed)
    out: list[Markup] = []
    for item in placed:
        y = tops[item.row] + LINE / 2
        event = item.event
        tooltip = el("title", f"{event.label} — {event.when.words}")
        classes = ["event"]
        if event.key in flagged:
            classes.append("flagged")
            marks.add("flag")
        if not event.when.stated:
            classes.append("derived")
            marks.add("derived")
        if lane == STATUS_LANE:
            classes.append("status")
            marks.add("status")
            x = item.x
            points = f"{x},{y - 7} {x + 7},{y} {x},{y + 7} {x - 7},{y}"
            out.append(
                el("polygon", tooltip, attrs=[("points", points), ("class", " ".join(classes))])
            )
        else:
            if event.when.stated:
                marks.add("event")
            out.append(
                el(
                    "circle",
                    tooltip,
                    attrs=[("cx", item.x), ("cy", y), ("r", 5.5), ("class", " ".join(classes))],
                )
            )
        text_y = y + (BELOW if item.below else 0) + FONT / 2 - 2
        out.append(
            el(
                "text",
                item.text,
                attrs=[("x", round(item.text_x, 1)), ("y", round(text_y, 1)), ("class", "mark")],
            )
        )
    return out, tops[-1] + PAD


def _treatment_lane(
    scale: Scale, lane: TreatmentLane, flagged: bool, marks: set[str]
) -> tuple[list[Markup], float]:
    out: list[Markup] = []
    y = PAD + LINE / 2
    numbered = len(lane.cycles) <= 12 and not lane.ongoing and len(lane.cycles) > 1
    hatch = "url(#hatch-flag)" if flagged else "url(#hatch)"
    marks.add("computed")
    for number, cycle in enumerate(lane.cycles, start=1):
        x0, x1, xa = scale.x(cycle.start), scale.x(cycle.end), scale.x(cycle.active_end)
        tooltip = el(
            "title",
            f"{lane.label}: cycle {number}, {cycle.start.isoformat()} to "
            f"{(cycle.end - dt.timedelta(days=1)).isoformat()}, computed ({lane.basis})",
        )
        out.append(
            el(
                "rect",
                tooltip,
                attrs=[
                    ("x", x0),
                    ("y", y - 8),
                    ("width", max(round(x1 - x0 - 2, 1), 1)),
                    ("height", 16),
                    ("rx", 2),
                    ("class", "cycle computed"),
                    ("data-cycle", number),
                ],
            )
        )
        out.append(
            el(
                "rect",
                attrs=[
                    ("x", x0),
                    ("y", y - 8),
                    ("width", max(round(min(xa, x1) - x0 - 2, 1), 2.5)),
                    ("height", 16),
                    ("rx", 2),
                    ("class", "dose"),
                    ("fill", hatch),
                ],
            )
        )
        if numbered and x1 - x0 > 30:
            out.append(
                el(
                    "text",
                    f"C{number}",
                    attrs=[("x", x0 + 5), ("y", y + 4.5), ("class", "cycle-no")],
                )
            )
    end = scale.x(lane.cycles[-1].end)
    if lane.ongoing:
        out.append(_open_end(end, y, lane.active, marks))
    # The caption belongs next to the cycles it explains: from the first, or ending at the edge.
    caption = OPEN_ENDED if lane.ongoing else COMPUTED
    out.append(_caption(caption, scale.x(lane.cycles[0].start), y + LINE))
    return out, PAD + 2 * LINE + PAD


def _open_end(x: float, y: float, active: bool, marks: set[str]) -> Markup:
    """After a course that has no end: "▸ ongoing" where its status says it is active, else
    "▸ end not stated" (an unknown status does not make a course ongoing)."""
    if active:
        kind, words = "ongoing", "ongoing"
        title = "open-ended: active, continues beyond the last date in the record"
    else:
        kind, words = "end-unknown", "end not stated"
        title = "the record gives no end, and no status that says it continues"
    marks.add(kind)
    return el(
        "text",
        el("title", title),
        f"▸ {words}",
        attrs=[("x", x + 4), ("y", y + 4.5), ("class", f"mark {kind}")],
    )


def _caption(text: str, x: float, y: float) -> Markup:
    """A caption under a lane's marks: from ``x``, or ending at the right edge, cut to fit."""
    fitted = _fit(text, WIDTH - 10 - LABEL_WIDTH)
    start = max(min(x, WIDTH - 6 - len(fitted) * CHAR_WIDTH), LABEL_WIDTH + 4)
    return el(
        "text",
        fitted,
        attrs=[("x", round(start, 1)), ("y", round(y + 4.5, 1)), ("class", "caption")],
    )


def drawn_courses(case: CaseView) -> list[Course]:
    """The treatment plans the timeline can place: those with a start or an end."""
    return [c for c in case.courses if c.start is not None or c.end is not None]


def _fade(x: float, y: float, width: float, gradient: str) -> Markup:
    """A faded stretch of a plan's span (where its start or its end is not stated)."""
    return el(
        "rect",
        attrs=[
            ("x", round(x, 1)),
            ("y", y - 7),
            ("width", round(width, 1)),
            ("height", 14),
            ("class", "fade"),
            ("fill", f"url(#{gradient})"),
        ],
    )


def _course_lane(
    scale: Scale, course: Course, last: dt.date, flagged: bool, marks: set[str]
) -> tuple[list[Markup], float]:
    """A plan as a band: faded where its start is not stated, with an open end when it has no
    end; under it, its period as the record says it and the orders it holds."""
    y = PAD + LINE / 2
    x0 = scale.x(course.start) if course.start else scale.x(scale.first)
    x1 = scale.x(course.end or last)
    fade = 0.0 if course.start_stated else min(60.0, (x1 - x0) / 2)
    # Without an end and without an active status, the span does not run solid to the record's
    # last date: it fades out, as a start that is not stated fades in.
    fade_out = 0.0 if course.end or course.status == "active" else min(60.0, (x1 - x0) / 2)
    css = "course flagged" if flagged else "course"
    marks.add("course")
    tooltip = el("title", f"{course.title}: {course.when.words}")
    out: list[Markup] = []
    if fade:
        marks.add("faded")
        out.append(_fade(x0, y, fade, "fade-in"))
    out.append(
        el(
            "rect",
            tooltip,
            attrs=[
                ("x", round(x0 + fade, 1)),
                ("y", y - 7),
                ("width", max(round(x1 - x0 - fade - fade_out, 1), 2)),
                ("height", 14),
                ("rx", 2),
                ("class", css),
            ],
        )
    )
    if fade_out:
        marks.add("faded")
        out.append(_fade(x1 - fade_out, y, fade_out, "fade-out"))
    if course.end is None:
        out.append(_open_end(x1, y, course.status == "active", marks))
    lines = [course.when.words]
    if course.member_names:
        lines.append("orders: " + ", ".join(course.member_names))
    out += [_caption(line, x0, y + n * (LINE - 2)) for n, line in enumerate(lines, start=1)]
    return out, PAD + LINE + len(lines) * (LINE - 2) + PAD


def render_timeline(case: CaseView) -> Drawn | None:
    """The SVG, or ``None`` when no resource in the record carries a date."""
    lanes = treatment_lanes(case.medications)
    dated = [e for e in case.events if e.date is not None]
    courses = drawn_courses(case)
    days = [e.date for e in dated if e.date is not None]
    days += [c.start for lane in lanes for c in lane.cycles]
    days += [c.end for lane in lanes for c in lane.cycles]
    days += [d for course in courses for d in (course.start, course.end) if d is not None]
    if not days:
        return None
    scale = Scale(min(days), max(days))
    flagged = {target for flag in case.flags for target in flag.targets}
    marks: set[str] = set()
    rows: list[tuple[str, str, str, list[Markup], float, dict[str, str]]] = []
    for lane in EVENT_LANES:
        events = [e for e in dated if e.lane == lane]
        if events:
            content, height = _point_lane(scale, lane, events, flagged, marks)
            rows.append((lane, lane, "events", content, height, {}))
    for course in courses:
        keys = {course.key, *course.members}
        content, height = _course_lane(scale, course, max(days), bool(flagged & keys), marks)
        extra = {"data-keys": " ".join(sorted(keys))}
        rows.append((course.title, course.title, "course", content, height, extra))
    for treatment in lanes:
        is_flagged = bool(flagged & set(treatment.keys))
        if is_flagged:
            marks.add("flag")
        content, height = _treatment_lane(scale, treatment, is_flagged, marks)
        extra = {"data-cycles": str(len(treatment.cycles)), "data-keys": " ".join(treatment.keys)}
        css = "treatment flagged" if is_flagged else "treatment"
        rows.append((treatment.label, treatment.label, css, content, height, extra))
    size_lanes = sorted({e.lane for e in dated if e.lane.startswith(SIZE_LANE)})
    for lane in [*size_lanes, STATUS_LANE]:
        events = [e for e in dated if e.lane == lane]
        if events:
            content, height = _point_lane(scale, lane, events, flagged, marks)
            rows.append((lane, lane, "events", content, height, {}))
    bands: list[Markup] = []
    body: list[Markup] = []
    top = float(TOP)
    for index, (label, data_lane, css, content, lane_height, extra) in enumerate(rows):
        height = max(lane_height, _label_height(label))
        if index % 2 == 0:
            bands.append(
                el(
                    "rect",
                    attrs=[("x", 0), ("y", round(top, 1)), ("width", WIDTH), ("height", height)],
                )
            )
        body.append(
            el(
                "g",
                _lane_label(height, label, css.split()[0]),
                content,
                attrs=[
                    ("class", f"lane {css}"),
                    ("data-lane", data_lane),
                    *extra.items(),
                    ("transform", f"translate(0 {round(top, 1)})"),
                ],
            )
        )
        top += height
    height = round(top + 8, 1)
    defs = el(
        "defs",
        _hatch("hatch", "hatch-line"),
        _hatch("hatch-flag", "hatch-line flagged"),
        el(
            "linearGradient",
            el("stop", attrs=[("offset", "0"), ("class", "fade-from")]),
            el("stop", attrs=[("offset", "1"), ("class", "fade-to")]),
            attrs=[("id", "fade-in")],
        ),
        el(
            "linearGradient",
            el("stop", attrs=[("offset", "0"), ("class", "fade-to")]),
            el("stop", attrs=[("offset", "1"), ("class", "fade-from")]),
            attrs=[("id", "fade-out")],
        ),
    )
    return Drawn(
        el(
            "svg",
            el("title", "Timeline of the case, drawn from the dates in the FHIR resources"),
            defs,
            el("g", bands, attrs=[("class", "band")]),
            _axis(scale, height - 4),
            body,
            attrs=[
                ("xmlns", "http://www.w3.org/2000/svg"),
                ("viewBox", f"0 0 {WIDTH} {height}"),
                ("class", "timeline"),
                ("role", "img"),
                ("aria-label", "Case timeline"),
            ],
        ),
        marks,
    )


def _hatch(pattern_id: str, css: str) -> Markup:
    """Diagonal hatching for the dosing days of a computed cycle."""
    return el(
        "pattern",
        el("rect", attrs=[("width", 6), ("height", 6), ("class", "hatch-ground")]),
        el("rect", attrs=[("width", 2.5), ("height", 6), ("class", css)]),
        attrs=[
            ("id", pattern_id),
            ("width", 6),
            ("height", 6),
            ("patternUnits", "userSpaceOnUse"),
            ("patternTransform", "rotate(45)"),
        ],
    )
