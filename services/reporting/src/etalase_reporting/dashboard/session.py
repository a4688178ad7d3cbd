"""The dashboard's sign-in: a token pasted into a form becomes an HttpOnly, SameSite=Strict
cookie; each request verifies it as the API verifies a bearer token (`auth.decode_token`), so
roles and scopes are exactly the API's. A token never travels in a URL.

Sign-out is a POST carrying a CSRF token derived from the session (HMAC of the cookie), and every
POST must come from the dashboard's own origin when the browser says where it comes from.
"""

import hashlib
import hmac
from urllib.parse import urlsplit

from etalase_platform.auth import Principal, decode_token
from etalase_platform.problems import Forbidden
from fastapi import Request, Response

from etalase_reporting.settings import Settings

COOKIE = "etalase_sesi"
PATH = "/dashboard"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


def principal_of(request: Request) -> Principal | None:
    """The signed-in principal; None without a valid session (Unauthorized is not raised: the
    caller sends the browser to the sign-in form)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return decode_token(request.app.state.jwt_secret, token)
    except Exception:
        return None


def csrf_token(request: Request) -> str:
    session = request.cookies.get(COOKIE, "")
    key = str(request.app.state.jwt_secret).encode()
    return hmac.new(key, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str) -> None:
    if not request.cookies.get(COOKIE) or not hmac.compare_digest(csrf_token(request), submitted):
        raise Forbidden("the form's CSRF token does not match this session")


def check_same_origin(request: Request) -> None:
    """A form POST from another site is refused (login CSRF); browsers send Origin on POST."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("a dashboard form must be sent from the dashboard itself")


def start(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).secure_cookie,
    )


def end(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).secure_cookie,
    )
