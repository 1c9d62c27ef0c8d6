"""The installed package carries every data file it reads at run time (a non-editable install
copies only what ``package-data`` names)."""

from __future__ import annotations

import fnmatch
import tomllib

from tests.helpers import ROOT

DOCUMENTATION = {"README.md"}


def test_every_data_file_in_the_package_is_declared_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    data_files = [
        path
        for path in (ROOT / "fhir_case").rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts
        and path.name not in DOCUMENTATION
    ]
    assert data_files
    undeclared = [
        str(path.relative_to(ROOT))
        for path in data_files
        if not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
    ]
    assert undeclared == []
