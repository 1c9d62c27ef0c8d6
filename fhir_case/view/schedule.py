"""When a MedicationRequest's doses fall, derived from its structured dosage timing.

A request repeating every ``period`` (21 days, 4 weeks) yields one cycle per period; its
``duration`` (14 days of a 21-day cycle, say) is the part of each cycle when the drug is taken,
otherwise a single day. The number of cycles comes from ``timing.repeat.count``, else
``dispenseRequest.numberOfRepeatsAllowed + 1``, else from the bounds. A request with an end
and a count but no start is laid out backwards from its end. A daily request is one continuous
stretch. An open-ended request runs to the last date in the record and is marked ongoing.
Nothing here invents a date the data does not imply; without any date there is no schedule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fhir_case.dates import period_bounds
from fhir_case.narrative import words as w

DAYS_PER_UNIT = {"d": 1.0, "wk": 7.0, "mo": 30.0, "a": 365.0, "h": 1 / 24, "min": 1 / 1440}
MAX_CYCLES = 200  # an open-ended schedule over a long record stays drawable


@dataclass(frozen=True)
class Cycle:
    """One cycle: ``start`` to ``end`` (exclusive); the drug is taken until ``active_end``."""

    start: dt.date
    end: dt.date
    active_end: dt.date


@dataclass(frozen=True)
class Schedule:
    cycles: tuple[Cycle, ...]
    ongoing: bool
    basis: str  # how the cycles were computed, in words; or why there are none

    @property
    def start(self) -> dt.date | None:
        return self.cycles[0].start if self.cycles else None

    @property
    def end(self) -> dt.date | None:
        return self.cycles[-1].end if self.cycles else None


def _days(value: object, unit: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    per_unit = DAYS_PER_UNIT.get(w.scalar(unit))
    return None if per_unit is None else value * per_unit


def _count(request: w.JsonDict, repeat: w.JsonDict) -> int | None:
    count = repeat.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        return count
    repeats = w.as_dict(request.get("dispenseRequest")).get("numberOfRepeatsAllowed")
    if isinstance(repeats, int) and not isinstance(repeats, bool) and repeats >= 0:
        return repeats + 1
    return None


def schedule_for(request: object, record_end: dt.date | None) -> Schedule:
    """The cycles of a MedicationRequest; ``record_end`` closes an open-ended one."""
    data = w.as_dict(request)
    dosage = w.as_dict(next(iter(w.as_list(data.get("dosageInstruction"))), None))
    repeat = w.as_dict(w.as_dict(dosage.get("timing")).get("repeat"))
    start, end = period_bounds(repeat.get("boundsPeriod"))
    if start is None:
        start = period_bounds(w.as_dict(data.get("dispenseRequest")).get("validityPeriod"))[0]
    bounded_days = _days(
        w.as_dict(repeat.get("boundsDuration")).get("value"),
        w.as_dict(repeat.get("boundsDuration")).get("code"),
    )
    if start is not None and end is None and bounded_days is not None:
        end = start + dt.timedelta(days=bounded_days)
    period = _days(repeat.get("period"), repeat.get("periodUnit"))
    if period is None or period < 2:
        return _continuous(start, end, record_end)
    cycle_days = round(period)
    active_days = max(1, round(_days(repeat.get("duration"), repeat.get("durationUnit")) or 1))
    count = _count(data, repeat)
    step = dt.timedelta(days=cycle_days)
    how = f"every {cycle_days} days"
    ongoing = False
    if start is None and end is not None and count is not None:
        start = end - step * count
        how += f", {count} cycles ending {end.isoformat()}"
    elif start is not None and count is not None:
        how += f", {count} cycles from {start.isoformat()}"
    elif start is not None and end is not None:
        count = max(1, -(-(end - start).days // cycle_days))
        how += f" from {start.isoformat()} to {end.isoformat()}"
    elif start is not None:
        last = max(record_end or start, start)
        count = max(1, -(-(last - start).days // cycle_days))
        ongoing = True
        how += f" from {start.isoformat()}, open-ended (drawn to the last date in the record)"
    elif end is not None:
        return Schedule(
            (), False, f"the record gives no start date or cycle count (ends {end.isoformat()})"
        )
    else:
        return Schedule((), False, "the record gives no start or end date")
    count = min(count, MAX_CYCLES)
    cycles = tuple(
        Cycle(
            start + step * k,
            start + step * (k + 1),
            start + step * k + dt.timedelta(days=min(active_days, cycle_days)),
        )
        for k in range(count)
    )
    return Schedule(cycles, ongoing, how)


def _continuous(start: dt.date | None, end: dt.date | None, record_end: dt.date | None) -> Schedule:
    if start is None:
        return Schedule((), False, "the record gives no start date")
    ongoing = end is None
    stop = end or max(record_end or start, start + dt.timedelta(days=1))
    basis = f"continuous from {start.isoformat()}" + (
        f" to {stop.isoformat()}" if not ongoing else ", open-ended"
    )
    return Schedule((Cycle(start, stop, stop),), ongoing, basis)


def record_end_date(dates: list[dt.date | None]) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None
