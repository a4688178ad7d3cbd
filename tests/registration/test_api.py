"""The registration API through HTTP, against real PostgreSQL and Kafka: what a desk officer
sends, what is refused (422 naming the field, 404, 409) and what is shown."""

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.helpers import bearer, unique
from tests.registration.support import new_nib, registration

pytestmark = pytest.mark.infra

DESK_SUB = "desk:mpp-kota-pekalongan-1"
DESK = bearer("desk", region="33.75", sub=DESK_SUB)
ADMIN = bearer("admin", region="33.75", sub="admin:ukpbj-pekalongan")
PROBLEM_JSON = "application/problem+json"


async def register(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> Any:
    response = await client.post("/vendors", json=body, headers={**DESK, **headers})
    assert response.status_code == 201, response.text
    return response.json()


def field_errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == 422
    return [error["field"] for error in body["errors"]]


async def test_a_desk_registration_is_shown_with_personal_data_masked(
    client: httpx.AsyncClient,
) -> None:
    body = registration(
        npwp="01.312.166.0-091.000",
        address="Jl. Hayam Wuruk No. 5, Pekalongan",
        email="Batik.Pesisir@Example.CO.ID",
        phone="0285-421234",
    )
    vendor = await register(client, body)

    assert vendor == {
        "vendor_id": vendor["vendor_id"],
        "nib": body["nib"],
        "npwp_masked": "***********1000",
        "name": "CV Batik Pesisir Jaya",
        "legal_form": "cv",
        "scale": "mikro",
        "region_code": "33.75",
        "kbli": ["13134", "47711"],
        "channel": "mpp_desk",
        "desk_id": DESK_SUB,
        "status": "registered",
        "registered_at": vendor["registered_at"],
        "address": "Jl. Hayam Wuruk No. 5, Pekalongan",
        "email_masked": "B***@example.co.id",
        "phone_masked": "******1234",
    }
    assert datetime.fromisoformat(vendor["registered_at"]).utcoffset() is not None
    shown = await client.get(f"/vendors/{vendor['vendor_id']}", headers=DESK)
    assert shown.status_code == 200
    assert shown.json() == vendor


async def test_an_admin_registration_is_online_without_a_desk(client: httpx.AsyncClient) -> None:
    response = await client.post("/vendors", json=registration(), headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.json()["channel"] == "online"
    assert response.json()["desk_id"] is None


async def test_what_a_desk_types_is_tidied(client: httpx.AsyncClient) -> None:
    vendor = await register(
        client,
        registration(
            name="  Koperasi   Batik  Setono ",
            nib=f" {new_nib()} ",
            npwp="0013121660091000",
            kbli=["13134", " 13134", "47711"],
        ),
    )
    assert vendor["name"] == "Koperasi Batik Setono"
    assert vendor["kbli"] == ["13134", "47711"]
    assert vendor["npwp_masked"] == "************1000"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nib", "912000123456"),  # 12 digits
        ("nib", "91200012345678"),  # 14 digits
        ("nib", "912000123456A"),
        ("nib", "9120-01234567"),
        ("npwp", "013121661091000"),  # check digit wrong
        ("npwp", "0013121661091000"),  # 0 + old number, check digit wrong
        ("npwp", "01312166009100"),  # 14 digits
        ("npwp", "01312166009100X"),
        ("npwp", "3171013302450001"),  # a NIK born on 33 February
        ("npwp", "9971011708450001"),  # a NIK of province 99
        ("region_code", "33.00"),
        ("region_code", "33.99"),  # kota range, but no such kota
        ("region_code", "99.71"),
        ("region_code", "3375"),
        ("region_code", "33"),  # a province is not where a business is domiciled
        ("kbli", []),
        ("kbli", ["1313"]),
        ("kbli", ["131345"]),
        ("kbli", ["1313a"]),
        ("kbli", "13134"),
        ("name", "   "),
        ("name", "x" * 201),
        ("legal_form", "bumn"),
        ("scale", "raksasa"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("phone", "0812-ABC-7890"),
        ("phone", "12345"),
        ("address", " "),
        ("status", "verified"),  # not a field a client may set
    ],
)
async def test_invalid_input_is_422_naming_the_field(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    response = await client.post("/vendors", json=registration(**{field: value}), headers=DESK)
    assert field_errors(response) == [field]
    if field == "npwp":
        assert value not in response.text  # personal data is not echoed


@pytest.mark.parametrize(
    "field", ["nib", "npwp", "name", "legal_form", "scale", "region_code", "kbli"]
)
async def test_a_missing_field_is_422_naming_it(client: httpx.AsyncClient, field: str) -> None:
    body = registration()
    del body[field]
    response = await client.post("/vendors", json=body, headers=DESK)
    assert field_errors(response) == [field]


async def test_a_nib_registered_once_answers_409_with_its_vendor(
    client: httpx.AsyncClient,
) -> None:
    first = await register(client, registration())
    again = registration(nib=first["nib"], name="PT Lain Sama NIB", legal_form="pt")
    response = await client.post("/vendors", json=again, headers=ADMIN)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["vendor_id"] == first["vendor_id"]
    assert response.json()["status"] == 409
    assert response.json()["rule"] == "nib_taken"


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    client: httpx.AsyncClient,
) -> None:
    key = unique("retry-")
    body = registration()
    first = await register(client, body, **{"Idempotency-Key": key})
    retry = await client.post("/vendors", json=body, headers={**DESK, "Idempotency-Key": key})
    assert retry.status_code == 201
    assert retry.json() == first
    assert retry.headers["Idempotent-Replayed"] == "true"

    listed = await client.get("/vendors", params={"limit": 500}, headers=DESK)
    assert [v["vendor_id"] for v in listed.json()["items"] if v["nib"] == body["nib"]] == [
        first["vendor_id"]
    ]
    other = await client.post(
        "/vendors", json=registration(), headers={**DESK, "Idempotency-Key": key}
    )
    assert other.status_code == 422  # the key names a different request


async def test_unknown_vendor_is_404(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    calls = [
        client.get(f"/vendors/{missing}", headers=DESK),
        client.patch(f"/vendors/{missing}", json={"name": "X"}, headers=DESK),
        client.post(f"/vendors/{missing}/verify", headers=DESK),
        client.post(f"/vendors/{missing}/suspend", json={"reason": "x"}, headers=DESK),
        client.post(f"/vendors/{missing}/reinstate", headers=DESK),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith(PROBLEM_JSON)


async def test_the_status_machine_allows_only_its_transitions(client: httpx.AsyncClient) -> None:
    vendor_id = (await register(client, registration()))["vendor_id"]

    async def act(action: str) -> httpx.Response:
        body = {"reason": "dokumen NIB kedaluwarsa"} if action == "suspend" else None
        return await client.post(f"/vendors/{vendor_id}/{action}", json=body, headers=DESK)

    steps = [
        ("suspend", 409, "registered"),
        ("reinstate", 409, "registered"),
        ("verify", 200, "verified"),
        ("verify", 409, "verified"),
        ("reinstate", 409, "verified"),
        ("suspend", 200, "suspended"),
        ("suspend", 409, "suspended"),
        ("verify", 409, "suspended"),
        ("reinstate", 200, "verified"),
        ("suspend", 200, "suspended"),
    ]
    for action, status_code, status in steps:
        response = await act(action)
        assert response.status_code == status_code, (action, response.text)
        if status_code == 200:
            assert response.json()["status"] == status
        else:
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
            problem = response.json()
            assert (problem["rule"], problem["vendor_status"]) == ("transition_forbidden", status)
        shown = await client.get(f"/vendors/{vendor_id}", headers=DESK)
        assert shown.json()["status"] == status, action


@pytest.mark.parametrize("body", [None, {}, {"reason": "   "}, {"reason": None}])
async def test_a_suspension_needs_a_reason(client: httpx.AsyncClient, body: Any) -> None:
    vendor_id = (await register(client, registration()))["vendor_id"]
    await client.post(f"/vendors/{vendor_id}/verify", headers=DESK)
    response = await client.post(f"/vendors/{vendor_id}/suspend", json=body, headers=DESK)
    assert response.status_code == 422
    shown = await client.get(f"/vendors/{vendor_id}", headers=DESK)
    assert shown.json()["status"] == "verified"


async def test_patch_changes_the_profile_fields_given(client: httpx.AsyncClient) -> None:
    vendor = await register(client, registration())
    url = f"/vendors/{vendor['vendor_id']}"

    response = await client.patch(
        url, json={"name": " CV Batik Pesisir Makmur ", "scale": "kecil"}, headers=DESK
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**vendor, "name": "CV Batik Pesisir Makmur", "scale": "kecil"}

    response = await client.patch(url, json={"kbli": ["13134"], "legal_form": "pt"}, headers=DESK)
    expected = {**vendor, "name": "CV Batik Pesisir Makmur", "scale": "kecil"}
    assert response.json() == {**expected, "kbli": ["13134"], "legal_form": "pt"}

    unchanged = await client.patch(url, json={}, headers=DESK)
    assert unchanged.status_code == 200
    assert (await client.get(url, headers=DESK)).json() == unchanged.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", None),
        ("name", ""),
        ("kbli", []),
        ("kbli", ["12"]),
        ("scale", "raksasa"),
        ("legal_form", None),
        ("nib", "9120001234567"),  # identifiers are not edited
        ("npwp", "013121660091000"),
        ("region_code", "33.74"),
        ("status", "verified"),
    ],
)
async def test_patch_refuses_invalid_fields(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    vendor = await register(client, registration())
    url = f"/vendors/{vendor['vendor_id']}"
    response = await client.patch(url, json={field: value}, headers=DESK)
    assert field_errors(response) == [field]
    assert (await client.get(url, headers=DESK)).json() == vendor


async def test_the_list_filters_and_pages(client: httpx.AsyncClient) -> None:
    region = "35.78"  # Kota Surabaya: only this test registers there
    desk = bearer("desk", region="35")
    ids = []
    for scale in ("mikro", "mikro", "kecil", "menengah", "kecil"):
        body = registration(region_code=region, scale=scale)
        response = await client.post("/vendors", json=body, headers=desk)
        ids.append(response.json()["vendor_id"])
    for vendor_id in ids[:2]:
        await client.post(f"/vendors/{vendor_id}/verify", headers=desk)

    async def listed(**params: Any) -> Any:
        response = await client.get("/vendors", params=params, headers=desk)
        assert response.status_code == 200, response.text
        return response.json()

    everything = await listed(region_code=region)
    assert everything["total"] == 5
    assert sorted(v["vendor_id"] for v in everything["items"]) == sorted(ids)
    assert [v["vendor_id"] for v in everything["items"]] == ids[::-1]  # newest first
    assert (await listed(region_code="35"))["total"] == 5
    verified = await listed(region_code=region, status="verified")
    assert sorted(v["vendor_id"] for v in verified["items"]) == sorted(ids[:2])
    small = await listed(region_code=region, scale="kecil")
    assert sorted(v["vendor_id"] for v in small["items"]) == sorted([ids[2], ids[4]])
    both = await listed(region_code=region, scale="mikro", status="registered")
    assert both == {"items": [], "total": 0}

    pages = [await listed(region_code=region, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [page["total"] for page in pages] == [5, 5, 5]
    assert [v["vendor_id"] for page in pages for v in page["items"]] == ids[::-1]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "deleted"),
        ("scale", "raksasa"),
        ("region_code", "33.00"),
        ("region_code", "99"),
        ("region_code", "33.75.01"),
        ("limit", "0"),
        ("limit", "501"),
        ("offset", "-1"),
    ],
)
async def test_list_parameters_are_checked(
    client: httpx.AsyncClient, param: str, value: str
) -> None:
    response = await client.get("/vendors", params={param: value}, headers=DESK)
    assert field_errors(response) == [param]


async def test_documents_and_health_need_no_token(client: httpx.AsyncClient) -> None:
    asyncapi = (await client.get("/asyncapi")).json()
    assert [channel["address"] for channel in asyncapi["channels"].values()] == [
        "etalase.registration.vendors"
    ]
    assert {op["action"] for op in asyncapi["operations"].values()} == {"send"}
    assert set(asyncapi["components"]["messages"]) == {
        "VendorRegistered.v1",
        "VendorVerified.v1",
        "VendorProfileUpdated.v1",
        "VendorSuspended.v1",
        "VendorReinstated.v1",
    }
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths) >= {
        "/vendors",
        "/vendors/{vendor_id}",
        "/vendors/{vendor_id}/verify",
        "/vendors/{vendor_id}/suspend",
        "/vendors/{vendor_id}/reinstate",
    }
    assert set(paths["/vendors/{vendor_id}"]) == {"get", "patch"}
    assert (await client.get("/health/ready")).json()["status"] == "ready"
