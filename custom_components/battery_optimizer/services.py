"""Actions: re-plan now, read the whole plan, and drive the inverter by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import ConfigEntrySelector
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import CONF_BATTERY_VOLTAGE_ENTITY, DOMAIN
from .control.manual import manual_command
from .coordinator import BatteryOptimizerConfigEntry, control_of
from .inputs.states import battery_voltage_v
from .optimizer.model import Mode
from .plan.serialize import result_to_dict

if TYPE_CHECKING:
    from .control.loop import ControlLoop

ATTR_CONFIG_ENTRY = "config_entry"
SERVICE_OPTIMIZE = "optimize"
SERVICE_GET_PLAN = "get_plan"
SERVICE_SET_MODE = "set_mode"
SERVICE_RESUME = "resume"
ATTR_MODE = "mode"
ATTR_POWER_KW = "power_kw"
ATTR_CURRENT_A = "current_a"
ATTR_TARGET_SOC = "target_soc"
ATTR_DURATION = "duration"
DEFAULT_MANUAL_DURATION = timedelta(hours=1)

ENTRY_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY): ConfigEntrySelector({"integration": DOMAIN})}
)

# Ranges are checked against the inverter in the handler, with translated errors.
SET_MODE_SCHEMA = ENTRY_SCHEMA.extend(
    {
        vol.Required(ATTR_MODE): vol.In([mode.value for mode in Mode]),
        vol.Optional(ATTR_POWER_KW): vol.Coerce(float),
        vol.Optional(ATTR_CURRENT_A): vol.Coerce(float),
        vol.Optional(ATTR_TARGET_SOC): vol.Coerce(float),
        vol.Optional(ATTR_DURATION, default=DEFAULT_MANUAL_DURATION): cv.time_period,
    }
)


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> BatteryOptimizerConfigEntry:
    """The loaded entry an action names, or a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    loaded: BatteryOptimizerConfigEntry = entry
    return loaded


def _control(entry: BatteryOptimizerConfigEntry) -> ControlLoop:
    """The entry's control loop, or a translated error if it has no inverter."""
    control = control_of(entry)
    if control is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_inverter",
            translation_placeholders={"title": entry.title},
        )
    return control


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def optimize(call: ServiceCall) -> ServiceResponse:
        entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
        coordinator = entry.runtime_data.plan
        await coordinator.async_refresh()
        if not coordinator.last_update_success:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="optimize_failed",
                translation_placeholders={"error": str(coordinator.last_exception)},
            )
        if not call.return_response:
            return None
        return result_to_dict(coordinator.data)

    async def get_plan(call: ServiceCall) -> ServiceResponse:
        entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
        return result_to_dict(entry.runtime_data.plan.data)

    async def set_mode(call: ServiceCall) -> None:
        entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
        control = _control(entry)
        now = dt_util.utcnow()
        command, until = manual_command(
            control.driver.capabilities,
            control.settings,
            battery_voltage_v(hass, entry.data.get(CONF_BATTERY_VOLTAGE_ENTITY)),
            now,
            mode=Mode(call.data[ATTR_MODE]),
            power_kw=call.data.get(ATTR_POWER_KW),
            current_a=call.data.get(ATTR_CURRENT_A),
            target_soc_pct=call.data.get(ATTR_TARGET_SOC),
            duration=call.data[ATTR_DURATION],
        )
        await control.async_set_override(command, until)

    async def resume(call: ServiceCall) -> None:
        entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
        await _control(entry).async_resume()

    hass.services.async_register(
        DOMAIN, SERVICE_SET_MODE, set_mode, schema=SET_MODE_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_RESUME, resume, schema=ENTRY_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_OPTIMIZE,
        optimize,
        schema=ENTRY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_PLAN,
        get_plan,
        schema=ENTRY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
