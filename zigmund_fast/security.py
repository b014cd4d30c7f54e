"""Security schemes: dependencies that read credentials from a request and describe themselves to OpenAPI.

Each scheme is a callable instance used as ``Depends(scheme)`` (or
``Security(scheme, scopes=[...])``). It returns the credentials it found, or
answers ``401 {"detail": "Not authenticated"}`` with a ``WWW-Authenticate``
header, as FastAPI's schemes do; with ``auto_error=False`` a missing
credential gives ``None`` instead. ``scheme_name`` (the class name unless
given) is the key under ``components.securitySchemes`` and ``model`` the
Security Scheme Object put there.

Not here yet: ``OAuth2PasswordRequestForm`` (needs form bodies), OpenID
Connect and HTTP Digest.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Annotated, Any

import msgspec

from zigmund_fast.exceptions import HTTPException
from zigmund_fast.injection import _cookies
from zigmund_fast.params import Form, SecurityScopes
from zigmund_fast.requests import Request

_NOT_AUTHENTICATED = "Not authenticated"


class HTTPBasicCredentials(msgspec.Struct, frozen=True):
    """What ``HTTPBasic`` returns: the decoded user name and password."""

    username: str
    password: str


class HTTPAuthorizationCredentials(msgspec.Struct, frozen=True):
    """What ``HTTPBearer`` returns: ``Authorization: <scheme> <credentials>`` split at the first space."""

    scheme: str
    credentials: str


class SecurityBase:
    """A security scheme: ``model`` is its OpenAPI Security Scheme Object, ``scheme_name`` its component key."""

    model: dict[str, Any]
    scheme_name: str
    auto_error: bool

    def _setup(self, model: dict[str, Any], scheme_name: str | None, description: str | None,
               auto_error: bool) -> None:
        if description:
            model["description"] = description
        self.model = model
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def authenticate_headers(self) -> dict[str, str]:
        """The ``WWW-Authenticate`` challenge sent with a 401."""
        raise NotImplementedError

    def not_authenticated(self) -> HTTPException:
        return HTTPException(401, _NOT_AUTHENTICATED, self.authenticate_headers())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme_name!r}>"


# API keys


class APIKeyBase(SecurityBase):
    location = "query"

    def __init__(self, *, name: str, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        self.name = name
        self._setup({"type": "apiKey", "in": self.location, "name": name}, scheme_name, description, auto_error)

    def authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "APIKey"}

    def _check(self, key: str | None) -> str | None:
        if not key:  # an empty value counts as missing, as in FastAPI
            if self.auto_error:
                raise self.not_authenticated()
            return None
        return key


class APIKeyQuery(APIKeyBase):
    """An API key in the query parameter ``name``; returns the key (``str``)."""

    location = "query"

    async def __call__(self, request: Request) -> str | None:
        return self._check(request.query_params.get(self.name))


class APIKeyHeader(APIKeyBase):
    """An API key in the header ``name``; returns the key (``str``)."""

    location = "header"

    async def __call__(self, request: Request) -> str | None:
        return self._check(request.headers.get(self.name))


class APIKeyCookie(APIKeyBase):
    """An API key in the cookie ``name``; returns the key (``str``)."""

    location = "cookie"

    async def __call__(self, request: Request) -> str | None:
        return self._check(_cookies(request).get(self.name))


# HTTP authentication (RFC 7235)


def _split_authorization(value: str | None) -> tuple[str, str]:
    """``"Bearer abc"`` -> ("Bearer", "abc"); the credentials are stripped, a missing header is ("", "")."""
    if not value:
        return "", ""
    scheme, _, credentials = value.partition(" ")
    return scheme, credentials.strip()


class HTTPBase(SecurityBase):
    """Any ``Authorization: <scheme> <credentials>`` header; returns ``HTTPAuthorizationCredentials``."""

    def __init__(self, *, scheme: str, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        self._setup({"type": "http", "scheme": scheme}, scheme_name, description, auto_error)

    def authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": str(self.model["scheme"]).title()}

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        authorization = request.headers.get("authorization")
        scheme, credentials = _split_authorization(authorization)
        if not (scheme and credentials):
            if self.auto_error:
                raise self.not_authenticated()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


class HTTPBasic(HTTPBase):
    """HTTP Basic (RFC 7617); returns ``HTTPBasicCredentials``.

    A header that is present but malformed (not base64, not ASCII, no ``:``) is
    answered 401 even with ``auto_error=False``, as in FastAPI.
    """

    def __init__(self, *, scheme_name: str | None = None, realm: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        super().__init__(scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.realm = realm

    def authenticate_headers(self) -> dict[str, str]:
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        scheme, encoded = _split_authorization(authorization)
        if not authorization or scheme.lower() != "basic":
            if self.auto_error:
                raise self.not_authenticated()
            return None
        try:
            decoded = b64decode(encoded).decode("ascii")
        except (ValueError, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
            raise self.not_authenticated() from exc
        username, colon, password = decoded.partition(":")
        if not colon:
            raise self.not_authenticated()
        return HTTPBasicCredentials(username=username, password=password)


class HTTPBearer(HTTPBase):
    """HTTP Bearer tokens; returns ``HTTPAuthorizationCredentials`` (``credentials`` is the token)."""

    def __init__(self, *, bearerFormat: str | None = None, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        super().__init__(scheme="bearer", scheme_name=scheme_name, description=description, auto_error=auto_error)
        if bearerFormat:
            self.model["bearerFormat"] = bearerFormat

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        scheme, credentials = _split_authorization(request.headers.get("authorization"))
        if not (scheme and credentials) or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.not_authenticated()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


# OAuth2


class OAuth2(SecurityBase):
    """OAuth2 with any ``flows`` (an OpenAPI OAuth Flows Object); reads a bearer token like the subclasses."""

    def __init__(self, *, flows: dict[str, Any] | None = None, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        self._setup({"type": "oauth2", "flows": dict(flows or {})}, scheme_name, description, auto_error)

    def authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            if self.auto_error:
                raise self.not_authenticated()
            return None
        return authorization


class OAuth2PasswordBearer(OAuth2):
    """The OAuth2 password flow: the client got a token from ``tokenUrl``; returns that token (``str``).

    Parameters:
        tokenUrl: where clients obtain a token (documented in OpenAPI; not served by this class).
        scopes: scope name -> description, documented in OpenAPI.
        refreshUrl: where tokens are refreshed, if anywhere.
    """

    def __init__(self, tokenUrl: str, scheme_name: str | None = None,
                 scopes: dict[str, str] | None = None, description: str | None = None,
                 auto_error: bool = True, refreshUrl: str | None = None) -> None:
        flow: dict[str, Any] = {"tokenUrl": tokenUrl, "scopes": dict(scopes or {})}
        if refreshUrl:
            flow["refreshUrl"] = refreshUrl
        super().__init__(flows={"password": flow}, scheme_name=scheme_name, description=description,
                         auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        scheme, token = _split_authorization(request.headers.get("authorization"))
        if not scheme or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.not_authenticated()
            return None
        # NOTE: "Bearer" with no token gives "", as in FastAPI.
        return token


__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "OAuth2",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "SecurityBase",
    "SecurityScopes",
]


class OAuth2PasswordRequestForm:
    """The OAuth2 "password" grant's form (RFC 6749 section 4.3.2), as a dependency class.

    ``Depends()`` on a parameter of this type reads ``username``, ``password``,
    ``scope`` (space-separated, also given as the list ``scopes``), and the
    optional ``grant_type`` (must be "password" when given), ``client_id`` and
    ``client_secret`` from a form body.
    """

    def __init__(
        self,
        *,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """``OAuth2PasswordRequestForm`` with ``grant_type=password`` required, as the RFC says."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(grant_type=grant_type, username=username, password=password, scope=scope,
                         client_id=client_id, client_secret=client_secret)
