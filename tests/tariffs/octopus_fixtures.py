"""Octopus API responses built from real Agile prices, and a fake API to serve them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

BASE_URL = "https://api.octopus.energy/v1"
IMPORT_PRODUCT = "AGILE-FLEX-22-11-25"
EXPORT_PRODUCT = "AGILE-OUTGOING-19-05-13"
REGION = "C"
SLOT = timedelta(minutes=30)
VAT = 1.05
# The client asks for pages this large, so two days always fit in one page.
RATES_PAGE_SIZE = 1500

PRICES_FILE = Path(__file__).parent.parent / "fixtures" / "octopus_agile_prices.json"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_prices() -> tuple[dict[datetime, float], dict[datetime, float]]:
    """Return the real import and export prices of the fixture, by slot start."""
    slots = json.loads(PRICES_FILE.read_text())["slots"]
    imports = {_parse(start): imp for start, imp, _ in slots}
    exports = {_parse(start): exp for start, _, exp in slots}
    return imports, exports


def shifted(
    prices: dict[datetime, float], source_start: datetime, target_start: datetime
) -> dict[datetime, float]:
    """Return the prices from source_start on, laid onto slots from target_start on.

    The real data has no October clock change day; its prices are placed on one.
    """
    offset = target_start - source_start
    return {start + offset: p for start, p in prices.items() if start >= source_start}


def rate_row(start: datetime, price: float) -> dict[str, Any]:
    """Return one result row as the standard-unit-rates endpoint sends it."""
    return {
        "value_exc_vat": round(price / VAT, 4),
        "value_inc_vat": price,
        "valid_from": _z(start),
        "valid_to": _z(start + SLOT),
        "payment_method": None,
    }


def rates_pages(
    prices: dict[datetime, float],
    period_from: datetime,
    period_to: datetime,
    page_size: int,
    url: str,
) -> list[dict[str, Any]]:
    """Return the API's pages for a period: newest first, linked through `next`."""
    starts = sorted(
        (s for s in prices if s + SLOT > period_from and s < period_to), reverse=True
    )
    chunks = [starts[i : i + page_size] for i in range(0, len(starts), page_size)]
    chunks = chunks or [[]]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        has_next = number < len(chunks)
        pages.append(
            {
                "count": len(starts),
                "next": f"{url}?page={number + 1}" if has_next else None,
                "previous": f"{url}?page={number - 1}" if number > 1 else None,
                "results": [rate_row(s, prices[s]) for s in chunk],
            }
        )
    return pages


def product(
    code: str,
    direction: str,
    display_name: str,
    available_from: str,
    brand: str = "OCTOPUS_ENERGY",
    *,
    is_variable: bool = True,
    is_business: bool = False,
) -> dict[str, Any]:
    """Return one entry of the /products/ list."""
    return {
        "code": code,
        "direction": direction,
        "full_name": f"{display_name} {code}",
        "display_name": display_name,
        "description": "",
        "is_variable": is_variable,
        "is_green": False,
        "is_tracker": False,
        "is_prepay": False,
        "is_business": is_business,
        "is_restricted": False,
        "term": 12,
        "available_from": available_from,
        "available_to": None,
        "links": [
            {"href": f"{BASE_URL}/products/{code}/", "method": "GET", "rel": "self"}
        ],
        "brand": brand,
    }


def products_pages() -> list[dict[str, Any]]:
    """Return a realistic two-page product list, as Octopus listed it in 2024."""
    first = [
        product(
            "AGILE-24-04-03", "IMPORT", "Agile Octopus", "2024-04-03T00:00:00+01:00"
        ),
        product(
            "AGILE-BB-24-10-01",
            "IMPORT",
            "Agile Octopus",
            "2024-10-01T00:00:00+01:00",
            brand="BULB",
        ),
        product(
            "AGILE-OUTGOING-19-05-13",
            "EXPORT",
            "Agile Outgoing Octopus",
            "2018-01-01T00:00:00Z",
        ),
        product(
            "AGILE-OUTGOING-BB-23-02-28",
            "EXPORT",
            "Agile Outgoing Octopus",
            "2023-02-27T00:00:00Z",
            brand="BULB",
        ),
        product(
            "OUTGOING-VAR-24-10-26",
            "EXPORT",
            "Outgoing Octopus",
            "2024-10-26T00:00:00+01:00",
        ),
    ]
    second = [
        product(
            "AGILE-24-10-01", "IMPORT", "Agile Octopus", "2024-10-01T00:00:00+01:00"
        ),
        product(
            "AGILE-FLEX-BUSINESS-24-12-01",
            "IMPORT",
            "Agile Octopus",
            "2024-12-01T00:00:00Z",
            is_business=True,
        ),
        product(
            "OE-FIX-12M-24-12-01",
            "IMPORT",
            "Octopus 12M Fixed",
            "2024-12-01T00:00:00Z",
            is_variable=False,
        ),
        product(
            "VAR-22-11-01", "IMPORT", "Flexible Octopus", "2023-03-28T10:35:00+01:00"
        ),
    ]
    url = f"{BASE_URL}/products/"
    return [
        {
            "count": 9,
            "next": f"{url}?is_variable=true&page=2",
            "previous": None,
            "results": first,
        },
        {
            "count": 9,
            "next": None,
            "previous": f"{url}?is_variable=true",
            "results": second,
        },
    ]


def rates_url(product_code: str, region: str = REGION) -> str:
    """Return the standard-unit-rates URL of a product in a region."""
    tariff = f"E-1R-{product_code}-{region}"
    return f"{BASE_URL}/products/{product_code}/electricity-tariffs/{tariff}/standard-unit-rates/"


@dataclass
class FakeOctopus:
    """Serves Agile rates published up to a moving time, or fails on demand."""

    prices: dict[str, dict[datetime, float]]
    published_until: datetime
    error: Exception | None = None
    status: int = 200
    requests: list[URL] = field(default_factory=list)

    def register(self, aioclient_mock: AiohttpClientMocker) -> None:
        """Answer every rates request of the known products."""
        for product_code in self.prices:
            aioclient_mock.get(
                rates_url(product_code), side_effect=self._responder(product_code)
            )

    def _responder(self, product_code: str) -> Callable[[str, URL, Any], Any]:
        async def respond(
            method: str, url: URL, data: Any
        ) -> AiohttpClientMockResponse:
            self.requests.append(url)
            if self.error is not None:
                raise self.error
            if self.status != 200:
                return AiohttpClientMockResponse(method, url, status=self.status)
            period_from = _parse(url.query["period_from"])
            period_to = min(_parse(url.query["period_to"]), self.published_until)
            pages = rates_pages(
                self.prices[product_code],
                period_from,
                period_to,
                RATES_PAGE_SIZE,
                str(url.with_query(None)),
            )
            return AiohttpClientMockResponse(method, url, json=pages[0])

        return respond

    def rate_requests(self, product_code: str) -> list[URL]:
        """Return the rate requests made for one product."""
        return [u for u in self.requests if f"/products/{product_code}/" in u.path]
