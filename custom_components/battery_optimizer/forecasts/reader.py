"""PV and house-load forecasts for the plan, read from Home Assistant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..const import (
    CONF_DAILY_LOAD_KWH,
    CONF_EV_POWER_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_ESTIMATE,
    CONF_PV_SOURCE,
    DEFAULT_DAILY_LOAD_KWH,
    PV_SOURCE_NONE,
)
from .load import (
    LoadForecast,
    async_house_kwh,
    forecast_error_kwh_per_day,
    forecast_load,
)
from .solar import (
    FORECAST_SOLAR_DOMAIN,
    PvEstimate,
    PvForecast,
    PvSource,
    async_read_forecast_solar,
    read_open_meteo,
    read_solcast,
)

_LOGGER = logging.getLogger(__name__)

# Load history changes slowly: reading the recorder every re-plan wastes work.
LOAD_HISTORY_REFRESH = timedelta(minutes=30)
# Two weeks feed both the 7-day profile and the 7-day error of that profile.
LOAD_HISTORY_DAYS = 14
SOLCAST_PLATFORM = "solcast_solar"
OPEN_METEO_PLATFORM = "open_meteo_solar_forecast"
SOLCAST_ATTRIBUTE = "detailedForecast"
OPEN_METEO_ATTRIBUTES = ("watts", "wh_period", "wh_period_15m")


@dataclass(frozen=True, slots=True)
class Forecasts:
    """What the plan expects in each slot, and what it had to assume."""

    pv_kw: tuple[float, ...]
    load_kw: tuple[float, ...]
    notes: tuple[str, ...]
    load_error_kwh_per_day: float | None


def _platform_entities(
    hass: HomeAssistant, platform: str, attributes: Sequence[str]
) -> list[str]:
    """Entities of another integration that carry one of the forecast attributes."""
    registry = er.async_get(hass)
    found: list[str] = []
    for entry in registry.entities.values():
        if entry.platform != platform or entry.disabled_by is not None:
            continue
        state = hass.states.get(entry.entity_id)
        if state is not None and any(key in state.attributes for key in attributes):
            found.append(entry.entity_id)
    return sorted(found)


class ForecastReader:
    """Reads the chosen PV forecast and the load history for one entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Remember the entry; history is read on first use."""
        self.hass = hass
        self.entry = entry
        self._history: dict[datetime, float] = {}
        self._history_read_at: datetime | None = None
        self._history_failing = False
        self._load_error: float | None = None
        # Sensors of the PV forecast integration, found again every half-hour.
        self._pv_entities: dict[str, list[str]] = {}
        self._pv_entities_found_at: datetime | None = None

    @property
    def _flat_daily_kwh(self) -> float:
        return float(
            self.entry.options.get(CONF_DAILY_LOAD_KWH, DEFAULT_DAILY_LOAD_KWH)
        )

    async def async_forecasts(
        self, grid: Sequence[tuple[datetime, float]], now: datetime
    ) -> Forecasts:
        """PV and load for each slot of the grid, with notes on what was assumed."""
        pv = await self._async_pv(grid, now)
        load = await self._async_load(grid, now)
        notes = tuple(note for note in (pv.status if pv else "", load.status) if note)
        return Forecasts(
            pv_kw=pv.pv_kw if pv else (0.0,) * len(grid),
            load_kw=load.load_kw,
            notes=notes,
            load_error_kwh_per_day=self._load_error,
        )

    async def _async_pv(
        self, grid: Sequence[tuple[datetime, float]], now: datetime
    ) -> PvForecast | None:
        options = self.entry.options
        source = options.get(CONF_PV_SOURCE, PV_SOURCE_NONE)
        if source == PV_SOURCE_NONE:
            return None
        if source == PvSource.SOLCAST:
            entities = self._found_entities(now, SOLCAST_PLATFORM, (SOLCAST_ATTRIBUTE,))
            estimate = PvEstimate(options.get(CONF_PV_ESTIMATE, PvEstimate.P50))
            return read_solcast(self.hass, entities, grid, now, estimate)
        if source == PvSource.OPEN_METEO:
            entities = self._found_entities(
                now, OPEN_METEO_PLATFORM, OPEN_METEO_ATTRIBUTES
            )
            return read_open_meteo(self.hass, entities, grid, now)
        entry_ids = [
            entry.entry_id
            for entry in self.hass.config_entries.async_entries(FORECAST_SOLAR_DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        ]
        return await async_read_forecast_solar(self.hass, entry_ids, grid, now)

    def _found_entities(
        self, now: datetime, platform: str, attributes: Sequence[str]
    ) -> list[str]:
        """The platform's forecast sensors; the registry is scanned every half-hour."""
        if (
            self._pv_entities_found_at is None
            or now - self._pv_entities_found_at >= LOAD_HISTORY_REFRESH
        ):
            self._pv_entities = {}
            self._pv_entities_found_at = now
        if platform not in self._pv_entities or not self._pv_entities[platform]:
            self._pv_entities[platform] = _platform_entities(
                self.hass, platform, attributes
            )
        return self._pv_entities[platform]

    async def _async_load(
        self, grid: Sequence[tuple[datetime, float]], now: datetime
    ) -> LoadForecast:
        load_entity = self.entry.data.get(CONF_LOAD_POWER_ENTITY)
        if load_entity and "recorder" in self.hass.config.components:
            await self._async_refresh_history(load_entity, now)
        return forecast_load(
            self._history,
            [start for start, _ in grid],
            now,
            daily_kwh=self._flat_daily_kwh,
        )

    async def _async_refresh_history(self, load_entity: str, now: datetime) -> None:
        if (
            self._history_read_at is not None
            and now - self._history_read_at < LOAD_HISTORY_REFRESH
        ):
            return
        self._history_read_at = now
        try:
            self._history = await async_house_kwh(
                self.hass,
                load_entity,
                now,
                days=LOAD_HISTORY_DAYS,
                ev_entity_id=self.entry.options.get(CONF_EV_POWER_ENTITY),
            )
        except Exception:
            # The load history only refines the plan: a recorder fault must not
            # stop planning, which then assumes the flat daily consumption.
            # One warning per outage; the reads that follow stay at debug level.
            log = _LOGGER.debug if self._history_failing else _LOGGER.warning
            self._history_failing = True
            log(
                "Could not read the load history of %s; planning with a flat load",
                load_entity,
                exc_info=True,
            )
            self._history = {}
        else:
            if self._history_failing:
                _LOGGER.info("The load history of %s can be read again", load_entity)
            self._history_failing = False
        self._load_error = forecast_error_kwh_per_day(
            self._history, now, daily_kwh=self._flat_daily_kwh
        )
