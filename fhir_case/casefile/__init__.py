"""Case files: YAML -> checked, typed case model (``load_case``). Format: docs/case-file.md."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fhir_case.casefile.errors import Locator
from fhir_case.casefile.model import Case
from fhir_case.casefile.parse import CaseParser
from fhir_case.casefile.schema import check_schema
from fhir_case.casefile.yamlpos import PositionedData, YamlSyntaxError, load_positioned
from fhir_case.errors import CaseFileError
from fhir_case.terminology.register import load_register

DEFAULT_CASE = "mpnst-chen-2024.yaml"


def default_case_file() -> Path:
    """The case shipped with fhir-case (Chen et al. 2024)."""
    return Path(str(resources.files("fhir_case.cases").joinpath(DEFAULT_CASE)))


def load_case(path: Path) -> Case:
    """Read, check and parse a case file; any problem is a CaseFileError naming file and line."""
    text = _read(path, path)
    try:
        positioned = load_positioned(text)
    except YamlSyntaxError as error:
        raise CaseFileError(
            path, error.line, "", f"not valid YAML: {error.problem}", "correct the YAML syntax"
        ) from None
    locator = Locator(path, positioned)
    return parse_case(positioned, locator)


def parse_case(positioned: PositionedData, locator: Locator) -> Case:
    check_schema(positioned.data, locator)
    source_file = locator.file.parent / positioned.data["source"]["text"]
    source_text = _read(source_file, locator.file, ("source", "text"), locator)
    return CaseParser(positioned.data, locator, load_register(), source_text).parse()


def _read(
    path: Path,
    case_file: Path,
    field: tuple[str, ...] = (),
    locator: Locator | None = None,
) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
        fix = "check the path (relative to the case file) and that it is UTF-8 text"
        if locator is not None:
            raise locator.error(field, problem, fix) from None
        raise CaseFileError(case_file, None, "", problem, fix) from None
