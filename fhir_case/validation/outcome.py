"""Issues as text lines and as a FHIR OperationOutcome.

The text of ``fhir-case build`` and ``fhir-case validate`` alike: one line per issue naming its
file, a summary per file, and, when a layer could not run, a note naming the layers that did
not and the command that installs what they need. A summary never says "0 errors" alone when
a layer did not run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from fhir_case.validation.issues import LAYERS, Issue

OFFLINE_INSTALL = "fhir-case packages install PATH/TO/*.tgz"

ISSUE_LINE = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"
NO_ISSUES = {"severity": "information", "code": "informational", "diagnostics": "No issues found"}


def issue_line(issue: Issue, source: object = None) -> str:
    """``source: severity layer location: message (fix: hint)`` (``source`` names the file)."""
    fix = f" (fix: {issue.hint})" if issue.hint else ""
    where = f"{source}: " if source is not None else ""
    location = f" {issue.location}" if issue.location else ""
    return f"{where}{issue.severity} {issue.layer}{location}: {issue.message}{fix}"


def summary(issues: Sequence[Issue]) -> str:
    """``N errors, N warnings, N information``, then the layers that did not run, if any."""
    found = Counter(severity(issue) for issue in issues if not issue.layer_did_not_run)
    return counted(found, layers_not_run(issues))


def severity(issue: Issue) -> str:
    """``error`` (fatal included), ``warning`` or ``information``."""
    return "error" if issue.is_error else issue.severity


def counted(counts: Mapping[str, int], not_run: Collection[str] = ()) -> str:
    """``2 errors, 1 warning, 0 information`` from counts by :func:`severity`; then, when some
    layers did not run (``not_run``), which did and which did not, so that it never reads as a
    bare "0 errors"."""
    words = {"error": "errors", "warning": "warnings", "information": "information"}
    text = ", ".join(
        f"{counts.get(name, 0)} {name if counts.get(name, 0) == 1 else plural}"
        for name, plural in words.items()
    )
    if not_run:
        missing = [layer for layer in LAYERS if layer in not_run]
        ran = [layer for layer in LAYERS if layer not in not_run]
        text += f"; not checked by the {_layers(missing)}, only by the {_layers(ran)}"
    return text


def layers_not_run(issues: Iterable[Issue]) -> list[str]:
    """The layers that said they could not run, in layer order."""
    missing = {issue.layer for issue in issues if issue.layer_did_not_run}
    return [layer for layer in LAYERS if layer in missing]


def incomplete_note(issues: Iterable[Issue]) -> str | None:
    """For layers that did not run: which, why, and the commands that install what they need
    (one per line); None when every layer ran."""
    missing = [issue for issue in issues if issue.layer_did_not_run]
    if not missing:
        return None
    in_order = sorted(missing, key=lambda issue: LAYERS.index(issue.layer))
    reasons = list(dict.fromkeys(issue.message for issue in in_order))
    commands = sorted({issue.hint for issue in missing if issue.hint})
    return "\n".join(
        [
            f"incomplete: the {_layers(layers_not_run(missing))} did not run:",
            *(f"  {reason}" for reason in reasons),
            "Install what they need, then run the command again:",
            *(f"  {command}" for command in commands),
            f"  (or, offline, from package files: {OFFLINE_INSTALL})",
        ]
    )


def _layers(layers: Sequence[str]) -> str:
    names = layers[0] if len(layers) == 1 else ", ".join(layers[:-1]) + " and " + layers[-1]
    return f"{names} layer{'s' if len(layers) != 1 else ''}"


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
