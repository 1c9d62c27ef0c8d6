"""FhirClient: the one place that sends HTTP requests to a FHIR server.

Every request goes through :meth:`FhirClient.request`, which

- sends and accepts ``application/fhir+json`` over one ``requests.Session`` with connect and read
  timeouts, TLS verification unless the settings turn it off, and the configured auth;
- retries connection failures and 429/502/503/504 with exponential backoff and full jitter,
  honouring ``Retry-After``, but only for requests that are safe to repeat, and never past the
  policy's total time;
- maps every other failure to the typed errors of :mod:`fhir_case.errors`, with the server's
  OperationOutcome parsed into the message. Credentials never appear in any message or log line.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import requests.auth
import urllib3

from fhir_case import __version__
from fhir_case.errors import (
    AuthenticationError,
    FhirServerError,
    RedirectError,
    RequestRejectedError,
    ResourceNotFoundError,
    ServerFaultError,
    ServerUnavailableError,
    ServerUnreachableError,
    UsageError,
)
from fhir_case.safeinput import mb, parse_json
from fhir_case.upload.outcome import OutcomeIssue, parse_outcome, summarize
from fhir_case.upload.prepare import is_id, is_resource_type
from fhir_case.upload.settings import Auth, BasicAuth, BearerAuth, ServerSettings
from fhir_case.upload.transport import (
    MAX_RESPONSE_BYTES,
    TooLarge,
    Watchdog,
    WatchedAdapter,
    read_body,
)

log = logging.getLogger("fhir_case.upload")

FHIR_JSON = "application/fhir+json"
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_PAGES = 1000
MAX_REDIRECTS = 5
UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\#%]")


class _TransportFailure(Exception):
    """One attempt got no usable answer; ``retry``: whether another attempt could fare better."""

    def __init__(self, description: str, *, retry: bool = True) -> None:
        super().__init__(description)
        self.retry = retry


@dataclass(frozen=True)
class FhirResponse:
    status: int
    body: Any  # parsed JSON, or None for an empty body
    headers: Mapping[str, str]


class _AuthHeader(requests.auth.AuthBase):
    """Adds the Authorization header; its repr shows no secret."""

    def __init__(self, auth: Auth) -> None:
        self._auth = auth

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if isinstance(self._auth, BearerAuth):
            request.headers["Authorization"] = f"Bearer {self._auth.token.reveal()}"
        elif isinstance(self._auth, BasicAuth):
            basic = requests.auth._basic_auth_str(self._auth.username, self._auth.password.reveal())
            request.headers["Authorization"] = basic
        return request

    def __repr__(self) -> str:
        return f"<auth {type(self._auth).__name__} redacted>"


class FhirClient:
    """A FHIR R4 REST client over one session. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        settings: ServerSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.request_count = 0  # HTTP requests sent, retries included
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._session = requests.Session()
        self._session.headers.update(
            {
                "Accept": FHIR_JSON,
                "Content-Type": f"{FHIR_JSON}; charset=utf-8",
                "User-Agent": f"fhir-case/{__version__}",
            }
        )
        adapter = WatchedAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.verify = settings.verify_tls
        self._session.trust_env = False  # no credentials from ~/.netrc, no proxy surprises
        if settings.auth is not None:
            self._session.auth = _AuthHeader(settings.auth)

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # ---------------- the choke point ----------------

    def request(
        self,
        method: str,
        path: str = "",
        *,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> FhirResponse:
        """Send one request (retrying where safe) and return the parsed answer, or raise.

        ``path`` is relative to the base URL, or an absolute URL the server gave (paging links).
        ``idempotent`` defaults to the method's own safety; a transaction is safe to repeat only
        when every entry is (the caller knows)."""
        method = method.upper()
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        url = self._url(path)
        what = f"{method} {self._display(url)}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        policy = self.settings.retry
        started = self._clock()
        deadline = started + policy.total_seconds
        attempt = 0
        while True:
            attempt += 1
            remaining = max(deadline - self._clock(), 0.1)
            self.request_count += 1
            try:
                raw = self._exchange(method, url, params, data, remaining, what)
            except _TransportFailure as failed:
                if not failed.retry:
                    raise ServerUnreachableError(f"{what}: {failed}") from None
                if not safe:
                    raise ServerUnreachableError(
                        f"{what}: {failed}. Not retried: the request is not safe to repeat "
                        "(it could be applied twice)."
                    ) from None
                failure = str(failed)
                hinted = None
                response = None
            else:
                log.debug("%s -> %s (attempt %d)", what, raw.status_code, attempt)
                if not (safe and raw.status_code in policy.retry_statuses):
                    return self._answer(raw, what)
                failure = f"{raw.status_code} {raw.reason}"
                hinted = _retry_after(raw.headers.get("Retry-After"))
                response = raw
            remaining = deadline - self._clock()
            if attempt >= policy.max_attempts or remaining <= 0 or (hinted or 0) > remaining:
                raise self._gave_up(what, failure, response, attempt, started, hinted, remaining)
            wait = min(hinted if hinted is not None else self._backoff(attempt), remaining)
            log.info("%s: %s; retrying in %.1f s (attempt %d)", what, failure, wait, attempt + 1)
            self._sleep(wait)

    def _gave_up(
        self,
        what: str,
        failure: str,
        response: requests.Response | None,
        attempt: int,
        started: float,
        hinted: float | None,
        remaining: float,
    ) -> FhirServerError:
        elapsed = self._clock() - started
        limit = self.settings.retry.total_seconds
        gave_up = (
            f"gave up after {attempt} attempt{'s' if attempt > 1 else ''} in {elapsed:.1f} s "
            f"(retry time limit {limit:g} s, --retry-time)"
        )
        if response is None:
            return ServerUnreachableError(
                f"{what}: {failure}; {gave_up}. Check that the server is running and that "
                "--server names the right base URL."
            )
        status = f"{response.status_code} {response.reason}"
        if hinted is not None and hinted > remaining:
            header = response.headers.get("Retry-After", "")
            message = (
                f"{what}: the server is busy ({status}) and asked to wait {hinted:g} s "
                f"(Retry-After: {header}), longer than the {max(remaining, 0):.0f} s left of "
                f"--retry-time {limit:g} s; {gave_up}. Try again later, or give a longer "
                "--retry-time"
            )
        else:
            message = (
                f"{what}: the server stayed unavailable ({status}) for {elapsed:.1f} s; "
                f"{gave_up}. Try again later, or give a longer --retry-time"
            )
        issues = _outcome_issues(response)
        detail = summarize(issues)
        return ServerUnavailableError(
            f"{message}\n{detail}" if detail else message,
            status=response.status_code,
            issues=issues,
            retry_after=hinted,
        )

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | list[tuple[str, str]] | None,
        data: bytes | None,
        remaining: float,
        what: str,
    ) -> requests.Response:
        """One attempt: the request, redirects on this server, and the whole answer, all within
        ``min(--timeout, the retry time left)``; _TransportFailure when it fails."""
        limit = min(self.settings.read_timeout, remaining)
        which = "--timeout" if limit == self.settings.read_timeout else "--retry-time"
        timeout = (min(self.settings.connect_timeout, limit), limit)
        seen = [url]
        with Watchdog(limit) as watchdog:
            try:
                while True:
                    raw = self._send(method, url, params, data, timeout)
                    target = self._redirect_target(raw, method, url, seen)
                    if target is None:
                        read_body(raw)
                        break
                    raw.close()
                    seen.append(target)
                    url, params = target, None
            except TooLarge:
                raise FhirServerError(
                    f"{what}: the server's answer is larger than {mb(MAX_RESPONSE_BYTES)} "
                    "(limit MAX_RESPONSE_BYTES, see docs/limits.md); stopped reading it"
                ) from None
            except requests.exceptions.SSLError as error:
                raise _TransportFailure(_describe(error, limit), retry=False) from None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                if not watchdog.fired:
                    raise _TransportFailure(_describe(error, limit)) from None
            if watchdog.fired:  # a cut-off answer can look complete: the time decides
                raise _TransportFailure(
                    f"no complete answer within {limit:.1f} s ({which}); the server was too slow "
                    "or still sending"
                )
        return raw

    def _redirect_target(
        self, raw: requests.Response, method: str, url: str, seen: list[str]
    ) -> str | None:
        """Where a redirect leads, when it may be followed; RedirectError when it may not."""
        location = raw.headers.get("Location")
        if not (300 <= raw.status_code < 400 and location):
            return None
        target = urljoin(url, location)
        status = f"{raw.status_code} {raw.reason}"
        if target in seen:
            hops = " -> ".join(self._display(u) for u in [*seen[seen.index(target) :], target])
            raise RedirectError(
                f"{method} {self._display(seen[0])}: the server redirects in a loop ({hops}); "
                "fix the server's configuration or give --server the server's real base URL"
            )
        if len(seen) > MAX_REDIRECTS:
            raise RedirectError(
                f"{method} {self._display(seen[0])}: more than {MAX_REDIRECTS} redirects; give "
                "--server the server's real base URL"
            )
        ours, theirs = urlsplit(self.base_url), urlsplit(target)
        if (ours.scheme, ours.netloc) != (theirs.scheme, theirs.netloc):
            raise RedirectError(
                f"{method} {self._display(url)}: the server redirects ({status}) to "
                f"{self._display(target)}, another origin; fhir-case sends requests (and "
                "credentials) only to --server: give --server that base URL"
            )
        if method not in ("GET", "HEAD") and raw.status_code not in (307, 308):
            raise RedirectError(
                f"{method} {self._display(url)}: the server redirects ({status}) to "
                f"{self._display(target)}, which would turn the {method} into a GET; give "
                "--server the URL it redirects to"
            )
        return target

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | list[tuple[str, str]] | None,
        data: bytes | None,
        timeout: tuple[float, float],
    ) -> requests.Response:
        with warnings.catch_warnings():
            # Unverified TLS was asked for explicitly (and announced once by the CLI): no
            # warning on every request.
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return self._session.request(
                method,
                url,
                params=params,
                data=data,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )

    def _backoff(self, attempt: int) -> float:
        policy = self.settings.retry
        return self._rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))

    def _url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            route = path.split("?", 1)[0]
            if UNSAFE_PATH.search(route) or any(s in (".", "..") for s in route.split("/")):
                raise UsageError(
                    f"refusing to send a request to {path!r}: that path would leave the FHIR "
                    "base URL or change the request (a '..', a space, a control character)"
                )
            return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        # An absolute URL from the server (a paging link). Servers behind proxies often name
        # themselves differently, so keep its path and query but always talk to our own origin:
        # credentials are never sent anywhere else.
        ours, theirs = urlsplit(self.base_url), urlsplit(path)
        return urlunsplit((ours.scheme, ours.netloc, theirs.path, theirs.query, ""))

    def _display(self, url: str) -> str:
        return url.split("?", 1)[0]

    def _answer(self, raw: requests.Response, what: str) -> FhirResponse:
        if raw.status_code >= 400:
            raise self._error(raw, what)
        return FhirResponse(raw.status_code, _json_body(raw, what), raw.headers)

    def _error(self, raw: requests.Response, what: str, suffix: str = "") -> FhirServerError:
        status = raw.status_code
        issues = _outcome_issues(raw)
        head = f"{what}: the server answered {status} {raw.reason}"
        if suffix:
            head += f" ({suffix})"
        detail = summarize(issues)
        message = f"{head}\n{detail}" if detail else head
        kind: type[FhirServerError]
        if status in (401, 403):
            kind = AuthenticationError
            message += (
                "\nCheck the credentials: --token-file, $FHIR_CASE_TOKEN, or --basic-user with "
                "$FHIR_CASE_PASSWORD."
            )
        elif status in (404, 410):
            kind = ResourceNotFoundError
        elif status < 500:
            kind = RequestRejectedError
        else:
            kind = ServerFaultError
        return kind(message, status=status, issues=issues)

    # ---------------- the read API ----------------

    def metadata(self) -> dict[str, Any]:
        """The server's CapabilityStatement."""
        return _resource(self.request("GET", "metadata").body, "CapabilityStatement", "metadata")

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        if not is_resource_type(resource_type) or not is_id(resource_id):
            raise UsageError(
                f"{resource_type}/{resource_id!r}: not a resource type and FHIR id (an id is 1-64 "
                "of A-Z a-z 0-9 - .); it would change the request's URL, so nothing was sent"
            )
        path = f"{resource_type}/{resource_id}"
        return _resource(self.request("GET", path).body, resource_type, path)

    def search(
        self, resource_type: str, params: Mapping[str, str] | list[tuple[str, str]] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The matching resources (search mode ``match``), following ``next`` links page by page."""
        yield from self._pages(self.request("GET", resource_type, params=params).body)

    def count(
        self, resource_type: str, params: Mapping[str, str] | list[tuple[str, str]] | None = None
    ) -> int:
        """How many resources match, by ``_summary=count``."""
        query = [
            *(params.items() if isinstance(params, Mapping) else params or []),
            ("_summary", "count"),
        ]
        bundle = self.request("GET", resource_type, params=query).body
        total = bundle.get("total") if isinstance(bundle, dict) else None
        if not isinstance(total, int):
            raise FhirServerError(
                f"GET {resource_type}?_summary=count: the answer has no Bundle.total"
            )
        return total

    def everything(self, patient_id: str) -> Iterator[dict[str, Any]]:
        """Patient/<id>/$everything, all pages."""
        yield from self._pages(self.request("GET", f"Patient/{patient_id}/$everything").body)

    def _pages(self, bundle: Any) -> Iterator[dict[str, Any]]:
        for _ in range(MAX_PAGES):
            if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
                raise FhirServerError("a search answered with something other than a Bundle")
            for entry in bundle.get("entry") or ():
                resource = entry.get("resource")
                mode = (entry.get("search") or {}).get("mode", "match")
                if isinstance(resource, dict) and mode == "match":
                    yield resource
            following = [
                link.get("url")
                for link in bundle.get("link") or ()
                if link.get("relation") == "next"
            ]
            if not following or not following[0]:
                return
            bundle = self.request("GET", following[0]).body
        raise FhirServerError(f"a search went on for more than {MAX_PAGES} pages; stopped")

    # ---------------- writes ----------------

    def transaction(self, bundle: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        """POST a transaction (or batch) Bundle to the base; the response Bundle."""
        expected = f"{bundle.get('type')}-response"
        answer = self.request("POST", "", body=bundle, idempotent=idempotent).body
        if not isinstance(answer, dict) or answer.get("resourceType") != "Bundle":
            raise FhirServerError(f"POST {self.settings.display_url}: the answer is not a Bundle")
        if answer.get("type") != expected:
            log.warning("expected a %s Bundle, got type %s", expected, answer.get("type"))
        return answer

    def validate(self, resource: dict[str, Any]) -> tuple[OutcomeIssue, ...]:
        """The server's verdict on one resource by ``$validate`` (stores nothing)."""
        path = f"{resource.get('resourceType')}/$validate"
        try:
            body = self.request("POST", path, body=resource, idempotent=True).body
        except RequestRejectedError as error:  # some servers answer 400/412/422 with the verdict
            return tuple(i for i in error.issues if isinstance(i, OutcomeIssue))
        return parse_outcome(body)


def _json_body(raw: requests.Response, what: str) -> Any:
    if not raw.content:
        return None
    text = raw.content.decode("utf-8", errors="replace")
    if text.lstrip()[:1] not in ("{", "["):
        kind = raw.headers.get("Content-Type", "no content type")
        raise FhirServerError(
            f"{what}: the answer is not JSON ({kind}); is this the base URL of a FHIR server?",
            status=raw.status_code,
        )
    try:
        return parse_json(text, f"{what}: the answer")
    except UsageError as error:
        raise FhirServerError(
            f"the server's answer cannot be read: {error}", status=raw.status_code
        ) from None


def _outcome_issues(raw: requests.Response) -> tuple[OutcomeIssue, ...]:
    """The OperationOutcome issues of an error answer, if it has any."""
    try:
        return parse_outcome(_json_body(raw, "")) if raw.content else ()
    except FhirServerError:
        return ()


def _resource(body: Any, resource_type: str, what: str) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        got = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        raise FhirServerError(f"GET {what}: expected a {resource_type}, got {got}")
    return body


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _describe(error: BaseException, limit: float) -> str:
    """A plain description of a transport failure (no URL internals, no class names)."""
    text = str(error).lower()
    if isinstance(error, requests.exceptions.SSLError):
        return (
            "TLS certificate verification failed; fix the server's certificate, or pass --insecure "
            "only for a server you trust"
        )
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"no answer within {limit:g} s"
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "the host name cannot be resolved"
    if isinstance(error, requests.exceptions.ChunkedEncodingError) or "incomplete" in text:
        return "the connection broke before the answer was complete"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text or "broken" in text:
        return "the connection was reset before the answer was complete"
    if isinstance(error, requests.exceptions.ContentDecodingError):
        return "the answer's compression is broken"
    reason = _os_reason(error)
    return f"the connection failed ({reason})" if reason else "the connection failed"


def _os_reason(error: BaseException | None) -> str:
    """The operating system's words for the innermost OSError behind ``error``, if any."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
        inner = [a for a in getattr(error, "args", ()) if isinstance(a, BaseException)]
        error = error.__cause__ or error.__context__ or (inner[0] if inner else None)
        seen += 1
    return ""
