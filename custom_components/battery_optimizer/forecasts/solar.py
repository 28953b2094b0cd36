"""PV forecast from Solcast, Forecast.Solar or Open-Meteo Solar Forecast, on the plan's slots.

Each source is turned into intervals of mean power, then spread over the plan's
slots by overlap, so hourly sources fill two half-hours evenly and a partial
first slot gets its share. Slots no forecast covers plan with PV 0, and the
status says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from .profile import as_utc

SOLCAST_DETAILED = "detailedForecast"
SOLCAST_HOURLY = "detailedHourly"
OPEN_METEO_WH_15M = "wh_period_15m"
OPEN_METEO_WH = "wh_period"
OPEN_METEO_WATTS = "watts"
FORECAST_SOLAR_DOMAIN = "forecast_solar"

HALF_HOUR = timedelta(minutes=30)
HOUR = timedelta(hours=1)
QUARTER_HOUR = timedelta(minutes=15)
# Forecast.Solar marks each period by its end; periods never span more than an
# hour, so a longer gap is the night.
FORECAST_SOLAR_MAX_PERIOD = HOUR
# Every source refreshes at least daily; an older forecast is reported as stale.
STALE_AFTER = timedelta(hours=24)
# A slot counts as covered when the forecast misses less than a second of it.
COVERED_TOLERANCE_H = 1 / 3600
W_PER_KW = 1000.0


class PvSource(StrEnum):
    """Where the PV forecast comes from."""

    SOLCAST = "solcast"
    FORECAST_SOLAR = "forecast_solar"
    OPEN_METEO = "open_meteo"


class PvEstimate(StrEnum):
    """Which estimate to plan with, where the source gives a range."""

    P10 = "p10"
    P50 = "p50"
    P90 = "p90"


SOLCAST_KEYS = {
    PvEstimate.P10: "pv_estimate10",
    PvEstimate.P50: "pv_estimate",
    PvEstimate.P90: "pv_estimate90",
}
SOURCE_NAMES = {
    PvSource.SOLCAST: "Solcast",
    PvSource.FORECAST_SOLAR: "Forecast.Solar",
    PvSource.OPEN_METEO: "Open-Meteo Solar Forecast",
}


@dataclass(frozen=True, slots=True)
class PvInterval:
    """Mean PV power over [start, end), UTC."""

    start: datetime
    end: datetime
    kw: float


@dataclass(frozen=True, slots=True)
class PvForecast:
    """PV per plan slot, which slots the forecast covered, and what to tell the user."""

    pv_kw: tuple[float, ...]
    covered: tuple[bool, ...]
    status: str

    @property
    def complete(self) -> bool:
        """Whether the forecast covered every slot."""
        return all(self.covered)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def solcast_intervals(
    attributes: Mapping[str, Any], estimate: PvEstimate = PvEstimate.P50
) -> list[PvInterval]:
    """Intervals from a Solcast day sensor: half-hourly kW, else hourly kW."""
    rows = attributes.get(SOLCAST_DETAILED)
    length = HALF_HOUR
    if not isinstance(rows, list):
        rows, length = attributes.get(SOLCAST_HOURLY), HOUR
    if not isinstance(rows, list):
        return []
    key = SOLCAST_KEYS[estimate]
    out: list[PvInterval] = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        start = as_utc(row.get("period_start"))
        # Solcast has no p10/p90 without a key for them; the median is the best left.
        kw = _number(row.get(key, row.get(SOLCAST_KEYS[PvEstimate.P50])))
        if start is not None and kw is not None:
            out.append(PvInterval(start, start + length, max(kw, 0.0)))
    return out


def _start_keyed(
    values: object, length: timedelta, kw_per_unit: float
) -> list[PvInterval]:
    if not isinstance(values, Mapping):
        return []
    out: list[PvInterval] = []
    for key, raw in values.items():
        start, value = as_utc(key), _number(raw)
        if start is not None and value is not None:
            out.append(PvInterval(start, start + length, max(value * kw_per_unit, 0.0)))
    return out


def open_meteo_intervals(attributes: Mapping[str, Any]) -> list[PvInterval]:
    """Intervals from an Open-Meteo day sensor: 15-min Wh, else hourly Wh, else W."""
    quarter_wh = _start_keyed(
        attributes.get(OPEN_METEO_WH_15M), QUARTER_HOUR, 4 / W_PER_KW
    )
    if quarter_wh:
        return quarter_wh
    hourly_wh = _start_keyed(attributes.get(OPEN_METEO_WH), HOUR, 1 / W_PER_KW)
    if hourly_wh:
        return hourly_wh
    return _start_keyed(attributes.get(OPEN_METEO_WATTS), QUARTER_HOUR, 1 / W_PER_KW)


def forecast_solar_intervals(wh_hours: Mapping[str, Any]) -> list[PvInterval]:
    """Intervals from Forecast.Solar's energy forecast: Wh per period, keyed by its end."""
    ends = sorted(
        (end, wh)
        for key, raw in wh_hours.items()
        if (end := as_utc(key)) is not None and (wh := _number(raw)) is not None
    )
    out: list[PvInterval] = []
    previous: datetime | None = None
    for end, wh in ends:
        start = end - FORECAST_SOLAR_MAX_PERIOD
        if previous is not None and previous > start:
            start = previous
        previous = end
        hours = (end - start).total_seconds() / 3600
        if hours > 0:
            out.append(PvInterval(start, end, max(wh, 0.0) / W_PER_KW / hours))
    return out


def resample_kw(
    intervals: Iterable[PvInterval], grid: Sequence[tuple[datetime, float]]
) -> tuple[list[float], list[bool]]:
    """Mean kW of each slot (start, hours) and whether the intervals cover it."""
    ordered = sorted(intervals, key=lambda i: i.start)
    pv_kw: list[float] = []
    covered: list[bool] = []
    for slot_start, hours in grid:
        slot_end = slot_start + timedelta(hours=hours)
        energy_kwh = covered_h = 0.0
        for interval in ordered:
            if interval.start >= slot_end:
                break
            overlap = (
                min(interval.end, slot_end) - max(interval.start, slot_start)
            ).total_seconds() / 3600
            if overlap > 0:
                energy_kwh += interval.kw * overlap
                covered_h += overlap
        pv_kw.append(energy_kwh / hours)
        covered.append(covered_h >= hours - COVERED_TOLERANCE_H)
    return pv_kw, covered


def _dedupe(intervals: Iterable[PvInterval]) -> list[PvInterval]:
    """One interval per start; later ones win (the newer day sensor)."""
    by_start = {interval.start: interval for interval in intervals}
    return [by_start[start] for start in sorted(by_start)]


def build_forecast(
    intervals: Iterable[PvInterval],
    grid: Sequence[tuple[datetime, float]],
    source: PvSource,
    now: datetime,
    updated_at: datetime | None = None,
) -> PvForecast:
    """Resample the intervals onto the grid and describe what is missing or stale.

    Overlapping intervals add up (roof planes); pass each period once per plane.
    """
    unique = list(intervals)
    pv_kw, covered = resample_kw(unique, grid)
    name = SOURCE_NAMES[source]
    notes: list[str] = []
    if not unique:
        notes.append(f"No PV forecast from {name}: the plan assumes no PV.")
    elif not all(covered):
        missing = covered.count(False)
        notes.append(
            f"The PV forecast from {name} misses {missing} of {len(grid)} slots: "
            "the plan assumes no PV there."
        )
    if unique and updated_at is not None and now - updated_at > STALE_AFTER:
        age_h = (now - updated_at).total_seconds() / 3600
        notes.append(f"The PV forecast from {name} is {age_h:.0f} hours old.")
    return PvForecast(tuple(pv_kw), tuple(covered), " ".join(notes))


def _states(hass: HomeAssistant, entity_ids: Iterable[str]) -> list[Any]:
    return [
        state
        for entity_id in entity_ids
        if (state := hass.states.get(entity_id)) is not None
        and state.state != STATE_UNAVAILABLE
    ]


def read_solcast(
    hass: HomeAssistant,
    entity_ids: Sequence[str],
    grid: Sequence[tuple[datetime, float]],
    now: datetime,
    estimate: PvEstimate = PvEstimate.P50,
) -> PvForecast:
    """PV from Solcast's day sensors (today, tomorrow, day 3...), in the order given."""
    states = _states(hass, entity_ids)
    intervals = _dedupe(
        i for state in states for i in solcast_intervals(state.attributes, estimate)
    )
    updated = max((state.last_updated for state in states), default=None)
    return build_forecast(intervals, grid, PvSource.SOLCAST, now, updated)


def read_open_meteo(
    hass: HomeAssistant,
    entity_ids: Sequence[str],
    grid: Sequence[tuple[datetime, float]],
    now: datetime,
) -> PvForecast:
    """PV from Open-Meteo Solar Forecast's day energy sensors (today, tomorrow, d2...)."""
    states = _states(hass, entity_ids)
    intervals = _dedupe(
        i for state in states for i in open_meteo_intervals(state.attributes)
    )
    updated = max((state.last_updated for state in states), default=None)
    return build_forecast(intervals, grid, PvSource.OPEN_METEO, now, updated)


async def async_read_forecast_solar(
    hass: HomeAssistant,
    config_entry_ids: Sequence[str],
    grid: Sequence[tuple[datetime, float]],
    now: datetime,
) -> PvForecast:
    """PV from Forecast.Solar entries (one per roof plane, summed), as the energy dashboard reads it."""
    intervals: list[PvInterval] = []
    for entry_id in config_entry_ids:
        wh_hours = await _async_forecast_solar_wh(hass, entry_id)
        intervals.extend(forecast_solar_intervals(wh_hours))
    return build_forecast(intervals, grid, PvSource.FORECAST_SOLAR, now)


async def _async_forecast_solar_wh(
    hass: HomeAssistant, entry_id: str
) -> Mapping[str, Any]:
    entry = hass.config_entries.async_get_entry(entry_id)
    if (
        entry is None
        or entry.domain != FORECAST_SOLAR_DOMAIN
        or entry.state is not ConfigEntryState.LOADED
    ):
        return {}
    integration = await async_get_integration(hass, FORECAST_SOLAR_DOMAIN)
    platform = await integration.async_get_platform("energy")
    forecast = await platform.async_get_solar_forecast(hass, entry_id)
    if not isinstance(forecast, Mapping):
        return {}
    wh_hours = forecast.get("wh_hours")
    return wh_hours if isinstance(wh_hours, Mapping) else {}
