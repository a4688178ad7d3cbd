"""Who may do what (api.md, "Authentication and scope"): every role, in and out of its scope,
against every endpoint; and 401 for every way a token can be missing or bad."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from etalase_platform.auth import mint_token
from etalase_platform.settings import DEV_JWT_SECRET

from tests.helpers import bearer
from tests.registration.support import registration

pytestmark = pytest.mark.infra

REGION = "33.75"  # Kota Pekalongan, Jawa Tengah
ELSEWHERE = "34.71"  # Kota Yogyakarta
ROOT = bearer("desk", region=REGION)

# Claims per principal; "{target}" and "{other}" become the ids of the vendors under test.
PRINCIPALS: dict[str, dict[str, str]] = {
    "desk in region": {"role": "desk", "region": REGION},
    "desk of the province": {"role": "desk", "region": "33"},
    "desk elsewhere": {"role": "desk", "region": ELSEWHERE},
    "admin in region": {"role": "admin", "region": REGION},
    "admin elsewhere": {"role": "admin", "region": "32.73"},
    "vendor itself": {"role": "vendor", "vendor_id": "{target}"},
    "another vendor": {"role": "vendor", "vendor_id": "{other}"},
    "buyer": {"role": "buyer", "opd": "33.75.1.02.01", "region": REGION},
    "auditor of the region": {"role": "auditor", "region": REGION},
    "auditor of the province": {"role": "auditor", "region": "33"},
    "auditor elsewhere": {"role": "auditor", "region": "34"},
    "auditor everywhere": {"role": "auditor"},
}
MANAGE = {"desk in region", "desk of the province", "admin in region"}
READ = MANAGE | {
    "vendor itself",
    "auditor of the region",
    "auditor of the province",
    "auditor everywhere",
}
# which of the two vendors (target in REGION, other in ELSEWHERE) each principal lists
LISTS: dict[str, set[str] | None] = {
    "desk in region": {"target"},
    "desk of the province": {"target"},
    "desk elsewhere": {"other"},
    "admin in region": {"target"},
    "admin elsewhere": set(),
    "vendor itself": {"target"},
    "another vendor": {"other"},
    "buyer": None,  # 403
    "auditor of the region": {"target"},
    "auditor of the province": {"target"},
    "auditor elsewhere": {"other"},
    "auditor everywhere": {"target", "other"},
}


@dataclass(frozen=True)
class Vendors:
    target: str
    other: str

    def named(self) -> list[tuple[str, str]]:
        return [("target", self.target), ("other", self.other)]

    def headers(self, principal: str) -> dict[str, str]:
        claims = {
            name: value.format(target=self.target, other=self.other)
            for name, value in PRINCIPALS[principal].items()
        }
        return bearer(**claims)


@pytest.fixture(scope="module")
async def vendors(client: httpx.AsyncClient) -> Vendors:
    target = await client.post("/vendors", json=registration(REGION), headers=ROOT)
    other = await client.post(
        "/vendors", json=registration(ELSEWHERE), headers=bearer("desk", region=ELSEWHERE)
    )
    return Vendors(target.json()["vendor_id"], other.json()["vendor_id"])


async def vendor_in(client: httpx.AsyncClient, status: str) -> str:
    """A new vendor of REGION with the given status."""
    created = await client.post("/vendors", json=registration(), headers=ROOT)
    vendor_id = str(created.json()["vendor_id"])
    path = {"registered": [], "verified": ["verify"], "suspended": ["verify", "suspend"]}
    for action in path[status]:
        body = {"reason": "uji"} if action == "suspend" else None
        response = await client.post(f"/vendors/{vendor_id}/{action}", json=body, headers=ROOT)
        assert response.status_code == 200
    return vendor_id


async def status_of(client: httpx.AsyncClient, vendor_id: str) -> str:
    return str((await client.get(f"/vendors/{vendor_id}", headers=ROOT)).json()["status"])


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_reading_a_vendor(
    client: httpx.AsyncClient, vendors: Vendors, principal: str
) -> None:
    response = await client.get(f"/vendors/{vendors.target}", headers=vendors.headers(principal))
    assert response.status_code == (200 if principal in READ else 403), response.text
    if response.status_code == 200:
        assert response.json()["vendor_id"] == vendors.target


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_registering_a_vendor(
    client: httpx.AsyncClient, vendors: Vendors, principal: str
) -> None:
    body = registration(REGION)
    response = await client.post("/vendors", json=body, headers=vendors.headers(principal))
    assert response.status_code == (201 if principal in MANAGE else 403), response.text
    if response.status_code == 403:
        # a role or region that may not register is told so even for a NIB already taken
        taken = (await client.get(f"/vendors/{vendors.target}", headers=ROOT)).json()["nib"]
        duplicate = registration(REGION, nib=taken)
        again = await client.post("/vendors", json=duplicate, headers=vendors.headers(principal))
        assert again.status_code == 403


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_updating_a_profile(
    client: httpx.AsyncClient, vendors: Vendors, principal: str
) -> None:
    vendor_id = await vendor_in(client, "registered")
    response = await client.patch(
        f"/vendors/{vendor_id}", json={"scale": "kecil"}, headers=vendors.headers(principal)
    )
    assert response.status_code == (200 if principal in MANAGE else 403), response.text
    shown = (await client.get(f"/vendors/{vendor_id}", headers=ROOT)).json()
    assert shown["scale"] == ("kecil" if principal in MANAGE else "mikro")


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("verify", "registered", "verified"),
        ("suspend", "verified", "suspended"),
        ("reinstate", "suspended", "verified"),
    ],
)
@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_changing_the_status(
    client: httpx.AsyncClient,
    vendors: Vendors,
    principal: str,
    action: str,
    before: str,
    after: str,
) -> None:
    vendor_id = await vendor_in(client, before)
    body = {"reason": "NIB dicabut"} if action == "suspend" else None
    response = await client.post(
        f"/vendors/{vendor_id}/{action}", json=body, headers=vendors.headers(principal)
    )
    assert response.status_code == (200 if principal in MANAGE else 403), response.text
    assert await status_of(client, vendor_id) == (after if principal in MANAGE else before)


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_listing_vendors(client: httpx.AsyncClient, vendors: Vendors, principal: str) -> None:
    response = await client.get(
        "/vendors", params={"limit": 500}, headers=vendors.headers(principal)
    )
    expected = LISTS[principal]
    if expected is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200, response.text
    listed = {item["vendor_id"] for item in response.json()["items"]}
    assert response.json()["total"] == len(response.json()["items"])
    seen = {name for name, vendor_id in vendors.named() if vendor_id in listed}
    assert seen == expected
    region = PRINCIPALS[principal].get("region")
    for item in response.json()["items"]:
        if region is not None:
            assert item["region_code"] == region or item["region_code"].startswith(region + ".")


@pytest.mark.parametrize(
    ("principal", "region_code", "status_code"),
    [
        ("desk in region", REGION, 200),
        ("desk in region", ELSEWHERE, 403),
        ("desk in region", "33", 403),  # the province is wider than the desk's kota
        ("desk of the province", REGION, 200),
        ("auditor elsewhere", REGION, 403),
        ("auditor everywhere", ELSEWHERE, 200),
    ],
)
async def test_listing_another_region_is_403(
    client: httpx.AsyncClient,
    vendors: Vendors,
    principal: str,
    region_code: str,
    status_code: int,
) -> None:
    response = await client.get(
        "/vendors", params={"region_code": region_code}, headers=vendors.headers(principal)
    )
    assert response.status_code == status_code, response.text


async def test_a_role_that_may_not_register_is_told_403_whatever_it_sent(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/vendors", json={"nib": "1"}, headers=bearer("auditor", region=REGION)
    )
    assert response.status_code == 403


def _token(**overrides: Any) -> dict[str, str]:
    claims: dict[str, Any] = {"role": "desk", "region": REGION}
    secret = overrides.pop("secret", DEV_JWT_SECRET)
    claims.update(overrides)
    return {"Authorization": f"Bearer {mint_token(secret, **claims)}"}


BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "no header": {},
    "not a bearer": {"Authorization": "Basic ZGVzazpkZXNr"},
    "not a token": {"Authorization": "Bearer not-a-jwt"},
    "expired": _token(ttl=timedelta(seconds=-60)),
    "another secret": _token(secret="someone-elses-secret-of-enough-length"),
    "desk without region": _token(region=None),
    "vendor without vendor_id": _token(role="vendor", region=None),
}


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/vendors", registration()),
        ("GET", "/vendors", None),
        ("GET", "/vendors/{target}", None),
        ("PATCH", "/vendors/{target}", {"name": "X"}),
        ("POST", "/vendors/{target}/verify", None),
        ("POST", "/vendors/{target}/suspend", {"reason": "x"}),
        ("POST", "/vendors/{target}/reinstate", None),
    ],
)
async def test_a_missing_or_bad_token_is_401(
    client: httpx.AsyncClient,
    vendors: Vendors,
    credentials: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    response = await client.request(
        method,
        path.format(target=vendors.target),
        json=body,
        headers=BAD_CREDENTIALS[credentials],
    )
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == "Bearer"
