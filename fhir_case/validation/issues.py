"""The result type every validation layer returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True, order=True)
class Issue:
    """One finding: where (a FHIRPath such as ``Bundle.entry[3].resource.status``), what, and a fix."""

    location: str
    severity: Severity
    layer: str
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")
