"""Tokens and scopes (no infrastructure needed)."""

import time
from datetime import timedelta

import jwt
import pytest
from etalase_platform.auth import Principal, Role, decode_token, mint_token
from etalase_platform.cli import main as cli
from etalase_platform.problems import Forbidden, Unauthorized

SECRET = "a-test-secret-of-at-least-32-bytes!!"


def test_a_minted_token_decodes_to_its_principal() -> None:
    token = mint_token(SECRET, role="buyer", opd="33.75.1.02.01", region="33.75")
    principal = decode_token(SECRET, token)
    assert principal.role is Role.BUYER
    assert (principal.opd, principal.region) == ("33.75.1.02.01", "33.75")


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        mint_token("another-secret", role="auditor"),
        mint_token(SECRET, role="auditor", ttl=timedelta(seconds=-1)),
    ],
    ids=["garbage", "wrong-secret", "expired"],
)
def test_bad_tokens_are_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized):
        decode_token(SECRET, token)


def test_a_token_accepted_before_is_refused_once_it_expires() -> None:
    token = mint_token(SECRET, role="auditor", ttl=timedelta(seconds=1))
    assert decode_token(SECRET, token).role is Role.AUDITOR
    assert decode_token(SECRET, token).role is Role.AUDITOR  # again: a client's next request
    with pytest.raises(Unauthorized):  # accepted under one secret, not under another
        decode_token("another-secret-of-at-least-32-bytes", token)
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires_at - time.time()) + 0.05)
    with pytest.raises(Unauthorized, match="Signature has expired"):
        decode_token(SECRET, token)


def test_a_token_without_the_claims_its_role_needs_is_unauthorized() -> None:
    with pytest.raises(Unauthorized, match="region"):
        decode_token(SECRET, mint_token(SECRET, role="desk"))


@pytest.mark.parametrize(
    ("scope", "region", "covered"),
    [
        ("33.75", "33.75", True),
        ("33.75", "33.74", False),
        ("33", "33.75", True),
        ("33", "34.71", False),
        ("3", "33.75", False),
    ],
)
def test_region_scopes(scope: str, region: str, covered: bool) -> None:
    principal = Principal(sub="x", role=Role.ADMIN, region=scope)
    assert principal.covers_region(region) is covered


def test_only_an_auditor_may_hold_no_region() -> None:
    assert Principal(sub="a", role=Role.AUDITOR).covers_region("33.75")
    with pytest.raises(Forbidden):
        Principal(sub="v", role=Role.VENDOR, vendor_id="v1").require_region("33.75")


def test_the_cli_prints_a_token_the_services_accept(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["token", "--role", "vendor", "--vendor-id", "v-1"]) == 0
    from etalase_platform.settings import DEV_JWT_SECRET

    principal = decode_token(DEV_JWT_SECRET, capsys.readouterr().out.strip())
    assert (principal.role, principal.vendor_id) == (Role.VENDOR, "v-1")
