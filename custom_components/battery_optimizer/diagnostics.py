"""Diagnostics: settings (redacted), the latest plan and the run history."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import (
    CONF_API_KEY,
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_DEVICE_SERIAL,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_SOC_ENTITY,
)
from .coordinator import BatteryOptimizerConfigEntry
from .serialize import result_to_dict

# Entity ids can name people or places; the Fox Cloud key and serial identify
# the account and the inverter.
TO_REDACT = {
    CONF_SOC_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_API_KEY,
    CONF_DEVICE_SERIAL,
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> dict[str, Any]:
    """Return what a bug report needs."""
    plan = entry.runtime_data.plan
    return {
        "data": async_redact_data(dict(entry.data), TO_REDACT),
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "plan": result_to_dict(plan.data),
        "history": plan.history[-10:],
    }
