"""Config flow of the stand-in: add it from the UI, or from YAML for the demo."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
import voluptuous as vol

from .const import (
    CONF_FRIENDLY_NAME,
    CONF_MODEL,
    CONF_POLL_RATE,
    CONF_SOC,
    DEFAULT_MODEL,
    DEFAULT_POLL_RATE_S,
    DEFAULT_SOC,
    DOMAIN,
    MODELS,
)

TITLE = "FoxESS - Modbus (stand-in)"
USER_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_MODEL, default=DEFAULT_MODEL): vol.In(list(MODELS)),
        vol.Optional(CONF_POLL_RATE, default=DEFAULT_POLL_RATE_S): vol.All(
            vol.Coerce(float), vol.Range(min=0.1)
        ),
        vol.Optional(CONF_SOC, default=DEFAULT_SOC): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=100)
        ),
    }
)


class StandInConfigFlow(ConfigFlow, domain=DOMAIN):
    """One entry per friendly name, as each names one inverter."""

    VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the model, poll interval and starting SoC."""
        if user_input is None:
            return self.async_show_form(step_id="user", data_schema=USER_SCHEMA)
        return await self._async_create(user_input)

    async def async_step_import(self, import_data: dict[str, Any]) -> ConfigFlowResult:
        """Create or update the entry from `foxess_modbus:` in configuration.yaml."""
        return await self._async_create(import_data)

    async def _async_create(self, data: dict[str, Any]) -> ConfigFlowResult:
        await self.async_set_unique_id(data.get(CONF_FRIENDLY_NAME, "") or DOMAIN)
        self._abort_if_unique_id_configured(updates=data)
        return self.async_create_entry(title=TITLE, data=data)
