"""A local FHIR R4 server for demos and offline use: sekmet-fhir, in its own environment.

``fhir-case server start`` runs the server the tests use, sekmet-fhir pinned to
:data:`SEKMET_VERSION`, on 127.0.0.1. It pins its own FastAPI and ``fhir.resources``, so it
lives in a virtual environment of its own, installed from PyPI on first use (or ahead of time
with ``fhir-case server install``); after that nothing needs the network. ``$FHIR_CASE_SEKMET``
names a ``sekmet`` program to use instead (the tests point it at ``.test-env/sekmet``).

Its files, under :func:`server_home`:

- ``sekmet-<version>/``: the virtual environment;
- ``data/``: what the server stores, kept across restarts;
- ``sekmet.yaml`` and ``sekmet.log``: its configuration and log;
- ``server.json``: the running server's process id and base URL, while it runs. The name
  ``local`` (``--server local``) reads it, so it follows the server to whatever port it got.

POSIX only (Linux, macOS): the server runs in a session of its own, stopped as a group.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhir_case.errors import LocalServerError
from fhir_case.fileio import write_atomic

SEKMET_PACKAGE = "sekmet-fhir"
SEKMET_VERSION = "0.1.1"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# What ``--server local`` means while no server of ours runs: a HAPI FHIR in Docker, say.
FALLBACK_URL = "http://localhost:8080/fhir"
DATA_ENV = "FHIR_CASE_DATA"
SEKMET_ENV = "FHIR_CASE_SEKMET"
PORT_ENV = "FHIR_CASE_SERVER_PORT"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
INSTALL_TIMEOUT = 1800.0
_INSTALLED_MARKER = "fhir-case-installed"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunningServer:
    """A local server started by :func:`start`."""

    pid: int
    base_url: str
    home: Path

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_path(self) -> Path:
        return _log_path(self.home)


def server_home() -> Path:
    """``$FHIR_CASE_DATA/server``, else ``$XDG_DATA_HOME/fhir-case/server``, else
    ``~/.local/share/fhir-case/server``."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser() / "server"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "fhir-case" / "server"


def running_base_url() -> str | None:
    """The base URL of the running local server (``--server local`` names it), or None."""
    server = running()
    return server.base_url if server else None


# ---------------- the server's process ----------------


def sekmet_config(base_url: str, port: int, data_dir: Path) -> dict[str, Any]:
    """A sekmet configuration: the FHIR server on 127.0.0.1, no simulated hospital traffic."""
    return {
        "base_url": base_url,
        "host": HOST,
        "port": port,
        "data_dir": str(data_dir),
        "simulator": {"enabled": False},
        "log_inbound": False,
    }


def launch(sekmet: Path, config: Path, log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``sekmet serve`` in a session of its own (so that it can be stopped as a group and
    outlives the command that started it), its output going to ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(sekmet), "serve", "-c", str(config)],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def answers(base_url: str, *, verify_tls: bool = True, timeout: float = 2.0) -> bool:
    """Whether ``[base]/metadata`` answers 200."""
    import ssl  # here: loading urllib.request takes a command's startup 30 ms
    import urllib.request

    context = None if verify_tls else ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(
            f"{base_url}/metadata", timeout=timeout, context=context
        ) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until_answering(
    process: subprocess.Popen[bytes],
    base_url: str,
    log: Path,
    *,
    timeout: float = START_TIMEOUT,
    verify_tls: bool = True,
) -> None:
    """Wait for the server's ``/metadata``; LocalServerError with its log if it exits or never
    answers (the caller stops it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalServerError(
                f"the FHIR server exited (status {process.returncode}) before it answered; "
                f"the end of its log {log}:\n{log_tail(log)}"
            )
        if answers(base_url, verify_tls=verify_tls):
            return
        time.sleep(0.1)
    raise LocalServerError(
        f"the FHIR server did not answer {base_url}/metadata within {timeout:g} s; "
        f"the end of its log {log}:\n{log_tail(log)}"
    )


def log_tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


# ---------------- start, stop, status ----------------


def start(
    port: int | None = None, *, home: Path | None = None, progress: Progress | None = None
) -> tuple[RunningServer, bool]:
    """Start the local server (installing it first if need be): (the server, whether it was
    started now). A server already running is returned as it is.

    ``port`` None means ``$FHIR_CASE_SERVER_PORT``, else 8080, else (8080 taken) any free port.
    """
    _require_posix()
    home = home or server_home()
    current = running(home)
    if current is not None:
        return current, False
    sekmet = sekmet_program(home, progress)
    chosen = _choose_port(port, progress)
    base_url = f"http://{HOST}:{chosen}/fhir"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "sekmet.yaml"
    data = json.dumps(sekmet_config(base_url, chosen, home / "data"), indent=2)
    write_atomic(config, data.encode("utf-8"))  # JSON is YAML
    log = _log_path(home)
    process = launch(sekmet, config, log, home)
    try:
        wait_until_answering(process, base_url, log)
    except BaseException:  # never leave a server running that no state file names
        _stop_group(process.pid)
        raise
    server = RunningServer(process.pid, base_url, home)
    state = {"pid": server.pid, "base_url": base_url, "program": str(sekmet)}
    write_atomic(_state_path(home), json.dumps(state, indent=2).encode("utf-8"))
    return server, True


def stop(*, home: Path | None = None) -> RunningServer | None:
    """Stop the local server; the server that was stopped, or None when none was running."""
    home = home or server_home()
    server = running(home)
    if server is not None:
        _stop_group(server.pid)
        if _alive(server.pid):
            raise LocalServerError(f"the FHIR server (process {server.pid}) did not stop")
    _state_path(home).unlink(missing_ok=True)
    return server


def running(home: Path | None = None) -> RunningServer | None:
    """The local server, if one started by :func:`start` is still running (a state file left
    by a server that is gone is removed)."""
    path = _state_path(home or server_home())
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        server = RunningServer(int(state["pid"]), str(state["base_url"]), path.parent)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: no server can be found from it
        return None
    if not _alive(server.pid):
        path.unlink(missing_ok=True)
        return None
    return server


def _state_path(home: Path) -> Path:
    return home / "server.json"


def _log_path(home: Path) -> Path:
    return home / "sekmet.log"


def _require_posix() -> None:
    if os.name != "posix":
        raise LocalServerError(
            "the local server runs on Linux and macOS only; elsewhere run HAPI FHIR in Docker "
            "(docker run -p 8080:8080 hapiproject/hapi:latest) and use --server local"
        )


def _choose_port(port: int | None, progress: Progress | None) -> int:
    if port is None and os.environ.get(PORT_ENV):
        try:
            port = parse_port(os.environ[PORT_ENV])
        except ValueError as error:
            raise LocalServerError(f"${PORT_ENV}: {error}") from None
    if port is not None:
        if not _free(port):
            raise LocalServerError(
                f"port {port} on {HOST} is in use; choose another with --port N "
                "(or stop what uses it)"
            )
        return port
    if _free(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        free: int = probe.getsockname()[1]
    if progress is not None:
        progress(f"port {DEFAULT_PORT} is in use; the server takes port {free} instead")
    return free


def parse_port(text: str) -> int:
    """A TCP port number, or ValueError."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"expected a port number (1-65535), not {text!r}")
    return int(text)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs and is a sekmet (not another process that got its id)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, and it has ended
    except ChildProcessError:
        pass  # not our child: started by an earlier fhir-case command
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not ours
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return b"sekmet" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _stop_group(pid: int) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after a while."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


# ---------------- installing ----------------


def sekmet_program(home: Path | None = None, progress: Progress | None = None) -> Path:
    """The ``sekmet`` program: ``$FHIR_CASE_SEKMET``, else the installed one, else installed now."""
    override = os.environ.get(SEKMET_ENV)
    if override:
        program = Path(override).expanduser().absolute()  # it runs in another folder
        if not program.is_file():
            raise LocalServerError(
                f"${SEKMET_ENV} names {program}, which does not exist; unset it to let "
                f"fhir-case install {SEKMET_PACKAGE} {SEKMET_VERSION} on its own"
            )
        return program
    return install(home=home, progress=progress)


def install(*, home: Path | None = None, progress: Progress | None = None) -> Path:
    """Install sekmet-fhir (pinned) from PyPI into a virtual environment of its own, unless it
    is there already; returns its ``sekmet`` program. A half-finished install is redone."""
    venv = (home or server_home()) / f"sekmet-{SEKMET_VERSION}"
    program = venv / "bin" / "sekmet"
    if (venv / _INSTALLED_MARKER).is_file() and program.is_file():
        return program
    if venv.exists():
        shutil.rmtree(venv)
    if progress is not None:
        progress(
            f"installing {SEKMET_PACKAGE} {SEKMET_VERSION} from PyPI into {venv} "
            "(once; about 170 MB, a minute or so)"
        )
    venv.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [sys.executable, "-m", "venv", str(venv)],
        f"cannot create a virtual environment in {venv}",
        "install Python's venv module (Debian and Ubuntu: apt-get install python3-venv)",
    )
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{SEKMET_PACKAGE}=={SEKMET_VERSION}",
        ],
        f"pip could not install {SEKMET_PACKAGE} {SEKMET_VERSION}",
        "check that PyPI (or the index in your pip configuration) can be reached, or point "
        f"${SEKMET_ENV} at an installed sekmet program",
    )
    if not program.is_file():
        raise LocalServerError(f"{SEKMET_PACKAGE} was installed but {program} is missing")
    (venv / _INSTALLED_MARKER).write_text(f"{SEKMET_PACKAGE}=={SEKMET_VERSION}\n")
    return program


def _run(command: list[str], failure: str, fix: str) -> None:
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LocalServerError(f"{failure}: {error}. Fix: {fix}") from None
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise LocalServerError(f"{failure}:\n{output}\nFix: {fix}")
