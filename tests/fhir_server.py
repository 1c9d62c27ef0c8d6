"""A real FHIR R4 server for the tests: sekmet-fhir, started in its own virtual environment.

scripts/test installs ``sekmet-fhir`` into ``.test-env/sekmet`` (it pins its own FastAPI and
fhir.resources, so it cannot share the project's venv). :class:`SekmetServer` starts one on
127.0.0.1 with a free port, a fresh data folder and the workflow simulator off, and waits for
``/metadata``, with the same configuration and start-up as ``fhir-case server start``
(:mod:`fhir_case.localserver`). The session fixture ``fhir_server_url`` (registered in
tests/conftest.py) yields its base URL, or the URL in ``$FHIR_TEST_SERVER`` to run the same
tests against another server.

Reusable beyond the upload tests: import :class:`SekmetServer` or use the fixture.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fhir_case.errors import LocalServerError
from fhir_case.localserver import SEKMET_ENV, launch, sekmet_config, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
SEKMET = Path(os.environ.get(SEKMET_ENV, ROOT / ".test-env" / "sekmet" / "bin" / "sekmet"))
TEST_SERVER_ENV = "FHIR_TEST_SERVER"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SekmetServer:
    """One sekmet-fhir process; a context manager that stops it (and its children) on exit."""

    def __init__(
        self,
        workdir: Path,
        *,
        bearer_tokens: tuple[str, ...] = (),
        basic_users: dict[str, str] | None = None,
        tls: bool = False,
        absolute_references: bool = False,
    ) -> None:
        if not SEKMET.exists():
            pytest.fail(
                f"the test FHIR server is not installed at {SEKMET}; run scripts/test, which "
                f"installs sekmet-fhir there (or set {TEST_SERVER_ENV}=URL to use another server)"
            )
        self.port = free_port()
        self.tls = tls
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/fhir"
        self.workdir = workdir
        self.log_path = workdir / "sekmet.log"
        config = sekmet_config(self.base_url, self.port, workdir / "data")
        if absolute_references:  # answer [base]/Type/id, as some servers (e.g. Firely) do
            config["server_behaviour"] = {"absolute_references": True}
        if bearer_tokens or basic_users:  # then every request needs credentials
            config["server_auth"] = {
                "types": ["bearer", "basic"],
                "tokens": list(bearer_tokens),
                "users": dict(basic_users or {}),
            }
        if tls:  # a self-signed certificate, which no client trusts unless told to
            subprocess.run(
                [str(SEKMET), "keys", "tls-cert", "--out", str(workdir / "tls"), "127.0.0.1"],
                check=True,
                capture_output=True,
            )
            config["tls_certfile"] = str(workdir / "tls.crt")
            config["tls_keyfile"] = str(workdir / "tls.key")
        self.config_path = workdir / "sekmet.yaml"
        self.config_path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SekmetServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._process = launch(SEKMET, self.config_path, self.log_path, self.workdir)
        try:  # a TLS server's own self-signed certificate is not verified
            wait_until_answering(
                self._process, self.base_url, self.log_path, verify_tls=not self.tls
            )
        except LocalServerError as error:
            self.stop()
            pytest.fail(str(error))

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)


@pytest.fixture(scope="session")
def fhir_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real FHIR R4 server: $FHIR_TEST_SERVER, or a sekmet started for the session."""
    external = os.environ.get(TEST_SERVER_ENV)
    if external:
        yield external.rstrip("/")
        return
    with SekmetServer(tmp_path_factory.mktemp("sekmet")) as server:
        yield server.base_url
