"""Cycles derived from MedicationRequest dosage timing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fhir_case.view.schedule import schedule_for

D = dt.date


def request(repeat: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "dosageInstruction": [{"timing": {"repeat": repeat}}],
        **extra,
    }


def test_six_cycles_of_21_days_ending_on_a_date_are_laid_out_backwards() -> None:
    schedule = schedule_for(
        request(
            {"count": 6, "period": 21, "periodUnit": "d", "boundsPeriod": {"end": "2023-10-18"}}
        ),
        None,
    )
    assert len(schedule.cycles) == 6
    assert schedule.start == D(2023, 6, 14)
    assert schedule.end == D(2023, 10, 18)
    assert all((c.end - c.start).days == 21 for c in schedule.cycles)
    assert all((c.active_end - c.start).days == 1 for c in schedule.cycles)
    assert not schedule.ongoing
    assert schedule.basis == "every 21 days, 6 cycles ending 2023-10-18"


def test_repeats_allowed_give_the_count_when_the_timing_has_none() -> None:
    schedule = schedule_for(
        request(
            {"period": 3, "periodUnit": "wk", "boundsPeriod": {"start": "2023-01-02"}},
            dispenseRequest={"numberOfRepeatsAllowed": 3},
        ),
        D(2030, 1, 1),
    )
    assert [c.start for c in schedule.cycles] == [
        D(2023, 1, 2),
        D(2023, 1, 23),
        D(2023, 2, 13),
        D(2023, 3, 6),
    ]


def test_two_weeks_on_one_week_off_until_the_end_of_the_record() -> None:
    schedule = schedule_for(
        request(
            {
                "frequency": 1,
                "period": 21,
                "periodUnit": "d",
                "duration": 14,
                "durationUnit": "d",
                "boundsPeriod": {"start": "2023-10-18"},
            }
        ),
        D(2024, 2, 20),
    )
    assert schedule.ongoing
    assert len(schedule.cycles) == 6  # 125 days / 21, rounded up
    first = schedule.cycles[0]
    assert (first.start, first.active_end, first.end) == (
        D(2023, 10, 18),
        D(2023, 11, 1),
        D(2023, 11, 8),
    )


def test_every_four_weeks_between_two_dates() -> None:
    schedule = schedule_for(
        request(
            {
                "period": 4,
                "periodUnit": "wk",
                "boundsPeriod": {"start": "2023-06-14", "end": "2023-10-18"},
            }
        ),
        None,
    )
    assert len(schedule.cycles) == 5
    assert schedule.cycles[-1].start == D(2023, 10, 4)


def test_a_daily_request_is_one_continuous_stretch() -> None:
    schedule = schedule_for(
        request(
            {
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "boundsDuration": {"value": 14, "code": "d"},
            },
            authoredOn="2024-01-01",
        ),
        None,
    )
    assert schedule.cycles == ()  # bounds without a start date: nothing to place
    placed = schedule_for(
        request(
            {
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "boundsPeriod": {"start": "2024-01-01", "end": "2024-01-15"},
            }
        ),
        None,
    )
    assert [(c.start, c.end) for c in placed.cycles] == [(D(2024, 1, 1), D(2024, 1, 15))]


def test_without_any_date_there_is_no_schedule_and_no_crash() -> None:
    for bad in [
        request({"period": 21, "periodUnit": "d"}),
        request({"period": "21", "periodUnit": 5, "count": "6"}),
        {"resourceType": "MedicationRequest", "dosageInstruction": "daily"},
        {},
        None,
    ]:
        schedule = schedule_for(bad, D(2024, 1, 1))
        assert schedule.cycles == ()
        assert schedule.basis
