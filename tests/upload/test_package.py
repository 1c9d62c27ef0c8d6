"""``fhir_case.upload`` exports its documented names and loads the HTTP stack only on use."""

from __future__ import annotations

import subprocess
import sys
import types

import fhir_case.upload as upload
import fhir_case.upload.prepare  # noqa: F401  (a submodule import must not shadow the function)


def test_exported_names_are_the_objects_not_submodules() -> None:
    for name in upload.__all__:
        assert not isinstance(getattr(upload, name), types.ModuleType), name
    assert callable(upload.prepare)


def test_the_pure_modules_do_not_load_the_http_stack() -> None:
    code = (
        "import sys, fhir_case.upload, fhir_case.upload.prepare, fhir_case.upload.settings\n"
        "assert 'requests' not in sys.modules\n"
        "fhir_case.upload.FhirClient\n"
        "assert 'requests' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
