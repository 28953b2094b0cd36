"""What the battery saved today and yesterday, from recorded energy and prices.

Actual cost: the grid import and export meters' half-hourly energy at that
half-hour's prices. Without a battery the same house load and PV would have met
the grid directly: import what the load exceeds PV by, export the rest up to the
export limit (nothing when export pays negative).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_EXPORT_LIMIT_KW,
    CONF_GRID_EXPORT_ENERGY_ENTITY,
    CONF_GRID_IMPORT_ENERGY_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    DEFAULT_EXPORT_LIMIT_KW,
    DOMAIN,
    PENCE_PER_POUND,
)
from ..forecasts.load import async_history_kwh
from ..tariffs.prices import PriceCoordinator

_LOGGER = logging.getLogger(__name__)

SAVINGS_REFRESH = timedelta(minutes=30)
SLOT = timedelta(minutes=30)
SLOT_HOURS = 0.5
# Today and all of yesterday, whatever the time of day.
HISTORY_DAYS = 2

type PriceAt = Callable[[datetime], float | None]


@dataclass(frozen=True, slots=True)
class Savings:
    """Money saved against no battery, GBP; None where it cannot be known."""

    today_gbp: float | None
    yesterday_gbp: float | None


def savings_p(
    start: datetime,
    end: datetime,
    *,
    import_kwh: Mapping[datetime, float],
    export_kwh: Mapping[datetime, float],
    load_kwh: Mapping[datetime, float],
    pv_kwh: Mapping[datetime, float] | None,
    import_price: PriceAt,
    export_price: PriceAt,
    export_limit_kw: float,
) -> float | None:
    """Savings in pence over the half-hours of [start, end) that have every figure."""
    total = 0.0
    counted = 0
    slot = start
    while slot < end:
        here = slot
        slot += SLOT
        figures = (
            import_price(here),
            export_price(here),
            import_kwh.get(here),
            export_kwh.get(here),
            load_kwh.get(here),
            pv_kwh.get(here) if pv_kwh is not None else 0.0,
        )
        if any(value is None for value in figures):
            continue
        p_imp, p_exp, grid_in, grid_out, load, pv = cast(
            tuple[float, float, float, float, float, float], figures
        )
        actual = grid_in * p_imp - grid_out * p_exp
        net = load - pv
        surplus = min(max(-net, 0.0), export_limit_kw * SLOT_HOURS)
        exported = surplus if p_exp >= 0 else 0.0
        without_battery = max(net, 0.0) * p_imp - exported * p_exp
        total += without_battery - actual
        counted += 1
    return total if counted else None


class SavingsCoordinator(DataUpdateCoordinator[Savings]):
    """Recomputes today's and yesterday's savings every half-hour."""

    config_entry: ConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, prices: PriceCoordinator
    ) -> None:
        """Set up for one entry; the entry's options name the meters."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} savings",
            update_interval=SAVINGS_REFRESH,
        )
        self.prices = prices

    @property
    def configured(self) -> bool:
        """Whether the grid meters and the house load are known."""
        options, data = self.config_entry.options, self.config_entry.data
        return bool(
            options.get(CONF_GRID_IMPORT_ENERGY_ENTITY)
            and options.get(CONF_GRID_EXPORT_ENERGY_ENTITY)
            and data.get(CONF_LOAD_POWER_ENTITY)
        )

    async def _async_update_data(self) -> Savings:
        """Read two days of meter history and price it."""
        price_data = self.prices.data
        if (
            not self.configured
            or price_data is None
            or "recorder" not in self.hass.config.components
        ):
            return Savings(None, None)
        options, data = self.config_entry.options, self.config_entry.data
        now = dt_util.utcnow()

        async def history(entity_id: str) -> dict[datetime, float]:
            # Prices change every half-hour and a forced charge fills one:
            # hourly statistics split in two would blur what the battery earned.
            return await async_history_kwh(
                self.hass, entity_id, now, HISTORY_DAYS, period="5minute"
            )

        pv_entity = data.get(CONF_PV_POWER_ENTITY)
        import_kwh = await history(options[CONF_GRID_IMPORT_ENERGY_ENTITY])
        export_kwh = await history(options[CONF_GRID_EXPORT_ENERGY_ENTITY])
        load_kwh = await history(data[CONF_LOAD_POWER_ENTITY])
        pv_kwh = await history(pv_entity) if pv_entity else None
        today = dt_util.as_utc(dt_util.start_of_local_day())
        yesterday = dt_util.as_utc(
            dt_util.start_of_local_day(dt_util.now().date() - timedelta(days=1))
        )
        limit = float(data.get(CONF_EXPORT_LIMIT_KW, DEFAULT_EXPORT_LIMIT_KW))

        def pounds(start: datetime, end: datetime) -> float | None:
            pence = savings_p(
                start,
                end,
                import_price=price_data.import_price_at,
                export_price=price_data.export_price_at,
                export_limit_kw=limit,
                import_kwh=import_kwh,
                export_kwh=export_kwh,
                load_kwh=load_kwh,
                pv_kwh=pv_kwh,
            )
            return None if pence is None else round(pence / PENCE_PER_POUND, 2)

        return Savings(
            today_gbp=pounds(today, now), yesterday_gbp=pounds(yesterday, today)
        )
