"""Client for the public Octopus Energy products API (Agile import and export rates).

Plain aiohttp, no Home Assistant imports: the caller passes in the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

DEFAULT_BASE_URL = "https://api.octopus.energy/v1"
REQUEST_TIMEOUT_S = 20.0
# The API's largest page; two days of half-hours fit in one page.
RATES_PAGE_SIZE = 1500
# Guards against a `next` link that loops back on itself.
MAX_PAGES = 50

BRAND_OCTOPUS = "OCTOPUS_ENERGY"
AGILE_IMPORT_PREFIX = "AGILE-"
AGILE_EXPORT_PREFIX = "AGILE-OUTGOING-"
AGILE_IMPORT_NAME = "Agile Octopus"
AGILE_EXPORT_NAME = "Agile Outgoing Octopus"
# Some tariffs publish a second, dearer row per slot for customers not paying by
# direct debit; the integration plans with the direct-debit (or only) row.
NON_DIRECT_DEBIT = "NON_DIRECT_DEBIT"


@dataclass(frozen=True, slots=True)
class Rate:
    """One published unit rate: [start, end) in UTC, price in p/kWh including VAT."""

    start: datetime
    end: datetime
    price_p_per_kwh: float


@dataclass(frozen=True, slots=True)
class AgileProducts:
    """Codes of the current Agile import product and Agile Outgoing export product."""

    import_code: str
    export_code: str | None


class OctopusError(Exception):
    """Base error of the Octopus client."""


class OctopusConnectionError(OctopusError):
    """The API could not be reached: network error, timeout or server error."""


class OctopusResponseError(OctopusError):
    """The API answered with something the client cannot use."""


class OctopusNotFoundError(OctopusResponseError):
    """The product or tariff does not exist (HTTP 404)."""


def tariff_code(product_code: str, region: str) -> str:
    """Return the single-register electricity tariff code of a product in a region."""
    return f"E-1R-{product_code}-{region}"


def _format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("period bounds must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise OctopusResponseError(f"expected a timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise OctopusResponseError(f"bad timestamp {value!r}") from err
    if parsed.tzinfo is None:
        # The API documents Europe/London for naive times; it sends none, so a
        # naive one means the response is not what this client understands.
        raise OctopusResponseError(f"timestamp without a zone: {value!r}")
    return parsed.astimezone(UTC)


def _parse_rate(row: object, period_to: datetime) -> tuple[Rate, bool]:
    """Return the rate of one result row and whether it is the direct-debit price."""
    if not isinstance(row, Mapping):
        raise OctopusResponseError(f"rate row is not an object: {row!r}")
    price = row.get("value_inc_vat")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise OctopusResponseError(f"rate without value_inc_vat: {row!r}")
    start = _parse_time(row.get("valid_from"))
    # An open-ended rate (fixed products) lasts at least to the end of the query.
    raw_end = row.get("valid_to")
    end = period_to.astimezone(UTC) if raw_end is None else _parse_time(raw_end)
    if end <= start:
        raise OctopusResponseError(f"rate ends before it starts: {row!r}")
    preferred = row.get("payment_method") != NON_DIRECT_DEBIT
    return Rate(start, end, float(price)), preferred


def _is_candidate(product: Mapping[str, Any], direction: str) -> bool:
    return (
        product.get("direction") == direction
        and product.get("brand") == BRAND_OCTOPUS
        and product.get("is_variable") is True
        and not product.get("is_business")
        and not product.get("is_prepay")
    )


def _is_agile_import(product: Mapping[str, Any]) -> bool:
    code = str(product.get("code", ""))
    agile_code = code.startswith(AGILE_IMPORT_PREFIX) and not code.startswith(
        AGILE_EXPORT_PREFIX
    )
    named = product.get("display_name") == AGILE_IMPORT_NAME
    return _is_candidate(product, "IMPORT") and (agile_code or named)


def _is_agile_export(product: Mapping[str, Any]) -> bool:
    code = str(product.get("code", ""))
    named = product.get("display_name") == AGILE_EXPORT_NAME
    return _is_candidate(product, "EXPORT") and (
        code.startswith(AGILE_EXPORT_PREFIX) or named
    )


def _newest(products: list[Mapping[str, Any]]) -> str | None:
    """Return the code of the product that became available last."""

    def key(product: Mapping[str, Any]) -> tuple[datetime, str]:
        raw = product.get("available_from")
        since = datetime.min.replace(tzinfo=UTC) if raw is None else _parse_time(raw)
        return since, str(product["code"])

    if not products:
        return None
    return key(max(products, key=key))[1]


class OctopusClient:
    """Reads Agile products and unit rates from the Octopus API."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        """Keep the caller's session; the client never closes it."""
        self._session = session
        self._base_url = base_url.rstrip("/")

    async def _get_json(
        self, url: str, params: Mapping[str, str] | None = None
    ) -> Mapping[str, Any]:
        try:
            async with self._session.get(
                url,
                params=params,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                if response.status == 404:
                    raise OctopusNotFoundError(f"not found: {url}")
                # 429 and 5xx are the server's trouble and pass with time.
                if response.status == 429 or response.status >= 500:
                    raise OctopusConnectionError(f"HTTP {response.status} from {url}")
                if response.status >= 400:
                    raise OctopusResponseError(f"HTTP {response.status} from {url}")
                body = await response.json(content_type=None)
        except TimeoutError as err:
            raise OctopusConnectionError(f"timeout requesting {url}") from err
        except aiohttp.ClientError as err:
            raise OctopusConnectionError(f"error requesting {url}: {err}") from err
        except ValueError as err:
            raise OctopusResponseError(f"invalid JSON from {url}") from err
        if not isinstance(body, Mapping):
            raise OctopusResponseError(f"unexpected response from {url}")
        return body

    async def _get_all_results(
        self, url: str, params: Mapping[str, str]
    ) -> list[object]:
        """Return the results of every page, following `next` links."""
        results: list[object] = []
        next_url: str | None = url
        next_params: Mapping[str, str] | None = params
        pages = 0
        while next_url is not None:
            if pages == MAX_PAGES:
                raise OctopusResponseError(f"more than {MAX_PAGES} pages from {url}")
            pages += 1
            body = await self._get_json(next_url, next_params)
            page = body.get("results")
            if not isinstance(page, list):
                raise OctopusResponseError(f"no results list in {next_url}")
            results.extend(page)
            link = body.get("next")
            if link is not None and not isinstance(link, str):
                raise OctopusResponseError(f"bad next link in {next_url}")
            # The `next` link already carries the query string.
            next_url, next_params = link, None
        return results

    async def async_get_agile_products(self) -> AgileProducts:
        """Return the newest available Agile import and Agile Outgoing products."""
        rows = await self._get_all_results(
            f"{self._base_url}/products/", {"is_variable": "true"}
        )
        products = [row for row in rows if isinstance(row, Mapping) and "code" in row]
        import_code = _newest([p for p in products if _is_agile_import(p)])
        if import_code is None:
            raise OctopusResponseError("no Agile import product is available")
        export_code = _newest([p for p in products if _is_agile_export(p)])
        return AgileProducts(import_code=import_code, export_code=export_code)

    async def async_get_rates(
        self,
        product_code: str,
        region: str,
        period_from: datetime,
        period_to: datetime,
    ) -> list[Rate]:
        """Return the unit rates in [period_from, period_to), oldest first."""
        tariff = tariff_code(product_code, region)
        url = (
            f"{self._base_url}/products/{product_code}/electricity-tariffs/"
            f"{tariff}/standard-unit-rates/"
        )
        params = {
            "period_from": _format_time(period_from),
            "period_to": _format_time(period_to),
            "page_size": str(RATES_PAGE_SIZE),
        }
        rows = await self._get_all_results(url, params)
        # Pages overlap when prices are published between two page requests.
        chosen: dict[datetime, tuple[Rate, bool]] = {}
        for row in rows:
            rate, preferred = _parse_rate(row, period_to)
            held = chosen.get(rate.start)
            if held is None or (preferred and not held[1]):
                chosen[rate.start] = (rate, preferred)
        if not chosen:
            raise OctopusResponseError(f"no rates for {tariff}")
        return [chosen[start][0] for start in sorted(chosen)]
