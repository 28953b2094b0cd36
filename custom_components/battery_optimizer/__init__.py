"""Battery Optimizer: run a home battery on Octopus Agile at the lowest cost."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import BatteryOptimizerConfigEntry, BatteryOptimizerData, PlanCoordinator
from .services import async_setup_services
from .tariffs.octopus import OctopusClient
from .tariffs.prices import PriceCoordinator

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> bool:
    """Fetch prices, make the first plan and create the entities."""
    prices = PriceCoordinator(hass, entry, OctopusClient(async_get_clientsession(hass)))
    await prices.async_config_entry_first_refresh()
    plan = PlanCoordinator(hass, entry, prices)
    await plan.async_config_entry_first_refresh()
    entry.runtime_data = BatteryOptimizerData(prices=prices, plan=plan)

    def _replan_on_new_prices() -> None:
        entry.async_create_background_task(
            hass, plan.async_request_refresh(), f"{DOMAIN} re-plan on new prices"
        )

    # The listener also keeps the price coordinator polling.
    entry.async_on_unload(prices.async_add_listener(_replan_on_new_prices))
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_update))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_reload_on_update(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> None:
    """Apply changed options by reloading the entry."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> bool:
    """Remove the entities; the coordinators stop with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
