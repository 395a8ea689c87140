"""Sign-in through the agency's OpenID Connect provider (authorization code flow with PKCE).

Authlib's building blocks make the request (state, nonce, the S256 code challenge); the ID
token is checked with joserfc (Authlib's JOSE library): signature against the provider's
JWKS, issuer, audience, expiry and nonce. What is in flight (state, nonce, code verifier,
where to go next) rides in a short-lived HttpOnly cookie, compared with the ``state`` the
provider sends back.

Who the person is: the account whose ``oidc_subject`` is the token's ``sub``; else the one
account whose email is the token's ``email`` (it is then linked to the subject); else, with
``MGN_CONSOLE_OIDC_CREATE_ACCOUNTS``, a new facilitator without groups; else refused.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.console.settings import ConsoleSettings

FLOW_COOKIE: Final = "mgn_oidc"
FLOW_SECONDS: Final = 600
CALLBACK: Final = "/signin/oidc/callback"
METADATA_SECONDS: Final = 3600


class OidcError(Exception):
    """The provider's answer cannot sign anyone in; the message says why (for the log and
    the sign-in page)."""


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str
    name: str


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str

    def cookie(self) -> str:
        raw = json.dumps([self.state, self.nonce, self.verifier, self.next]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def from_cookie(cls, value: str | None) -> Flow | None:
        if not value:
            return None
        try:
            state, nonce, verifier, target = json.loads(base64.urlsafe_b64decode(value))
        except (ValueError, TypeError):
            return None
        return cls(str(state), str(nonce), str(verifier), str(target))


class OidcClient:
    def __init__(self, settings: ConsoleSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._metadata: tuple[float, dict[str, Any]] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.oidc_issuer)

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.public_url}{CALLBACK}"

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_SECONDS:
            return self._metadata[1]
        url = f"{self.settings.oidc_issuer}/.well-known/openid-configuration"
        found = await self._get_json(url)
        if found.get("issuer", "").rstrip("/") != self.settings.oidc_issuer:
            raise OidcError(f"{url} names the issuer {found.get('issuer')!r}")
        self._metadata = (time.monotonic(), found)
        return found

    async def start(self, target: str) -> tuple[str, Flow]:
        """The provider's URL to send the browser to, and the flow to keep in a cookie."""
        flow = Flow(generate_token(32), generate_token(32), generate_token(48), target)
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid email profile",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": create_s256_code_challenge(flow.verifier),
            "code_challenge_method": "S256",
        }
        endpoint = (await self.metadata())["authorization_endpoint"]
        return f"{endpoint}?{urlencode(query)}", flow

    async def finish(self, params: dict[str, str], flow: Flow | None) -> Identity:
        """The signed-in person, from the provider's redirect back to the console."""
        if "error" in params:
            raise OidcError(
                f"the provider refused: {params.get('error_description') or params['error']}"
            )
        if flow is None or not params.get("state") or params["state"] != flow.state:
            raise OidcError("the sign-in expired or did not start here (state mismatch)")
        metadata = await self.metadata()
        try:
            answer = await self.http.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": params.get("code", ""),
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": flow.verifier,
                },
                auth=(self.settings.oidc_client_id, self.settings.oidc_client_secret),
            )
        except httpx.HTTPError as exc:
            raise OidcError(f"the token endpoint is not reachable: {exc!r}") from None
        if answer.status_code != 200:
            raise OidcError(f"the token endpoint answered HTTP {answer.status_code}")
        id_token = answer.json().get("id_token")
        if not id_token:
            raise OidcError("the provider sent no ID token")
        claims = await self._verified(str(id_token), flow.nonce, metadata)
        return Identity(
            subject=str(claims["sub"]),
            email=str(claims.get("email") or "").strip().lower(),
            name=str(claims.get("name") or "").strip(),
        )

    async def _verified(
        self, id_token: str, nonce: str, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        jwks: Any = await self._get_json(metadata["jwks_uri"])
        keys = KeySet.import_key_set(jwks)
        try:
            token = jwt.decode(id_token, keys)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.settings.oidc_issuer},
                aud={"essential": True, "value": self.settings.oidc_client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token is not valid: {exc}") from None
        return dict(token.claims)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = await self.http.get(url)
            answer.raise_for_status()
            found = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"{url}: {exc!r}") from None
        if not isinstance(found, dict):
            raise OidcError(f"{url}: not a JSON object")
        return found


_NOT_USERNAME = re.compile(r"[^a-z0-9._@-]+")


def username_for(identity: Identity) -> str:
    """A username for a new account: the email's local part (or the subject), cleaned."""
    base = identity.email.split("@")[0] if identity.email else identity.subject
    cleaned = _NOT_USERNAME.sub(".", base.lower()).strip(".-_@")
    return (cleaned or "user")[:100]
