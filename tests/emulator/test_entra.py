"""The local Entra ID, driven by msal: discovery, client-credentials tokens, and Entra's error answers."""

from __future__ import annotations

import ssl
import time
from typing import Any

import jwt
import msal
import pytest

from erp_exchange_plugin.testing.emulator.client import EWS_SCOPE, msal_app, trusting_session


def _token_statuses(emu: Any) -> list[int]:
    return [e.status for e in emu.request_log.entries() if e.operation == "token"]


def test_client_credentials_token_is_a_signed_jwt_for_ews(emu: Any, app: Any) -> None:
    result = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] > 300
    jwks = jwt.PyJWKClient(
        f"{emu.authority}/discovery/v2.0/keys", ssl_context=ssl.create_default_context(cafile=emu.ca_file)
    )
    key = jwks.get_signing_key_from_jwt(result["access_token"])
    claims = jwt.decode(
        result["access_token"], key.key, algorithms=["RS256"], audience="https://outlook.office365.com"
    )
    assert claims["tid"] == emu.tenant_id
    assert claims["appid"] == emu.client_id
    assert "full_access_as_app" in claims["roles"]
    assert claims["exp"] - time.time() > 300


def test_second_token_comes_from_msal_cache(emu: Any, app: Any) -> None:
    first = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    second = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    assert second["access_token"] == first["access_token"]
    assert second.get("token_source") == "cache"
    assert emu.request_log.count("token") == 1


def test_wrong_secret_is_invalid_client_7000215_with_http_401(emu: Any) -> None:
    app = msal_app(emu.authority, emu.client_id, "not-the-secret", emu.ca_file)
    result = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert _token_statuses(emu) == [401]


def test_unknown_client_is_unauthorized_client(emu: Any) -> None:
    app = msal_app(emu.authority, "00000000-0000-0000-0000-000000000001", "x", emu.ca_file)
    result = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]
    assert _token_statuses(emu) == [400]


def test_scope_without_default_suffix_is_invalid_scope(emu: Any, app: Any) -> None:
    result = app.acquire_token_for_client(scopes=["https://outlook.office365.com/EWS.AccessAsUser.All"])
    assert result["error"] == "invalid_scope"
    assert result["error_codes"] == [1002012]


def test_unknown_resource_is_invalid_resource(app: Any) -> None:
    result = app.acquire_token_for_client(scopes=["https://nothing.example/.default"])
    assert result["error"] == "invalid_resource"
    assert result["error_codes"] == [500011]


def test_unknown_tenant_fails_discovery_in_the_msal_constructor(emu: Any) -> None:
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal.ConfidentialClientApplication(
            emu.client_id,
            client_credential=emu.client_secret,
            authority=f"{emu.base_url}/11111111-2222-3333-4444-555555555555",
            instance_discovery=False,
            http_client=trusting_session(emu.ca_file),
        )


def test_verified_domain_works_as_the_tenant_in_the_authority(emu: Any) -> None:
    app = msal_app(f"{emu.base_url}/example.com", emu.client_id, emu.client_secret, emu.ca_file)
    result = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["tid"] == emu.tenant_id


def test_client_secret_basic_is_accepted(emu: Any) -> None:
    session = trusting_session(emu.ca_file)
    response = session.post(
        f"{emu.authority}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": EWS_SCOPE},
        auth=(emu.client_id, emu.client_secret),
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"
    wrong = session.post(
        f"{emu.authority}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": EWS_SCOPE},
        auth=(emu.client_id, "wrong"),
    )
    assert (wrong.status_code, wrong.json()["error_codes"]) == (401, [7000215])


def test_token_endpoint_throttling_is_a_429_error_result(emu: Any) -> None:
    emu.inject("server_busy", operation="token")
    app = msal_app(emu.authority, emu.client_id, emu.client_secret, emu.ca_file)
    result = app.acquire_token_for_client(scopes=[EWS_SCOPE])
    assert result.get("error") == "temporarily_unavailable"
    assert "access_token" not in result
    assert _token_statuses(emu) == [429]
    fresh = msal_app(
        emu.authority, emu.client_id, emu.client_secret, emu.ca_file
    )  # msal throttles the old app
    assert "access_token" in fresh.acquire_token_for_client(scopes=[EWS_SCOPE])


@pytest.mark.parametrize(("kind", "status"), [("http_503", 503), ("http_500", 500)])
def test_token_endpoint_server_errors_raise_in_msal(emu: Any, kind: str, status: int) -> None:
    emu.inject(kind, operation="token")
    app = msal_app(emu.authority, emu.client_id, emu.client_secret, emu.ca_file)
    with pytest.raises(msal.exceptions.MsalServiceError, match=f"HTTP Error: {status}"):
        app.acquire_token_for_client(scopes=[EWS_SCOPE])
    assert _token_statuses(emu) == [status]
