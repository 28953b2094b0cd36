"""Constants for the Battery Optimizer integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "battery_optimizer"
MANUFACTURER: Final = "Battery Optimizer"

# Config entry data: tariff
CONF_REGION: Final = "region"
CONF_IMPORT_PRODUCT: Final = "import_product"
CONF_EXPORT_TYPE: Final = "export_type"
CONF_EXPORT_PRODUCT: Final = "export_product"
CONF_EXPORT_RATE: Final = "export_rate"  # p/kWh, fixed export only

EXPORT_AGILE: Final = "agile_outgoing"
EXPORT_FIXED: Final = "fixed"
EXPORT_NONE: Final = "none"
EXPORT_TYPES: Final = (EXPORT_AGILE, EXPORT_FIXED, EXPORT_NONE)

# Agile regions: grid supply point group letter -> name shown to the user.
REGIONS: Final[dict[str, str]] = {
    "A": "Eastern England",
    "B": "East Midlands",
    "C": "London",
    "D": "Merseyside and Northern Wales",
    "E": "West Midlands",
    "F": "North Eastern England",
    "G": "North Western England",
    "H": "Southern England",
    "J": "South Eastern England",
    "K": "Southern Wales",
    "L": "South Western England",
    "M": "Yorkshire",
    "N": "Southern Scotland",
    "P": "Northern Scotland",
}

# Where prices come from: the Octopus API, or the stored week the demo replays.
CONF_PRICE_SOURCE: Final = "price_source"
PRICE_SOURCE_OCTOPUS: Final = "octopus"
PRICE_SOURCE_DEMO: Final = "demo"

# Config entry data: battery and inverter
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_PV_POWER_ENTITY: Final = "pv_power_entity"
CONF_LOAD_POWER_ENTITY: Final = "load_power_entity"
CONF_BATTERY_VOLTAGE_ENTITY: Final = "battery_voltage_entity"
CONF_CAPACITY_KWH: Final = "capacity_kwh"
CONF_CHARGE_LIMIT_KW: Final = "charge_limit_kw"
CONF_DISCHARGE_LIMIT_KW: Final = "discharge_limit_kw"
CONF_EFFICIENCY_PCT: Final = "round_trip_efficiency_pct"
CONF_RESERVE_SOC_PCT: Final = "reserve_soc_pct"
CONF_MAX_SOC_PCT: Final = "max_soc_pct"
CONF_EXPORT_LIMIT_KW: Final = "export_limit_kw"

DEFAULT_CAPACITY_KWH: Final = 10.4
DEFAULT_CHARGE_LIMIT_KW: Final = 5.0
DEFAULT_DISCHARGE_LIMIT_KW: Final = 5.0
DEFAULT_EFFICIENCY_PCT: Final = 90.0
DEFAULT_RESERVE_SOC_PCT: Final = 10.0
DEFAULT_MAX_SOC_PCT: Final = 100.0
DEFAULT_EXPORT_LIMIT_KW: Final = 3.68
DEFAULT_NOMINAL_VOLTAGE_V: Final = 51.2

# Options
CONF_HORIZON_HOURS: Final = "horizon_hours"
CONF_REPLAN_MINUTES: Final = "replan_minutes"
CONF_CYCLE_COST: Final = "cycle_cost"  # p/kWh of battery throughput
CONF_CHEAP_THRESHOLD: Final = "cheap_threshold"  # p/kWh
CONF_EXPENSIVE_THRESHOLD: Final = "expensive_threshold"  # p/kWh
CONF_END_VALUE_PCT: Final = "end_value_pct"  # % of the mean import price
CONF_FLAT_LOAD_KW: Final = "flat_load_kw"

DEFAULT_HORIZON_HOURS: Final = 48
MAX_HORIZON_HOURS: Final = 168
DEFAULT_REPLAN_MINUTES: Final = 5
DEFAULT_CYCLE_COST: Final = 2.0
DEFAULT_CHEAP_THRESHOLD: Final = 10.0
DEFAULT_EXPENSIVE_THRESHOLD: Final = 25.0
DEFAULT_END_VALUE_PCT: Final = 80.0
DEFAULT_FLAT_LOAD_KW: Final = 0.4

# Prices
PRICE_REFRESH_INTERVAL: Final = timedelta(minutes=30)
PRICE_COVERAGE_WINDOW: Final = timedelta(hours=12)
PRICE_COVERAGE_MIN_PCT: Final = 95.0
SOC_STALE_AFTER: Final = timedelta(minutes=15)
RUN_HISTORY_LENGTH: Final = 100
SOLVER_TIME_LIMIT_S: Final = 3.0

# Repair issue ids (suffixed with the entry id)
ISSUE_PRICE_COVERAGE: Final = "price_coverage"
ISSUE_SOC_UNAVAILABLE: Final = "soc_unavailable"
