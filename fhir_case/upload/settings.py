"""The one settings object of an upload: which server, how to authenticate, how long to try.

Secrets live in :class:`Secret`, whose ``str`` and ``repr`` never show the value, so that no
message, log line or exception built from these objects can leak a token or password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from fhir_case.errors import UsageError

# Named servers: the public HAPI R4 test server (the default) and a local one: the server of
# ``fhir-case server start`` while it runs, else this URL (HAPI FHIR in Docker serves it).
NAMED_SERVERS = {
    "hapi-r4": "https://hapi.fhir.org/baseR4",
    "local": "http://localhost:8080/fhir",
}
LOCAL = "local"
DEFAULT_SERVER = "hapi-r4"
# Hosts whose data anyone can read: uploading there prints a one-line notice.
PUBLIC_TEST_HOSTS = frozenset({"hapi.fhir.org", "server.fire.ly", "r4.smarthealthit.org"})
TOKEN_ENV = "FHIR_CASE_TOKEN"
PASSWORD_ENV = "FHIR_CASE_PASSWORD"


class Mode(StrEnum):
    """How entries are written so that uploading again creates no duplicates."""

    PUT = "put"  # update-as-create: PUT Type/<id> with the builder's deterministic ids
    CONDITIONAL = "conditional"  # POST with ifNoneExist on the resource's business identifier
    # POST: the server assigns ids (for servers where PUT cannot create); ifNoneExist where there
    # is an identifier. Not idempotent for resources without one: not retried after a lost answer.
    CREATE = "create"


class Secret:
    """A credential. ``str()`` and ``repr()`` are redacted; only :meth:`reveal` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class BearerAuth:
    token: Secret


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: Secret


Auth = BearerAuth | BasicAuth | None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring Retry-After, within a bounded total time."""

    total_seconds: float = 60.0  # no request (all its attempts and waits) takes longer than this
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_attempts: int = 8
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class ServerSettings:
    """Everything the client needs to talk to one FHIR server."""

    base_url: str
    auth: Auth = None
    verify_tls: bool = True
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def display_url(self) -> str:
        """The base URL with any user:password@ removed, for messages."""
        return redact_url(self.base_url)

    @property
    def is_public_test_server(self) -> bool:
        return (urlsplit(self.base_url).hostname or "") in PUBLIC_TEST_HOSTS


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve_server(name_or_url: str) -> str:
    """A named server's base URL, or the given http(s) URL without a trailing slash."""
    if name_or_url == LOCAL:
        from fhir_case.localserver import running_base_url

        return running_base_url() or NAMED_SERVERS[LOCAL]
    if name_or_url in NAMED_SERVERS:
        return NAMED_SERVERS[name_or_url]
    parts = urlsplit(name_or_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        names = ", ".join(NAMED_SERVERS)
        raise UsageError(
            f"--server {redact_url(name_or_url)!r} is neither a known server name ({names}) nor "
            "an http(s) base URL such as https://example.org/fhir"
        )
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "--server must not carry credentials in the URL; use --token-file, "
            f"${TOKEN_ENV}, or --basic-user with ${PASSWORD_ENV}"
        )
    return name_or_url.rstrip("/")


def read_secret_file(path: Path, what: str) -> Secret:
    """The first line of a file holding a credential."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the {what} file {path}: {error.strerror}") from None
    value = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not value:
        raise UsageError(f"the {what} file {path} is empty; put the {what} on its first line")
    return Secret(value)


def auth_from_options(
    token_file: Path | None, basic_user: str | None, environ: dict[str, str] | None = None
) -> Auth:
    """Bearer token from --token-file or $FHIR_CASE_TOKEN; basic auth from --basic-user and
    $FHIR_CASE_PASSWORD. Giving both kinds is an error."""
    env = dict(os.environ) if environ is None else environ
    token: Secret | None = None
    if token_file is not None:
        token = read_secret_file(token_file, "token")
    elif env.get(TOKEN_ENV, "").strip():
        token = Secret(env[TOKEN_ENV].strip())
    if basic_user is not None:
        if token is not None:
            raise UsageError(
                f"give either a bearer token (--token-file or ${TOKEN_ENV}) or --basic-user, "
                "not both"
            )
        password = env.get(PASSWORD_ENV, "")
        if not password:
            raise UsageError(
                f"--basic-user needs the password in the environment variable {PASSWORD_ENV}"
            )
        return BasicAuth(basic_user, Secret(password))
    return BearerAuth(token) if token is not None else None
