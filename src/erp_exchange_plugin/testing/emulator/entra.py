"""A local Entra ID (Azure AD): OIDC discovery, JWKS and the v2.0 token endpoint for client credentials.

:class:`EntraDirectory` holds tenants and their app registrations, signs RS256 access tokens for the EWS
resource (``aud`` = ``https://outlook.office365.com``) and validates them for the EWS face. Its HTTP methods
(:meth:`EntraDirectory.handle_get`, :meth:`EntraDirectory.handle_token`) answer the way Entra does, including
the error bodies (``invalid_client`` AADSTS7000215 with HTTP 401, ``unauthorized_client`` AADSTS700016,
``invalid_scope`` AADSTS1002012, ``invalid_resource`` AADSTS500011, unknown tenant AADSTS90002).

msal talks to it with ``authority=f"{base}/{tenant_id}"`` and ``instance_discovery=False``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .clock import Clock
from .reply import Reply, json_reply

EWS_RESOURCE = "https://outlook.office365.com"
EWS_APP_ROLE = "full_access_as_app"
KNOWN_RESOURCES = (EWS_RESOURCE, "https://graph.microsoft.com")
TOKEN_LIFETIME = 3599


@dataclass
class AppRegistration:
    """An app registration with a client secret and its granted application roles.

    ``mailboxes`` restricts the mailboxes the app may impersonate (an application access policy);
    ``None`` means every mailbox of the tenant.
    """

    client_id: str
    client_secret: str = field(repr=False)
    roles: tuple[str, ...] = (EWS_APP_ROLE,)
    mailboxes: frozenset[str] | None = None
    display_name: str = "erp-exchange-plugin"


@dataclass
class Tenant:
    """A directory (tenant) with its app registrations (keyed by client id) and verified domains.

    A verified domain may stand for the tenant id in authority URLs, as with Entra ID.
    """

    tenant_id: str
    apps: dict[str, AppRegistration] = field(default_factory=dict)
    domains: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class TokenClaims:
    """What EWS needs to know about a validated access token."""

    tenant_id: str
    app_id: str
    roles: tuple[str, ...]
    token_id: str


class TokenError(Exception):
    """An access token that EWS must reject with HTTP 401; ``reason`` goes into x-ms-diagnostics."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EntraDirectory:
    """Tenants, app registrations, a signing key, token issue and validation."""

    def __init__(self, base_url: str, clock: Clock, home_tenant: Tenant) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.home_tenant_id = home_tenant.tenant_id
        self._tenants: dict[str, Tenant] = {home_tenant.tenant_id: home_tenant}
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = hashlib.sha256(str(self._key.public_key().public_numbers().n).encode()).hexdigest()[:27]
        self._issued_ids: set[str] = set()
        self._revoked_ids: set[str] = set()
        self._initial_apps = dict(home_tenant.apps)
        self._lock = threading.Lock()
        self.token_lifetime = TOKEN_LIFETIME
        self.tokens_issued = 0

    # -- directory management -------------------------------------------------------------------------

    def add_tenant(self, tenant: Tenant) -> None:
        """Add another directory (e.g. a foreign tenant whose tokens EWS must refuse)."""
        with self._lock:
            self._tenants[tenant.tenant_id] = tenant

    def tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id or verified domain, or None."""
        key = tenant_id.lower()
        with self._lock:
            found = self._tenants.get(key)
            if found is None:
                found = next((t for t in self._tenants.values() if key in t.domains), None)
            return found

    def revoke_all(self) -> None:
        """Revoke every token issued so far (like revoking the app's sessions): EWS answers 401."""
        with self._lock:
            self._revoked_ids |= self._issued_ids
            self._issued_ids = set()

    def reset(self) -> None:
        """Forget revocations, other tenants and apps added after construction."""
        with self._lock:
            self._revoked_ids.clear()
            self._issued_ids.clear()
            home = self._tenants[self.home_tenant_id]
            home.apps = dict(self._initial_apps)
            self._tenants = {self.home_tenant_id: home}
            self.tokens_issued = 0

    def revoke(self, token_id: str) -> None:
        """Revoke one token by its ``uti`` claim."""
        with self._lock:
            self._revoked_ids.add(token_id)

    # -- HTTP ------------------------------------------------------------------------------------------

    def handle_get(self, path: str) -> Reply | None:
        """Answer OIDC discovery and JWKS GETs; None if the path is not Entra's."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            tenant = self.tenant(parts[0])
            if tenant is None:
                return self._error(400, "invalid_tenant", 90002, self._tenant_not_found(parts[0]), "")
            return json_reply(200, self._discovery(tenant.tenant_id))
        if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
            jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
            jwk.update({"kid": self._kid, "use": "sig"})
            return json_reply(200, {"keys": [jwk]})
        return None

    def handle_token(self, path: str, body: bytes, headers: dict[str, str]) -> Reply | None:
        """Answer ``POST /{tenant}/oauth2/v2.0/token``; None if the path is not Entra's."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
            return None
        correlation = headers.get("client-request-id") or str(uuid.uuid4())
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):  # client_secret_basic
            try:
                basic_id, _, basic_secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                basic_id, basic_secret = "", ""
            form.setdefault("client_id", unquote_plus(basic_id))
            form.setdefault("client_secret", unquote_plus(basic_secret))
        tenant = self.tenant(parts[0])
        if tenant is None:
            return self._error(400, "invalid_request", 90002, self._tenant_not_found(parts[0]), correlation)
        grant = form.get("grant_type")
        if grant is None:
            return self._missing("grant_type", correlation)
        if grant == "refresh_token" and "refresh_token" not in form:
            return self._missing("refresh_token", correlation)
        if grant != "client_credentials":
            return self._error(
                400,
                "unsupported_grant_type",
                70003,
                "AADSTS70003: The app requested an unsupported grant type "
                f"'{grant}'. This emulator supports client_credentials only.",
                correlation,
            )
        client_id = form.get("client_id")
        if not client_id:
            return self._missing("client_id", correlation)
        app = tenant.apps.get(client_id)
        if app is None:
            return self._error(
                400,
                "unauthorized_client",
                700016,
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.tenant_id}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                "your authentication request to the wrong tenant.",
                correlation,
            )
        secret = form.get("client_secret")
        if secret is None:
            return self._error(
                401,
                "invalid_client",
                7000218,
                "AADSTS7000218: The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
                correlation,
            )
        if not secrets.compare_digest(secret.encode(), app.client_secret.encode()):
            return self._error(
                401,
                "invalid_client",
                7000215,
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
                correlation,
            )
        scope = form.get("scope", "")
        scopes = scope.split()
        if not scopes or len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._error(
                400,
                "invalid_scope",
                1002012,
                f"AADSTS1002012: The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
                correlation,
            )
        resource = scopes[0][: -len("/.default")]
        if resource not in KNOWN_RESOURCES:
            return self._error(
                400,
                "invalid_resource",
                500011,
                f"AADSTS500011: The resource principal named {resource} was not found in the tenant named "
                f"{tenant.tenant_id}. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
                correlation,
            )
        token = self.issue(tenant.tenant_id, app, resource)
        return json_reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            },
        )

    # -- tokens ----------------------------------------------------------------------------------------

    def issue(self, tenant_id: str, app: AppRegistration, resource: str = EWS_RESOURCE) -> str:
        """Sign an app-only access token as Entra does for the client-credentials grant."""
        now = int(self.clock.time())
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"{self.base_url}/{tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "tid": tenant_id,
            "appid": app.client_id,
            "azp": app.client_id,
            "app_displayname": app.display_name,
            "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{app.client_id}")),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{app.client_id}")),
            "roles": list(app.roles),
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }
        with self._lock:
            self.tokens_issued += 1
            self._issued_ids.add(claims["uti"])
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def validate(self, token: str, audience: str = EWS_RESOURCE) -> TokenClaims:
        """Check signature, audience, issuer, time and revocation; raise :class:`TokenError` if invalid."""
        try:
            claims = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=audience,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError:
            raise TokenError("The audience claim value is invalid") from None
        except jwt.InvalidSignatureError:
            raise TokenError("The token signature is invalid") from None
        except jwt.PyJWTError:
            raise TokenError("The token is malformed") from None
        now = self.clock.time()
        if float(claims.get("exp", 0)) <= now:
            raise TokenError("The token has expired")
        if float(claims.get("nbf", 0)) > now + 300:
            raise TokenError("The token is not yet valid")
        tenant_id = str(claims.get("tid", ""))
        if claims.get("iss") != f"{self.base_url}/{tenant_id}/v2.0":
            raise TokenError("The issuer is invalid")
        with self._lock:
            if claims.get("uti") in self._revoked_ids:
                raise TokenError("The token has been revoked")
        return TokenClaims(
            tenant_id=tenant_id,
            app_id=str(claims.get("appid", "")),
            roles=tuple(str(r) for r in claims.get("roles", [])),
            token_id=str(claims.get("uti", "")),
        )

    # -- helpers ---------------------------------------------------------------------------------------

    def _discovery(self, tenant_id: str) -> dict[str, Any]:
        b = f"{self.base_url}/{tenant_id}"
        return {
            "issuer": f"{b}/v2.0",
            "authorization_endpoint": f"{b}/oauth2/v2.0/authorize",
            "token_endpoint": f"{b}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{b}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{b}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }

    @staticmethod
    def _tenant_not_found(tenant_id: str) -> str:
        return (
            f"AADSTS90002: Tenant '{tenant_id}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud."
        )

    def _missing(self, parameter: str, correlation: str) -> Reply:
        return self._error(
            400,
            "invalid_request",
            900144,
            f"AADSTS900144: The request body must contain the following parameter: '{parameter}'.",
            correlation,
        )

    def _error(self, status: int, error: str, code: int, description: str, correlation: str) -> Reply:
        trace_id = str(uuid.uuid4())
        correlation = correlation or str(uuid.uuid4())
        timestamp = self.clock.now().strftime("%Y-%m-%d %H:%M:%SZ")
        return json_reply(
            status,
            {
                "error": error,
                "error_description": f"{description} Trace ID: {trace_id} Correlation ID: {correlation} "
                f"Timestamp: {timestamp}",
                "error_codes": [code],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation,
                "error_uri": f"{self.base_url}/error?code={code}",
            },
        )
