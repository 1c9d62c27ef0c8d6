"""``fhir-case packages install`` and ``list``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_case.cli import main


def test_install_and_list(
    tmp_path: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tgz = shared_dir / "fhir" / "packages" / "hl7.fhir.us.core-6.1.0.tgz"
    code = main(["packages", "install", str(tgz), "--offline", "--cache", str(tmp_path)])
    out = capsys.readouterr().out
    assert "installed hl7.fhir.us.core#6.1.0" in out
    # The dependency is missing and --offline forbids downloading it: say so, exit 1.
    assert "missing dependency hl7.fhir.r4.core#4.0.1" in out
    assert code == 1

    assert main(["packages", "list", "--cache", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "hl7.fhir.us.core#6.1.0  (depends on hl7.fhir.r4.core#4.0.1)"
    ]


def test_install_by_name_from_a_registry(
    tmp_path: Path, local_registry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["packages", "install", "hl7.fhir.uv.genomics-reporting#2.0.0"]
    args += ["--registry", local_registry, "--cache", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "installed hl7.fhir.uv.genomics-reporting#2.0.0" in out
    assert "installed hl7.fhir.r4.core#4.0.1" in out


def test_user_errors_have_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"not a tarball")
    assert main(["packages", "install", str(bad), "--cache", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fhir-case packages: error:") and "bad.tgz" in err
    assert "Traceback" not in err
