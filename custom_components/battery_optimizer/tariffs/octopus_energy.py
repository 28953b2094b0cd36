"""Agile prices from the Octopus Energy integration's rate event entities.

The integration (BottlecapDave/HomeAssistant-OctopusEnergy) exposes
`event.octopus_energy_electricity_<serial>_<mpan>[_export]_current_day_rates`
and `..._next_day_rates`; their `rates` attribute lists {start, end,
value_inc_vat} with prices in GBP/kWh. Reading them saves polling the API twice.

`OctopusEnergyEntitiesClient` answers the same questions as the Octopus API
client, so the price coordinator caches, schedules and fails over exactly as it
does for the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
import logging
import math
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..const import PENCE_PER_POUND
from ..forecasts.profile import as_utc
from .octopus import AgileProducts, OctopusNotFoundError, OctopusResponseError, Rate

_LOGGER = logging.getLogger(__name__)

OCTOPUS_ENERGY_DOMAIN = "octopus_energy"
_UNIQUE_ID = re.compile(
    r"^octopus_energy_electricity_(?P<serial>.+)_(?P<mpan>\d+)"
    r"(?P<export>_export)?_(?P<day>current_day|next_day)_rates$"
)


@dataclass(frozen=True, slots=True)
class OctopusRateEntities:
    """The current- and next-day rate entities of one meter point."""

    serial_number: str
    mpan: str
    is_export: bool
    current_day: str | None
    next_day: str | None

    @property
    def entity_ids(self) -> tuple[str, ...]:
        """The entities that exist, current day first."""
        return tuple(e for e in (self.current_day, self.next_day) if e is not None)


def find_rate_entities(hass: HomeAssistant) -> list[OctopusRateEntities]:
    """Electricity rate entities of the Octopus Energy integration, import first."""
    found: dict[tuple[str, str, bool], dict[str, str]] = {}
    for entry in er.async_get(hass).entities.values():
        if entry.platform != OCTOPUS_ENERGY_DOMAIN or entry.domain != "event":
            continue
        match = _UNIQUE_ID.match(str(entry.unique_id))
        if match is None:
            continue
        key = (match["serial"], match["mpan"], match["export"] is not None)
        found.setdefault(key, {})[match["day"]] = entry.entity_id
    return [
        OctopusRateEntities(
            serial_number=serial,
            mpan=mpan,
            is_export=is_export,
            current_day=days.get("current_day"),
            next_day=days.get("next_day"),
        )
        for (serial, mpan, is_export), days in sorted(
            found.items(), key=lambda item: (item[0][2], item[0][1], item[0][0])
        )
    ]


def _rate(row: object) -> Rate | None:
    if not isinstance(row, Mapping):
        return None
    start, end = as_utc(row.get("start")), as_utc(row.get("end"))
    price = row.get("value_inc_vat")
    if (
        start is None
        or end is None
        or end <= start
        or isinstance(price, bool)
        or not isinstance(price, int | float)
        or not math.isfinite(price)
    ):
        return None
    return Rate(start, end, float(price) * PENCE_PER_POUND)


def rates_from_attributes(attributes: Mapping[str, Any]) -> list[Rate]:
    """Rates in p/kWh from a rate entity's attributes, skipping malformed rows."""
    rows = attributes.get("rates")
    if not isinstance(rows, list):
        return []
    rates = [rate for row in rows if (rate := _rate(row)) is not None]
    if len(rates) < len(rows):
        _LOGGER.debug("Skipped %d malformed rate rows", len(rows) - len(rates))
    return sorted(rates, key=lambda rate: rate.start)


def read_rates(hass: HomeAssistant, entity_ids: Iterable[str]) -> list[Rate]:
    """Merged rates of the given entities, oldest first; later entities win overlaps."""
    by_start: dict[datetime, Rate] = {}
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        if state is None:
            continue
        by_start.update((r.start, r) for r in rates_from_attributes(state.attributes))
    return [by_start[start] for start in sorted(by_start)]


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
