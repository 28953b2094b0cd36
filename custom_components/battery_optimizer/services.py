"""Actions: re-plan now, and read the whole plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.selector import ConfigEntrySelector
import voluptuous as vol

from .const import DOMAIN
from .serialize import result_to_dict

if TYPE_CHECKING:
    from .coordinator import BatteryOptimizerConfigEntry

ATTR_CONFIG_ENTRY = "config_entry"
SERVICE_OPTIMIZE = "optimize"
SERVICE_GET_PLAN = "get_plan"

ENTRY_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY): ConfigEntrySelector({"integration": DOMAIN})}
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


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def optimize(call: ServiceCall) -> ServiceResponse:
        entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
        coordinator = entry.runtime_data.plan
        await coordinator.async_refresh()
        if not call.return_response:
            return None
        return result_to_dict(coordinator.data)

    async def get_plan(call: ServiceCall) -> ServiceResponse:
        entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
        return result_to_dict(entry.runtime_data.plan.data)

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
