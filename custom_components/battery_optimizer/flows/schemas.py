"""Form schemas of the config, reconfigure and options flows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import (
    PERCENTAGE,
    Platform,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from ..const import (
    CONF_API_KEY,
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_CHEAP_THRESHOLD,
    CONF_CYCLE_COST,
    CONF_DAILY_LOAD_KWH,
    CONF_DEVICE_SERIAL,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EFFICIENCY_PCT,
    CONF_END_VALUE_PCT,
    CONF_EV_POWER_ENTITY,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_LIMIT_KW,
    CONF_EXPORT_RATE,
    CONF_EXPORT_TYPE,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_FOXESS_DEVICE,
    CONF_GRID_EXPORT_ENERGY_ENTITY,
    CONF_GRID_IMPORT_ENERGY_ENTITY,
    CONF_HORIZON_HOURS,
    CONF_HYSTERESIS_P,
    CONF_IMPORT_PRODUCT,
    CONF_INVERTER,
    CONF_LOAD_POWER_ENTITY,
    CONF_MANUAL_PRODUCT,
    CONF_MAX_CHARGE_CURRENT_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_MIN_SOC_ON_GRID_ENTITY,
    CONF_PRICE_SOURCE,
    CONF_PV_ESTIMATE,
    CONF_PV_POWER_ENTITY,
    CONF_PV_SOURCE,
    CONF_REGION,
    CONF_REPLAN_MINUTES,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    CONF_WORK_MODE_ENTITY,
    DEFAULT_CAPACITY_KWH,
    DEFAULT_CHARGE_LIMIT_KW,
    DEFAULT_CHEAP_THRESHOLD,
    DEFAULT_CYCLE_COST,
    DEFAULT_DAILY_LOAD_KWH,
    DEFAULT_DISCHARGE_LIMIT_KW,
    DEFAULT_EFFICIENCY_PCT,
    DEFAULT_END_VALUE_PCT,
    DEFAULT_EXPENSIVE_THRESHOLD,
    DEFAULT_EXPORT_LIMIT_KW,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_HYSTERESIS_P,
    DEFAULT_MAX_SOC_PCT,
    DEFAULT_PV_ESTIMATE,
    DEFAULT_REPLAN_MINUTES,
    DEFAULT_RESERVE_SOC_PCT,
    EXPORT_NONE,
    EXPORT_TYPES,
    INVERTER_NONE,
    INVERTER_TYPES,
    MAX_HORIZON_HOURS,
    PRICE_SOURCE_OCTOPUS_ENERGY,
    PRICE_SOURCES,
    PV_ESTIMATES,
    PV_SOURCE_NONE,
    PV_SOURCES,
    REGIONS,
    SECTION_ADVANCED,
)
from ..inverters.foxess_modbus_entities import FOXESS_MODBUS_DOMAIN

PRICE_UNIT = "p/kWh"
# Octopus Outgoing Fixed pays 15 p/kWh; most fixed-export users start from there.
DEFAULT_EXPORT_RATE_P_PER_KWH = 15.0
MIN_HORIZON_HOURS = 12
MAX_REPLAN_MINUTES = 60


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


def _sensor(device_class: SensorDeviceClass) -> EntitySelector:
    return EntitySelector(
        EntitySelectorConfig(domain=Platform.SENSOR, device_class=device_class)
    )


def tariff_schema(choose_source: bool = False) -> vol.Schema:
    """Return the tariff form; the manual product code sits in a folded section."""
    fields: dict[vol.Marker, Any] = {}
    if choose_source:
        # The integration's entities already hold the prices: reading them saves
        # polling the API a second time.
        fields[vol.Required(CONF_PRICE_SOURCE, default=PRICE_SOURCE_OCTOPUS_ENERGY)] = (
            SelectSelector(
                SelectSelectorConfig(
                    options=list(PRICE_SOURCES),
                    translation_key=CONF_PRICE_SOURCE,
                    mode=SelectSelectorMode.LIST,
                )
            )
        )
    fields |= {
        vol.Required(CONF_REGION): SelectSelector(
            SelectSelectorConfig(
                options=[
                    SelectOptionDict(value=code, label=f"{code} - {name}")
                    for code, name in REGIONS.items()
                ],
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        # No export is the safe default: assuming an export tariff the user does
        # not have would make the plan discharge to the grid for nothing.
        vol.Required(CONF_EXPORT_TYPE, default=EXPORT_NONE): SelectSelector(
            SelectSelectorConfig(
                options=list(EXPORT_TYPES),
                translation_key=CONF_EXPORT_TYPE,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
    # Only users on an older Agile version need it, so it starts folded away.
    fields[vol.Optional(SECTION_ADVANCED)] = section(
        vol.Schema({vol.Optional(CONF_IMPORT_PRODUCT): TextSelector()}),
        {"collapsed": True},
    )
    return vol.Schema(fields)


def tariff_suggestions(data: Mapping[str, Any]) -> dict[str, Any]:
    """Values to prefill the tariff form with, the product code inside its section."""
    if SECTION_ADVANCED in data:
        return dict(data)
    # A discovered product is not shown: prefilled, it would pin an entry to it
    # when a reconfigure should find the newest Agile product again.
    advanced = (
        {CONF_IMPORT_PRODUCT: data[CONF_IMPORT_PRODUCT]}
        if data.get(CONF_MANUAL_PRODUCT)
        else {}
    )
    return {**data, SECTION_ADVANCED: advanced}


EXPORT_RATE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_EXPORT_RATE, default=DEFAULT_EXPORT_RATE_P_PER_KWH): _number(
            0, 100, 0.01, PRICE_UNIT
        ),
    }
)
BATTERY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOC_ENTITY): _sensor(SensorDeviceClass.BATTERY),
        vol.Optional(CONF_PV_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_LOAD_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_BATTERY_VOLTAGE_ENTITY): _sensor(SensorDeviceClass.VOLTAGE),
        vol.Required(CONF_CAPACITY_KWH, default=DEFAULT_CAPACITY_KWH): _number(
            0.5, 200, 0.1, UnitOfEnergy.KILO_WATT_HOUR
        ),
        vol.Required(CONF_CHARGE_LIMIT_KW, default=DEFAULT_CHARGE_LIMIT_KW): _number(
            0.1, 50, 0.1, UnitOfPower.KILO_WATT
        ),
        vol.Required(
            CONF_DISCHARGE_LIMIT_KW, default=DEFAULT_DISCHARGE_LIMIT_KW
        ): _number(0.1, 50, 0.1, UnitOfPower.KILO_WATT),
        vol.Required(CONF_EFFICIENCY_PCT, default=DEFAULT_EFFICIENCY_PCT): _number(
            50, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_RESERVE_SOC_PCT, default=DEFAULT_RESERVE_SOC_PCT): _number(
            0, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_MAX_SOC_PCT, default=DEFAULT_MAX_SOC_PCT): _number(
            1, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_EXPORT_LIMIT_KW, default=DEFAULT_EXPORT_LIMIT_KW): _number(
            0, 50, 0.01, UnitOfPower.KILO_WATT
        ),
    }
)
INVERTER_SCHEMA = vol.Schema(
    {
        # Recommending only is the safe default: nothing is written unasked.
        vol.Required(CONF_INVERTER, default=INVERTER_NONE): SelectSelector(
            SelectSelectorConfig(
                options=list(INVERTER_TYPES),
                translation_key=CONF_INVERTER,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
)


def _entity(domain: str) -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain=domain))


FOXESS_MODBUS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_FOXESS_DEVICE): DeviceSelector(
            DeviceSelectorConfig(integration=FOXESS_MODBUS_DOMAIN)
        ),
        vol.Optional(CONF_WORK_MODE_ENTITY): _entity(Platform.SELECT),
        vol.Optional(CONF_FORCE_CHARGE_POWER_ENTITY): _entity(Platform.NUMBER),
        vol.Optional(CONF_FORCE_DISCHARGE_POWER_ENTITY): _entity(Platform.NUMBER),
        vol.Optional(CONF_MAX_CHARGE_CURRENT_ENTITY): _entity(Platform.NUMBER),
        vol.Optional(CONF_MIN_SOC_ON_GRID_ENTITY): _entity(Platform.NUMBER),
    }
)
FOX_CLOUD_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_DEVICE_SERIAL): TextSelector(),
    }
)
REAUTH_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HORIZON_HOURS, default=DEFAULT_HORIZON_HOURS): _number(
            MIN_HORIZON_HOURS, MAX_HORIZON_HOURS, 1, UnitOfTime.HOURS
        ),
        vol.Required(CONF_REPLAN_MINUTES, default=DEFAULT_REPLAN_MINUTES): _number(
            1, MAX_REPLAN_MINUTES, 1, UnitOfTime.MINUTES
        ),
        vol.Required(CONF_CYCLE_COST, default=DEFAULT_CYCLE_COST): _number(
            0, 50, 0.1, PRICE_UNIT
        ),
        # Agile prices go negative in windy nights, so thresholds may too.
        vol.Required(CONF_CHEAP_THRESHOLD, default=DEFAULT_CHEAP_THRESHOLD): _number(
            -50, 150, 0.1, PRICE_UNIT
        ),
        vol.Required(
            CONF_EXPENSIVE_THRESHOLD, default=DEFAULT_EXPENSIVE_THRESHOLD
        ): _number(-50, 150, 0.1, PRICE_UNIT),
        vol.Required(CONF_END_VALUE_PCT, default=DEFAULT_END_VALUE_PCT): _number(
            0, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_DAILY_LOAD_KWH, default=DEFAULT_DAILY_LOAD_KWH): _number(
            0, 200, 0.1, UnitOfEnergy.KILO_WATT_HOUR
        ),
        vol.Required(CONF_HYSTERESIS_P, default=DEFAULT_HYSTERESIS_P): _number(
            0, 50, 0.1, "p"
        ),
        vol.Required(CONF_PV_SOURCE, default=PV_SOURCE_NONE): SelectSelector(
            SelectSelectorConfig(
                options=list(PV_SOURCES),
                translation_key=CONF_PV_SOURCE,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Required(CONF_PV_ESTIMATE, default=DEFAULT_PV_ESTIMATE): SelectSelector(
            SelectSelectorConfig(
                options=list(PV_ESTIMATES),
                translation_key=CONF_PV_ESTIMATE,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(CONF_EV_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_GRID_IMPORT_ENERGY_ENTITY): _sensor(SensorDeviceClass.ENERGY),
        vol.Optional(CONF_GRID_EXPORT_ENERGY_ENTITY): _sensor(SensorDeviceClass.ENERGY),
    }
)
