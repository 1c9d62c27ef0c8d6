"""Load and query the code register shipped with the package (``codes.csv``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class RegisteredCode:
    system_name: str
    system: str
    code: str
    display: str
    confidence: str

    @property
    def verified(self) -> bool:
        return self.confidence.startswith("verified")


@dataclass(frozen=True)
class CodeRegister:
    codes: dict[tuple[str, str], RegisteredCode]

    def get(self, system: str, code: str) -> RegisteredCode | None:
        return self.codes.get((system, code))

    def systems(self) -> frozenset[str]:
        return frozenset(system for system, _ in self.codes)


def parse_register(text: str) -> CodeRegister:
    rows = csv.DictReader(io.StringIO(text))
    codes = {
        (row["system_uri"], row["code"]): RegisteredCode(
            system_name=row["system_name"],
            system=row["system_uri"],
            code=row["code"],
            display=row["display"],
            confidence=row["confidence"],
        )
        for row in rows
    }
    return CodeRegister(codes)


@cache
def load_register() -> CodeRegister:
    """The register shipped with fhir-case."""
    text = resources.files("fhir_case.terminology").joinpath("codes.csv").read_text("utf-8")
    return parse_register(text)
