"""Constants for the Battery Optimizer integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "battery_optimizer"
MANUFACTURER: Final = "Battery Optimizer"

# Config entry data: tariff
CONF_REGION: Final = "region"
CONF_IMPORT_PRODUCT: Final = "import_product"
# The folded tariff-form section that holds the manual product code.
SECTION_ADVANCED: Final = "advanced"
# Set when the product code was typed, not discovered.
CONF_MANUAL_PRODUCT: Final = "manual_product"
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

# Where prices come from: the Octopus API, the Octopus Energy integration's rate
# entities, or the stored week the demo replays.
CONF_PRICE_SOURCE: Final = "price_source"
PRICE_SOURCE_OCTOPUS: Final = "octopus"
PRICE_SOURCE_OCTOPUS_ENERGY: Final = "octopus_energy"
PRICE_SOURCE_DEMO: Final = "demo"
PRICE_SOURCES: Final = (PRICE_SOURCE_OCTOPUS_ENERGY, PRICE_SOURCE_OCTOPUS)
# Rate event entities of the Octopus Energy integration (import, Agile Outgoing).
CONF_RATE_ENTITIES: Final = "rate_entities"
CONF_EXPORT_RATE_ENTITIES: Final = "export_rate_entities"

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

# Options
CONF_HORIZON_HOURS: Final = "horizon_hours"
CONF_REPLAN_MINUTES: Final = "replan_minutes"
CONF_CYCLE_COST: Final = "cycle_cost"  # p/kWh of battery throughput
CONF_CHEAP_THRESHOLD: Final = "cheap_threshold"  # p/kWh
CONF_EXPENSIVE_THRESHOLD: Final = "expensive_threshold"  # p/kWh
CONF_END_VALUE_PCT: Final = "end_value_pct"  # % of the mean import price
CONF_DAILY_LOAD_KWH: Final = "daily_load_kwh"

DEFAULT_HORIZON_HOURS: Final = 48
MAX_HORIZON_HOURS: Final = 168
DEFAULT_REPLAN_MINUTES: Final = 5
DEFAULT_CYCLE_COST: Final = 2.0
DEFAULT_CHEAP_THRESHOLD: Final = 10.0
DEFAULT_EXPENSIVE_THRESHOLD: Final = 25.0
DEFAULT_END_VALUE_PCT: Final = 80.0
DEFAULT_DAILY_LOAD_KWH: Final = 9.6

# Prices
PRICE_REFRESH_INTERVAL: Final = timedelta(minutes=30)
PRICE_COVERAGE_WINDOW: Final = timedelta(hours=12)
PRICE_COVERAGE_MIN_PCT: Final = 95.0
SOC_STALE_AFTER: Final = timedelta(minutes=15)
RUN_HISTORY_LENGTH: Final = 100
SOLVER_TIME_LIMIT_S: Final = 3.0

# Config entry data: how the inverter is driven
CONF_INVERTER: Final = "inverter"
INVERTER_NONE: Final = "none"  # recommend only, never write
INVERTER_FOXESS_MODBUS: Final = "foxess_modbus"
INVERTER_FOX_CLOUD: Final = "fox_cloud"
INVERTER_SIMULATED: Final = "simulated"
INVERTER_TYPES: Final = (
    INVERTER_NONE,
    INVERTER_FOXESS_MODBUS,
    INVERTER_FOX_CLOUD,
    INVERTER_SIMULATED,
)
CONF_FOXESS_DEVICE: Final = "foxess_device"  # foxess_modbus device id
CONF_WORK_MODE_ENTITY: Final = "work_mode_entity"
CONF_FORCE_CHARGE_POWER_ENTITY: Final = "force_charge_power_entity"
CONF_FORCE_DISCHARGE_POWER_ENTITY: Final = "force_discharge_power_entity"
CONF_MAX_CHARGE_CURRENT_ENTITY: Final = "max_charge_current_entity"
CONF_MIN_SOC_ON_GRID_ENTITY: Final = "min_soc_on_grid_entity"
CONF_API_KEY: Final = "api_key"
CONF_DEVICE_SERIAL: Final = "device_serial"

# Options: automatic control
CONF_HYSTERESIS_P: Final = "hysteresis_p"  # p per slot a mode change must gain
DEFAULT_HYSTERESIS_P: Final = 1.0

# Automatic control
CONTROL_STALE_AFTER: Final = timedelta(minutes=15)
CONTROL_TICK: Final = timedelta(minutes=1)

# Forecast options
CONF_PV_SOURCE: Final = "pv_source"
CONF_PV_ESTIMATE: Final = "pv_estimate"
CONF_EV_POWER_ENTITY: Final = "ev_power_entity"
PV_SOURCE_NONE: Final = "none"
PV_SOURCES: Final = ("none", "solcast", "forecast_solar", "open_meteo")
PV_ESTIMATES: Final = ("p10", "p50", "p90")
DEFAULT_PV_ESTIMATE: Final = "p50"

# Options: grid meters for the savings sensors
CONF_GRID_IMPORT_ENERGY_ENTITY: Final = "grid_import_energy_entity"
CONF_GRID_EXPORT_ENERGY_ENTITY: Final = "grid_export_energy_entity"

PENCE_PER_POUND: Final = 100
