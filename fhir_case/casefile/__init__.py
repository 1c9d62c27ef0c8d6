"""Case files: YAML -> checked, typed case model (``load_case``). Format: docs/case-file.md."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fhir_case.casefile.errors import Locator, field_path
from fhir_case.casefile.model import Case
from fhir_case.casefile.parse import CaseParser
from fhir_case.casefile.schema import check_schema
from fhir_case.casefile.yamlpos import PositionedData, YamlSyntaxError, load_positioned
from fhir_case.errors import CaseFileError, InputFileError
from fhir_case.safeinput import read_text
from fhir_case.terminology.register import load_register

DEFAULT_CASE = "mpnst-chen-2024.yaml"


def default_case_file() -> Path:
    """The case shipped with fhir-case (Chen et al. 2024)."""
    return Path(str(resources.files("fhir_case.cases").joinpath(DEFAULT_CASE)))


def load_case(path: Path) -> Case:
    """Read, check and parse a case file; any problem is a CaseFileError naming file and line."""
    text = read_text(path, "case file")
    try:
        positioned = load_positioned(text, str(path))
    except YamlSyntaxError as error:
        problem = error.problem if error.path else f"not valid YAML: {error.problem}"
        raise CaseFileError(path, error.line, field_path(error.path), problem, error.fix) from None
    locator = Locator(path, positioned)
    return parse_case(positioned, locator)


def parse_case(positioned: PositionedData, locator: Locator) -> Case:
    check_schema(positioned.data, locator)
    source_file = locator.file.parent / positioned.data["source"]["text"]
    try:
        source_text = read_text(source_file, "source text")
    except InputFileError as error:
        raise locator.error(
            ("source", "text"),
            str(error),
            "check the path (relative to the case file) and that it is UTF-8 text",
        ) from None
    return CaseParser(positioned.data, locator, load_register(), source_text).parse()
