"""Config, reconfigure and options flows for Battery Optimizer."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback

from .const import (
    CONF_API_KEY,
    CONF_CHEAP_THRESHOLD,
    CONF_DEVICE_SERIAL,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_RATE,
    CONF_EXPORT_TYPE,
    CONF_GRID_EXPORT_ENERGY_ENTITY,
    CONF_GRID_IMPORT_ENERGY_ENTITY,
    CONF_HORIZON_HOURS,
    CONF_INVERTER,
    CONF_LOAD_POWER_ENTITY,
    CONF_REGION,
    CONF_REPLAN_MINUTES,
    CONF_SOC_ENTITY,
    DOMAIN,
    EXPORT_FIXED,
    INVERTER_FOX_CLOUD,
    INVERTER_FOXESS_MODBUS,
    REGIONS,
)
from .flows.schemas import (
    BATTERY_SCHEMA,
    EXPORT_RATE_SCHEMA,
    FOX_CLOUD_SCHEMA,
    FOXESS_MODBUS_SCHEMA,
    INVERTER_SCHEMA,
    OPTIONS_SCHEMA,
    REAUTH_SCHEMA,
    tariff_schema,
    tariff_suggestions,
)
from .flows.tariff import (
    NoExportMeterError,
    NoExportProductError,
    NoPricesError,
    async_resolve_tariff,
    has_octopus_energy_meter,
)
from .flows.validate import (
    async_check_fox_cloud,
    battery_unique_id,
    validate_battery,
    validate_foxess_modbus,
)
from .tariffs.octopus import (
    OctopusConnectionError,
    OctopusNotFoundError,
    OctopusResponseError,
)

if TYPE_CHECKING:
    from .coordinator import BatteryOptimizerConfigEntry

_LOGGER = logging.getLogger(__name__)


def entry_title(region: str) -> str:
    """Return the default entry title for an Agile region."""
    return f"Battery Optimizer ({REGIONS[region]})"


class BatteryOptimizerConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one optimizer per battery: tariff, then the battery itself."""

    VERSION = 1
    # 1.2: the unique id is the battery sensor's registry id, not its entity id.
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with no tariff chosen."""
        self._tariff: dict[str, Any] = {}
        self._battery: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: BatteryOptimizerConfigEntry,
    ) -> BatteryOptimizerOptionsFlow:
        """Return the options flow for an entry."""
        return BatteryOptimizerOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tariff of a new entry."""
        return await self._async_step_tariff("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tariff again, prefilled from the entry being changed."""
        return await self._async_step_tariff("reconfigure", user_input)

    async def async_step_export_rate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the fixed export rate."""
        if user_input is not None:
            self._tariff[CONF_EXPORT_RATE] = user_input[CONF_EXPORT_RATE]
            return await self.async_step_battery()
        return self.async_show_form(
            step_id="export_rate",
            data_schema=self.add_suggested_values_to_schema(
                EXPORT_RATE_SCHEMA, self._current_data()
            ),
        )

    async def async_step_battery(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the battery entities and limits, then create or update the entry."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_battery(self.hass, user_input)
            if not errors:
                await self._async_claim_battery(user_input[CONF_SOC_ENTITY])
                self._battery = {**self._tariff, **user_input}
                return await self.async_step_inverter()
        return self.async_show_form(
            step_id="battery",
            data_schema=self.add_suggested_values_to_schema(
                BATTERY_SCHEMA, user_input or self._current_data()
            ),
            errors=errors,
        )

    async def async_step_inverter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask how the inverter is driven, if at all."""
        if user_input is not None:
            kind = user_input[CONF_INVERTER]
            if kind == INVERTER_FOXESS_MODBUS:
                return await self.async_step_foxess_modbus()
            if kind == INVERTER_FOX_CLOUD:
                return await self.async_step_fox_cloud()
            return await self._async_finish({**self._battery, CONF_INVERTER: kind})
        return self.async_show_form(
            step_id="inverter",
            data_schema=self.add_suggested_values_to_schema(
                INVERTER_SCHEMA, self._current_data()
            ),
        )

    async def async_step_foxess_modbus(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the foxess_modbus device, or its control entities."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_foxess_modbus(self.hass, user_input)
            if not errors:
                return await self._async_finish(
                    {
                        **self._battery,
                        **user_input,
                        CONF_INVERTER: INVERTER_FOXESS_MODBUS,
                    }
                )
        return self.async_show_form(
            step_id="foxess_modbus",
            data_schema=self.add_suggested_values_to_schema(
                FOXESS_MODBUS_SCHEMA, user_input or self._current_data()
            ),
            errors=errors,
        )

    async def async_step_fox_cloud(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Fox Cloud API key and serial, and test them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            serial = user_input[CONF_DEVICE_SERIAL].strip()
            errors = await async_check_fox_cloud(self.hass, api_key, serial)
            if not errors:
                return await self._async_finish(
                    {
                        **self._battery,
                        CONF_INVERTER: INVERTER_FOX_CLOUD,
                        CONF_API_KEY: api_key,
                        CONF_DEVICE_SERIAL: serial,
                    }
                )
        return self.async_show_form(
            step_id="fox_cloud",
            data_schema=self.add_suggested_values_to_schema(
                FOX_CLOUD_SCHEMA, user_input or self._current_data()
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Fox ESS Cloud refused the API key: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new Fox ESS Cloud API key and test it on the entry's inverter."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            errors = await async_check_fox_cloud(
                self.hass, api_key, entry.data[CONF_DEVICE_SERIAL]
            )
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: api_key}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            description_placeholders={
                "title": entry.title,
                "serial": entry.data[CONF_DEVICE_SERIAL],
            },
            errors=errors,
        )

    async def _async_step_tariff(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._tariff = await async_resolve_tariff(self.hass, user_input)
            except OctopusConnectionError:
                errors["base"] = "cannot_connect"
            except OctopusNotFoundError:
                errors["base"] = "unknown_product"
            except OctopusResponseError:
                errors["base"] = "invalid_response"
            except NoPricesError:
                errors["base"] = "no_prices"
            except NoExportProductError:
                errors["base"] = "no_export_product"
            except NoExportMeterError:
                errors["base"] = "no_export_meter"
            except Exception:
                _LOGGER.exception("Unexpected error while checking the Octopus tariff")
                errors["base"] = "unknown"
            else:
                if self._tariff[CONF_EXPORT_TYPE] == EXPORT_FIXED:
                    return await self.async_step_export_rate()
                return await self.async_step_battery()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                tariff_schema(has_octopus_energy_meter(self.hass)),
                tariff_suggestions(user_input or self._current_data()),
            ),
            errors=errors,
        )

    def _current_data(self) -> Mapping[str, Any]:
        """Return the values to prefill: the entry's when reconfiguring, else none."""
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry().data
        return {}

    async def _async_claim_battery(self, soc_entity_id: str) -> None:
        """Abort if another entry already optimises this battery."""
        unique_id = battery_unique_id(self.hass, soc_entity_id)
        # Keeping the same battery must not collide with the entry being changed.
        if (
            self.source == SOURCE_RECONFIGURE
            and unique_id == self._get_reconfigure_entry().unique_id
        ):
            return
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()

    async def _async_finish(self, data: dict[str, Any]) -> ConfigFlowResult:
        soc_entity_id: str = data[CONF_SOC_ENTITY]
        if self.source != SOURCE_RECONFIGURE:
            return self.async_create_entry(
                title=entry_title(data[CONF_REGION]), data=data
            )
        entry = self._get_reconfigure_entry()
        # Keep a title the user chose; follow the region only for the default one.
        title = entry.title
        if title == entry_title(entry.data[CONF_REGION]):
            title = entry_title(data[CONF_REGION])
        return self.async_update_reload_and_abort(
            entry,
            unique_id=battery_unique_id(self.hass, soc_entity_id),
            title=title,
            data=data,
        )


class BatteryOptimizerOptionsFlow(OptionsFlow):
    """Tune the planner without setting the entry up again."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the planner options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            meters = (
                user_input.get(CONF_GRID_IMPORT_ENERGY_ENTITY),
                user_input.get(CONF_GRID_EXPORT_ENERGY_ENTITY),
            )
            if user_input[CONF_CHEAP_THRESHOLD] >= user_input[CONF_EXPENSIVE_THRESHOLD]:
                errors[CONF_CHEAP_THRESHOLD] = "thresholds_order"
            elif any(meters) and not all(meters):
                errors["base"] = "grid_meters_pair"
            elif any(meters) and not self.config_entry.data.get(CONF_LOAD_POWER_ENTITY):
                errors["base"] = "savings_need_load"
            else:
                # Number selectors give floats; whole hours and minutes read better.
                options = {
                    **user_input,
                    CONF_HORIZON_HOURS: int(user_input[CONF_HORIZON_HOURS]),
                    CONF_REPLAN_MINUTES: int(user_input[CONF_REPLAN_MINUTES]),
                }
                # The planner reads its options at setup: new ones need a reload.
                # Done here rather than by an update listener, which newer Home
                # Assistant releases refuse beside the reload helpers.
                entries = self.hass.config_entries
                if entries.async_update_entry(self.config_entry, options=options):
                    entries.async_schedule_reload(self.config_entry.entry_id)
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )
