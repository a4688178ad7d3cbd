"""Every service is made from its `ServiceDefinition` the same way; built here without starting
(nothing connects before the app's lifespan)."""

import pytest
from etalase_catalog.bootstrap import SERVICE as CATALOG
from etalase_events.topics import PRODUCTS, VENDORS
from etalase_platform.definition import ServiceDefinition, create_app
from etalase_platform.runtime import Subscription
from etalase_platform.settings import ServiceSettings
from etalase_purchasing.bootstrap import SERVICE as PURCHASING
from etalase_registration.bootstrap import SERVICE as REGISTRATION
from etalase_reporting.bootstrap import SERVICE as REPORTING

from tests.platform.support import MIGRATIONS, RecordEffects

SERVICES = [REGISTRATION, CATALOG, PURCHASING, REPORTING]


def _consuming(topics: list[str]) -> ServiceDefinition:
    def subscriptions() -> list[Subscription]:
        return [Subscription("vendors", [VENDORS], RecordEffects("test"))]

    return ServiceDefinition(
        name="things",
        title="Things",
        settings=lambda: ServiceSettings(service_name="things"),
        migrations=MIGRATIONS,
        routers=[],
        subscribes=topics,
        subscriptions=subscriptions,
    )


def test_a_subscription_to_a_topic_the_asyncapi_document_omits_is_refused() -> None:
    with pytest.raises(ValueError, match="undeclared topics"):
        create_app(_consuming([PRODUCTS]))
    assert create_app(_consuming([VENDORS])).state.runtime.subscriptions[0].topics == [VENDORS]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_runs_the_relay_exactly_when_it_publishes(
    service: ServiceDefinition,
) -> None:
    app = create_app(service)
    assert app.state.runtime.run_relay is bool(service.publishes)
    assert app.title == service.title
    document = service.asyncapi()
    assert document["info"]["title"] == f"{service.title} events"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert set(service.publishes) | set(service.subscribes) <= addresses
