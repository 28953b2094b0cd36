"""Tests of the Octopus API client against responses shaped like the real API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.battery_optimizer.tariffs.octopus import (
    AgileProducts,
    OctopusClient,
    OctopusConnectionError,
    OctopusNotFoundError,
    OctopusResponseError,
    Rate,
    tariff_code,
)

from .octopus_fixtures import (
    BASE_URL,
    EXPORT_PRODUCT,
    IMPORT_PRODUCT,
    REGION,
    SLOT,
    load_prices,
    product,
    products_pages,
    rate_row,
    rates_pages,
    rates_url,
)

DAY = datetime(2022, 11, 1, tzinfo=UTC)
IMPORT_PRICES, EXPORT_PRICES = load_prices()
URL_IMPORT = rates_url(IMPORT_PRODUCT)


@pytest.fixture
def client(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> OctopusClient:
    """Return a client on the mocked session."""
    return OctopusClient(async_get_clientsession(hass))


def _day_prices(day: datetime) -> dict[datetime, float]:
    return {
        s: p for s, p in IMPORT_PRICES.items() if day <= s < day + timedelta(days=1)
    }


def _serve_pages(
    aioclient_mock: AiohttpClientMocker, url: str, pages: list[Any]
) -> None:
    """Serve page N of a paginated listing for `?page=N`, page 1 otherwise."""

    async def respond(method: str, req: URL, data: Any) -> AiohttpClientMockResponse:
        number = int(req.query.get("page", "1"))
        return AiohttpClientMockResponse(method, req, json=pages[number - 1])

    aioclient_mock.get(url, side_effect=respond)


def test_tariff_code_is_single_register_electricity() -> None:
    assert tariff_code("AGILE-24-10-01", "C") == "E-1R-AGILE-24-10-01-C"


async def test_rates_come_oldest_first_with_vat(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    day = _day_prices(DAY)
    page = rates_pages(day, DAY, DAY + timedelta(days=1), 1500, URL_IMPORT)[0]
    assert page["results"][0]["valid_from"] == "2022-11-01T23:30:00Z"  # newest first
    aioclient_mock.get(URL_IMPORT, json=page)

    rates = await client.async_get_rates(
        IMPORT_PRODUCT, REGION, DAY, DAY + timedelta(days=1)
    )

    assert len(rates) == 48
    assert [r.start for r in rates] == sorted(day)
    assert rates[0] == Rate(DAY, DAY + SLOT, 12.61)
    assert all(r.price_p_per_kwh == day[r.start] for r in rates)
    assert all(r.start.tzinfo is UTC and r.end - r.start == SLOT for r in rates)


async def test_rates_request_names_tariff_period_and_page_size(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(
        URL_IMPORT, json=rates_pages(_day_prices(DAY), DAY, DAY + SLOT, 1500, "")[0]
    )
    london_midnight = datetime.fromisoformat("2022-11-01T00:00:00+00:00")

    await client.async_get_rates(
        IMPORT_PRODUCT, REGION, london_midnight, DAY + timedelta(hours=1, seconds=7)
    )

    _, url, _, _ = aioclient_mock.mock_calls[0]
    assert url.path.endswith(
        "/products/AGILE-FLEX-22-11-25/electricity-tariffs/"
        "E-1R-AGILE-FLEX-22-11-25-C/standard-unit-rates/"
    )
    assert url.query["period_from"] == "2022-11-01T00:00:00Z"
    assert url.query["period_to"] == "2022-11-01T01:00:07Z"
    assert url.query["page_size"] == "1500"


async def test_rates_follow_next_across_pages(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    prices = {
        s: p for s, p in IMPORT_PRICES.items() if DAY <= s < DAY + timedelta(days=2)
    }
    pages = rates_pages(prices, DAY, DAY + timedelta(days=2), 40, URL_IMPORT)
    assert len(pages) == 3
    # Prices published between two page requests shift the pages: a row repeats.
    pages[1]["results"].insert(0, pages[0]["results"][-1])
    _serve_pages(aioclient_mock, URL_IMPORT, pages)

    rates = await client.async_get_rates(
        IMPORT_PRODUCT, REGION, DAY, DAY + timedelta(days=2)
    )

    assert aioclient_mock.call_count == 3
    assert [r.start for r in rates] == sorted(prices)
    assert [r.price_p_per_kwh for r in rates] == [prices[s] for s in sorted(prices)]


@pytest.mark.parametrize("order", [1, -1])
async def test_direct_debit_row_wins_over_non_direct_debit(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker, order: int
) -> None:
    dearer = {**rate_row(DAY, 30.0), "payment_method": "NON_DIRECT_DEBIT"}
    cheaper = {**rate_row(DAY, 28.0), "payment_method": "DIRECT_DEBIT"}
    rows = [dearer, cheaper][::order]
    aioclient_mock.get(
        URL_IMPORT, json={"count": 2, "next": None, "previous": None, "results": rows}
    )

    rates = await client.async_get_rates(IMPORT_PRODUCT, REGION, DAY, DAY + SLOT)

    assert rates == [Rate(DAY, DAY + SLOT, 28.0)]


async def test_open_ended_rate_lasts_to_the_end_of_the_period(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    row = {**rate_row(DAY - timedelta(days=30), 15.0), "valid_to": None}
    aioclient_mock.get(
        URL_IMPORT, json={"count": 1, "next": None, "previous": None, "results": [row]}
    )
    period_to = DAY + timedelta(days=2)

    rates = await client.async_get_rates(IMPORT_PRODUCT, REGION, DAY, period_to)

    assert rates == [Rate(DAY - timedelta(days=30), period_to, 15.0)]


async def test_naive_period_is_refused(client: OctopusClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await client.async_get_rates(
            IMPORT_PRODUCT, REGION, datetime(2022, 11, 1), DAY + SLOT
        )


@pytest.mark.parametrize(
    ("mock", "error"),
    [
        ({"status": HTTPStatus.INTERNAL_SERVER_ERROR}, OctopusConnectionError),
        ({"status": HTTPStatus.BAD_GATEWAY}, OctopusConnectionError),
        ({"status": HTTPStatus.TOO_MANY_REQUESTS}, OctopusConnectionError),
        ({"exc": TimeoutError()}, OctopusConnectionError),
        ({"exc": aiohttp.ClientConnectionError("reset")}, OctopusConnectionError),
        ({"status": HTTPStatus.NOT_FOUND}, OctopusNotFoundError),
        ({"status": HTTPStatus.BAD_REQUEST}, OctopusResponseError),
        ({"text": "<html>Bad gateway</html>"}, OctopusResponseError),
        ({"json": ["not", "an", "object"]}, OctopusResponseError),
        ({"json": {"count": 0, "next": None}}, OctopusResponseError),
        ({"json": {"count": 0, "next": None, "results": []}}, OctopusResponseError),
        ({"json": {"next": 7, "results": [rate_row(DAY, 1.0)]}}, OctopusResponseError),
    ],
    ids=[
        "500",
        "502",
        "429",
        "timeout",
        "connection",
        "404",
        "400",
        "malformed-json",
        "not-an-object",
        "no-results",
        "empty-results",
        "bad-next",
    ],
)
async def test_rate_request_failures_map_to_client_errors(
    client: OctopusClient,
    aioclient_mock: AiohttpClientMocker,
    mock: dict[str, Any],
    error: type[Exception],
) -> None:
    aioclient_mock.get(URL_IMPORT, **mock)

    with pytest.raises(error) as caught:
        await client.async_get_rates(IMPORT_PRODUCT, REGION, DAY, DAY + SLOT)

    assert type(caught.value) is error


@pytest.mark.parametrize(
    "row",
    [
        "2022-11-01T00:00:00Z",
        {**rate_row(DAY, 1.0), "value_inc_vat": None},
        {**rate_row(DAY, 1.0), "value_inc_vat": True},
        {**rate_row(DAY, 1.0), "valid_from": "yesterday"},
        {**rate_row(DAY, 1.0), "valid_from": "2022-11-01T00:00:00"},
        {**rate_row(DAY, 1.0), "valid_from": 1667260800},
        {**rate_row(DAY, 1.0), "valid_to": "2022-11-01T00:00:00Z"},
    ],
    ids=[
        "not-object",
        "no-price",
        "bool-price",
        "bad-time",
        "naive",
        "number",
        "empty",
    ],
)
async def test_malformed_rate_rows_are_response_errors(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker, row: Any
) -> None:
    aioclient_mock.get(URL_IMPORT, json={"next": None, "results": [row]})

    with pytest.raises(OctopusResponseError):
        await client.async_get_rates(IMPORT_PRODUCT, REGION, DAY, DAY + SLOT)


async def test_next_link_loop_stops(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(
        URL_IMPORT, json={"next": URL_IMPORT, "results": [rate_row(DAY, 1.0)]}
    )

    with pytest.raises(OctopusResponseError, match="pages"):
        await client.async_get_rates(IMPORT_PRODUCT, REGION, DAY, DAY + SLOT)

    assert aioclient_mock.call_count == 50


async def test_agile_products_are_the_newest_octopus_ones(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    _serve_pages(aioclient_mock, f"{BASE_URL}/products/", products_pages())

    products = await client.async_get_agile_products()

    # Not the Bulb or business copies, nor the Outgoing product for import.
    assert products == AgileProducts(
        import_code="AGILE-24-10-01", export_code=EXPORT_PRODUCT
    )
    assert aioclient_mock.call_count == 2
    _, first_url, _, _ = aioclient_mock.mock_calls[0]
    assert first_url.query["is_variable"] == "true"


async def test_agile_product_found_by_display_name_and_dateless_is_oldest(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    dateless = product("AGILE-23-12-06", "IMPORT", "Agile Octopus", "")
    dateless["available_from"] = None
    by_name = product("OCTOPLUS-24", "IMPORT", "Agile Octopus", "2019-01-01T00:00:00Z")
    results = [dateless, by_name, "junk", {"no": "code"}]
    aioclient_mock.get(
        f"{BASE_URL}/products/", json={"count": 4, "next": None, "results": results}
    )

    products = await client.async_get_agile_products()

    assert products == AgileProducts(import_code="OCTOPLUS-24", export_code=None)


async def test_no_agile_import_product_is_a_response_error(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    fixed = product(
        "VAR-22-11-01", "IMPORT", "Flexible Octopus", "2023-03-28T10:35:00Z"
    )
    aioclient_mock.get(
        f"{BASE_URL}/products/", json={"count": 1, "next": None, "results": [fixed]}
    )

    with pytest.raises(OctopusResponseError, match="Agile"):
        await client.async_get_agile_products()


async def test_export_product_matched_by_display_name(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    results = [
        product("AGILE-24-10-01", "IMPORT", "Agile Octopus", "2024-10-01T00:00:00Z"),
        product(
            "OUTGOING-AG-25", "EXPORT", "Agile Outgoing Octopus", "2025-01-01T00:00:00Z"
        ),
        product(
            "OUTGOING-VAR-24-10-26",
            "EXPORT",
            "Outgoing Octopus",
            "2025-02-01T00:00:00Z",
        ),
    ]
    aioclient_mock.get(
        f"{BASE_URL}/products/", json={"count": 3, "next": None, "results": results}
    )

    products = await client.async_get_agile_products()

    assert products.export_code == "OUTGOING-AG-25"


async def test_products_not_found(
    client: OctopusClient, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(f"{BASE_URL}/products/", status=HTTPStatus.NOT_FOUND)

    with pytest.raises(OctopusNotFoundError):
        await client.async_get_agile_products()


def test_export_prices_are_in_the_fixture() -> None:
    # Guards the fixture slice the coordinator tests rely on.
    assert EXPORT_PRICES[DAY] == 6.56
    assert len(IMPORT_PRICES) == len(EXPORT_PRICES) == 432
