"""What one config entry's settings mean to the optimizer."""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

from homeassistant.config_entries import ConfigEntry

from ..const import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_CHEAP_THRESHOLD,
    CONF_CYCLE_COST,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EFFICIENCY_PCT,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_LIMIT_KW,
    CONF_MAX_SOC_PCT,
    CONF_RESERVE_SOC_PCT,
    DEFAULT_CHEAP_THRESHOLD,
    DEFAULT_CYCLE_COST,
    DEFAULT_EFFICIENCY_PCT,
    DEFAULT_EXPENSIVE_THRESHOLD,
    DEFAULT_EXPORT_LIMIT_KW,
    DEFAULT_MAX_SOC_PCT,
    DEFAULT_RESERVE_SOC_PCT,
)
from ..optimizer.model import DEFAULT_NOMINAL_VOLTAGE_V, Battery, RuleSettings, Site

# A house fuse of 60-100 A allows 14-23 kW; the lower figure keeps plans safe.
IMPORT_LIMIT_KW = 14.0


def entry_option(entry: ConfigEntry, key: str, default: float) -> float:
    """A number the options override, else the one set up with the entry."""
    return float(entry.options.get(key, entry.data.get(key, default)))


def one_way_efficiency(data: Mapping[str, Any]) -> float:
    """Charge (and discharge) efficiency from the round-trip efficiency in %."""
    return math.sqrt(float(data.get(CONF_EFFICIENCY_PCT, DEFAULT_EFFICIENCY_PCT)) / 100)


def battery_from_entry(entry: ConfigEntry, voltage_v: float | None) -> Battery:
    """Build the optimizer's battery from the entry's settings."""
    one_way = one_way_efficiency(entry.data)
    return Battery(
        capacity_kwh=float(entry.data[CONF_CAPACITY_KWH]),
        charge_limit_kw=float(entry.data[CONF_CHARGE_LIMIT_KW]),
        discharge_limit_kw=float(entry.data[CONF_DISCHARGE_LIMIT_KW]),
        charge_efficiency=one_way,
        discharge_efficiency=one_way,
        reserve_soc_pct=float(
            entry.data.get(CONF_RESERVE_SOC_PCT, DEFAULT_RESERVE_SOC_PCT)
        ),
        max_soc_pct=float(entry.data.get(CONF_MAX_SOC_PCT, DEFAULT_MAX_SOC_PCT)),
        cycle_cost_p_per_kwh=entry_option(entry, CONF_CYCLE_COST, DEFAULT_CYCLE_COST),
        nominal_voltage_v=voltage_v or DEFAULT_NOMINAL_VOLTAGE_V,
    )


def site_from_entry(entry: ConfigEntry) -> Site:
    """Build the grid connection limits from the entry's settings."""
    export_limit = float(entry.data.get(CONF_EXPORT_LIMIT_KW, DEFAULT_EXPORT_LIMIT_KW))
    battery_kw = max(
        float(entry.data[CONF_CHARGE_LIMIT_KW]),
        float(entry.data[CONF_DISCHARGE_LIMIT_KW]),
    )
    return Site(
        import_limit_kw=IMPORT_LIMIT_KW,
        export_limit_kw=export_limit,
        inverter_ac_limit_kw=max(battery_kw, export_limit),
    )


def settings_from_entry(entry: ConfigEntry) -> RuleSettings:
    """Price thresholds of the rules and of the price level."""
    return RuleSettings(
        cheap_price_p_per_kwh=entry_option(
            entry, CONF_CHEAP_THRESHOLD, DEFAULT_CHEAP_THRESHOLD
        ),
        expensive_price_p_per_kwh=entry_option(
            entry, CONF_EXPENSIVE_THRESHOLD, DEFAULT_EXPENSIVE_THRESHOLD
        ),
    )
