import json
from typing import Any

import pytest
from etalase_events.codec import InvalidEventData, decode
from etalase_events.models import ProductPriceChanged
from etalase_events.samples import AT, PRODUCT_ID
from etalase_events.upcasting import Upcasters


def v0_record(**data_changes: Any) -> bytes:
    """A ProductPriceChanged.v0 record value as the catalog pilot published it."""
    data = {
        "product_id": PRODUCT_ID,
        "price": "375000",
        "old_price": "350000.00",
        "changed_at": "2024-06-27T06:43:00.123456Z",
        **data_changes,
    }
    return json.dumps(
        {
            "specversion": "1.0",
            "id": "0b6f3c1e-6a55-4c52-9a3e-2f1d0c7b9e41",
            "source": "etalase/catalog",
            "type": "ProductPriceChanged.v0",
            "subject": PRODUCT_ID,
            "time": "2024-06-27T06:43:00.123456Z",
            "sequence": 4,
            "datacontenttype": "application/json",
            "data": data,
        }
    ).encode()


def test_an_old_price_change_decodes_to_the_current_model() -> None:
    decoded = decode(v0_record(), [("event-type", b"ProductPriceChanged.v0")])
    assert decoded.event == ProductPriceChanged(
        product_id=PRODUCT_ID, price_idr=375_000, previous_price_idr=350_000, changed_at=AT
    )
    # The envelope stays as it was received: provenance points at what was published.
    assert decoded.envelope.type == "ProductPriceChanged.v0"
    assert decoded.envelope.data["price"] == "375000"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": "375000.50"}, "whole amount"),
        ({"price": "Rp375.000"}, "not an amount"),
        ({"old_price": None}, "not an amount"),
        ({"price": "-1"}, "price_idr"),
    ],
)
def test_old_data_that_has_no_honest_current_form_is_invalid(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidEventData, match=message):
        decode(v0_record(**changes))


def test_a_missing_old_field_is_named() -> None:
    value = json.loads(v0_record())
    del value["data"]["old_price"]
    with pytest.raises(InvalidEventData, match="old_price"):
        decode(json.dumps(value).encode())


def test_upcasters_chain_and_may_change_their_argument() -> None:
    upcasters = Upcasters()

    @upcasters.register("X.v1", "X.v2")
    def rename(data: dict[str, Any]) -> dict[str, Any]:
        data["b"] = data.pop("a")
        return data

    @upcasters.register("X.v2", "X.v3")
    def double(data: dict[str, Any]) -> dict[str, Any]:
        data["b"] *= 2
        return data

    original = {"a": 2}
    assert upcasters.upcast("X.v1", original) == ("X.v3", {"b": 4})
    assert upcasters.upcast("X.v2", {"b": 1}) == ("X.v3", {"b": 2})
    assert upcasters.upcast("X.v3", {"b": 1}) == ("X.v3", {"b": 1})
    assert original == {"a": 2}


def test_duplicate_and_cyclic_upcasters_are_refused() -> None:
    upcasters = Upcasters()
    upcasters.register("X.v1", "X.v2")(dict)
    with pytest.raises(ValueError, match="already"):
        upcasters.register("X.v1", "X.v3")(dict)
    with pytest.raises(ValueError, match="cycle"):
        upcasters.register("X.v2", "X.v1")(dict)
    assert upcasters.upcast("X.v2", {}) == ("X.v2", {})  # the refused one is not kept
