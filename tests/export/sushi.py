"""SUSHI (npm ``fsh-sushi``, installed by scripts/test into ``.test-env/sushi``), run offline.

SUSHI reads FHIR packages from ``~/.fhir/packages`` (``os.homedir()``, i.e. ``$HOME``): each run
gets a fresh home whose package cache is the test session's (``fhir_package_cache``, built from
../shared/fhir/packages). SUSHI also goes to the network on its own, whatever the project says:

- it asks the npm registry for its latest version (``npm view fsh-sushi version``, then an HTTPS
  GET of registry.npmjs.org) to print an upgrade notice;
- it loads "automatic dependencies" at version ``latest`` (``hl7.fhir.uv.tools.r4``,
  ``hl7.terminology.r4``, ``hl7.fhir.uv.extensions.r4``), asking a FHIR package registry which
  version that is; no setting turns this off.

So every way out is pointed at :class:`BlackHole`, a server on 127.0.0.1 that answers every
request with 404 (and every proxy tunnel with 403) and records it: ``FPL_REGISTRY`` (the FHIR
package registry), ``npm_config_registry`` with ``npm_config_offline`` (npm), ``HTTPS_PROXY``
and ``HTTP_PROXY`` (every other HTTP request, which goes through the proxy). SUSHI then warns
that it could not load the automatic dependencies and goes on with the configured packages;
the result depends on nothing outside this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUSHI = Path(
    os.environ.get(
        "FHIR_CASE_SUSHI", ROOT / ".test-env" / "sushi" / "node_modules" / ".bin" / "sushi"
    )
)
TIMEOUT = 300.0


class BlackHole:
    """An HTTP server on 127.0.0.1 that refuses everything and remembers what was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        hole = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self, status: int) -> None:
                hole.requests.append(f"{self.command} {self.path}")
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._refuse(404)

            def do_HEAD(self) -> None:
                self._refuse(404)

            def do_CONNECT(self) -> None:
                self._refuse(403)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> BlackHole:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SushiResult:
    """What one SUSHI run gave: its output, and the compiled resources by ``Type/id``."""

    def __init__(self, output: str, resources: dict[str, dict[str, Any]], asked: list[str]):
        self.output = output
        self.resources = resources
        self.asked = asked  # the requests SUSHI tried to send out, all answered by BlackHole

    @property
    def errors(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith("error")]


def _home(package_cache: Path, folder: Path) -> Path:
    """A home folder whose FHIR package cache is ``package_cache``."""
    home = folder / "home"
    (home / ".fhir").mkdir(parents=True)
    (home / ".fhir" / "packages").symlink_to(package_cache, target_is_directory=True)
    return home


def run_sushi(project: Path, package_cache: Path, scratch: Path) -> SushiResult:
    """``sushi build PROJECT`` offline, with the FHIR packages of ``package_cache``."""
    if not SUSHI.exists():
        pytest.fail(f"SUSHI is not installed at {SUSHI}; run scripts/test, which installs it")
    home = _home(package_cache, scratch)
    with BlackHole() as hole:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "FPL_REGISTRY": hole.url,
            "npm_config_registry": hole.url + "/",
            "npm_config_offline": "true",
            "npm_config_update_notifier": "false",
            "npm_config_cache": str(scratch / "npm-cache"),
            "HTTPS_PROXY": hole.url,
            "HTTP_PROXY": hole.url,
            "NO_PROXY": "127.0.0.1",
        }
        done = subprocess.run(
            [str(SUSHI), "build", str(project)],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        asked = list(hole.requests)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"sushi build failed (exit {done.returncode}):\n{output[-6000:]}")
    compiled = {}
    for path in sorted((project / "fsh-generated" / "resources").glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        compiled[f"{resource['resourceType']}/{resource['id']}"] = resource
    return SushiResult(output, compiled, asked)
