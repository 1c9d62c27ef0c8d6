"""The README and docs/ cannot rot: every shell and Python block in them is run, or checked.

A fenced block names, after its language, what this test does with it (docs/testing.md):

- ``tested``: run, in the order of the page, in one shell per page, in a temporary project
  folder (a copy of ``bundles/``, the project's ``.venv``, ``../shared`` beside it), with the
  local FHIR server of ``fhir-case server`` on a free port. Each command must exit 0, or with
  the status its comment gives (``# exit 3``). Python blocks run with the project's Python.
- ``not-run (why)``: what cannot run here (Docker, the internet, credentials): every
  ``fhir-case`` command in it must parse with the command line's own parser, every script it
  names must exist, and Python must compile.
- ``quick-start``: the README's two commands: ``scripts/build`` runs from a copy of the project
  (below); ``scripts/test`` is what ``.ci/run`` runs.

The checks after the README's run look at exit codes and key facts (files, ids, counts), not at
whole outputs, so that wording can change.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fhir_case.cli import make_parser
from tests.conftest import SHARED
from tests.fhir_server import SEKMET, free_port
from tests.helpers import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKERS = ("tested", "not-run", "quick-start")
CODE_LANGUAGES = ("sh", "python")
FENCE = re.compile(r"^(\s*)```(\S*)\s*(.*)$")
EXPECTED_EXIT = re.compile(r"#\s*exit (\d+)\b")
CASE = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"
CASE_PATIENT = "f5ed8fd6-8a34-526f-bf54-a7855f1b7836"
RUN_TIMEOUT = 900


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence
    language: str
    marker: str
    reason: str  # what follows the marker: ``not-run (why)``
    section: str  # the heading above it
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def commands(self) -> list[str]:
        """Shell commands: continued lines joined, blank and comment lines left out."""
        commands: list[str] = []
        pending = ""
        for line in self.text.splitlines():
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            if pending.strip() and not pending.lstrip().startswith("#"):
                commands.append(pending.strip())
            pending = ""
        return commands


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page (indented ones too)."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    section = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        match = FENCE.match(line)
        if match is None:
            index += 1
            continue
        indent, language, info = match.groups()
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index].removeprefix(indent))
            index += 1
        marker, _, reason = info.partition(" ")
        text = "\n".join(body)
        found.append(Block(page, index - len(body), language, marker, reason, section, text))
        index += 1
    return found


def code_blocks(marker: str | None = None) -> list[Block]:
    return [
        block
        for page in PAGES
        for block in blocks(page)
        if block.language in CODE_LANGUAGES and (marker is None or block.marker == marker)
    ]


# ---------------- every block is marked, and what is not run still parses ----------------


def test_every_shell_and_python_block_says_whether_it_is_run() -> None:
    unmarked = [
        f"{b.where}: ```{b.language} {b.marker}".rstrip()
        for b in code_blocks()
        if b.marker not in MARKERS
    ]
    assert unmarked == [], f"mark each block with one of {MARKERS} (docs/testing.md)"
    other = [
        f"{b.where}: ```{b.language}"
        for page in PAGES
        for b in blocks(page)
        if b.language in ("bash", "shell", "console", "py", "python3")
    ]
    assert other == [], "write shell blocks as ```sh and Python blocks as ```python"
    assert code_blocks("tested"), "no block is run"


@pytest.mark.parametrize("block", code_blocks("not-run"), ids=lambda b: b.where)
def test_commands_that_are_not_run_still_parse(block: Block) -> None:
    assert re.fullmatch(r"\(.+\)", block.reason.strip()), (
        f"{block.where}: say why it is not run: ```{block.language} not-run (why)"
    )
    if block.language == "python":
        compile(block.text, block.where, "exec")
        return
    parser = make_parser()
    for command in block.commands():
        words = shlex.split(command, comments=True)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value before a command
            words = words[1:]
        for word in words:
            if word.startswith(("scripts/", "benchmarks/", ".ci/")):
                assert (ROOT / word).exists(), f"{block.where}: {word} does not exist"
        if words and words[0] == "fhir-case":
            try:
                parser.parse_args(words[1:])
            except SystemExit as exit:
                pytest.fail(f"{block.where}: `{command}` does not parse (exit {exit.code})")


def test_links_between_the_pages_resolve() -> None:
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


# ---------------- the tested blocks run ----------------


@dataclass(frozen=True)
class Step:
    block: Block
    command: str  # a shell command, or a Python block's source
    expected: int
    stdout: str = ""
    stderr: str = ""
    status: int | None = None

    def describe(self) -> str:
        return (
            f"{self.block.where}: `{self.command}` exited {self.status}, expected "
            f"{self.expected}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


@pytest.fixture
def project(tmp_path: Path, fhir_package_cache: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary project folder as a reader has it, and the environment to run in: its own
    home, the session's FHIR packages, the local server's files in the folder, a free port."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copytree(ROOT / "bundles", folder / "bundles")
    (folder / ".venv").symlink_to(sys.prefix, True)  # the project's virtual environment
    (tmp_path / "shared").symlink_to(SHARED, True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FHIR_CASE_", "FHIR_TEST_")) and key != "VIRTUAL_ENV"
    }
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOME": str(tmp_path / "home"),
            "FHIR_PACKAGE_CACHE": str(fhir_package_cache),
            "FHIR_CASE_CACHE": os.environ["FHIR_CASE_CACHE"],
            "FHIR_CASE_DATA": str(tmp_path / "data"),
            "FHIR_CASE_SEKMET": str(SEKMET),
            "FHIR_CASE_SERVER_PORT": str(free_port()),
        }
    )
    yield folder, env
    subprocess.run(  # whatever happened, no server is left running
        [sys.executable, "-m", "fhir_case", "server", "stop"],
        env=env,
        capture_output=True,
        check=False,
    )


def run_page(page: Path, folder: Path, env: dict[str, str]) -> list[Step]:
    """Run a page's tested blocks in one shell, in order, each command's output and status
    captured; the run stops at the first command whose status is not the expected one."""
    steps = [
        Step(block, command, _expected(block, command))
        for block in blocks(page)
        if block.marker == "tested"
        for command in (block.commands() if block.language == "sh" else [block.text])
    ]
    logs = folder.parent / "logs"
    logs.mkdir()
    script = ["set -u", f"cd {shlex.quote(str(folder))}"]
    for number, step in enumerate(steps):
        command = step.command
        if step.block.language == "python":
            command = (
                f"{shlex.quote(sys.executable)} - <<'DOCS_PYTHON_END'\n{command}\nDOCS_PYTHON_END"
            )
        script += [
            f"{{ {command}\n}} >{logs}/{number}.out 2>{logs}/{number}.err </dev/null",
            "status=$?",
            f"echo $status >{logs}/{number}.status",
            f'[ "$status" = {step.expected} ] || exit 0',
        ]
    subprocess.run(["bash", "-c", "\n".join(script)], env=env, timeout=RUN_TIMEOUT, check=True)
    ran = []
    for number, step in enumerate(steps):
        status_file = logs / f"{number}.status"
        if not status_file.exists():
            pytest.fail(f"{step.block.where}: `{step.command}` never ran: the shell stopped")
        ran.append(
            Step(
                step.block,
                step.command,
                step.expected,
                (logs / f"{number}.out").read_text(errors="replace"),
                (logs / f"{number}.err").read_text(errors="replace"),
                int(status_file.read_text()),
            )
        )
        if ran[-1].status != step.expected:
            pytest.fail(ran[-1].describe())
    return ran


def _expected(block: Block, command: str) -> int:
    match = EXPECTED_EXIT.search(command) if block.language == "sh" else None
    return int(match.group(1)) if match else 0


def test_the_readme_runs_top_to_bottom(project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    steps = run_page(ROOT / "README.md", folder, env)
    tour = [step for step in steps if step.block.section.startswith("Ten-minute tour")]
    commands = [step.command.split("#")[0].strip() for step in tour]
    base_url = f"http://127.0.0.1:{env['FHIR_CASE_SERVER_PORT']}/fhir"

    def output(command: str, occurrence: int = 0) -> Step:
        return [s for s, c in zip(tour, commands, strict=True) if c == command][occurrence]

    # build: the committed bundles, byte for byte, and the next step
    assert "\nnext:\n" in output("fhir-case build").stdout
    for committed in (ROOT / "bundles").glob("*.json"):
        assert (folder / "bundles" / committed.name).read_bytes() == committed.read_bytes()
    assert "not checked" not in output("fhir-case validate bundles/*.json").stdout
    # the local server, named by --server local
    assert output("fhir-case server start").stdout == f"{base_url}\n"
    first = output("fhir-case upload --server local")
    assert f"Patient/{CASE_PATIENT} is on {base_url}" in first.stdout
    assert f"fhir-case view --server local --patient {CASE_PATIENT}" in first.stdout
    entries = len(json.loads(CASE.read_text(encoding="utf-8"))["entry"])
    assert _counts(output("fhir-case upload --server local", 1).stdout)["unchanged"] == entries
    page = next(c for c in commands if c.startswith("fhir-case view --server local"))
    html = folder / shlex.split(page)[-1]
    assert "10.3389/fonc.2024.1399021" in html.read_text(encoding="utf-8")
    assert f"deleted {entries} resources" in output("fhir-case delete --server local").stdout
    assert "fhir-case server stop" in commands
    # export: a SUSHI project, and NDJSON that validates file by file
    assert (folder / "fsh" / "sushi-config.yaml").is_file()
    lines = output("fhir-case validate bulk/").stdout.splitlines()
    summaries = [line for line in lines if re.match(r"bulk/\w+\.ndjson: \d+ resources?, ", line)]
    assert len(summaries) == len(list((folder / "bulk").glob("*.ndjson")))
    assert all(", 0 errors, 0 warnings, " in line for line in summaries)
    status = subprocess.run(
        [sys.executable, "-m", "fhir_case", "server", "status"], env=env, check=False
    )
    assert status.returncode == 3  # stopped


def _counts(upload_output: str) -> dict[str, int]:
    """The upload summary's columns for the case's transaction bundle."""
    lines = upload_output.splitlines()
    header = next(line for line in lines if "unchanged" in line).split()
    row = next(line for line in lines if line.startswith("mpnst-chen-2024.transaction")).split()
    return {
        name: int(value)
        for name, value in zip(header[1:], row[1:], strict=False)
        if value.isdigit()
    }


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if p.name != "README.md" and any(b.marker == "tested" for b in blocks(p))],
    ids=lambda p: p.name,
)
def test_each_page_of_the_docs_runs(page: Path, project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    assert run_page(page, folder, env)


def test_the_quick_start_builds_from_a_copy_of_the_project(tmp_path: Path) -> None:
    """``scripts/build`` from a copy of the project (its files as git knows them), with
    ``../shared`` beside it and an empty home: the committed bundles, byte for byte."""
    (quick_start,) = code_blocks("quick-start")
    commands = [shlex.split(c, comments=True) for c in quick_start.commands()]
    assert commands == [["scripts/build"], ["scripts/test"]]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()  # CI runs the second one

    copy = tmp_path / "project"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    (tmp_path / "shared").symlink_to(SHARED, True)
    shutil.rmtree(copy / "bundles")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "FHIR_PACKAGE_CACHE": str(tmp_path / "packages"),
    }
    result = subprocess.run(
        ["bash", "scripts/build"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not checked" not in result.stdout  # every layer ran: the packages were installed
    for committed in (ROOT / "bundles").glob("*.json"):
        assert (copy / "bundles" / committed.name).read_bytes() == committed.read_bytes()


def test_the_docs_name_the_pinned_server_version() -> None:
    from fhir_case.localserver import SEKMET_VERSION

    named = {
        (page.name, version)
        for page in PAGES
        for version in re.findall(
            r"sekmet-fhir[ =]=?([0-9][0-9.]*[0-9])", page.read_text(encoding="utf-8")
        )
    }
    assert named, "the docs name the server's version"
    assert {version for _, version in named} == {SEKMET_VERSION}, named
