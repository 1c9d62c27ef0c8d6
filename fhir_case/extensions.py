"""The R4 core extensions the record uses to say what the source does not state, shared by the
builders (which write them) and the readers (narratives, document, view)."""

from __future__ import annotations

CORE = "http://hl7.org/fhir/StructureDefinition/"
# An expected value is missing, and why (here: "unknown", the source does not give it).
DATA_ABSENT_REASON = CORE + "data-absent-reason"
# A date computed from another event's date: target, targetPath, relationship, offset.
RELATIVE_DATE = CORE + "cqf-relativeDateTime"
# The days of a treatment cycle on which a RequestGroup action is performed.
DAYS_OF_CYCLE = CORE + "timing-daysOfCycle"
