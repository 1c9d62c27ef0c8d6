"""``fhir-case server``: a real local FHIR server (sekmet-fhir) started, named ``local``, stopped.

Most tests use the sekmet that scripts/test installed (``$FHIR_CASE_SEKMET``); one installs it
from PyPI into its own environment, as a first ``fhir-case server start`` does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fhir_case.localserver import DEFAULT_PORT, SEKMET_VERSION, answers
from fhir_case.upload.settings import resolve_server
from tests.fhir_server import SEKMET, free_port
from tests.helpers import ROOT, run_cli

Env = dict[str, str]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """An environment whose local server lives in tmp_path, on a free port; the server is
    stopped after the test whatever happened."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "FHIR_CASE_DATA": str(tmp_path / "data"),
        "FHIR_CASE_SEKMET": str(SEKMET),
        "FHIR_CASE_SERVER_PORT": str(free_port()),
    }
    yield environment
    server(environment, "stop")


def server(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("server", *args, env=env)


def fhir_case(env: Env, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, cwd=cwd)


def state(env: Env) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (Path(env["FHIR_CASE_DATA"]) / "server" / "server.json").read_text()
    )
    return loaded


def entries(bundle: Path) -> int:
    return len(json.loads(bundle.read_text(encoding="utf-8"))["entry"])


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for init to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_start_prints_the_base_url_status_knows_it_and_stop_ends_it(env: Env) -> None:
    started = server(env, "start")
    assert started.returncode == 0, started.stderr
    base_url = f"http://127.0.0.1:{env['FHIR_CASE_SERVER_PORT']}/fhir"
    assert started.stdout == f"{base_url}\n"
    assert f"started sekmet-fhir at {base_url}" in started.stderr
    assert answers(base_url)
    pid = state(env)["pid"]
    assert isinstance(pid, int) and alive(pid)

    status = server(env, "status")
    assert (status.returncode, status.stdout.split()[:2]) == (0, ["running:", base_url])
    again = server(env, "start")  # a second start finds it running
    assert (again.returncode, again.stdout) == (0, f"{base_url}\n")
    assert "already running" in again.stderr

    stopped = server(env, "stop")
    assert stopped.stdout == f"stopped the local FHIR server at {base_url}\n"
    assert not alive(pid)
    assert not answers(base_url)
    status = server(env, "status")
    assert status.returncode == 3
    assert "no local FHIR server is running" in status.stdout
    assert server(env, "stop").stdout == "no local FHIR server is running\n"


def test_server_local_names_the_running_server(env: Env, tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    case = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"
    (bundles / case.name).write_bytes(case.read_bytes())

    before = fhir_case(env, "upload", "--server", "local", "--dry-run", cwd=tmp_path)
    assert "would POST http://localhost:8080/fhir" in before.stdout  # none of ours runs
    assert "no `fhir-case server start` server is running" in before.stderr

    assert server(env, "start").returncode == 0
    base_url = f"http://127.0.0.1:{env['FHIR_CASE_SERVER_PORT']}/fhir"
    uploaded = fhir_case(env, "upload", "--server", "local", cwd=tmp_path)
    assert uploaded.returncode == 0, uploaded.stderr
    assert f"Patient/f5ed8fd6-8a34-526f-bf54-a7855f1b7836 is on {base_url}" in uploaded.stdout
    deleted = fhir_case(env, "delete", "--server", "local", cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted {entries(case)} resources from {base_url}" in deleted.stdout


def test_data_are_kept_across_a_restart(env: Env, tmp_path: Path) -> None:
    case = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"
    assert server(env, "start").returncode == 0
    assert fhir_case(env, "upload", str(case), "--server", "local").returncode == 0
    assert server(env, "stop").returncode == 0
    assert server(env, "start").returncode == 0
    again = fhir_case(env, "upload", str(case), "--server", "local")
    assert again.returncode == 0, again.stderr
    row = next(line for line in again.stdout.splitlines() if line.startswith(case.name))
    count = str(entries(case))
    assert row.split()[1:6] == [count, "0", "0", count, "0"]  # entries, created, updated, unchanged


def test_a_port_in_use_is_refused_when_given_and_avoided_by_default(env: Env) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = server(env, "start", "--port", str(port))
        assert refused.returncode == 1
        assert f"port {port} on 127.0.0.1 is in use; choose another with --port N" in (
            refused.stderr
        )
        assert "Traceback" not in refused.stderr

    del env["FHIR_CASE_SERVER_PORT"]
    with socket.socket() as default:
        default.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            default.bind(("127.0.0.1", DEFAULT_PORT))
            default.listen()
        except OSError:
            pass  # something else holds 8080 already: the same situation
        started = server(env, "start")
        assert started.returncode == 0, started.stderr
        assert f"port {DEFAULT_PORT} is in use; the server takes port" in started.stderr
        assert started.stdout != f"http://127.0.0.1:{DEFAULT_PORT}/fhir\n"
        assert answers(started.stdout.strip())


def test_a_server_that_cannot_start_is_reported_with_its_log(env: Env, tmp_path: Path) -> None:
    program = tmp_path / "broken-sekmet"
    program.write_text("#!/bin/sh\necho 'sekmet: cannot open the database' >&2\nexit 4\n")
    program.chmod(0o755)
    env["FHIR_CASE_SEKMET"] = str(program)
    result = server(env, "start")
    assert result.returncode == 1
    assert "the FHIR server exited (status 4) before it answered" in result.stderr
    assert "sekmet: cannot open the database" in result.stderr
    assert not (Path(env["FHIR_CASE_DATA"]) / "server" / "server.json").exists()


def test_a_state_file_of_a_server_that_is_gone_is_cleared(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path(env["FHIR_CASE_DATA"]) / "server"
    home.mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = json.dumps({"pid": gone.pid, "base_url": "http://127.0.0.1:1/fhir"})
    (home / "server.json").write_text(stale)
    monkeypatch.setenv("FHIR_CASE_DATA", env["FHIR_CASE_DATA"])
    assert resolve_server("local") == "http://localhost:8080/fhir"
    assert not (home / "server.json").exists()
    (home / "server.json").write_text(stale)
    status = server(env, "status")
    assert status.returncode == 3
    assert not (home / "server.json").exists()


def test_a_missing_sekmet_program_is_named(env: Env, tmp_path: Path) -> None:
    env["FHIR_CASE_SEKMET"] = str(tmp_path / "nowhere" / "sekmet")
    result = server(env, "start")
    assert result.returncode == 1
    assert f"$FHIR_CASE_SEKMET names {tmp_path / 'nowhere' / 'sekmet'}, which does not exist" in (
        result.stderr
    )


def test_first_start_installs_the_pinned_server_from_pypi_into_its_own_environment(
    env: Env,
) -> None:
    del env["FHIR_CASE_SEKMET"]
    venv = Path(env["FHIR_CASE_DATA"]) / "server" / f"sekmet-{SEKMET_VERSION}"
    venv.mkdir(parents=True)
    (venv / "left-by-an-interrupted-install").write_text("")
    started = server(env, "start")
    assert started.returncode == 0, started.stderr
    assert f"installing sekmet-fhir {SEKMET_VERSION} from PyPI into {venv}" in started.stderr
    assert not (venv / "left-by-an-interrupted-install").exists()  # redone from scratch
    assert answers(started.stdout.strip())
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "show", "sekmet-fhir"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"Version: {SEKMET_VERSION}" in version.stdout.splitlines()
    assert state(env)["program"] == str(venv / "bin" / "sekmet")
    installed = server(env, "install")  # already there: nothing to do
    assert installed.returncode == 0
    assert "installing" not in installed.stderr
