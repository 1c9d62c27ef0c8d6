"""OperationOutcome -> typed issues, with HAPI's ``HAPI-NNNN`` message codes picked out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

HAPI_CODE = re.compile(r"\bHAPI-(\d{4})\b")


@dataclass(frozen=True)
class OutcomeIssue:
    severity: str
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    hapi_code: str | None = None  # e.g. "HAPI-0450", when the server is HAPI

    def __str__(self) -> str:
        where = f" at {', '.join(self.expression)}" if self.expression else ""
        return f"{self.severity} ({self.code}){where}: {self.diagnostics}"


def parse_outcome(body: Any) -> tuple[OutcomeIssue, ...]:
    """The issues of an OperationOutcome; empty for anything else."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ()
    issues = []
    for raw in body.get("issue") or ():
        if not isinstance(raw, dict):
            continue
        text = str(raw.get("diagnostics") or (raw.get("details") or {}).get("text") or "")
        expression = tuple(str(e) for e in raw.get("expression") or raw.get("location") or ())
        match = HAPI_CODE.search(text)
        issues.append(
            OutcomeIssue(
                severity=str(raw.get("severity", "error")),
                code=str(raw.get("code", "unknown")),
                diagnostics=text or "(no diagnostics given)",
                expression=expression,
                hapi_code=f"HAPI-{match.group(1)}" if match else None,
            )
        )
    return tuple(issues)


def errors_of(issues: tuple[OutcomeIssue, ...]) -> tuple[OutcomeIssue, ...]:
    return tuple(i for i in issues if i.severity in ("error", "fatal"))


def summarize(issues: tuple[OutcomeIssue, ...], limit: int = 5) -> str:
    """One issue per line, most severe first, at most ``limit`` of them."""
    if not issues:
        return ""
    shown = sorted(issues, key=lambda i: i.severity not in ("fatal", "error"))[:limit]
    lines = [f"  - {issue}" for issue in shown]
    if len(issues) > limit:
        lines.append(f"  - ... and {len(issues) - limit} more")
    return "\n".join(lines)


def mentions(text: str, name: str) -> bool:
    """``name`` (a fullUrl or ``Type/id``) occurs in ``text`` as a whole: Patient/1 is not in
    Patient/12."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None
