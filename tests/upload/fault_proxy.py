"""A real TCP proxy on 127.0.0.1 in front of a real FHIR server, injecting the faults that a
real server cannot be made to produce: 503/429 with Retry-After, a connection reset in the
middle of a response (after the server has done the work), a connection dropped before the
server saw the request, an answer trickled one byte at a time or never ending, redirects, and
rewritten requests or answers (a server that treats a transaction as a batch, or whose
CapabilityStatement says something else).

Each connection carries one request (the proxy asks the server for ``Connection: close``).
Every request that reaches the proxy is recorded, faulted or not.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Fault:
    """What to do to the next ``times`` requests that ``when`` selects."""

    kind: str  # "status": answer `status` without asking the server; "reset": forward, then
    # send half of the server's answer and reset the connection; "alter": forward, then apply
    # `replace` to the answer's body (a server that changes data behind the client's back);
    # "alter-request": apply `replace` to the request body before forwarding it, and
    # `replace_answer` to the answer's body; "drop": close the connection without forwarding;
    # "trickle": forward, then send the answer one byte every `interval` seconds; "endless":
    # answer 200 with a chunked body that never ends; "redirect": answer `status` with
    # Location: `location` (relative to the proxy)
    when: Callable[[SeenRequest], bool]
    times: int = 1
    skip: int = 0  # let this many matching requests through first
    status: int = 503
    retry_after: str | None = None
    replace: tuple[bytes, bytes] = (b"", b"")
    replace_answer: tuple[bytes, bytes] = (b"", b"")
    interval: float = 0.2
    location: str = ""


REASONS = {
    302: "Found",
    307: "Temporary Redirect",
    404: "Not Found",
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
ENDLESS_SECONDS = 120  # an endless answer still stops some time, so that no thread lingers


class FaultProxy:
    def __init__(self, upstream_base_url: str) -> None:
        upstream = urlsplit(upstream_base_url)
        self._upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}{upstream.path}"
        self.seen: list[SeenRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._closed = False

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self._listener.close()
        self._thread.join(timeout=5)

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, request: SeenRequest) -> Fault | None:
        with self._lock:
            self.seen.append(request)
            for fault in self._faults:
                if fault.times > 0 and fault.when(request):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client:
            raw = _read_request(client)
            if raw is None:
                return
            head, body = raw
            request = _parse(head, body)
            fault = self._take_fault(request)
            if fault is not None and fault.kind == "drop":
                return
            if fault is not None and fault.kind == "endless":
                _endless(client)
                return
            if fault is not None and fault.kind in ("status", "redirect"):
                extra = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after else ""
                if fault.kind == "redirect":
                    extra += f"Location: {fault.location}\r\n"
                reason = REASONS.get(fault.status, "Fault")
                client.sendall(
                    f"HTTP/1.1 {fault.status} {reason}\r\n{extra}"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
                )
                return
            if fault is not None and fault.kind == "alter-request":
                body = body.replace(*fault.replace)
                head = _with_length(head, len(body))
            answer = self._forward(_close_after(head), body)
            if fault is not None and fault.kind == "alter":
                answer = _altered(answer, *fault.replace)
            if fault is not None and fault.kind == "alter-request":
                answer = _altered(answer, *fault.replace_answer)
            if fault is not None and fault.kind == "trickle":
                with contextlib.suppress(OSError):
                    for byte in answer:
                        client.sendall(bytes([byte]))
                        time.sleep(fault.interval)
                return
            if fault is not None and fault.kind == "reset":
                client.sendall(answer[: len(answer) // 2])
                # SO_LINGER 0: close() sends a TCP RST instead of an orderly FIN.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
                return
            client.sendall(answer)

    def _forward(self, head: bytes, body: bytes) -> bytes:
        with socket.create_connection(self._upstream, timeout=60) as upstream:
            upstream.sendall(head + body)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _endless(client: socket.socket) -> None:
    """A 200 answer whose chunked body never ends (until the client goes, or a long while)."""
    stop = time.monotonic() + ENDLESS_SECONDS
    chunk = b"x" * 65536
    with contextlib.suppress(OSError):
        client.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        start = b'{"resourceType":"Bundle","entry":["'
        client.sendall(b"10000\r\n" + start + chunk[len(start) :] + b"\r\n")
        while time.monotonic() < stop:
            client.sendall(b"10000\r\n" + chunk + b"\r\n")


def _with_length(head: bytes, length: int) -> bytes:
    lines = [
        line
        for line in head.rstrip(b"\r\n").split(b"\r\n")
        if not line.lower().startswith(b"content-length:")
    ]
    return b"\r\n".join([*lines, b"Content-Length: " + str(length).encode()]) + b"\r\n\r\n"


def _read_request(sock: socket.socket) -> tuple[bytes, bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n", body


def _parse(head: bytes, body: bytes) -> SeenRequest:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return SeenRequest(method, path, headers, body)


def _close_after(head: bytes) -> bytes:
    """The request head with ``Connection: close``, so the server ends its answer with EOF."""
    lines = [
        line
        for line in head.rstrip(b"\r\n").split(b"\r\n")
        if not line.lower().startswith(b"connection:")
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


def _altered(answer: bytes, old: bytes, new: bytes) -> bytes:
    """The answer with ``old`` replaced by ``new`` in its body and Content-Length to match."""
    head, _, body = answer.partition(b"\r\n\r\n")
    body = body.replace(old, new)
    lines = [
        line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length:")
    ]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def is_batch(request: SeenRequest) -> bool:
    return request.method == "POST" and b'"type":"batch"' in request.body.replace(b" ", b"")


def is_transaction(request: SeenRequest) -> bool:
    return request.method == "POST" and b'"type":"transaction"' in request.body.replace(b" ", b"")
