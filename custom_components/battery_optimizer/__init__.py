"""Battery Optimizer: run a home battery on Octopus Agile at the lowest cost."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .card.serve import async_setup_card
from .const import (
    CONF_EXPORT_RATE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_RATE_ENTITIES,
    CONF_SOC_ENTITY,
    DOMAIN,
    PRICE_SOURCE_DEMO,
    PRICE_SOURCE_OCTOPUS_ENERGY,
)
from .control.loop import ControlLoop
from .coordinator import (
    BatteryOptimizerConfigEntry,
    BatteryOptimizerData,
    PlanCoordinator,
    control_of,
)
from .entry.issues import async_delete_all
from .flows.validate import battery_unique_id
from .inverters.factory import budget_store, create_driver
from .plan.history import history_store
from .plan.savings import SavingsCoordinator
from .services import async_setup_services
from .tariffs.demo import DemoPriceClient
from .tariffs.octopus import OctopusClient
from .tariffs.octopus_energy import OctopusEnergyEntitiesClient
from .tariffs.prices import PriceClient, PriceCoordinator, price_store

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR, Platform.SWITCH]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    async_setup_services(hass)
    await async_setup_card(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> bool:
    """Fetch prices, make the first plan and create the entities."""
    driver = create_driver(hass, entry)
    client, rate_entity_ids = await _async_price_client(hass, entry)
    prices = PriceCoordinator(hass, entry, client)
    await prices.async_config_entry_first_refresh()
    plan = PlanCoordinator(hass, entry, prices)
    await plan.async_config_entry_first_refresh()
    savings = SavingsCoordinator(hass, entry, prices)
    await savings.async_config_entry_first_refresh()
    control = ControlLoop(hass, entry, plan, driver) if driver is not None else None
    entry.runtime_data = BatteryOptimizerData(
        prices=prices, plan=plan, savings=savings, control=control
    )

    @callback
    def _replan() -> None:
        # The coordinator's debouncer merges bursts of triggers into one solve.
        entry.async_create_background_task(
            hass, plan.async_request_refresh(), f"{DOMAIN} re-plan"
        )

    @callback
    def _replan_on_soc(event: Event[EventStateChangedData]) -> None:
        _replan()

    # The listener also keeps the price coordinator polling.
    entry.async_on_unload(prices.async_add_listener(_replan))
    entry.async_on_unload(
        async_track_state_change_event(
            hass, [entry.data[CONF_SOC_ENTITY]], _replan_on_soc
        )
    )
    if rate_entity_ids:

        @callback
        def _refresh_prices(event: Event[EventStateChangedData]) -> None:
            # New rates (tomorrow's, about 16:00) reach the plan through the
            # price listener above instead of waiting for the next poll.
            entry.async_create_background_task(
                hass, prices.async_request_refresh(), f"{DOMAIN} price refresh"
            )

        entry.async_on_unload(
            async_track_state_change_event(hass, rate_entity_ids, _refresh_prices)
        )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if control is not None:
        control.async_start()
    return True


async def _async_price_client(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> tuple[PriceClient, list[str]]:
    """The entry's price source, and the rate entities to follow if it has any."""
    price_source = entry.data.get(CONF_PRICE_SOURCE)
    if price_source == PRICE_SOURCE_DEMO:
        demo = await hass.async_add_executor_job(
            DemoPriceClient.from_file, dt_util.utcnow
        )
        return demo, []
    if price_source == PRICE_SOURCE_OCTOPUS_ENERGY:
        import_ids: list[str] = entry.data[CONF_RATE_ENTITIES]
        export_ids: list[str] = entry.data.get(CONF_EXPORT_RATE_ENTITIES, [])
        client = OctopusEnergyEntitiesClient(hass, import_ids, export_ids)
        return client, [*import_ids, *export_ids]
    return OctopusClient(async_get_clientsession(hass)), []


async def async_migrate_entry(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> bool:
    """Bring an entry made by an older version up to date."""
    if entry.version > 1:
        return False  # made by a newer version: nothing here can read it
    if entry.minor_version < 2:
        hass.config_entries.async_update_entry(
            entry,
            unique_id=battery_unique_id(hass, entry.data[CONF_SOC_ENTITY]),
            minor_version=2,
        )
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> bool:
    """Remove the entities, return the inverter to Self Use, clear repair issues."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    if (control := control_of(entry)) is not None:
        await control.async_shutdown()
    # Issues of an unloaded entry can no longer clear themselves.
    async_delete_all(hass, entry.entry_id)
    return True


async def async_remove_entry(
    hass: HomeAssistant, entry: BatteryOptimizerConfigEntry
) -> None:
    """Delete what the entry stored: run history, price cache, Fox call budget."""
    for store in (
        history_store(hass, entry.entry_id),
        price_store(hass, entry.entry_id),
        budget_store(hass, entry.entry_id),
    ):
        await store.async_remove()
