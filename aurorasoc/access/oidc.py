"""OpenID Connect relying party (spec §7.5): authorization code flow with PKCE, ``state`` and ``nonce``.

Discovery and the JWKS are cached per issuer; an ID token signed with a key id the cache does not
know triggers one JWKS refresh (key rotation) before it is refused. JOSE work is done by joserfc
(Authlib's JOSE library; ``authlib.jose`` is deprecated in its favour) and PKCE/nonce helpers by
Authlib: nothing here parses or verifies a JWS by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from aurorasoc.core.config import OIDCSettings
from aurorasoc.core.rbac import ROLE_PRECEDENCE
from aurorasoc.core.vocabulary import Role

METADATA_TTL_SECONDS = 3600.0
JWKS_MIN_REFRESH_SECONDS = 10.0  # an unknown kid refreshes at most this often (no refetch storms)
CLOCK_SKEW_SECONDS = 30
HTTP_TIMEOUT = httpx.Timeout(10.0)
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class OIDCError(Exception):
    """A refused sign-in: ``code`` is machine-readable, the message says why."""

    def __init__(self, code: str, message: str, status_code: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.username = "oidc"  # who the audit entry names once the token told us


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None


@dataclass(frozen=True)
class PendingLogin:
    """What the callback needs to finish the login the redirect started."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_path: str = "/"


@dataclass
class _IssuerCache:
    metadata: ProviderMetadata | None = None
    metadata_at: float = 0.0
    keys: KeySet | None = None
    keys_at: float = 0.0
    kids: frozenset[str] = field(default_factory=frozenset)


_caches: dict[str, _IssuerCache] = {}


def reset_oidc_caches() -> None:
    """Forget discovery documents and keys (tests; a changed issuer)."""
    _caches.clear()


class OIDCClient:
    def __init__(self, settings: OIDCSettings) -> None:
        if not settings.enabled:
            raise OIDCError("oidc_not_configured", "OIDC is not configured", 404)
        self.settings = settings
        self.issuer = settings.issuer.rstrip("/")
        self._cache = _caches.setdefault(self.issuer, _IssuerCache())

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OIDCError("provider_unreachable", f"identity provider request failed: {exc}", 502) from None
        if not isinstance(body, dict):
            raise OIDCError("provider_invalid", f"{url} did not return a JSON object", 502)
        return body

    async def metadata(self) -> ProviderMetadata:
        """The discovery document, cached for an hour; its ``issuer`` must be the configured one."""
        cache = self._cache
        if cache.metadata and time.monotonic() - cache.metadata_at < METADATA_TTL_SECONDS:
            return cache.metadata
        doc = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
            raise OIDCError("provider_invalid", "discovery issuer does not match AURORA_OIDC_ISSUER", 502)
        try:
            meta = ProviderMetadata(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
                end_session_endpoint=doc.get("end_session_endpoint"),
            )
        except KeyError as exc:
            raise OIDCError("provider_invalid", f"discovery document lacks {exc}", 502) from None
        cache.metadata, cache.metadata_at = meta, time.monotonic()
        return meta

    async def _keys(self, *, refresh: bool = False) -> KeySet:
        cache = self._cache
        fresh_enough = time.monotonic() - cache.keys_at < JWKS_MIN_REFRESH_SECONDS
        if cache.keys is not None and (not refresh or fresh_enough):
            return cache.keys
        doc = await self._get_json((await self.metadata()).jwks_uri)
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type, unused-ignore]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise OIDCError("provider_invalid", f"unusable JWKS: {exc}", 502) from None
        cache.keys, cache.keys_at = keys, time.monotonic()
        cache.kids = frozenset(k.kid for k in keys.keys if k.kid)
        return keys

    async def start(self, redirect_uri: str, next_path: str = "/") -> tuple[str, PendingLogin]:
        """The provider's authorization URL and the secrets the callback will check."""
        meta = await self.metadata()
        pending = PendingLogin(
            state=generate_token(32),
            nonce=generate_token(32),
            code_verifier=generate_token(64),
            redirect_uri=redirect_uri,
            next_path=next_path,
        )
        params = [
            ("response_type", "code"),
            ("client_id", self.settings.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", self.settings.scopes),
            ("state", pending.state),
            ("nonce", pending.nonce),
            ("code_challenge", create_s256_code_challenge(pending.code_verifier)),
            ("code_challenge_method", "S256"),
        ]
        return add_params_to_uri(meta.authorization_endpoint, params), pending

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout at the provider, or None when it publishes no end_session_endpoint."""
        try:
            endpoint = (await self.metadata()).end_session_endpoint
        except OIDCError:
            return None
        if not endpoint:
            return None
        params = [
            ("client_id", self.settings.client_id),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
        ]
        return str(add_params_to_uri(endpoint, params))

    async def exchange(self, code: str, pending: PendingLogin) -> str:
        """Trade the code (with the PKCE verifier) for tokens; returns the raw ID token."""
        meta = await self.metadata()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        auth: httpx.BasicAuth | None = None  # client_secret_basic for confidential clients
        if self.settings.client_secret:
            auth = httpx.BasicAuth(self.settings.client_id, self.settings.client_secret)
        else:
            data["client_id"] = self.settings.client_id
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, auth=auth) as http:
                response = await http.post(meta.token_endpoint, data=data)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OIDCError("provider_unreachable", f"token request failed: {exc}", 502) from None
        if response.status_code != 200 or not isinstance(body, dict):
            reason = (body.get("error") if isinstance(body, dict) else None) or response.status_code
            raise OIDCError("code_rejected", f"the identity provider refused the code ({reason})")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise OIDCError("no_id_token", "the token response has no ID token")
        return id_token

    async def validate_id_token(self, id_token: str, nonce: str, *, now: int | None = None) -> dict[str, Any]:
        """Signature against the issuer JWKS, then ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce``."""
        token = await self._verified(id_token)
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "values": [self.issuer, f"{self.issuer}/"]},
            aud={"essential": True, "value": self.settings.client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise OIDCError("invalid_id_token", f"ID token refused: {exc.description or exc.error}") from None
        claims: dict[str, Any] = token.claims
        return claims

    async def _verified(self, id_token: str) -> jwt.Token:
        """Check the signature; a key the cache lacks (rotation) refreshes the JWKS once first."""
        try:
            kid = jws.extract_compact(id_token.encode()).headers().get("kid")
        except (JoseError, ValueError) as exc:
            raise OIDCError("invalid_id_token", f"malformed ID token: {exc}") from None
        keys = await self._keys()
        for attempt in (1, 2):
            if kid and kid not in self._cache.kids and attempt == 1:
                keys = await self._keys(refresh=True)
                continue
            try:
                return jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
            except (JoseError, ValueError) as exc:
                if attempt == 2:
                    raise OIDCError("invalid_id_token", f"ID token signature refused: {exc}") from None
            keys = await self._keys(refresh=True)  # no kid: the new key may be among the refreshed ones
        raise OIDCError("invalid_id_token", "ID token signed with a key the issuer does not publish")

    def role_for(self, claims: dict[str, Any]) -> Role:
        """Strongest role the claim maps to; the default role when none maps; never ``api_service``."""
        raw = claims.get(self.settings.role_claim)
        values = [raw] if isinstance(raw, str) else [str(v) for v in raw] if isinstance(raw, list) else []
        mapped = {self.settings.role_map.get(v, "").strip().lower() for v in values}
        for role in ROLE_PRECEDENCE:
            if role.value in mapped:
                return role
        default = self.settings.default_role.strip().lower()
        if default in {r.value for r in ROLE_PRECEDENCE}:
            return Role(default)
        raise OIDCError("no_role", "your identity provider account maps to no AuroraSOC role", 403)
