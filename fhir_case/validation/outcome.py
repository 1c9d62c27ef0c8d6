"""Issues as text lines and as a FHIR OperationOutcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_case.validation.issues import Issue


def issue_line(issue: Issue) -> str:
    """``severity layer location: message (fix: hint)``."""
    fix = f" (fix: {issue.hint})" if issue.hint else ""
    return f"{issue.severity} {issue.layer} {issue.location}: {issue.message}{fix}"


def summary(issues: Sequence[Issue]) -> str:
    counts = {severity: 0 for severity in ("error", "warning", "information")}
    for issue in issues:
        counts["error" if issue.is_error else issue.severity] += 1
    return ", ".join(
        f"{count} {name}{'s' if count != 1 and name != 'information' else ''}"
        for name, count in counts.items()
    )


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    """An R4 OperationOutcome: severity, code, diagnostics (message and fix), expression.

    ``details.text`` names the layer that found the issue. An outcome without findings holds
    one informational issue, as OperationOutcome.issue is required.
    """
    entries = [_outcome_issue(issue) for issue in issues] or [
        {"severity": "information", "code": "informational", "diagnostics": "No issues found"}
    ]
    return {"resourceType": "OperationOutcome", "issue": entries}


def _outcome_issue(issue: Issue) -> dict[str, Any]:
    diagnostics = issue.message + (f" (fix: {issue.hint})" if issue.hint else "")
    return {
        "severity": issue.severity,
        "code": issue.code,
        "details": {"text": f"fhir-case {issue.layer} layer"},
        "diagnostics": diagnostics,
        "expression": [issue.location],
    }
