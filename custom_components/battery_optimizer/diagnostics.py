"""Diagnostics: settings (redacted), the latest plan and the run history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_API_KEY, CONF_DEVICE_SERIAL, CONF_FOXESS_DEVICE
from .coordinator import BatteryOptimizerConfigEntry
from .plan.serialize import result_to_dict

# Entity and device ids can name people or places, and Octopus Energy's rate
# entities carry the meter's serial number and MPAN; the Fox Cloud key and
# serial identify the account and the inverter.
SECRET_KEYS = {CONF_API_KEY, CONF_DEVICE_SERIAL, CONF_FOXESS_DEVICE}
ID_SUFFIXES = ("_entity", "_entities")


def _redact(settings: Mapping[str, Any]) -> dict[str, Any]:
    keys = {key for key in settings if key.endswith(ID_SUFFIXES)} | SECRET_KEYS
    return async_redact_data(dict(settings), keys)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> dict[str, Any]:
    """Return what a bug report needs."""
    plan = entry.runtime_data.plan
    return {
        "data": _redact(entry.data),
        "options": _redact(entry.options),
        "plan": result_to_dict(plan.data),
        "history": plan.history[-10:],
    }
