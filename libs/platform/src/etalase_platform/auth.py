"""JWT bearer authentication and the scope rules of api.md.

A token carries `role` and, by role, `region` (a kab/kota code such as ``33.75`` or a 2-digit
province), `opd` and `vendor_id`. Whether a role may act at all is decided by each service; whether
a scope covers a resource is decided here, once.
"""

import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from etalase_platform.problems import Forbidden, Unauthorized
from etalase_platform.scope import covers

ALGORITHM = "HS256"


class Role(StrEnum):
    DESK = "desk"
    ADMIN = "admin"
    VENDOR = "vendor"
    BUYER = "buyer"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    region: str | None = None
    opd: str | None = None
    vendor_id: str | None = None

    def covers_region(self, region_code: str) -> bool:
        """A kab/kota scope covers itself; a province scope its kab/kota; no scope: everything
        (only auditors may hold a token without a region)."""
        if self.region is None:
            return self.role is Role.AUDITOR
        return covers(self.region, region_code)

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(roles)
            raise Forbidden(f"role '{self.role}' may not do this (needs one of: {allowed})")

    def require_region(self, region_code: str) -> None:
        if not self.covers_region(region_code):
            raise Forbidden(f"region {region_code} is outside this token's scope")


def mint_token(
    secret: str,
    *,
    role: Role | str,
    sub: str | None = None,
    region: str | None = None,
    opd: str | None = None,
    vendor_id: str | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    role = Role(role)
    claims: dict[str, Any] = {
        "sub": sub or f"{role.value}:{region or opd or vendor_id or 'local'}",
        "role": role.value,
        "exp": datetime.now(UTC) + ttl,
    }
    for name, value in (("region", region), ("opd", opd), ("vendor_id", vendor_id)):
        if value is not None:
            claims[name] = value
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    principal, expires_at = _verified(secret, token)
    # the only check whose answer changes with time once a token passed (`nbf` and `iat` stay
    # past), made as PyJWT makes it
    if expires_at <= time.time():
        raise Unauthorized("invalid token: Signature has expired")  # PyJWT's words
    return principal


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[Principal, int]:
    """A token checked once, with the time it expires: a client sends the same token with every
    request for hours, and PyJWT's decode (its HMAC key checked for PEM, SSH and DER forms each
    time) was 6 % of an order's CPU. A refused token raises, so it is not kept."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]}
        )
        _check_types(claims)
        role = Role(claims["role"])
        expires_at = int(claims["exp"])
    # PyJWT reads `exp` with int(): a list or an infinity escapes it as TypeError/OverflowError
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as error:
        raise Unauthorized(f"invalid token: {error}") from error
    principal = Principal(
        sub=claims["sub"],
        role=role,
        region=claims.get("region"),
        opd=claims.get("opd"),
        vendor_id=claims.get("vendor_id"),
    )
    _check_claims(principal)
    return principal, expires_at


_TEXT_CLAIMS = ("sub", "role", "region", "opd", "vendor_id")
_DATE_CLAIMS = ("exp", "nbf", "iat")


def _check_types(claims: dict[str, Any]) -> None:
    """A claim of the wrong JSON type is a bad token (RFC 7519: dates are NumericDates), never
    a value that reaches a query: text claims are strings a database can store."""
    for name in _TEXT_CLAIMS:
        value = claims.get(name)
        if value is None and name not in ("sub", "role"):
            continue
        if not isinstance(value, str) or not value or "\x00" in value or len(value) > 200:
            raise ValueError(f"claim '{name}' must be a non-empty string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"claim '{name}' must be valid Unicode text") from None
    for name in _DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"claim '{name}' must be a NumericDate (a number of seconds)")


def _check_claims(principal: Principal) -> None:
    needs = {
        Role.DESK: ("region",),
        Role.ADMIN: ("region",),
        Role.VENDOR: ("vendor_id",),
        Role.BUYER: ("opd", "region"),
        Role.AUDITOR: (),
    }[principal.role]
    missing = [claim for claim in needs if getattr(principal, claim) is None]
    if missing:
        raise Unauthorized(f"a {principal.role} token needs the claims: {', '.join(missing)}")


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing bearer token")
    secret: str = request.app.state.jwt_secret
    return decode_token(secret, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
