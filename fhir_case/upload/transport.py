"""One HTTP exchange with a deadline that holds, used only by :class:`~fhir_case.upload.client.
FhirClient`.

``requests`` bounds each socket operation (connect, one read), not a whole exchange: a server
that sends a byte every few seconds, or an endless body, would hold a client forever. Here each
exchange has a total time limit, enforced by a watchdog that shuts the exchange's sockets down
when the time is up, and its answer a maximum size (:data:`MAX_RESPONSE_BYTES`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from typing import Any

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.connectionpool

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # the largest answer read from a server
CHUNK = 64 * 1024

_current = threading.local()  # the watchdog of the exchange running on this thread


class Watchdog:
    """Shuts down the sockets of one exchange when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.watchdog = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read at once (it sees the end)


def _watch(connection: Any) -> None:
    watchdog: Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(getattr(connection, "sock", None))


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self)  # a kept-alive connection was connected by an earlier exchange
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections report their sockets to the running exchange's watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class TooLarge(Exception):
    """The answer is larger than MAX_RESPONSE_BYTES."""


@dataclass
class Exchange:
    """The answer of one exchange, read whole."""

    response: requests.Response
    body: bytes


def read_body(response: requests.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The whole body of a streamed response, at most ``limit`` bytes (TooLarge beyond)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise TooLarge
        chunks.append(chunk)
    body = b"".join(chunks)
    response._content = body  # requests' own field: .content and .json() now read this
    return body
