"""Price client reading the Octopus Energy integration's rate entities.

It answers the same questions as the Octopus API client, so the price coordinator
caches, schedules and fails over exactly as it does for the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from homeassistant.core import HomeAssistant

from ..forecasts.octopus_energy import read_rates
from .octopus import AgileProducts, OctopusNotFoundError, OctopusResponseError, Rate

# Product codes stored in the entry: they name the source, not an Octopus product,
# so a price cache from the API is never mistaken for one from the entities.
ENTITIES_IMPORT_PRODUCT = "OCTOPUS-ENERGY-IMPORT"
ENTITIES_EXPORT_PRODUCT = "OCTOPUS-ENERGY-EXPORT"


class OctopusEnergyNoRatesError(OctopusResponseError):
    """The rate entities hold no rate for the asked period."""


class OctopusEnergyEntitiesClient:
    """Serves Agile rates from the Octopus Energy integration's event entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        import_entity_ids: Iterable[str],
        export_entity_ids: Iterable[str],
    ) -> None:
        """Read import rates, and export rates when export entities are given."""
        self._hass = hass
        self._entity_ids = {
            ENTITIES_IMPORT_PRODUCT: tuple(import_entity_ids),
            ENTITIES_EXPORT_PRODUCT: tuple(export_entity_ids),
        }

    async def async_get_agile_products(self) -> AgileProducts:
        """Return the codes that stand for the import and export entities."""
        has_export = bool(self._entity_ids[ENTITIES_EXPORT_PRODUCT])
        return AgileProducts(
            ENTITIES_IMPORT_PRODUCT, ENTITIES_EXPORT_PRODUCT if has_export else None
        )

    async def async_get_rates(
        self,
        product_code: str,
        region: str,
        period_from: datetime,
        period_to: datetime,
    ) -> list[Rate]:
        """Return the entities' rates overlapping [period_from, period_to)."""
        if product_code not in self._entity_ids:
            raise OctopusNotFoundError(f"{product_code} is not read from rate entities")
        entity_ids = self._entity_ids[product_code]
        rates = [
            rate
            for rate in read_rates(self._hass, entity_ids)
            if rate.end > period_from and rate.start < period_to
        ]
        if not rates:
            # Before the integration has loaded, or when it lost its data: the
            # coordinator then serves its cache or retries, as for the API.
            raise OctopusEnergyNoRatesError(
                f"rate entities {list(entity_ids)} hold no rates"
                f" from {period_from} to {period_to}"
            )
        return rates
