"""The API documents render in headless Chromium with nothing but the service itself: Swagger UI
at /docs lists the operations, /asyncapi/view the topics and messages; no request leaves for
another host, and the pages' Content-Security-Policy blocks nothing they need."""

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Route, async_playwright

from tests.e2e.stack import SERVICES, Stack

pytestmark = pytest.mark.infra

OPERATIONS = {
    "registration": {"/vendors", "/vendors/{vendor_id}/verify"},
    "catalog": {"/products", "/categories"},
    "purchasing": {"/orders", "/budgets/{fiscal_year}/{opd_code}"},
    "reporting": {"/compliance/opd", "/projections/rebuild"},
}
TOPICS = {
    "registration": {"etalase.registration.vendors"},
    "catalog": {"etalase.catalog.products", "etalase.registration.vendors"},
    "purchasing": {"etalase.purchasing.orders", "etalase.catalog.products"},
    "reporting": {"etalase.purchasing.budgets", "etalase.purchasing.orders"},
}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True
        )
        yield chromium
        await chromium.close()


class Offline:
    """A page that may reach only the service: every other request is recorded and refused."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.origin = urlsplit(base_url).netloc
        self.foreign: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob") and parts.netloc != self.origin:
            self.foreign.append(request.url)

    async def start(self) -> None:
        async def only_local(route: Route) -> None:
            parts = urlsplit(route.request.url)
            if parts.scheme in ("data", "blob") or parts.netloc == self.origin:
                await route.continue_()
            else:
                await route.abort()

        await self.page.route("**/*", only_local)


@pytest.mark.parametrize("service", SERVICES)
async def test_swagger_ui_lists_the_operations_offline(
    browser: Browser, services: Stack, service: str
) -> None:
    page = await browser.new_page()
    offline = Offline(page, services.urls[service])
    await offline.start()
    try:
        await page.goto(services.urls[service] + "/docs")
        await page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        listed = {
            await element.get_attribute("data-path")
            for element in await page.query_selector_all(".opblock-summary-path")
        }
        title = await page.inner_text(".info .title")
    finally:
        await page.close()
    assert OPERATIONS[service] <= listed, listed
    assert "Etalase" in title
    assert offline.foreign == []
    assert offline.errors == []  # a CSP violation or a failed asset is a console error


@pytest.mark.parametrize("service", SERVICES)
async def test_the_asyncapi_view_lists_topics_and_messages_offline(
    browser: Browser, services: Stack, service: str
) -> None:
    page = await browser.new_page()
    offline = Offline(page, services.urls[service])
    await offline.start()
    try:
        response = await page.goto(services.urls[service] + "/asyncapi/view")
        assert response is not None and response.status == 200
        channels = set(await page.locator("h2 code").all_inner_texts())
        messages = await page.locator("h3").all_inner_texts()
        payload_fields = await page.locator("td code").all_inner_texts()
    finally:
        await page.close()
    assert TOPICS[service] <= channels, channels
    assert any(name.endswith(".v1") for name in messages), messages
    assert {"specversion", "id", "data"} <= set(payload_fields)
    assert offline.foreign == []
    assert offline.errors == []
