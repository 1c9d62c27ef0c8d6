"""The command line as a newcomer meets it: ``--help`` in the tour's order, the next step after a
build."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, run_cli
from tests.test_docs import blocks


def test_help_lists_the_commands_in_the_order_of_the_readme_tour() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    listed = re.findall(r"^    (\w+) ", result.stdout, re.MULTILINE)
    tour = [
        shlex.split(command)[1]
        for block in blocks(ROOT / "README.md")
        if block.section.startswith("Ten-minute tour") and block.marker == "tested"
        for command in block.commands()
        if command.startswith("fhir-case ") and not command.startswith("fhir-case --")
    ]
    in_tour_order = list(dict.fromkeys(tour))
    assert listed[: len(in_tour_order)] == in_tour_order
    assert listed[len(in_tour_order) :] == ["packages"]  # not in the tour: it comes last
    epilog = result.stdout[result.stdout.index("a first tour") :]
    assert [line.split()[1] for line in epilog.splitlines()[1:9]] == [
        "build",
        "validate",
        "view",
        "server",
        "upload",
        "view",
        "delete",
        "server",
    ]


def test_build_says_where_the_files_are_and_what_to_try_next(
    fhir_package_cache: Path, tmp_path: Path
) -> None:
    result = run_cli("build", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = re.findall(r"^wrote (\S+) ", result.stdout, re.MULTILINE)
    assert written == [
        "out/mpnst-chen-2024.transaction.json",
        "out/mpnst-chen-2024.collection.json",
        "out/mpnst-chen-2024.document.json",
    ]
    steps = result.stdout[result.stdout.index("next:\n") :].splitlines()[1:]
    assert steps == [
        "  fhir-case validate out/*.json",
        "  fhir-case view out/mpnst-chen-2024.collection.json -o case.html",
        "  fhir-case server start",
        "  fhir-case upload --server local out/mpnst-chen-2024.transaction.json",
    ]
    # The steps that need no server run as printed, in a shell.
    for step in steps[:2]:
        command = step.strip().replace("fhir-case", f"{shlex.quote(sys.executable)} -m fhir_case")
        ran = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (tmp_path / "case.html").is_file()
