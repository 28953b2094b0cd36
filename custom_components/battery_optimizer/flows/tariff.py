"""Resolve the tariff a user chose: product codes, and prices that prove them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE_ENTITIES,
    CONF_EXPORT_TYPE,
    CONF_IMPORT_PRODUCT,
    CONF_MANUAL_PRODUCT,
    CONF_PRICE_SOURCE,
    CONF_RATE_ENTITIES,
    CONF_REGION,
    EXPORT_AGILE,
    PRICE_SOURCE_OCTOPUS,
    PRICE_SOURCE_OCTOPUS_ENERGY,
    SECTION_ADVANCED,
)
from ..tariffs.octopus import (
    OctopusClient,
)
from ..tariffs.octopus_energy import (
    OctopusEnergyEntitiesClient,
    OctopusEnergyNoRatesError,
    find_rate_entities,
)
from ..tariffs.prices import PriceClient

# The current half-hour always has a published Agile price, so an hour either
# side of now proves that the product and region resolve to real prices.
PRICE_TEST_MARGIN = timedelta(hours=1)


class NoPricesError(Exception):
    """The Octopus API answered but published no prices for the test window."""


class NoExportProductError(Exception):
    """Octopus lists no Agile Outgoing product to read export prices from."""


class NoExportMeterError(Exception):
    """The Octopus Energy integration shows no export meter to read prices from."""


def manual_product(user_input: Mapping[str, Any]) -> str:
    """The product code typed in the advanced section, normalised; empty if none."""
    advanced: Mapping[str, Any] = user_input.get(SECTION_ADVANCED) or {}
    code: str = advanced.get(CONF_IMPORT_PRODUCT) or ""
    return code.strip().upper()


async def _async_require_prices(
    client: PriceClient, product_code: str, region: str, now: datetime
) -> None:
    try:
        rates = await client.async_get_rates(
            product_code, region, now - PRICE_TEST_MARGIN, now + PRICE_TEST_MARGIN
        )
    except OctopusEnergyNoRatesError as err:
        raise NoPricesError(product_code) from err
    if not rates:
        raise NoPricesError(product_code)


def has_octopus_energy_meter(hass: HomeAssistant) -> bool:
    """Whether the Octopus Energy integration shows an import meter."""
    return any(not meter.is_export for meter in find_rate_entities(hass))


async def async_resolve_entity_tariff(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, Any]:
    """Pick the Octopus Energy rate entities and read them once; return the tariff."""
    meters = find_rate_entities(hass)
    import_ids = next((m.entity_ids for m in meters if not m.is_export), ())
    export_type: str = user_input[CONF_EXPORT_TYPE]
    export_ids: tuple[str, ...] = ()
    if export_type == EXPORT_AGILE:
        export_ids = next((m.entity_ids for m in meters if m.is_export), ())
        if not export_ids:
            raise NoExportMeterError
    client = OctopusEnergyEntitiesClient(hass, import_ids, export_ids)
    products = await client.async_get_agile_products()
    region: str = user_input[CONF_REGION]
    now = dt_util.utcnow()
    await _async_require_prices(client, products.import_code, region, now)
    tariff: dict[str, Any] = {
        CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
        CONF_REGION: region,
        CONF_IMPORT_PRODUCT: products.import_code,
        CONF_EXPORT_TYPE: export_type,
        CONF_RATE_ENTITIES: list(import_ids),
    }
    if products.export_code is not None:
        await _async_require_prices(client, products.export_code, region, now)
        tariff[CONF_EXPORT_PRODUCT] = products.export_code
        tariff[CONF_EXPORT_RATE_ENTITIES] = list(export_ids)
    return tariff


async def async_resolve_tariff(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, Any]:
    """Find the product codes and fetch their prices once; return the tariff data."""
    source = user_input.get(CONF_PRICE_SOURCE)
    if source == PRICE_SOURCE_OCTOPUS_ENERGY:
        return await async_resolve_entity_tariff(hass, user_input)
    client = OctopusClient(async_get_clientsession(hass))
    region: str = user_input[CONF_REGION]
    export_type: str = user_input[CONF_EXPORT_TYPE]
    import_code = manual_product(user_input)
    export_code: str | None = None
    if not import_code or export_type == EXPORT_AGILE:
        products = await client.async_get_agile_products()
        import_code = import_code or products.import_code
        export_code = products.export_code
    now = dt_util.utcnow()
    await _async_require_prices(client, import_code, region, now)
    tariff: dict[str, Any] = {
        CONF_REGION: region,
        CONF_IMPORT_PRODUCT: import_code,
        CONF_EXPORT_TYPE: export_type,
    }
    if manual_product(user_input):
        tariff[CONF_MANUAL_PRODUCT] = True
    # Only stored when it was chosen, so a reconfigure form shows that choice.
    if source is not None:
        tariff[CONF_PRICE_SOURCE] = PRICE_SOURCE_OCTOPUS
    if export_type == EXPORT_AGILE:
        if export_code is None:
            raise NoExportProductError
        await _async_require_prices(client, export_code, region, now)
        tariff[CONF_EXPORT_PRODUCT] = export_code
    return tariff
