"""The settings object: servers, credentials, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_case.errors import UsageError
from fhir_case.upload.client import FhirClient
from fhir_case.upload.settings import (
    BasicAuth,
    BearerAuth,
    Secret,
    ServerSettings,
    auth_from_options,
    resolve_server,
)


def test_named_and_given_servers() -> None:
    assert resolve_server("hapi-r4") == "https://hapi.fhir.org/baseR4"
    assert resolve_server("local") == "http://localhost:8080/fhir"
    assert resolve_server("https://example.org/fhir/") == "https://example.org/fhir"
    assert ServerSettings(resolve_server("hapi-r4")).is_public_test_server
    assert not ServerSettings(resolve_server("local")).is_public_test_server


@pytest.mark.parametrize("given", ["hapi", "ftp://example.org/fhir", "example.org/fhir"])
def test_unknown_server_is_a_usage_error(given: str) -> None:
    with pytest.raises(UsageError, match="neither a known server name"):
        resolve_server(given)


def test_credentials_in_the_url_are_refused_and_not_echoed() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_server("https://user:s3cret@example.org/fhir")
    assert "s3cret" not in str(caught.value)


def test_bearer_token_from_file_then_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("  from-file  \nsecond line\n")
    from_file = auth_from_options(token_file, None, {"FHIR_CASE_TOKEN": "from-env"})
    assert isinstance(from_file, BearerAuth) and from_file.token.reveal() == "from-file"
    from_env = auth_from_options(None, None, {"FHIR_CASE_TOKEN": "from-env"})
    assert isinstance(from_env, BearerAuth) and from_env.token.reveal() == "from-env"
    assert auth_from_options(None, None, {}) is None


def test_basic_auth_takes_the_password_from_the_environment() -> None:
    auth = auth_from_options(None, "ann", {"FHIR_CASE_PASSWORD": "pw"})
    assert isinstance(auth, BasicAuth) and auth.password.reveal() == "pw"
    with pytest.raises(UsageError, match="FHIR_CASE_PASSWORD"):
        auth_from_options(None, "ann", {})
    with pytest.raises(UsageError, match="not both"):
        auth_from_options(None, "ann", {"FHIR_CASE_TOKEN": "t", "FHIR_CASE_PASSWORD": "pw"})


def test_missing_or_empty_token_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the token file"):
        auth_from_options(tmp_path / "absent", None, {})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        auth_from_options(tmp_path / "empty", None, {})


def test_secrets_never_show_in_reprs() -> None:
    settings = ServerSettings("https://example.org/fhir", auth=BearerAuth(Secret("tok-123")))
    with FhirClient(settings) as client:
        shown = [repr(settings), str(settings), repr(client._session.auth)]
    assert not any("tok-123" in text for text in shown)
    assert repr(BasicAuth("ann", Secret("pw-9"))).count("pw-9") == 0
