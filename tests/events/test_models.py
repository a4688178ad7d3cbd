import json
import re
from decimal import Decimal
from typing import Any

import pytest
from etalase_events.codec import decode, encode_event
from etalase_events.envelope import CloudEvent
from etalase_events.models import (
    EVENT_TYPES,
    BudgetAllocated,
    OrderPlaced,
    ProductListed,
    ProductTkdnCertified,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
)
from etalase_events.samples import AT, SAMPLES
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

PERSONAL = re.compile(r"nik|npwp|ktp|phone|telepon|telp|handphone|e_?mail|surel|whatsapp|wa_")


def with_changes(event_type: str, **changes: Any) -> dict[str, Any]:
    return {**SAMPLES[event_type].model_dump(), **changes}


def test_samples_cover_every_event_type() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    for event_type, sample in SAMPLES.items():
        assert type(sample) is EVENT_TYPES[event_type]


def _field_names(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for nested in _models_in(field.annotation):
            names |= _field_names(nested)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]


def test_no_personal_data_in_any_event() -> None:
    names = _field_names(CloudEvent)
    for model in EVENT_TYPES.values():
        names |= _field_names(model)
    assert "lines" in names and "line_no" in names  # nested models are looked into
    assert [name for name in names if PERSONAL.search(name)] == []


def test_vendor_profile_updated_carries_only_the_changed_fields() -> None:
    event = VendorProfileUpdated(vendor_id="v", updated_at=AT, name="Batik Baru", kbli=["13134"])
    data = event.model_dump(mode="json")
    assert data == {
        "vendor_id": "v",
        "updated_at": "2024-06-27T06:43:00.123456Z",
        "name": "Batik Baru",
        "kbli": ["13134"],
    }
    assert VendorProfileUpdated.model_validate(data) == event


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(min_size=1),
            "legal_form": st.sampled_from(["perorangan", "cv", "pt", "koperasi"]),
            "scale": st.sampled_from(list(Scale)),
            "region_code": st.sampled_from(["33.75", "33.01", "31.71"]),
            "kbli": st.lists(st.from_regex(r"\A[0-9]{5}\Z"), min_size=1, max_size=3),
        },
    )
)
def test_any_subset_of_profile_changes_survives_the_wire(changes: dict[str, Any]) -> None:
    event = VendorProfileUpdated(vendor_id="v", updated_at=AT, **changes)
    record = encode_event(event, source="s", subject="v", sequence=2)
    assert set(json.loads(record.value)["data"]) == {"vendor_id", "updated_at", *changes}
    assert decode(record.value).event == event


@given(st.decimals(min_value=0, max_value=100, places=2))
def test_percentages_are_exact_json_numbers(pct: Decimal) -> None:
    event = ProductTkdnCertified.model_validate(
        with_changes("ProductTkdnCertified.v1", tkdn_pct=pct)
    )
    value = encode_event(event, source="s", subject="p", sequence=1).value
    assert json.loads(value)["data"]["tkdn_pct"] == float(pct)
    decoded = decode(value).event
    assert isinstance(decoded, ProductTkdnCertified)
    assert decoded.tkdn_pct == pct


@pytest.mark.parametrize("pct", [Decimal("12.345"), 100.01, -1, 0.1 + 0.2])
def test_percentages_have_at_most_two_decimals_and_stay_in_range(pct: Any) -> None:
    with pytest.raises(ValidationError, match="tkdn_pct"):
        ProductTkdnCertified.model_validate(with_changes("ProductTkdnCertified.v1", tkdn_pct=pct))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nib", "912000123456"),  # 12 digits
        ("nib", "912000123456a"),
        ("kbli", []),
        ("kbli", ["1313"]),
        ("region_code", "33"),  # a province, where a kabupaten/kota is needed
        ("region_code", "33.70"),
        ("region_code", "3375"),
        ("legal_form", "ud"),
        ("channel", "phone"),
        ("name", ""),
    ],
)
def test_vendor_registered_rejects(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        VendorRegistered.model_validate(with_changes("VendorRegistered.v1", **{field: value}))


def test_a_local_catalogue_product_names_its_region() -> None:
    with pytest.raises(ValidationError, match="catalog_region_code"):
        ProductListed.model_validate(with_changes("ProductListed.v1", catalog_region_code=None))
    national = with_changes("ProductListed.v1", catalog="nasional", catalog_region_code=None)
    assert ProductListed.model_validate(national).catalog_region_code is None


def test_prices_are_positive() -> None:
    with pytest.raises(ValidationError, match="price_idr"):
        ProductListed.model_validate(with_changes("ProductListed.v1", price_idr=0))


@pytest.mark.parametrize("model", [BudgetAllocated, OrderPlaced])
def test_opd_code_begins_with_its_region(model: type[BudgetAllocated | OrderPlaced]) -> None:
    changes = {"opd_code": "33.26.1.02"}
    with pytest.raises(ValidationError, match="opd_code"):
        model.model_validate(with_changes(model.event_type, **changes))
    province = with_changes(model.event_type, region_code="33", opd_code="33.1.02")
    assert model.model_validate(province).region_code == "33"


def _order_with(**line_changes: Any) -> dict[str, Any]:
    order = SAMPLES["OrderPlaced.v1"].model_dump()
    order["lines"][0].update(line_changes)
    return order


def test_order_amounts_add_up() -> None:
    with pytest.raises(ValidationError, match="subtotal_idr"):
        OrderPlaced.model_validate(_order_with(subtotal_idr=14_000_001))
    with pytest.raises(ValidationError, match="total_idr"):
        OrderPlaced.model_validate({**_order_with(), "total_idr": 19_000_000})
    with pytest.raises(ValidationError, match="line_no"):
        OrderPlaced.model_validate(_order_with(line_no=2))
    with pytest.raises(ValidationError, match="lines"):
        OrderPlaced.model_validate({**_order_with(), "lines": [], "total_idr": 1})


def test_events_are_immutable() -> None:
    event = SAMPLES["OrderPlaced.v1"]
    assert isinstance(event, OrderPlaced)
    with pytest.raises(ValidationError):
        event.order_id = "other"  # type: ignore[misc]
    assert hash(event) == hash(OrderPlaced.model_validate(event.model_dump()))
