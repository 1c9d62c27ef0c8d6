"""Fixtures for the package tests: a local package registry served over HTTP."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_packages(shared_dir: Path) -> Path:
    return shared_dir / "fhir" / "packages"


@pytest.fixture(scope="session")
def local_registry(
    shared_packages: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 laid out like packages.fhir.org: GET /<name>/<version>."""
    root = tmp_path_factory.mktemp("registry")
    for tgz in shared_packages.glob("*.tgz"):
        name, _, version = tgz.name.removesuffix(".tgz").rpartition("-")
        (root / name).mkdir(exist_ok=True)
        shutil.copyfile(tgz, root / name / version)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
