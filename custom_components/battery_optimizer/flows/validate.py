"""Checks of what the user entered in the flows: sensors, inverter, Fox Cloud."""

from __future__ import annotations

from collections.abc import Mapping
import logging
import math
from typing import Any

from homeassistant.const import (
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..const import (
    CONF_API_KEY,
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_DEVICE_SERIAL,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_FOXESS_DEVICE,
    CONF_LOAD_POWER_ENTITY,
    CONF_MAX_CHARGE_CURRENT_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_MIN_SOC_ON_GRID_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    CONF_WORK_MODE_ENTITY,
)
from ..inverters.base import InverterError, Reason
from ..inverters.factory import async_validate_fox_cloud
from ..inverters.foxess_modbus_entities import foxess_entities_from_data

_LOGGER = logging.getLogger(__name__)


FOXESS_ENTITY_FIELDS = (
    CONF_WORK_MODE_ENTITY,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_MAX_CHARGE_CURRENT_ENTITY,
    CONF_MIN_SOC_ON_GRID_ENTITY,
)
# Fox Cloud failures by the form error they show, and the field it belongs to.
FOX_CLOUD_ERRORS: dict[Reason, tuple[str, str]] = {
    Reason.INVALID_AUTH: (CONF_API_KEY, "invalid_auth"),
    Reason.UNKNOWN_SERIAL: (CONF_DEVICE_SERIAL, "unknown_serial"),
    Reason.CANNOT_CONNECT: ("base", "fox_cannot_connect"),
    Reason.RATE_LIMITED: ("base", "fox_rate_limited"),
    Reason.BACKING_OFF: ("base", "fox_rate_limited"),
    Reason.DAILY_BUDGET: ("base", "fox_rate_limited"),
    Reason.QUOTA_EXHAUSTED: ("base", "fox_rate_limited"),
}
_OPTIONAL_SENSORS = (
    CONF_PV_POWER_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_BATTERY_VOLTAGE_ENTITY,
)


def battery_unique_id(hass: HomeAssistant, soc_entity_id: str) -> str:
    """The entry's unique id: the state of charge sensor's registry id.

    It stays the same when the user renames the sensor; a sensor without a
    registry entry has nothing steadier than its entity id.
    """
    registered = er.async_get(hass).async_get(soc_entity_id)
    return registered.id if registered is not None else soc_entity_id


def _is_number(state: str) -> bool:
    try:
        return math.isfinite(float(state))
    except ValueError:
        return False


def validate_battery(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Return form errors for the battery step; empty when the input is usable."""
    errors: dict[str, str] = {}
    soc = hass.states.get(user_input[CONF_SOC_ENTITY])
    if soc is None:
        errors[CONF_SOC_ENTITY] = "entity_not_found"
    elif not _is_number(soc.state):
        errors[CONF_SOC_ENTITY] = "soc_not_numeric"
    for key in _OPTIONAL_SENSORS:
        if (entity_id := user_input.get(key)) is None:
            continue
        state = hass.states.get(entity_id)
        if state is None:
            errors[key] = "entity_not_found"
        # Power sensors often read unavailable at night or while the inverter
        # reconnects; that must not block setup.
        elif state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN) and not _is_number(
            state.state
        ):
            errors[key] = "not_numeric"
    if user_input[CONF_RESERVE_SOC_PCT] >= user_input[CONF_MAX_SOC_PCT]:
        errors[CONF_RESERVE_SOC_PCT] = "reserve_above_max"
    return errors


def validate_foxess_modbus(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Return form errors for the foxess_modbus step; empty when usable."""
    if user_input.get(CONF_FOXESS_DEVICE):
        if foxess_entities_from_data(hass, user_input) is None:
            return {CONF_FOXESS_DEVICE: "no_work_mode"}
        return {}
    if not user_input.get(CONF_WORK_MODE_ENTITY):
        return {"base": "device_or_entities"}
    return {
        key: "entity_not_found"
        for key in FOXESS_ENTITY_FIELDS
        if (entity_id := user_input.get(key)) and hass.states.get(entity_id) is None
    }


async def async_check_fox_cloud(
    hass: HomeAssistant, api_key: str, serial: str
) -> dict[str, str]:
    """Return form errors for the Fox Cloud step after one test call."""
    try:
        await async_validate_fox_cloud(hass, api_key, serial)
    except InverterError as err:
        field, error = FOX_CLOUD_ERRORS.get(
            err.reason, ("base", "fox_invalid_response")
        )
        return {field: error}
    except Exception:
        _LOGGER.exception("Unexpected error while checking Fox Cloud")
        return {"base": "unknown"}
    return {}
