"""Locating case-file problems: a path into the data becomes a file, a line and a field path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fhir_case.casefile.yamlpos import Path_, PositionedData
from fhir_case.errors import CaseFileError


def field_path(path: Path_) -> str:
    """``("conditions", 2, "onset")`` -> ``conditions[2].onset``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class Locator:
    """Builds CaseFileErrors for one case file."""

    file: Path
    positions: PositionedData

    def error(self, path: Path_, problem: str, fix: str) -> CaseFileError:
        return CaseFileError(
            self.file, self.positions.line_of(path), field_path(path), problem, fix
        )
