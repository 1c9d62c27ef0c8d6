"""Issues as text lines and as a FHIR OperationOutcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from fhir_case.validation.issues import Issue

ISSUE_LINE = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"
NO_ISSUES = {"severity": "information", "code": "informational", "diagnostics": "No issues found"}


def issue_line(issue: Issue) -> str:
    """``severity layer location: message (fix: hint)``."""
    fix = f" (fix: {issue.hint})" if issue.hint else ""
    where = f" {issue.location}" if issue.location else ""
    return f"{issue.severity} {issue.layer}{where}: {issue.message}{fix}"


def summary(issues: Sequence[Issue]) -> str:
    return counted(Counter(severity(issue) for issue in issues))


def severity(issue: Issue) -> str:
    """``error`` (fatal included), ``warning`` or ``information``."""
    return "error" if issue.is_error else issue.severity


def counted(counts: Mapping[str, int]) -> str:
    """``2 errors, 1 warning, 0 information`` from counts by :func:`severity`."""
    words = {"error": "errors", "warning": "warnings", "information": "information"}
    return ", ".join(
        f"{counts.get(name, 0)} {name if counts.get(name, 0) == 1 else plural}"
        for name, plural in words.items()
    )


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    """An R4 OperationOutcome: severity, code, diagnostics (message and fix), expression.

    ``details.text`` names the layer that found the issue. An outcome without findings holds
    one informational issue, as OperationOutcome.issue is required.
    """
    return {
        "resourceType": "OperationOutcome",
        "issue": [outcome_issue(i) for i in issues] or [NO_ISSUES],
    }


def outcome_issue(issue: Issue, line: int | None = None) -> dict[str, Any]:
    """One ``OperationOutcome.issue``; ``line`` (of an NDJSON file) goes into the core
    extension ``operationoutcome-issue-line``, as the HL7 validator writes it."""
    found: dict[str, Any] = {}
    if line is not None:
        found["extension"] = [{"url": ISSUE_LINE, "valueInteger": line}]
    found |= {
        "severity": issue.severity,
        "code": issue.code,
        "details": {"text": f"fhir-case {issue.layer} layer"},
        "diagnostics": issue.message + (f" (fix: {issue.hint})" if issue.hint else ""),
    }
    if issue.location:
        found["expression"] = [issue.location]
    return found
