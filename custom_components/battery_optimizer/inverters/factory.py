"""Build the inverter driver a config entry names, and check Fox Cloud credentials."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
import math
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_API_KEY,
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_DAILY_LOAD_KWH,
    CONF_DEVICE_SERIAL,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EXPORT_LIMIT_KW,
    CONF_INVERTER,
    CONF_LOAD_POWER_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_PV_POWER_ENTITY,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    DEFAULT_DAILY_LOAD_KWH,
    DEFAULT_EXPORT_LIMIT_KW,
    DEFAULT_MAX_SOC_PCT,
    DEFAULT_RESERVE_SOC_PCT,
    DOMAIN,
    INVERTER_FOX_CLOUD,
    INVERTER_FOXESS_MODBUS,
    INVERTER_SIMULATED,
)
from ..entry.settings import one_way_efficiency
from ..inputs.states import state_float, state_power_kw
from ..optimizer.model import DEFAULT_NOMINAL_VOLTAGE_V
from .base import InverterDriver
from .fox_cloud import FoxCloudDriver
from .fox_cloud_api import CallBudget, FoxCloudClient
from .foxess_modbus import FoxessModbusDriver
from .foxess_modbus_entities import foxess_entities_from_data
from .simulated import SimulatedBattery, SimulatedDriver

BUDGET_STORAGE_VERSION = 1
# Where a simulated battery starts when the SoC sensor has no value yet.
SIMULATED_START_SOC_PCT = 50.0
HOURS_PER_DAY = 24


def _power_reader(
    hass: HomeAssistant, entity_id: str | None, default_kw: float
) -> Callable[[datetime], float]:
    """A series that reads a power sensor in kW whenever the simulation steps."""

    def read(_: datetime) -> float:
        value = state_power_kw(hass, entity_id)
        return default_kw if value is None else value

    return read


def fox_cloud_driver(
    hass: HomeAssistant,
    api_key: str,
    serial: str,
    data: Mapping[str, Any],
    budget: CallBudget | None = None,
) -> FoxCloudDriver:
    """A Fox Cloud driver on HA's shared HTTP session."""
    client = FoxCloudClient(async_get_clientsession(hass), api_key, budget=budget)
    return FoxCloudDriver(
        client,
        serial,
        tz=dt_util.get_default_time_zone(),
        reserve_soc_pct=float(data.get(CONF_RESERVE_SOC_PCT, DEFAULT_RESERVE_SOC_PCT)),
        max_power_kw=_max_power_kw(data),
        # The SoC comes from the entry's sensor; reading it here would spend calls.
        read_soc=False,
    )


async def async_validate_fox_cloud(
    hass: HomeAssistant, api_key: str, serial: str
) -> None:
    """Check a Fox Cloud key and serial with one call; raise InverterError if wrong."""
    await fox_cloud_driver(hass, api_key, serial, {}).async_validate()


def _max_power_kw(data: Mapping[str, Any]) -> float:
    if CONF_CHARGE_LIMIT_KW not in data:
        return math.inf
    return max(float(data[CONF_CHARGE_LIMIT_KW]), float(data[CONF_DISCHARGE_LIMIT_KW]))


def _simulated(hass: HomeAssistant, entry: ConfigEntry) -> SimulatedDriver:
    data = entry.data
    one_way = one_way_efficiency(data)
    battery = SimulatedBattery(
        capacity_kwh=float(data[CONF_CAPACITY_KWH]),
        charge_limit_kw=float(data[CONF_CHARGE_LIMIT_KW]),
        discharge_limit_kw=float(data[CONF_DISCHARGE_LIMIT_KW]),
        charge_efficiency=one_way,
        discharge_efficiency=one_way,
        reserve_soc_pct=float(data.get(CONF_RESERVE_SOC_PCT, DEFAULT_RESERVE_SOC_PCT)),
        max_soc_pct=float(data.get(CONF_MAX_SOC_PCT, DEFAULT_MAX_SOC_PCT)),
        export_limit_kw=float(data.get(CONF_EXPORT_LIMIT_KW, DEFAULT_EXPORT_LIMIT_KW)),
    )
    flat_load = (
        float(entry.options.get(CONF_DAILY_LOAD_KWH, DEFAULT_DAILY_LOAD_KWH))
        / HOURS_PER_DAY
    )
    soc = state_float(hass, data[CONF_SOC_ENTITY])
    return SimulatedDriver(
        battery,
        start=dt_util.utcnow(),
        soc_pct=soc if soc is not None and 0 <= soc <= 100 else SIMULATED_START_SOC_PCT,
        load_kw=_power_reader(hass, data.get(CONF_LOAD_POWER_ENTITY), flat_load),
        pv_kw=_power_reader(hass, data.get(CONF_PV_POWER_ENTITY), 0.0),
        clock=dt_util.utcnow,
    )


def budget_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry counts its Fox Cloud calls of the day."""
    return Store(hass, BUDGET_STORAGE_VERSION, f"{DOMAIN}.{entry_id}.fox_budget")


def create_driver(hass: HomeAssistant, entry: ConfigEntry) -> InverterDriver | None:
    """The driver the entry asks for; None when it only recommends."""
    data = entry.data
    kind = data.get(CONF_INVERTER)
    if kind == INVERTER_FOXESS_MODBUS:
        entities = foxess_entities_from_data(hass, data)
        if entities is None:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="inverter_not_found",
                translation_placeholders={"title": entry.title},
            )
        voltage = state_float(hass, data.get(CONF_BATTERY_VOLTAGE_ENTITY))
        return FoxessModbusDriver(
            hass,
            entities,
            tz=dt_util.get_default_time_zone(),
            reserve_soc_pct=float(
                data.get(CONF_RESERVE_SOC_PCT, DEFAULT_RESERVE_SOC_PCT)
            ),
            max_power_kw=_max_power_kw(data),
            battery_voltage_v=voltage or DEFAULT_NOMINAL_VOLTAGE_V,
            clock=dt_util.utcnow,
        )
    if kind == INVERTER_FOX_CLOUD:
        store = budget_store(hass, entry.entry_id)
        return fox_cloud_driver(
            hass,
            data[CONF_API_KEY],
            data[CONF_DEVICE_SERIAL],
            data,
            CallBudget(store, now=dt_util.utcnow),
        )
    if kind == INVERTER_SIMULATED:
        return _simulated(hass, entry)
    return None
