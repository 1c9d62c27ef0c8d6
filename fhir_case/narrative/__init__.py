"""Human-readable narratives: generated from a resource's data, checked against FHIR's rules."""

from fhir_case.narrative.generate import Summary, narrative_for, summary_for
from fhir_case.narrative.rules import check_narrative

__all__ = ["Summary", "check_narrative", "narrative_for", "summary_for"]
